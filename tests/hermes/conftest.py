"""Hermes Agent tests: an isolated HERMES_HOME, set up before Hermes is imported.

Importing ``run_agent`` writes to ``$HERMES_HOME`` and constructing an agent
reads ``$HERMES_HOME/config.yaml``, so both are prepared here, at collection
time, before any test module imports Hermes. The configuration turns off what
makes offline runs slow: environment probes (subprocesses), context-length
probes, and retries with back-off after a failed model call.
"""

from __future__ import annotations

import os
from importlib import metadata

import pytest

from tests.runtimes import instrumented_with

_CONFIG = """\
model:
  context_length: 131072
agent:
  environment_probe: false
  api_max_retries: 1
"""


def _hermes_installed() -> bool:
    try:
        metadata.version("hermes-agent")
    except metadata.PackageNotFoundError:
        return False
    return True


def _prepare_hermes_home() -> None:
    # tests/conftest.py has pointed HOME at a temporary directory; a
    # HERMES_HOME inherited from the developer's shell must not survive.
    home = os.path.join(os.environ["HOME"], ".hermes")
    os.environ["HERMES_HOME"] = home
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, "config.yaml"), "w", encoding="utf-8") as f:
        f.write(_CONFIG)
    os.environ["HERMES_STREAM_RETRIES"] = "0"  # the stream worker's own reconnects
    os.environ.pop("HERMES_KANBAN_TASK", None)  # would add a toolset


# An environment without Hermes does not collect these tests (it is not a
# skip: they do not apply there).
if _hermes_installed():
    _prepare_hermes_home()
else:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def instrumented(provider):
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    with instrumented_with(HermesAgentInstrumentor, provider) as instrumentor:
        yield instrumentor


@pytest.fixture
def server():
    """`server(script)` starts a `ScriptedOpenAIServer`; all are stopped after the test."""
    from opentelemetry.instrumentation.agents.testing.openai_server import ScriptedOpenAIServer

    servers = []

    def start(script, **kwargs):
        srv = ScriptedOpenAIServer(script, **kwargs).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()

