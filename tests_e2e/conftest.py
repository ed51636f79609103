"""End-to-end: our spans in a real Arize Phoenix server (run by `make e2e`).

Phoenix runs from its own environment (`.venv-phoenix`); these tests run in
the main one and only talk to it over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from phoenix_server import PhoenixServer  # noqa: E402


@pytest.fixture(scope="session")
def phoenix():
    """One Phoenix server for the session; fails (never skips) if it cannot start."""
    with PhoenixServer() as server:
        yield server
