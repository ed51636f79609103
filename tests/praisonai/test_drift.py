"""Drift: a call point we patch, missing from the installed PraisonAI Agents release."""

from __future__ import annotations

import logging

from praisonaiagents.agent.chat_mixin import ChatMixin
from praisonaiagents.agents.agents import AgentTeam

from opentelemetry.instrumentation.agents._patching import is_ours
from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)
from tests.runtimes import drift_warnings

from .support import make_agent

# `AgentTeam.astart` (only reached by an async team) is the one a release
# "drops" here; these stay.
KEPT = [(ChatMixin, "chat"), (ChatMixin, "achat"), (AgentTeam, "start")]

TREE = """
invoke_agent helper
  react step
    chat gpt-4o-mini
    execute_tool get_weather
  react step
    chat gpt-4o-mini
"""


def test_missing_method_warns_once_and_the_rest_is_traced(provider, exporter, caplog,
                                                           monkeypatch, detector, serve):
    monkeypatch.delattr(AgentTeam, "astart")
    before = {(cls, name): cls.__dict__[name] for cls, name in KEPT}
    serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})]), text("sunny")])
    caplog.set_level(logging.WARNING, logger="opentelemetry.instrumentation.agents")
    instrumentor = PraisonAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        assert all(is_ours(cls.__dict__[name]) for cls, name in KEPT)
        assert make_agent().chat("hi") == "sunny"
    finally:
        instrumentor.uninstrument()

    [warning] = drift_warnings(caplog.records)
    assert "praisonaiagents.agents.agents.AgentTeam.astart" in warning.getMessage()
    assert_tree(exporter.get_finished_spans(), TREE)
    detector.assert_all_ended()
    assert {(cls, name): cls.__dict__[name] for cls, name in KEPT} == before
    assert "astart" not in AgentTeam.__dict__  # nothing put in its place
