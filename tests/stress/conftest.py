"""Proof under load, faults and bad input (issue 6).

One module per theme. A theme that needs one runtime's own objects has one
module per runtime, named ``test_<theme>_<runtime>.py``; an environment
without that runtime (or with the other AgentScope line) does not collect it.
That is not a skip: those tests do not apply there. Runtime-independent
themes (exporters, providers, instrument races) run against every runtime
this environment has, through `drivers`.
"""

from __future__ import annotations

from importlib import util

import pytest

from opentelemetry.instrumentation.agents import _content, _settings
from tests.by_runtime import prepare_runtimes
from tests.runtimes import installed_major

prepare_runtimes()

collect_ignore_glob: list[str] = []
if installed_major("agentscope") != 2:
    collect_ignore_glob.append("*_agentscope2.py")
if installed_major("agentscope") != 1:
    collect_ignore_glob.append("*_agentscope1.py")
if installed_major("hermes-agent") is None:
    collect_ignore_glob.append("*_hermes.py")
if util.find_spec("praisonaiagents") is None:
    collect_ignore_glob.append("*_praisonai.py")


@pytest.fixture(autouse=True)
def clean_content_settings(monkeypatch):
    """No content setting from the developer's shell; no hook left behind."""
    for name in (_settings.CAPTURE_ENV, _settings.STABILITY_ENV, _settings.MAX_LENGTH_ENV):
        monkeypatch.delenv(name, raising=False)
    yield
    _content.set_content_hook(None)


@pytest.fixture
def capture(monkeypatch):
    """`capture(max_length=None)`: message content on (set before instrumenting)."""

    def switch_on(max_length: int | None = None) -> None:
        monkeypatch.setenv(_settings.CAPTURE_ENV, "true")
        if max_length is not None:
            monkeypatch.setenv(_settings.MAX_LENGTH_ENV, str(max_length))

    return switch_on


@pytest.fixture
def instrument(provider):
    """`instrument(Instrumentor, **kwargs)`: instrumented (against `provider`
    unless the kwargs say otherwise) until the end of the test."""
    active = []

    def start(instrumentor_class, **kwargs):
        kwargs.setdefault("tracer_provider", provider)
        instrumentor = instrumentor_class()
        instrumentor.instrument(**kwargs)
        active.append(instrumentor)
        return instrumentor

    yield start
    for instrumentor in active:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


@pytest.fixture
def praisonai_offline(monkeypatch):
    """PraisonAI's OpenAI-native path, offline (see tests/praisonai/conftest.py)."""
    for name in ("OPENAI_API_BASE", "OPENAI_BASE_URL", "OPENAI_MODEL_NAME",
                 "PRAISONAI_OUTPUT", "PRAISONAI_TELEMETRY_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")
    monkeypatch.setenv("PRAISONAI_TELEMETRY_DISABLED", "true")


@pytest.fixture
def server():
    """`server(script, **kwargs)` starts a `ScriptedOpenAIServer`; all stop after the test."""
    from opentelemetry.instrumentation.agents.testing.openai_server import ScriptedOpenAIServer

    servers = []

    def start(script, **kwargs):
        srv = ScriptedOpenAIServer(script, **kwargs).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()
