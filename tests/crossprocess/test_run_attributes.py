"""`agent_run` values cross process boundaries as W3C baggage: one MCP hop
(stdio, the tool's server spans) and one A2A hop (the remote agent's spans)."""

from __future__ import annotations

import sys

import pytest
from agentscope.agent import A2AAgent
from agentscope.mcp import MCPClient, StdioMCPConfig
from agentscope.message import UserMsg
from opentelemetry.trace import SpanKind

from opentelemetry.instrumentation.agents import agent_run
from tests.runtimes import instrumented_with

from .support import SERVERS, http_server, server_env
from .test_a2a_agentscope2 import _card, _is_remote_call
from .test_mcp_agentscope2 import _agent, _agent_trace


@pytest.fixture
def instrumented(host_provider):
    from opentelemetry.instrumentation.agents.a2a import A2AInstrumentor
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
    from opentelemetry.instrumentation.agents.mcp import MCPInstrumentor

    with instrumented_with(AgentScopeInstrumentor, host_provider), \
            instrumented_with(MCPInstrumentor, host_provider), \
            instrumented_with(A2AInstrumentor, host_provider):
        yield host_provider


RUN = {"session_id": "s-42", "user_id": "u-7", "attributes": {"tier": "gold"}}


def _carries_the_run(span) -> bool:
    return (span.attributes.get("user.id") == "u-7"
            and span.attributes.get("agents.run.tier") == "gold")


async def test_mcp_server_spans_carry_the_run(instrumented, receiver, detector):
    config = StdioMCPConfig(command=sys.executable,
                            args=[str(SERVERS / "mcp_weather.py"), "stdio"],
                            env=server_env(receiver.traces_url))
    client = MCPClient(name="weather", is_stateful=True, mcp_config=config)
    await client.connect()
    try:
        with agent_run(**RUN):
            await _agent(client, "Paris").reply(UserMsg(name="user", content="weather?"))
    finally:
        await client.close()
    spans = _agent_trace(receiver)
    server, = [s for s in spans if s.name == "tools/call get_weather"
               and s.kind is SpanKind.SERVER]
    assert server.resource.attributes["service.name"] == "mcp-weather"  # the other process
    assert _carries_the_run(server)
    ours = [s for s in spans if s.name != "lookup weather"]  # the server's own span is not ours
    assert ours and all(_carries_the_run(s) for s in ours)
    detector.assert_all_ended()


async def test_a2a_remote_agent_spans_carry_the_run(instrumented, receiver, detector):
    with http_server("a2a_forecaster.py", receiver.traces_url) as (port, _process):
        with agent_run(**RUN):
            async with A2AAgent(agent_card=_card(port)) as remote:
                await remote.reply(UserMsg(name="user", content="weather tomorrow?"))
        spans = receiver.wait_for(lambda got: any(s.name == "react step" for s in got)
                                  and any(_is_remote_call(s) for s in got))
    remote_side = [s for s in spans if s.resource.attributes["service.name"] == "a2a-forecaster"
                   and s.name in ("invoke_agent forecaster", "react step", "chat scripted-model")]
    assert len(remote_side) >= 3
    assert all(_carries_the_run(s) for s in remote_side), [
        (s.name, dict(s.attributes)) for s in remote_side]
    detector.assert_all_ended()
