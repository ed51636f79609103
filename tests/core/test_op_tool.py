"""`execute_tool {tool}` calls: start_tool, describe_tool, finish_tool."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from .contract import (
    CANCELLED_TYPE,
    DURATION_BOUNDS,
    TRUNCATION_MARK,
    Owner,
    Unserializable,
    current,
    cyclic,
    sampled_out_parent,
)

TOOL_DURATION = "agents.tool.duration"


def test_span_name_kind_and_attributes(tel):
    handler = tel.handler()
    inv = handler.start_tool("search", call_id="call-1", description="looks things up")
    handler.finish_tool(inv, result="found")
    span = tel.span("execute_tool search")
    assert span.kind is SpanKind.INTERNAL
    assert span.parent is None
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search",
        "gen_ai.tool.call.id": "call-1", "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "looks things up"}
    assert span.status.status_code is StatusCode.UNSET


def test_inside_a_round_and_what_the_tool_runs_nests_under_it(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot", conversation_id="conv-1")
    with current(frame.context):
        handler.start_step(frame)
        inv = handler.start_tool("search", tool_type="extension")
        with current(inv.context):  # the tool's own code runs here
            handler.finish_chat(handler.start_chat(request_model="m"))
        handler.finish_tool(inv)
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot
          react step
            execute_tool search {gen_ai.tool.type=extension}
              chat m
    """)
    assert tel.span("execute_tool search").attributes["gen_ai.conversation.id"] == "conv-1"


def test_a_tool_run_outside_any_round_opens_one(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        handler.finish_tool(handler.start_tool("confirmed"))
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot {agents.react.rounds=1}
          react step {gen_ai.react.round=1}
            execute_tool confirmed
    """)


def test_unnamed_tool_and_parent_is_the_current_span(tel):
    handler = tel.handler()
    with tel.provider.get_tracer("user").start_as_current_span("request"):
        handler.finish_tool(handler.start_tool(None, tool_type=None))
    tel.tree("""
        request
          execute_tool
    """)
    assert dict(tel.span("execute_tool").attributes) == {
        "gen_ai.operation.name": "execute_tool"}


def test_description_found_later(tel):
    handler = tel.handler(max_length=30)
    inv = handler.start_tool("t")
    handler.describe_tool(inv, "d" * 1000)
    handler.describe_tool(inv, 42)  # not text: ignored
    handler.finish_tool(inv)
    handler.describe_tool(inv, "too late")
    description = tel.span("execute_tool t").attributes["gen_ai.tool.description"]
    assert description == "d" * (30 - len(TRUNCATION_MARK)) + TRUNCATION_MARK


def test_duration_metric(tel):
    handler = tel.handler()
    handler.finish_tool(handler.start_tool("t"))
    handler.finish_tool(handler.start_tool("t"), error=KeyError("k"))
    assert tel.metrics()[TOOL_DURATION].unit == "s"
    ok = tel.point(TOOL_DURATION, {"error.type": None})
    assert dict(ok.attributes) == {"gen_ai.operation.name": "execute_tool",
                                   "gen_ai.tool.name": "t"}
    assert ok.count == 1
    assert tuple(ok.explicit_bounds) == DURATION_BOUNDS
    assert tel.point(TOOL_DURATION, {"error.type": "KeyError"}).count == 1


def test_error_path(tel):
    handler = tel.handler()
    error = ValueError("bad input")
    handler.finish_tool(handler.start_tool("t"), error=error)
    span = tel.span("execute_tool t")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "bad input"
    assert span.attributes["error.type"] == "ValueError"
    assert not hasattr(error, "__notes__")


def test_an_error_the_runtime_turned_into_text_is_still_an_error(tel):
    handler = tel.handler(content="true")
    inv = handler.start_tool("t")
    inv.error_type = "ZeroDivisionError"  # what a wrapper saw inside the runtime
    handler.finish_tool(inv, result="Error: division by zero")
    span = tel.span("execute_tool t")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "ZeroDivisionError"
    assert span.attributes["gen_ai.tool.call.result"] == "Error: division by zero"
    assert tel.point(TOOL_DURATION).attributes["error.type"] == "ZeroDivisionError"


async def test_cancelled_task(tel):
    handler = tel.handler()
    started = asyncio.Event()

    async def run():
        inv = handler.start_tool("slow")
        try:
            started.set()
            await asyncio.sleep(3600)
        except BaseException as exc:
            handler.finish_tool(inv, error=exc)
            raise

    task = asyncio.create_task(run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tel.span("execute_tool slow").attributes["error.type"] == CANCELLED_TYPE


@pytest.mark.parametrize("content", [None, "false", "true"])
def test_arguments_and_result_only_with_content(tel, content):
    handler = tel.handler(content=content)
    handler.finish_tool(handler.start_tool("t", arguments={"q": "weather"}),
                        result={"temp": 20})
    attrs = tel.span("execute_tool t").attributes
    if content == "true":
        assert attrs["gen_ai.tool.call.arguments"] == '{"q":"weather"}'
        assert attrs["gen_ai.tool.call.result"] == '{"temp":20}'
    else:
        assert "gen_ai.tool.call.arguments" not in attrs
        assert "gen_ai.tool.call.result" not in attrs


def test_content_truncated_and_unserializable(tel):
    handler = tel.handler(content="true", max_length=25)
    handler.finish_tool(handler.start_tool("t", arguments="a" * 5_000_000),
                        result=cyclic())
    handler.finish_tool(handler.start_tool("u", arguments=Unserializable()),
                        result=b"\x00" * 10)
    t = tel.span("execute_tool t").attributes
    assert len(t["gen_ai.tool.call.arguments"]) == 25
    assert t["gen_ai.tool.call.arguments"].endswith(TRUNCATION_MARK)
    assert t["gen_ai.tool.call.result"] == "<unserializable>"
    u = tel.span("execute_tool u").attributes
    assert u["gen_ai.tool.call.arguments"] == '"<unserializable>"'
    assert u["gen_ai.tool.call.result"] == '"<10 bytes>"'


def test_suppressed_emits_nothing(tel):
    handler = tel.handler(content="true")
    with suppress_instrumentation():
        assert handler.start_tool("t", arguments="x") is None
    assert tel.nothing_emitted()


def test_sampled_out_parent_records_no_span_and_raises_nothing(tel):
    handler = tel.handler(content="true")
    with current(sampled_out_parent()):
        inv = handler.start_tool("t", arguments=cyclic())
        handler.describe_tool(inv, "d")
        handler.finish_tool(inv, result=Unserializable(), error=ValueError("x"))
    assert tel.spans() == []


def test_bad_values_never_raise(tel):
    handler = tel.handler()
    inv = handler.start_tool(Unserializable(), call_id=Unserializable(),
                             description="\udcff" + "x" * 10_000_000)
    handler.describe_tool(inv, None)
    handler.finish_tool(inv, result=Unserializable())
    handler.finish_tool(inv)  # ending twice is harmless
    (span,) = tel.spans()
    assert span.name == "execute_tool"
    assert len(span.attributes["gen_ai.tool.description"]) == 8192
    assert span.attributes["gen_ai.tool.description"].encode("utf-8")
    tel.detector.assert_all_ended()
