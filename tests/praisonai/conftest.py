from __future__ import annotations

from importlib import util

import pytest

from tests.runtimes import instrumented_with

# This directory needs PraisonAI Agents; an environment built for another
# runtime does not collect it (it is not a skip: these tests do not apply there).
if util.find_spec("praisonaiagents") is None:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """PraisonAI's OpenAI-native path, pointed at the scripted server only.

    The base URL comes from the environment (an `Agent(base_url=...)` would
    select PraisonAI's LiteLLM path); no SDK retries, PraisonAI's own
    telemetry off, and nothing cached from the developer's shell.
    """
    for name in ("OPENAI_API_BASE", "OPENAI_BASE_URL", "OPENAI_MODEL_NAME",
                 "PRAISONAI_OUTPUT", "PRAISONAI_TELEMETRY_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")
    monkeypatch.setenv("PRAISONAI_TELEMETRY_DISABLED", "true")


def _servers(monkeypatch, server_class, *, check_errors: bool):
    """`start(script)` for the test: a server of `server_class`, PraisonAI pointed at
    it; each stopped after the test and, with `check_errors`, found error-free."""
    servers = []

    def start(script):
        server = server_class(script).start()
        servers.append(server)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        return server

    yield start
    for server in servers:
        server.stop()
    if check_errors:
        for server in servers:
            assert server.errors == []


@pytest.fixture
def serve(monkeypatch):
    """Start a `TurnServer` for the test and point PraisonAI at it."""
    from .support import TurnServer

    yield from _servers(monkeypatch, TurnServer, check_errors=False)


@pytest.fixture
def respond(monkeypatch):
    """Serve a responder `(conversation, request) -> Turn` and point PraisonAI at it;
    the test fails if the server met an error."""
    from opentelemetry.instrumentation.agents.testing.openai_server import (
        ScriptedOpenAIServer,
    )

    yield from _servers(monkeypatch, ScriptedOpenAIServer, check_errors=True)


@pytest.fixture
def instrumented(provider):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    with instrumented_with(PraisonAIInstrumentor, provider) as instrumentor:
        yield instrumentor


@pytest.fixture
def instrumented_with_content(provider, monkeypatch):
    """Instrumented with message content captured (read when instrumenting)."""
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    with instrumented_with(PraisonAIInstrumentor, provider) as instrumentor:
        yield instrumentor
