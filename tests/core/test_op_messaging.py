"""`process {destination}` CONSUMER spans: start_process, finish_process."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry import trace

from .contract import CANCELLED_TYPE, Owner, Unserializable, current, sampled_out_parent


def test_span_name_kind_attributes_and_the_handling_nests(tel):
    handler = tel.handler()
    tracer = tel.provider.get_tracer("producer")
    with tracer.start_as_current_span("send") as producer:
        carried = trace_context_of(producer)
    inv = handler.start_process("chat-runs", "redis", message_id="m-1", parent=carried)
    with current(inv.context):
        handler.finish_agent(handler.start_agent(Owner(), "worker"))
    handler.finish_process(inv)
    tel.tree("""
        send
          process chat-runs
            invoke_agent worker
    """)
    span = tel.span("process chat-runs")
    assert span.kind is SpanKind.CONSUMER
    assert dict(span.attributes) == {
        "messaging.system": "redis", "messaging.operation.type": "process",
        "messaging.operation.name": "process", "messaging.destination.name": "chat-runs",
        "messaging.message.id": "m-1"}
    assert span.status.status_code is StatusCode.UNSET


def trace_context_of(span):
    return trace.set_span_in_context(span)


def test_without_a_carried_context_the_current_one_is_the_parent(tel):
    handler = tel.handler()
    with tel.provider.get_tracer("user").start_as_current_span("loop"):
        handler.finish_process(handler.start_process(None, "memory"))
    tel.tree("""
        loop
          process
    """)


def test_error_path(tel):
    handler = tel.handler()
    handler.finish_process(handler.start_process("q", "redis"), error=KeyError("job"))
    span = tel.span("process q")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "KeyError"
    assert tel.metrics() == {}


async def test_cancelled_task(tel):
    handler = tel.handler()
    started = asyncio.Event()

    async def run():
        inv = handler.start_process("q", "redis")
        try:
            started.set()
            await asyncio.sleep(3600)
        except BaseException as exc:
            handler.finish_process(inv, error=exc)
            raise

    task = asyncio.create_task(run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tel.span("process q").attributes["error.type"] == CANCELLED_TYPE


def test_suppressed_emits_nothing(tel):
    handler = tel.handler()
    with suppress_instrumentation():
        assert handler.start_process("q", "redis") is None
    assert tel.nothing_emitted()


def test_sampled_out_parent_records_no_span_and_raises_nothing(tel):
    handler = tel.handler()
    handler.finish_process(handler.start_process("q", "redis", parent=sampled_out_parent()))
    assert tel.spans() == []


def test_bad_values_never_raise(tel):
    handler = tel.handler()
    inv = handler.start_process(Unserializable(), "redis", message_id=Unserializable())
    handler.finish_process(inv)
    handler.finish_process(inv)  # ending twice is harmless
    (span,) = tel.spans()
    assert span.name == "process"
    assert "messaging.message.id" not in span.attributes
