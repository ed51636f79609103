"""Drift: a call point we patch, missing from the installed AgentScope release."""

from __future__ import annotations

from agentscope.agent import Agent
from agentscope.model import ChatModelBase
from agentscope.tool import ToolBase, Toolkit

from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)
from tests.runtimes import drifted

from .support import TOOL_ROUND_TREE, get_weather, make_agent, user

# The rest of what we patch; `Agent._handle_error_tool_call` (only reached by
# a rejected tool call) is the one a release "drops" here.
KEPT = [(Agent, "reply"), (Agent, "reply_stream"), (Agent, "_reasoning"),
        (ChatModelBase, "__call__"), (Toolkit, "call_tool"), (ToolBase, "__call__")]


async def test_missing_method_warns_once_and_the_rest_is_traced(provider, exporter, caplog,
                                                                 monkeypatch, detector):
    with drifted(AgentScopeInstrumentor, provider, caplog, monkeypatch,
                 dropped=(Agent, "_handle_error_tool_call"), kept=KEPT,
                 warns="agentscope.agent._agent.Agent._handle_error_tool_call"):
        agent = make_agent(ScriptedChatModel([call_tools(("get_weather", {"city": "Lima"})),
                                              say("done")]), [get_weather])
        await agent.reply(user())

    assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    detector.assert_all_ended()
