"""`invoke_workflow {name}` multi-agent runs: start_workflow, finish_workflow."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from .contract import CANCELLED_TYPE, Owner, Unserializable, current, sampled_out_parent


def test_span_name_kind_attributes_and_members_nest(tel):
    handler = tel.handler()
    inv = handler.start_workflow("team", extra={"agents.workflow.type": "sequential",
                                                "agents.workflow.members": ["a", "b"]})
    with current(inv.context):
        for name in ("a", "b"):
            handler.finish_agent(handler.start_agent(Owner(), name))
    handler.finish_workflow(inv)
    tel.tree("""
        invoke_workflow team
          invoke_agent a
          invoke_agent b
    """)
    span = tel.span("invoke_workflow team")
    assert span.kind is SpanKind.INTERNAL
    assert span.parent is None
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "invoke_workflow", "agents.runtime": "test",
        "gen_ai.workflow.name": "team", "agents.workflow.type": "sequential",
        "agents.workflow.members": ("a", "b")}
    assert span.status.status_code is StatusCode.UNSET
    # A workflow records the current conventions' workflow duration (by its
    # name); its agents record their own.
    assert set(tel.metrics()) == {"agents.invocation.duration", "agents.invocations.active",
                                  "gen_ai.invoke_agent.duration",
                                  "gen_ai.invoke_workflow.duration"}
    (point,) = tel.metrics()["gen_ai.invoke_workflow.duration"].data.data_points
    assert dict(point.attributes) == {"gen_ai.workflow.name": "team"}


def test_unnamed_and_parent_is_the_current_span(tel):
    handler = tel.handler()
    with tel.provider.get_tracer("user").start_as_current_span("request"):
        handler.finish_workflow(handler.start_workflow(None))
    tel.tree("""
        request
          invoke_workflow
    """)


def test_error_path(tel):
    handler = tel.handler()
    error = RuntimeError("member failed")
    handler.finish_workflow(handler.start_workflow("team"), error=error)
    span = tel.span("invoke_workflow team")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "member failed"
    assert span.attributes["error.type"] == "RuntimeError"
    handler.finish_workflow(handler.start_workflow("other"), error_type="degraded")
    assert tel.span("invoke_workflow other").attributes["error.type"] == "degraded"


async def test_cancelled_task(tel):
    handler = tel.handler()
    started = asyncio.Event()

    async def run():
        inv = handler.start_workflow("team")
        try:
            started.set()
            await asyncio.sleep(3600)
        except BaseException as exc:
            handler.finish_workflow(inv, error=exc)
            raise

    task = asyncio.create_task(run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tel.span("invoke_workflow team").attributes["error.type"] == CANCELLED_TYPE


def test_suppressed_emits_nothing(tel):
    handler = tel.handler()
    with suppress_instrumentation():
        assert handler.start_workflow("team") is None
    assert tel.nothing_emitted()


def test_sampled_out_parent_records_no_span_and_raises_nothing(tel):
    handler = tel.handler()
    with current(sampled_out_parent()):
        inv = handler.start_workflow("team")
        handler.finish_workflow(inv, error=ValueError("x"))
    assert tel.spans() == []


def test_bad_values_never_raise(tel):
    handler = tel.handler()
    inv = handler.start_workflow(Unserializable(), extra={"agents.workflow.members": object()})
    handler.finish_workflow(inv)
    handler.finish_workflow(inv)  # ending twice is harmless
    (span,) = tel.spans()
    assert span.name == "invoke_workflow"
    # The SDK drops the value it cannot export; nothing raised.
    assert span.attributes.get("agents.workflow.members") is None
