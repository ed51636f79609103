"""Fixtures of the handler contract tests; the helpers live in `contract`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from opentelemetry.instrumentation.agents import set_content_hook

from .contract import CAPTURE, EMIT_EVENT, MAX_LENGTH, STABILITY, Telemetry


@pytest.fixture
def tel(provider: Any, exporter: Any, detector: Any,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    for name in (CAPTURE, MAX_LENGTH, STABILITY, EMIT_EVENT):
        monkeypatch.delenv(name, raising=False)
    telemetry = Telemetry(provider, exporter, detector, monkeypatch)
    try:
        yield telemetry
    finally:
        set_content_hook(None)
        telemetry.close()
