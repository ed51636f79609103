"""A PraisonAI agent calling a tool in an MCP server subprocess
(`praisonaiagents.mcp.MCP`, stdio and streamable HTTP): one trace.

PraisonAI's stdio MCP tools send the request from a runner thread of their
own; the tool call's context must reach it for the MCP client span to sit
under ``execute_tool`` and for the server's spans to join the trace. Both
processes export over OTLP/HTTP to one receiver.
"""

from __future__ import annotations

import json
import sys
import threading

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry.instrumentation.agents.testing import assert_tree, build_trees, render
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    text,
    tool_calls,
)
from tests.runtimes import instrumented_with

from .support import SERVERS, http_server, kill_on, server_env

MODEL = "gpt-4o-mini"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """PraisonAI's OpenAI-native path against the scripted server only."""
    for name in ("OPENAI_API_BASE", "OPENAI_BASE_URL", "OPENAI_MODEL_NAME",
                 "PRAISONAI_OUTPUT", "PRAISONAI_TELEMETRY_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")
    monkeypatch.setenv("PRAISONAI_TELEMETRY_DISABLED", "true")


@pytest.fixture
def model(monkeypatch):
    """A scripted model: ask for `get_weather(city)`, then answer "Done."."""
    servers = []

    def start(city: str) -> ScriptedOpenAIServer:
        server = ScriptedOpenAIServer(
            [tool_calls([ToolCall("get_weather", {"city": city})]), text("Done.")],
            marker="last").start()
        servers.append(server)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        return server

    yield start
    for server in servers:
        server.stop()


def _instrumented(provider):
    from opentelemetry.instrumentation.agents import AgentsInstrumentor

    return instrumented_with(AgentsInstrumentor, provider)


@pytest.fixture
def instrumented(host_provider):
    with _instrumented(host_provider):
        yield host_provider


def _stdio_mcp(traces_url: str, **options):
    from praisonaiagents.mcp import MCP

    return MCP(command=sys.executable, args=[str(SERVERS / "mcp_weather.py"), "stdio"],
               env=server_env(traces_url), **options)


def _ask(tools, entry: str = "chat") -> str:
    import asyncio

    from praisonaiagents import Agent

    agent = Agent(name="helper", instructions="You help.", tools=tools, model=MODEL,
                  retry=False)
    if entry == "achat":  # PraisonAI's async tool path (`execute_tool_async`)
        return asyncio.run(agent.achat("Weather? [conv:w]"))
    return agent.chat("Weather? [conv:w]")


def _tool_result(server: ScriptedOpenAIServer) -> str:
    """What the MCP tool answered, as the model was told in the second request."""
    messages = server.requests[-1]["messages"]
    tool_messages = [m for m in messages if m.get("role") == "tool"]
    assert len(tool_messages) == 1, messages
    content = tool_messages[0]["content"]
    try:
        return json.loads(content)  # PraisonAI sends tool results as JSON
    except ValueError:
        return content


def _agent_trace(receiver, *names: str):
    """The spans of the agent's trace, once the agent's (and `names`) arrived."""
    spans = receiver.wait_for(lambda got: all(
        any(s.name == name for s in got) for name in ("invoke_agent helper", *names)))
    trace_id = next(s for s in spans if s.name == "invoke_agent helper").context.trace_id
    mine = [s for s in spans if s.context.trace_id == trace_id]
    trees = build_trees(mine)
    assert len(trees) == 1, render(trees)
    return mine


def _one(spans, name, kind):
    found = [s for s in spans if s.name == name and s.kind is kind]
    assert len(found) == 1, [(s.name, s.kind) for s in spans]
    return found[0]


def _tree(transport: str, server_transport: str = "") -> str:
    return f"""
invoke_agent helper {{agents.runtime=praisonai}}
  react step
    chat {MODEL}
    execute_tool get_weather {{gen_ai.tool.name=get_weather}}
      tools/call get_weather {{mcp.method.name=tools/call, gen_ai.tool.name=get_weather, network.transport={transport}}}
        tools/call get_weather {{mcp.method.name=tools/call, gen_ai.tool.name=get_weather{server_transport}}}
          lookup weather
  react step
    chat {MODEL}
"""


