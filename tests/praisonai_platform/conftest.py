"""The `praisonai` wrapper package (scheduler, ...) beside PraisonAI Agents.

`praisonai` pins a newer openai than Hermes Agent allows, so these tests run
in an environment of their own (`make test` builds `.venv-praisonai` from
requirements-praisonai.txt and runs this directory there); an environment
without `praisonai` does not collect them (not a skip: they do not apply).
"""

from __future__ import annotations

from importlib import util

import pytest

from tests.runtimes import instrumented_with

if util.find_spec("praisonai") is None:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """PraisonAI pointed at the scripted server only (see tests/praisonai/conftest.py)."""
    for name in ("OPENAI_API_BASE", "OPENAI_BASE_URL", "OPENAI_MODEL_NAME",
                 "PRAISONAI_OUTPUT", "PRAISONAI_TELEMETRY_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")
    monkeypatch.setenv("PRAISONAI_TELEMETRY_DISABLED", "true")


@pytest.fixture
def respond(monkeypatch):
    """Serve a responder `(conversation, request) -> Turn`, PraisonAI pointed at it."""
    from opentelemetry.instrumentation.agents.testing.openai_server import (
        ScriptedOpenAIServer,
    )

    servers = []

    def start(responder):
        server = ScriptedOpenAIServer(responder, marker="last").start()
        servers.append(server)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        assert server.errors == []


@pytest.fixture
def instrumented(provider):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    with instrumented_with(PraisonAIInstrumentor, provider) as instrumentor:
        yield instrumentor


@pytest.fixture
def short_backoff(monkeypatch):
    """PraisonAI's retry backoff (a 30 s floor) as 0.1 s, 0.2 s, ...: set before
    instrumenting, so our wrapper wraps the shortened policy; the scheduler's own
    interruptible wait runs unchanged."""
    from praisonai.scheduler import agent_scheduler, async_agent_scheduler

    def backoff_delay(attempt, **_options):
        return 0.1 * (attempt + 1)

    for module in (agent_scheduler, async_agent_scheduler):
        monkeypatch.setattr(module, "backoff_delay", backoff_delay)


@pytest.fixture
def instrumented_short_backoff(short_backoff, provider):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    with instrumented_with(PraisonAIInstrumentor, provider) as instrumentor:
        yield instrumentor
