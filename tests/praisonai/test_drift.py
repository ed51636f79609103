"""Drift: a call point we patch, missing from the installed PraisonAI Agents release."""

from __future__ import annotations

from praisonaiagents.agent.chat_mixin import ChatMixin
from praisonaiagents.agents.agents import AgentTeam

from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)
from tests.runtimes import drifted

from .support import TOOL_ROUND_TREE, make_agent

# `AgentTeam.astart` (only reached by an async team) is the one a release
# "drops" here; these stay.
KEPT = [(ChatMixin, "chat"), (ChatMixin, "achat"), (AgentTeam, "start")]


def test_missing_method_warns_once_and_the_rest_is_traced(provider, exporter, caplog,
                                                           monkeypatch, detector, serve):
    serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})]), text("sunny")])
    with drifted(PraisonAIInstrumentor, provider, caplog, monkeypatch,
                 dropped=(AgentTeam, "astart"), kept=KEPT,
                 warns="praisonaiagents.agents.agents.AgentTeam.astart"):
        assert make_agent().chat("hi") == "sunny"

    assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    detector.assert_all_ended()