def _assert_crossed(spans, service: str = "mcp-weather"):
    client = _one(spans, "tools/call get_weather", SpanKind.CLIENT)
    server = _one(spans, "tools/call get_weather", SpanKind.SERVER)
    tool = next(s for s in spans if s.name == "execute_tool get_weather")
    assert client.parent.span_id == tool.context.span_id
    assert server.parent.span_id == client.context.span_id
    assert server.resource.attributes["service.name"] == service
    assert tool.resource.attributes["service.name"] != service
    assert client.attributes["jsonrpc.request.id"] == server.attributes["jsonrpc.request.id"]
    return client, server


@pytest.mark.parametrize("entry", ["chat", "achat"])
def test_stdio_tool_call_is_one_trace(instrumented, receiver, model, detector, entry):
    server = model("Paris")
    mcp = _stdio_mcp(receiver.traces_url)
    try:
        answer = _ask(mcp, entry)
    finally:
        mcp.shutdown()

    assert answer == "Done."
    assert _tool_result(server) == "sunny in Paris"
    spans = _agent_trace(receiver, "lookup weather")
    assert_tree(spans, _tree("pipe"), ordered=True)
    _assert_crossed(spans)
    detector.assert_all_ended()


def test_stdio_calls_from_threads_keep_their_own_traces(instrumented, receiver, model, detector):
    """One MCP runner thread serves several agents at once: each tool call
    runs in the context of the agent that made it."""
    from praisonaiagents import Agent

    model("Rome")
    mcp = _stdio_mcp(receiver.traces_url)
    answers: list[str] = []

    def run(index: int) -> None:
        agent = Agent(name=f"helper{index}", instructions="You help.", tools=mcp, model=MODEL,
                      retry=False)
        answers.append(agent.chat(f"Weather? [conv:t{index}]"))

    try:
        threads = [threading.Thread(target=run, args=(index,)) for index in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        mcp.shutdown()

    assert answers == ["Done."] * 3
    spans = receiver.wait_for(lambda got: sum(s.name == "lookup weather" for s in got) == 3
                              and sum(s.name.startswith("invoke_agent") for s in got) == 3)
    for index in range(3):
        root = next(s for s in spans if s.name == f"invoke_agent helper{index}")
        mine = [s for s in spans if s.context.trace_id == root.context.trace_id]
        assert_tree(mine, _tree("pipe").replace("helper {", f"helper{index} {{"), ordered=True)
        _assert_crossed(mine)
    detector.assert_all_ended()


def test_streamable_http_tool_call_is_one_trace(instrumented, receiver, model, detector):
    from praisonaiagents.mcp import MCP

    server = model("Oslo")
    with http_server("mcp_weather.py", receiver.traces_url, "http") as (port, _process):
        mcp = MCP(f"http://127.0.0.1:{port}/mcp")
        try:
            answer = _ask(mcp)
        finally:
            mcp.shutdown()
        spans = _agent_trace(receiver, "lookup weather")

    assert answer == "Done."
    assert _tool_result(server) == "sunny in Oslo"
    assert_tree(spans, _tree("tcp", ", network.transport=tcp"), ordered=True)
    client, server_span = _assert_crossed(spans)
    assert client.attributes["server.address"] == "127.0.0.1"
    assert client.attributes["server.port"] == port
    assert server_span.attributes["mcp.session.id"]
    detector.assert_all_ended()


# -- faults across the boundary ----------------------------------------------
# Each fault runs once uninstrumented and once instrumented: the agent's
# answer and what the tool told the model must be the same.

def _uninstrumented_then_instrumented(provider, run):
    bare = run()
    with _instrumented(provider):
        traced = run()
    return bare, traced


def _assert_failed_client(spans):
    client = _one(spans, "tools/call get_weather", SpanKind.CLIENT)
    tool = next(s for s in spans if s.name == "execute_tool get_weather")
    assert client.parent.span_id == tool.context.span_id
    assert client.status.status_code is StatusCode.ERROR
    assert client.attributes["error.type"]
    return client


def _assert_attempts(spans, tool_error: str, transport: str, error_types: list[str]):
    """The tool span in ERROR with one failed client span per attempt under it."""
    tool = next(s for s in spans if s.name == "execute_tool get_weather")
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.attributes["error.type"] == tool_error
    clients = sorted((s for s in spans if s.name == "tools/call get_weather"
                      and s.kind is SpanKind.CLIENT), key=lambda s: s.start_time)
    for client in clients:
        assert client.parent.span_id == tool.context.span_id
        assert client.status.status_code is StatusCode.ERROR
        assert client.attributes["network.transport"] == transport
    assert [c.attributes["error.type"] for c in clients] == error_types
    return clients


def test_stdio_server_dying_mid_call(host_provider, receiver, model, detector, caplog):
    def run():
        server = model("crash")  # the server exits inside the tool
        mcp = _stdio_mcp(receiver.traces_url)
        try:
            return _ask(mcp), _tool_result(server)
        finally:
            mcp.shutdown()

    bare, traced = _uninstrumented_then_instrumented(host_provider, run)

    assert traced == bare
    assert traced[1].startswith("Error: MCP server connection lost")
    spans = _agent_trace(receiver)
    client = _assert_failed_client(spans)
    assert client.attributes["network.transport"] == "pipe"
    # The server died inside the tool: it could export nothing after that.
    assert not [s for s in spans if s.kind is SpanKind.SERVER]
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text


def test_http_server_killed_mid_call(host_provider, receiver, model, detector, caplog):
    from praisonaiagents.mcp import MCP

    def run():
        server = model("slow")  # the tool sleeps 3 s; the server is killed once it began
        with http_server("mcp_weather.py", receiver.traces_url, "http") as (port, process):
            mcp = MCP(f"http://127.0.0.1:{port}/mcp", timeout=4)
            kill_on(process, "slow call started")
            try:
                return _ask(mcp), _tool_result(server)
            finally:
                mcp.shutdown()

    bare, traced = _uninstrumented_then_instrumented(host_provider, run)

    assert traced == bare
    assert traced[1]["mcp_error"] is True
    spans = _agent_trace(receiver)
    # PraisonAI tries a failing tool again (three attempts): the first two
    # wait out the tool timeout and are cancelled by PraisonAI, the third
    # finds the connection closed. Each is a client span in ERROR under the
    # one `execute_tool` span, which is in ERROR too.
    _assert_attempts(spans, "tool_error", "tcp", [
        "asyncio.exceptions.CancelledError", "asyncio.exceptions.CancelledError",
        "anyio.ClosedResourceError"])
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text


def test_stdio_request_timing_out(host_provider, receiver, model, detector, caplog):
    def run():
        server = model("stall")
        # PraisonAI's one timeout bounds the server's start too: 4 s leaves
        # room for a loaded machine.
        mcp = _stdio_mcp(receiver.traces_url, timeout=4)
        try:
            return _ask(mcp), _tool_result(server)
        finally:
            mcp.shutdown()

    bare, traced = _uninstrumented_then_instrumented(host_provider, run)

    assert traced == bare
    assert traced[1] == {"error": "MCP tool call timed out after 4 seconds", "timeout": True}
    spans = _agent_trace(receiver)
    # Three attempts, each given up by PraisonAI's runner (`asyncio.wait_for`
    # cancels the request); the server still runs each tool call, in the trace.
    clients = _assert_attempts(spans, "timeout", "pipe", ["asyncio.exceptions.CancelledError"] * 3)
    servers = [s for s in spans if s.name == "tools/call get_weather" and s.kind is SpanKind.SERVER]
    assert servers
    assert {s.parent.span_id for s in servers} <= {c.context.span_id for c in clients}
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text
