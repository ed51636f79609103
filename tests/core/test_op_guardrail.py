"""`guardrail {name}` checks: start_guardrail, finish_guardrail, note_guardrail_retry."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from .contract import (
    CANCELLED_TYPE,
    TRUNCATION_MARK,
    Owner,
    Unserializable,
    current,
    cyclic,
    sampled_out_parent,
)


def test_span_name_kind_and_attributes(tel):
    handler = tel.handler()
    inv = handler.start_guardrail("no_pii", target="agent_output", attempt=2, agent_name="bot")
    handler.finish_guardrail(inv, passed=True)
    span = tel.span("guardrail no_pii")
    assert span.kind is SpanKind.INTERNAL
    assert span.parent is None
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "guardrail", "agents.guardrail.name": "no_pii",
        "agents.guardrail.target": "agent_output", "agents.guardrail.attempt": 2,
        "gen_ai.agent.name": "bot", "agents.guardrail.passed": True}
    assert span.status.status_code is StatusCode.UNSET
    assert tel.metrics() == {}


def test_a_check_judges_the_invocation_not_its_round_and_its_model_call_nests(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        handler.start_step(frame)
        inv = handler.start_guardrail("judge")
        with current(inv.context):
            handler.finish_chat(handler.start_chat(request_model="m"))
        handler.finish_guardrail(inv, passed=False)
        handler.note_guardrail_retry(frame)
        handler.note_guardrail_retry(frame)
    handler.finish_agent(frame)
    handler.note_guardrail_retry(frame)  # after the end: nothing
    tel.tree("""
        invoke_agent bot {agents.guardrail.retries=2}
          react step
          guardrail judge {agents.guardrail.passed=false}
            chat m
    """)


@pytest.mark.parametrize("content", [None, "true"])
def test_a_rejection_is_not_an_error_and_its_feedback_is_content(tel, content):
    handler = tel.handler(content=content)
    handler.finish_guardrail(handler.start_guardrail("g"), passed=False,
                             feedback="contains an email address")
    handler.finish_guardrail(handler.start_guardrail("ok"), passed=True, feedback="fine")
    span = tel.span("guardrail g")
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes
    assert span.attributes["agents.guardrail.passed"] is False
    feedback = span.attributes.get("agents.guardrail.feedback")
    assert feedback == (None if content is None else "contains an email address")
    assert "agents.guardrail.feedback" not in tel.span("guardrail ok").attributes


def test_feedback_truncated_and_unserializable(tel):
    handler = tel.handler(content="true", max_length=20)
    handler.finish_guardrail(handler.start_guardrail("a"), passed=False, feedback="f" * 10**6)
    handler.finish_guardrail(handler.start_guardrail("b"), passed=False, feedback=cyclic())
    assert tel.span("guardrail a").attributes["agents.guardrail.feedback"] == (
        "f" * 6 + TRUNCATION_MARK)
    assert tel.span("guardrail b").attributes["agents.guardrail.feedback"] == "<unserializable>"


def test_error_path(tel):
    handler = tel.handler()
    handler.finish_guardrail(handler.start_guardrail("g"), passed=None,
                             error=TimeoutError("judge timed out"))
    span = tel.span("guardrail g")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "judge timed out"
    assert span.attributes["error.type"] == "TimeoutError"
    assert "agents.guardrail.passed" not in span.attributes


async def test_cancelled_task(tel):
    handler = tel.handler()
    started = asyncio.Event()

    async def run():
        inv = handler.start_guardrail("g")
        try:
            started.set()
            await asyncio.sleep(3600)
        except BaseException as exc:
            handler.finish_guardrail(inv, passed=None, error=exc)
            raise

    task = asyncio.create_task(run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tel.span("guardrail g").attributes["error.type"] == CANCELLED_TYPE


def test_suppressed_emits_nothing(tel):
    handler = tel.handler()
    with suppress_instrumentation():
        assert handler.start_guardrail("g") is None
    assert tel.nothing_emitted()


def test_sampled_out_parent_records_no_span_and_raises_nothing(tel):
    handler = tel.handler(content="true")
    with current(sampled_out_parent()):
        frame = handler.start_agent(Owner(), "bot")
        inv = handler.start_guardrail("g")
        handler.finish_guardrail(inv, passed=False, feedback=Unserializable())
        handler.note_guardrail_retry(frame)
        handler.finish_agent(frame)
    assert tel.spans() == []


def test_bad_values_never_raise(tel):
    handler = tel.handler(content="true")
    inv = handler.start_guardrail(Unserializable(), target=7, attempt="first",
                                  agent_name=Unserializable())
    handler.finish_guardrail(inv, passed=False, feedback=Unserializable())
    handler.finish_guardrail(inv, passed=True)  # ending twice is harmless
    (span,) = tel.spans()
    assert span.name == "guardrail"
    assert "agents.guardrail.attempt" not in span.attributes
    assert span.attributes["agents.guardrail.feedback"] == '"<unserializable>"'
