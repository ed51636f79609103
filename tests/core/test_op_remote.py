"""`invoke_agent {remote}` CLIENT spans: start_remote_agent, finish_remote_agent."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from .contract import CANCELLED_TYPE, Owner, Unserializable, current, sampled_out_parent


def test_span_name_kind_and_attributes(tel):
    handler = tel.handler()
    inv = handler.start_remote_agent("peer", address="10.0.0.2", port=9999, agent_id="p-1",
                                     description="answers questions")
    handler.finish_remote_agent(inv)
    span = tel.span("invoke_agent peer")
    assert span.kind is SpanKind.CLIENT
    assert span.parent is None
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "invoke_agent", "agents.runtime": "test",
        "gen_ai.agent.name": "peer", "gen_ai.agent.id": "p-1",
        "gen_ai.agent.description": "answers questions", "server.address": "10.0.0.2",
        "server.port": 9999}
    assert span.status.status_code is StatusCode.UNSET


def test_called_from_a_tool_it_nests_there(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        handler.start_step(frame)
        tool = handler.start_tool("ask_peer")
        with current(tool.context):
            handler.finish_remote_agent(handler.start_remote_agent(None))
        handler.finish_tool(tool)
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot
          react step
            execute_tool ask_peer
              invoke_agent
    """)


def test_error_path(tel):
    handler = tel.handler()
    handler.finish_remote_agent(handler.start_remote_agent("peer"),
                                error=ConnectionResetError("reset"))
    handler.finish_remote_agent(handler.start_remote_agent("other"), error_type="failed")
    span = tel.span("invoke_agent peer")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "reset"
    assert span.attributes["error.type"] == "ConnectionResetError"
    assert tel.span("invoke_agent other").attributes["error.type"] == "failed"


async def test_cancelled_task(tel):
    handler = tel.handler()
    started = asyncio.Event()

    async def run():
        inv = handler.start_remote_agent("peer")
        try:
            started.set()
            await asyncio.sleep(3600)
        except BaseException as exc:
            handler.finish_remote_agent(inv, error=exc)
            raise

    task = asyncio.create_task(run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tel.span("invoke_agent peer").attributes["error.type"] == CANCELLED_TYPE


def test_suppressed_emits_nothing(tel):
    handler = tel.handler()
    with suppress_instrumentation():
        assert handler.start_remote_agent("peer") is None
    assert tel.nothing_emitted()


def test_sampled_out_parent_records_no_span_and_raises_nothing(tel):
    handler = tel.handler()
    with current(sampled_out_parent()):
        handler.finish_remote_agent(handler.start_remote_agent("peer"), error=ValueError())
    assert tel.spans() == []


def test_bad_values_never_raise(tel):
    handler = tel.handler()
    inv = handler.start_remote_agent(Unserializable(), agent_id=Unserializable(),
                                     description="\udcff" * 300, port=object())
    handler.finish_remote_agent(inv)
    handler.finish_remote_agent(inv)  # ending twice is harmless
    (span,) = tel.spans()
    assert span.name == "invoke_agent"
    assert len(span.attributes["gen_ai.agent.description"]) == 256
