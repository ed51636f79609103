"""Evaluation results, runtime-free: guardrail verdicts and `record_evaluation`
as `gen_ai.evaluation.result` events, and `last_invocation_span_context`."""

from __future__ import annotations

import asyncio

from opentelemetry.instrumentation.agents import (
    last_invocation_span_context,
    record_evaluation,
)
from opentelemetry.instrumentation.agents._evaluation import emit_evaluation

from .contract import Owner, current


def _evaluations(tel):
    return [e for e in tel.events() if e.event_name == "gen_ai.evaluation.result"]


def test_a_guardrail_verdict_is_an_event_on_the_span_it_judged(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        for passed in (False, True):
            handler.finish_guardrail(handler.start_guardrail("polite"), passed=passed,
                                     feedback="be polite")
    handler.finish_agent(frame)
    agent = tel.span("invoke_agent bot")
    fail, ok = _evaluations(tel)
    assert dict(fail.attributes) == {"gen_ai.evaluation.name": "polite",
                                     "gen_ai.evaluation.score.label": "fail"}
    assert dict(ok.attributes) == {"gen_ai.evaluation.name": "polite",
                                   "gen_ai.evaluation.score.label": "pass"}
    assert fail.span_id == ok.span_id == agent.context.span_id


def test_the_feedback_is_the_explanation_only_with_content(tel):
    handler = tel.handler(content="true")
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        handler.finish_guardrail(handler.start_guardrail("polite"), passed=False,
                                 feedback="be polite")
    handler.finish_agent(frame)
    (event,) = _evaluations(tel)
    assert event.attributes["gen_ai.evaluation.explanation"] == "be polite"


def test_no_verdict_no_event_and_signals_off_none(tel, monkeypatch):
    handler = tel.handler()
    handler.finish_guardrail(handler.start_guardrail("polite"), passed=None)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTS_SIGNALS", "false")
    handler = tel.handler()
    handler.finish_guardrail(handler.start_guardrail("polite"), passed=False)
    assert _evaluations(tel) == []


def test_record_evaluation_inside_and_after_an_invocation(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        emit_evaluation(None, "inside", score=1, label="ok",
                        logger_provider=tel.logger_provider)
    handler.finish_agent(frame)
    span_context = last_invocation_span_context()
    assert span_context == tel.span("invoke_agent bot").context
    emit_evaluation(None, "after", score=0.5, logger_provider=tel.logger_provider)
    inside, after = _evaluations(tel)
    assert inside.span_id == span_context.span_id
    assert dict(inside.attributes) == {"gen_ai.evaluation.name": "inside",
                                       "gen_ai.evaluation.score.value": 1.0,
                                       "gen_ai.evaluation.score.label": "ok"}
    assert after.span_id == 0  # nothing current: no span (record_evaluation takes one)


def test_record_evaluation_never_raises():
    class Broken:
        def __str__(self):
            raise RuntimeError("no")

    record_evaluation(Broken(), score=object(), label=Broken())


def test_the_last_invocation_is_per_task(tel):
    handler = tel.handler()

    async def invoke(name):
        handler.finish_agent(handler.start_agent(Owner(), name))
        await asyncio.sleep(0)
        return last_invocation_span_context()

    async def both():
        return await asyncio.gather(invoke("a"), invoke("b"))

    seen_a, seen_b = asyncio.run(both())
    assert seen_a == tel.span("invoke_agent a").context
    assert seen_b == tel.span("invoke_agent b").context
