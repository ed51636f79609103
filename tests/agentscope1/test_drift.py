"""Drift: a call point we patch, missing from the installed AgentScope 1.x release."""

from __future__ import annotations

from agentscope.agent import AgentBase, ReActAgent
from agentscope.tool import Toolkit

from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    say,
)
from tests.runtimes import drifted

from .support import TOOL_ROUND_TREE, get_weather, make_agent, user

# `ReActAgent._summarizing` (only reached at the iteration limit) is the one
# a release "drops" here; these stay.
KEPT = [(AgentBase, "__call__"), (ReActAgent, "reply"), (ReActAgent, "_reasoning"),
        (Toolkit, "call_tool_function")]


async def test_missing_method_warns_once_and_the_rest_is_traced(provider, exporter, caplog,
                                                                 monkeypatch, detector):
    with drifted(AgentScopeInstrumentor, provider, caplog, monkeypatch,
                 dropped=(ReActAgent, "_summarizing"), kept=KEPT,
                 warns="agentscope.agent._react_agent.ReActAgent._summarizing"):
        agent = make_agent(ScriptedChatModel([call_tools(("get_weather", {"city": "Lima"})),
                                              say("done")]), [get_weather])
        await agent(user())

    assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    detector.assert_all_ended()
