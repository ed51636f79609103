"""`AgentsInstrumentor().instrument(runtimes=...)`: names, sequences, mistakes."""

from __future__ import annotations

import logging
from importlib import util

import pytest

from opentelemetry.instrumentation.agents import RUNTIMES, AgentsInstrumentor
from opentelemetry.instrumentation.agents._patching import is_ours
from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor
from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

OURS = "opentelemetry.instrumentation.agents"

# Which runtimes end up patched is the point of most tests here: they need all
# three installed (the matrix's AgentScope-only cell has one).
needs_every_runtime = pytest.mark.skipif(
    not all(util.find_spec(m) for m in ("agentscope", "run_agent", "praisonaiagents")),
    reason="needs AgentScope, Hermes Agent and PraisonAI installed")


def _instrumented() -> dict[str, bool]:
    return {"agentscope": AgentScopeInstrumentor().is_instrumented_by_opentelemetry,
            "hermes": HermesAgentInstrumentor().is_instrumented_by_opentelemetry,
            "praisonai": PraisonAIInstrumentor().is_instrumented_by_opentelemetry}


@pytest.fixture
def umbrella(provider):
    instrumentor = AgentsInstrumentor()
    yield instrumentor
    instrumentor.uninstrument()
    assert not any(_instrumented().values())


@needs_every_runtime
def test_a_string_is_one_runtime(umbrella, provider, caplog):
    with caplog.at_level(logging.DEBUG, logger=OURS):
        umbrella.instrument(tracer_provider=provider, runtimes="praisonai")
    assert _instrumented() == {"agentscope": False, "hermes": False, "praisonai": True}
    assert caplog.records == []


@needs_every_runtime
def test_a_sequence_names_several(umbrella, provider):
    umbrella.instrument(tracer_provider=provider, runtimes=("agentscope", "hermes"))
    assert _instrumented() == {"agentscope": True, "hermes": True, "praisonai": False}


def test_an_unknown_name_raises_before_anything_is_patched(umbrella, provider):
    with pytest.raises(ValueError) as raised:
        umbrella.instrument(tracer_provider=provider, runtimes=["agentscope", "praisonia"])
    message = str(raised.value)
    assert "'praisonia'" in message
    assert all(name in message for name in RUNTIMES)
    assert not umbrella.is_instrumented_by_opentelemetry
    assert not any(_instrumented().values())


@needs_every_runtime
def test_a_named_runtime_not_installed_logs_one_line(umbrella, provider, caplog, monkeypatch):
    # The requirement names a distribution that does not exist: the real check
    # against the installed metadata finds it absent.
    monkeypatch.setattr(HermesAgentInstrumentor, "requirements", ("no-such-hermes-dist >= 1",))
    with caplog.at_level(logging.DEBUG, logger=OURS):
        umbrella.instrument(tracer_provider=provider, runtimes=["hermes", "praisonai"])
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "hermes: not installed (needs 'no-such-hermes-dist >= 1'); "
                    "not instrumented")]
    assert _instrumented() == {"agentscope": False, "hermes": False, "praisonai": True}


@needs_every_runtime
def test_an_unnamed_runtime_not_installed_is_quiet(umbrella, provider, caplog, monkeypatch):
    monkeypatch.setattr(HermesAgentInstrumentor, "requirements", ("no-such-hermes-dist >= 1",))
    with caplog.at_level(logging.INFO, logger=OURS):
        umbrella.instrument(tracer_provider=provider)
    assert caplog.records == []
    assert _instrumented() == {"agentscope": True, "hermes": False, "praisonai": True}


def test_a_version_out_of_range_warns_even_unnamed(umbrella, provider, caplog, monkeypatch):
    monkeypatch.setattr(AgentScopeInstrumentor, "requirements", ("agentscope >= 99",))
    with caplog.at_level(logging.INFO, logger=OURS):
        umbrella.instrument(tracer_provider=provider)
    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert record.getMessage().startswith("agentscope: agentscope ")
    assert record.getMessage().endswith("is installed, 'agentscope >= 99' is supported; "
                                        "not instrumented")
    assert not AgentScopeInstrumentor().is_instrumented_by_opentelemetry


@needs_every_runtime
def test_the_runtime_instrumentor_itself_skips_an_absent_runtime(provider, caplog, monkeypatch):
    # What `opentelemetry-instrument` does: skip_dep_check=True, then our check.
    monkeypatch.setattr(HermesAgentInstrumentor, "requirements", ("no-such-hermes-dist >= 1",))
    from run_agent import AIAgent  # HOME and HERMES_HOME: a temp dir (tests/conftest.py)

    instrumentor = HermesAgentInstrumentor()
    with caplog.at_level(logging.INFO, logger=OURS):
        instrumentor.instrument(tracer_provider=provider, skip_dep_check=True)
    try:
        assert caplog.records == []
        assert not is_ours(AIAgent.__dict__["run_conversation"])  # nothing was patched
    finally:
        instrumentor.uninstrument()
