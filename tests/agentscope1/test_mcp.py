"""AgentScope 1.x MCP clients: a tool in an MCP server subprocess (stdio),
called by a ReAct agent, is one trace across both processes.

The host's spans come from the in-memory exporter; the server's arrive at an
OTLP receiver; the tree is asserted over both together.
"""

from __future__ import annotations

import sys

import pytest
from agentscope.mcp import StdIOStatefulClient
from opentelemetry.trace import SpanKind

from opentelemetry.instrumentation.agents.testing import assert_tree, build_trees, render
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    say,
)
from opentelemetry.instrumentation.agents.testing.otlp_receiver import OTLPReceiver
from tests.crossprocess.support import SERVERS, server_env
from tests.runtimes import instrumented_with

from .support import make_agent, user


@pytest.fixture
def receiver():
    with OTLPReceiver() as receiver:
        yield receiver


@pytest.fixture
def instrumented_with_mcp(provider):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
    from opentelemetry.instrumentation.agents.mcp import MCPInstrumentor

    with instrumented_with(AgentScopeInstrumentor, provider), \
            instrumented_with(MCPInstrumentor, provider):
        yield provider


TREE = """
invoke_agent helper
  react step
    chat scripted-model
    execute_tool get_weather {gen_ai.tool.name=get_weather}
      tools/call get_weather {gen_ai.tool.name=get_weather}
        tools/call get_weather {gen_ai.tool.name=get_weather}
          lookup weather
  react step
    chat scripted-model
"""


async def test_stdio_mcp_tool_is_one_trace(instrumented_with_mcp, exporter, receiver, detector):
    client = StdIOStatefulClient(name="weather", command=sys.executable,
                                 args=[str(SERVERS / "mcp_weather.py"), "stdio"],
                                 env=server_env(receiver.traces_url))
    await client.connect()
    try:
        model = ScriptedChatModel([call_tools(("get_weather", {"city": "Rome"})), say("Done.")])
        agent = make_agent(model)
        await agent.toolkit.register_mcp_client(client)
        await agent(user("weather?"))
    finally:
        await client.close()

    served = receiver.wait_for(lambda got: any(s.name == "lookup weather" for s in got))
    host = exporter.get_finished_spans()
    agent_trace = next(s for s in host if s.name == "invoke_agent helper").context.trace_id
    spans = [s for s in [*host, *served] if s.context.trace_id == agent_trace]
    trees = build_trees(spans)
    assert len(trees) == 1, render(trees)
    assert_tree([s for s in spans if s.name != "tools/list"], TREE)
    client_span, = [s for s in spans if s.name == "tools/call get_weather"
                    and s.kind is SpanKind.CLIENT]
    server_span, = [s for s in spans if s.name == "tools/call get_weather"
                    and s.kind is SpanKind.SERVER]
    assert server_span.parent.span_id == client_span.context.span_id
    detector.assert_all_ended()
