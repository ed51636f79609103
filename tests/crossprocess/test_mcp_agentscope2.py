"""An AgentScope 2.x agent calling a tool in an MCP server subprocess: one trace.

Both processes export over OTLP/HTTP to one receiver; the tree is asserted
across them. Transports: stdio (stateful client) and streamable HTTP on
127.0.0.1 (stateless and stateful clients).
"""

from __future__ import annotations

import sys
from importlib.metadata import version

import pytest
from agentscope.agent import Agent, ReActConfig
from agentscope.mcp import HttpMCPConfig, MCPClient, StdioMCPConfig
from agentscope.message import UserMsg
from agentscope.tool import Toolkit
from opentelemetry.trace import SpanKind

from opentelemetry.instrumentation.agents.testing import assert_tree, build_trees, render
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)
from tests.runtimes import instrumented_with

from .support import SERVERS, http_server, server_env


@pytest.fixture
def instrumented(host_provider):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
    from opentelemetry.instrumentation.agents.mcp import MCPInstrumentor

    with instrumented_with(AgentScopeInstrumentor, host_provider), \
            instrumented_with(MCPInstrumentor, host_provider):
        yield host_provider


def _agent(client: MCPClient, city: str) -> Agent:
    model = ScriptedChatModel([call_tools(("mcp__weather__get_weather", {"city": city})), say("Done.")])
    return Agent(name="helper", system_prompt="You help.", model=model,
                 toolkit=Toolkit(mcps=[client]), react_config=ReActConfig(max_iters=3))


MCP2 = int(version("mcp").split(".")[0]) >= 2
# Protocol 2026-07-28 (mcp 2.x's default) has no sessions and no
# `initialize`: a client discovers the server with `server/discover`.
SESSIONLESS_PROTOCOL = "2026-07-28"


def _one_trace(spans):
    trees = build_trees(spans)
    assert len(trees) == 1, render(trees)
    assert len({span.context.trace_id for span in spans}) == 1
    return trees[0]


def _mcp_spans(spans, name, kind):
    return [s for s in spans if s.name == name and s.kind is kind]


def _tool_call_tree(transport: str, server_transport: str = "") -> str:
    return f"""
invoke_agent helper
  react step
    chat scripted-model
    execute_tool mcp__weather__get_weather {{gen_ai.tool.name=mcp__weather__get_weather}}
      tools/call get_weather {{gen_ai.tool.name=get_weather, network.transport={transport}}}
        tools/call get_weather {{gen_ai.tool.name=get_weather{server_transport}}}
          lookup weather
  react step
    chat scripted-model
"""


def _assert_listings_continue(spans) -> None:
    """AgentScope lists the server's tools several times a reply (``tools/list``
    spans, how many is AgentScope's business): each client span has exactly
    its server span under it."""
    by_id = {s.context.span_id: s for s in spans}
    clients = [s for s in spans if s.name == "tools/list" and s.kind is SpanKind.CLIENT]
    servers = [s for s in spans if s.name == "tools/list" and s.kind is SpanKind.SERVER]
    assert clients and len(servers) == len(clients)
    assert sorted(by_id[s.parent.span_id].context.span_id for s in servers) == sorted(
        s.context.span_id for s in clients)


async def test_stdio_tool_call_is_one_trace(instrumented, receiver, detector):
    config = StdioMCPConfig(command=sys.executable, args=[str(SERVERS / "mcp_weather.py"), "stdio"],
                            env=server_env(receiver.traces_url))
    client = MCPClient(name="weather", is_stateful=True, mcp_config=config)
    await client.connect()
    try:
        result = await _agent(client, "Paris").reply(UserMsg(name="user", content="weather?"))
    finally:
        await client.close()

    assert result.get_text_content() == "Done."
    spans = receiver.wait_for(lambda got: any(s.name == "lookup weather" for s in got)
                              and any(s.name == "invoke_agent helper" for s in got))
    agent_spans = [s for s in spans if s.context.trace_id == next(
        s for s in spans if s.name == "invoke_agent helper").context.trace_id]
    _one_trace(agent_spans)
    _assert_listings_continue(agent_spans)
    assert_tree([s for s in agent_spans if s.name != "tools/list"], _tool_call_tree("pipe"))
    client_span, = _mcp_spans(spans, "tools/call get_weather", SpanKind.CLIENT)
    server_span, = _mcp_spans(spans, "tools/call get_weather", SpanKind.SERVER)
    assert server_span.parent.span_id == client_span.context.span_id
    assert server_span.resource.attributes["service.name"] == "mcp-weather"
    for span in (client_span, server_span):
        assert span.attributes["mcp.method.name"] == "tools/call"
        assert span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert client_span.attributes["jsonrpc.request.id"] == server_span.attributes[
        "jsonrpc.request.id"]
    detector.assert_all_ended()


def _agent_trace(receiver):
    spans = receiver.wait_for(lambda got: any(s.name == "lookup weather" for s in got)
                              and any(s.name == "invoke_agent helper" for s in got))
    trace_id = next(s for s in spans if s.name == "invoke_agent helper").context.trace_id
    return [s for s in spans if s.context.trace_id == trace_id]


