"""MCP requests, client and server side: start_mcp, finish_mcp."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry import trace

from .contract import (
    CANCELLED_TYPE,
    DURATION_BOUNDS,
    Owner,
    Unserializable,
    current,
    sampled_out_parent,
)

CLIENT_DURATION = "mcp.client.operation.duration"
SERVER_DURATION = "mcp.server.operation.duration"


def test_tool_call_client_span(tel):
    handler = tel.handler()
    inv = handler.start_mcp("tools/call", target="search", request_id=7, session_id="s-1",
                            protocol_version="2025-06-18", transport="pipe",
                            address="localhost", port=8000)
    handler.finish_mcp(inv)
    span = tel.span("tools/call search")
    assert span.kind is SpanKind.CLIENT
    assert span.parent is None
    assert dict(span.attributes) == {
        "mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search", "jsonrpc.request.id": "7", "mcp.session.id": "s-1",
        "mcp.protocol.version": "2025-06-18", "network.transport": "pipe",
        "server.address": "localhost", "server.port": 8000}
    assert span.status.status_code is StatusCode.UNSET


def test_other_methods(tel):
    handler = tel.handler()
    for method, target in (("prompts/get", "greet"), ("tools/list", None), (None, None)):
        handler.finish_mcp(handler.start_mcp(method, target=target))
    assert tel.names() == ["prompts/get greet", "tools/list", "unknown"]
    assert dict(tel.span("prompts/get greet").attributes) == {
        "mcp.method.name": "prompts/get", "gen_ai.prompt.name": "greet"}
    assert dict(tel.span("tools/list").attributes) == {"mcp.method.name": "tools/list"}


def test_client_call_nests_under_the_tool_and_the_server_continues_it(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        handler.start_step(frame)
        tool = handler.start_tool("search")
        with current(tool.context):
            client = handler.start_mcp("tools/call", target="search")
        # The server side gets the context the request carried.
        server = handler.start_mcp("tools/call", target="search", server=True,
                                   parent=client.context)
        handler.finish_mcp(server)
        handler.finish_mcp(client)
        handler.finish_tool(tool)
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot
          react step
            execute_tool search
              tools/call search
                tools/call search
    """)
    assert tel.spans()[0].kind is SpanKind.SERVER


def test_metrics(tel):
    handler = tel.handler()
    handler.finish_mcp(handler.start_mcp("tools/call", target="t", transport="tcp"))
    handler.finish_mcp(handler.start_mcp("tools/list", server=True), error=OSError("x"))
    metrics = tel.metrics()
    assert metrics[CLIENT_DURATION].unit == metrics[SERVER_DURATION].unit == "s"
    (client,) = tel.points(CLIENT_DURATION)
    assert dict(client.attributes) == {"mcp.method.name": "tools/call",
                                       "gen_ai.tool.name": "t", "network.transport": "tcp"}
    assert tuple(client.explicit_bounds) == DURATION_BOUNDS
    (server,) = tel.points(SERVER_DURATION)
    assert dict(server.attributes) == {"mcp.method.name": "tools/list", "error.type": "OSError"}
    assert tuple(server.explicit_bounds) == DURATION_BOUNDS


def test_error_response_and_exception(tel):
    handler = tel.handler()
    handler.finish_mcp(handler.start_mcp("tools/call", target="a"), status_code=-32602)
    handler.finish_mcp(handler.start_mcp("tools/call", target="b"), status_code=-32602,
                       error_type="tool_error")
    handler.finish_mcp(handler.start_mcp("tools/call", target="c"), error=TimeoutError("slow"))
    a = tel.span("tools/call a")
    assert a.status.status_code is StatusCode.ERROR
    assert a.attributes["rpc.response.status_code"] == "-32602"
    assert a.attributes["error.type"] == "-32602"
    assert tel.span("tools/call b").attributes["error.type"] == "tool_error"
    c = tel.span("tools/call c")
    assert (c.status.description, c.attributes["error.type"]) == ("slow", "TimeoutError")


async def test_cancelled_task(tel):
    handler = tel.handler()
    started = asyncio.Event()

    async def run():
        inv = handler.start_mcp("tools/call", target="t")
        try:
            started.set()
            await asyncio.sleep(3600)
        except BaseException as exc:
            handler.finish_mcp(inv, error=exc)
            raise

    task = asyncio.create_task(run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tel.span("tools/call t").attributes["error.type"] == CANCELLED_TYPE
    assert tel.point(CLIENT_DURATION).attributes["error.type"] == CANCELLED_TYPE


def test_suppressed_emits_nothing(tel):
    handler = tel.handler()
    with suppress_instrumentation():
        assert handler.start_mcp("tools/call", target="t") is None
        assert handler.start_mcp("tools/call", server=True,
                                 parent=trace.set_span_in_context(trace.INVALID_SPAN)) is None
    assert tel.nothing_emitted()


def test_sampled_out_parent_records_no_span_and_raises_nothing(tel):
    handler = tel.handler()
    handler.finish_mcp(handler.start_mcp("tools/call", server=True, parent=sampled_out_parent()),
                       status_code=1)
    with current(sampled_out_parent()):
        handler.finish_mcp(handler.start_mcp("tools/call", target="t"), error=ValueError())
    assert tel.spans() == []


def test_bad_values_never_raise(tel):
    handler = tel.handler()
    inv = handler.start_mcp(Unserializable(), target=Unserializable(), session_id=12,
                            request_id=Unserializable(), protocol_version=1.0, port="80")
    handler.finish_mcp(inv, status_code=Unserializable())
    tel.detector.assert_all_ended()  # the unreadable code did not keep it open
    handler.finish_mcp(inv, status_code=1)  # ending twice is harmless
    (span,) = tel.spans()
    assert span.name == "unknown"
    assert span.attributes["mcp.session.id"] == "12"
    assert span.attributes["mcp.protocol.version"] == "1.0"
    assert "jsonrpc.request.id" not in span.attributes
    assert "rpc.response.status_code" not in span.attributes
    assert span.status.status_code is StatusCode.UNSET