@pytest.mark.parametrize("stateful", [True, False], ids=["stateful", "stateless"])
async def test_streamable_http_tool_call_is_one_trace(instrumented, receiver, detector, stateful):
    with http_server("mcp_weather.py", receiver.traces_url, "http") as (port, _process):
        client = MCPClient(name="weather", is_stateful=stateful,
                           mcp_config=HttpMCPConfig(url=f"http://127.0.0.1:{port}/mcp"))
        if stateful:
            await client.connect()
        try:
            result = await _agent(client, "Oslo").reply(UserMsg(name="user", content="weather?"))
        finally:
            if stateful:
                await client.close()
        assert result.get_text_content() == "Done."
        spans = _agent_trace(receiver)

    _one_trace(spans)
    _assert_listings_continue(spans)
    # A stateless client opens a session per call: its `initialize` is part
    # of the tool call (and answered by the server in the same trace).
    shown = [s for s in spans if s.name not in ("tools/list", "initialize", "server/discover")]
    assert_tree(shown, _tool_call_tree("tcp", ", network.transport=tcp"))
    client_span, = _mcp_spans(spans, "tools/call get_weather", SpanKind.CLIENT)
    server_span, = _mcp_spans(spans, "tools/call get_weather", SpanKind.SERVER)
    assert client_span.attributes["server.address"] == "127.0.0.1"
    assert client_span.attributes["server.port"] == port
    assert server_span.attributes["network.transport"] == "tcp"
    assert server_span.attributes["mcp.protocol.version"]
    if server_span.attributes["mcp.protocol.version"] < SESSIONLESS_PROTOCOL:
        assert server_span.attributes["mcp.session.id"]
    else:
        assert "mcp.session.id" not in server_span.attributes
    initializes = _mcp_spans(spans, "initialize", SpanKind.CLIENT) + _mcp_spans(
        spans, "server/discover", SpanKind.CLIENT)
    if stateful:
        assert not initializes  # sent by connect(), before the reply
    else:
        tool_span, = [s for s in spans if s.name == "execute_tool mcp__weather__get_weather"]
        assert tool_span.context.span_id in {s.parent.span_id for s in initializes}
    detector.assert_all_ended()


# -- faults across the boundary ----------------------------------------------

async def _reply_over_stdio(receiver, city: str, timeout: float | None = None):
    config = StdioMCPConfig(command=sys.executable, args=[str(SERVERS / "mcp_weather.py"), "stdio"],
                            env=server_env(receiver.traces_url))
    client = MCPClient(name="weather", is_stateful=True, mcp_config=config,
                       execution_timeout=timeout)
    await client.connect()
    try:
        return await _agent(client, city).reply(UserMsg(name="user", content="weather?"))
    finally:
        await client.close()


async def test_server_dying_mid_call(instrumented, receiver, detector, caplog):
    result = await _reply_over_stdio(receiver, "crash")

    # AgentScope turns the lost connection into a tool error for the model,
    # and the reply goes on, as it does uninstrumented.
    assert result.get_text_content() == "Done."
    spans = receiver.wait_for(lambda got: any(s.name == "invoke_agent helper" for s in got))
    client_span, = _mcp_spans(spans, "tools/call get_weather", SpanKind.CLIENT)
    assert client_span.status.status_code.name == "ERROR"
    assert client_span.attributes["error.type"]
    tool_span, = [s for s in spans if s.name == "execute_tool mcp__weather__get_weather"]
    assert client_span.parent.span_id == tool_span.context.span_id
    # The server died inside the tool: it could export nothing after that.
    assert not _mcp_spans(spans, "tools/call get_weather", SpanKind.SERVER)
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text


async def test_request_timing_out(instrumented, receiver, detector, caplog):
    result = await _reply_over_stdio(receiver, "slow", timeout=0.5)

    assert result.get_text_content() == "Done."
    spans = receiver.wait_for(lambda got: any(s.name == "invoke_agent helper" for s in got))
    client_span, = _mcp_spans(spans, "tools/call get_weather", SpanKind.CLIENT)
    # The SDK's REQUEST_TIMEOUT: 408 in mcp 1.x, JSON-RPC's -32001 in 2.x.
    timeout_code = "-32001" if MCP2 else "408"
    assert client_span.attributes["error.type"] == timeout_code
    assert client_span.attributes["rpc.response.status_code"] == timeout_code
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text


async def test_tool_failing_in_the_server(instrumented, receiver, detector):
    result = await _reply_over_stdio(receiver, "fail")

    assert result.get_text_content() == "Done."
    spans = receiver.wait_for(lambda got: any(s.name == "lookup weather" for s in got)
                              and any(s.name == "invoke_agent helper" for s in got))
    client_span, = _mcp_spans(spans, "tools/call get_weather", SpanKind.CLIENT)
    server_span, = _mcp_spans(spans, "tools/call get_weather", SpanKind.SERVER)
    lookup, = [s for s in spans if s.name == "lookup weather"]
    assert lookup.parent.span_id == server_span.context.span_id
    for span in (client_span, server_span):
        assert span.attributes["error.type"] == "tool_error"
        assert span.status.status_code.name == "ERROR"
    detector.assert_all_ended()
