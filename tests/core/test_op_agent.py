"""`invoke_agent` and its `react step` rounds: start_agent, start_step,
finish_step, agent_event, finish_agent."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry import trace

from .contract import (
    CANCELLED_TYPE,
    DURATION_BOUNDS,
    TRUNCATION_MARK,
    Owner,
    TelemetryHandler,
    Unserializable,
    current,
    cyclic,
    sampled_out_parent,
)

AGENT_DURATION = "agents.invocation.duration"


def test_span_name_kind_and_start_attributes(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot", agent_id="a-1", conversation_id="conv-1",
                                description="helps", version="2", provider="openai",
                                request_model="gpt-x", max_iterations=5)
    handler.finish_agent(frame)
    span = tel.span("invoke_agent bot")
    assert span.kind is SpanKind.INTERNAL
    assert span.parent is None
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "invoke_agent", "agents.runtime": "test",
        "gen_ai.agent.name": "bot", "gen_ai.agent.id": "a-1",
        "gen_ai.conversation.id": "conv-1", "gen_ai.agent.description": "helps",
        "gen_ai.agent.version": "2", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-x", "agents.react.max_iterations": 5,
        "agents.react.rounds": 0, "agents.react.max_iterations_reached": False}
    assert span.status.status_code is StatusCode.UNSET


def test_unnamed_agent_and_parent_is_the_current_span(tel):
    handler = tel.handler()
    with tel.provider.get_tracer("user").start_as_current_span("request"):
        frame = handler.start_agent(Owner(), None)
        handler.finish_agent(frame)
    tel.tree("""
        request
          invoke_agent
    """)
    assert "gen_ai.agent.name" not in tel.span("invoke_agent").attributes


def test_rounds_are_children_numbered_and_closed(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    first = handler.start_step(frame)
    assert first.round == 1
    handler.start_step(frame)  # ends round 1
    assert first.ended
    handler.finish_step(frame, finish_reason="stop")
    handler.start_step(frame)  # left open: the agent's end closes it
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot {agents.react.rounds=3}
          react step {gen_ai.react.round=1}
          react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop}
          react step {gen_ai.react.round=3}
    """, ordered=True)
    for span in tel.spans()[:3]:
        assert span.kind is SpanKind.INTERNAL
        assert span.attributes["gen_ai.operation.name"] == "react"
    assert handler.start_step(frame) is None  # no round after the end


def test_model_calls_inside_a_round_nest_under_it_and_tokens_sum_on_the_agent(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        for tokens in ((3, 2), (4, 1)):
            handler.start_step(frame)
            chat = handler.start_chat(request_model="m")
            handler.finish_chat(chat, input_tokens=tokens[0], output_tokens=tokens[1],
                                usage_details=(1, None, 1))
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot {gen_ai.usage.input_tokens=7}
          react step {gen_ai.react.round=1}
            chat m {gen_ai.usage.input_tokens=3}
          react step {gen_ai.react.round=2}
            chat m {gen_ai.usage.input_tokens=4}
    """, ordered=True)
    attrs = tel.span("invoke_agent bot").attributes
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (7, 3)
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 2
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 2
    assert "gen_ai.usage.cache_creation.input_tokens" not in attrs


def test_a_nested_agent_counts_only_its_own_tokens(tel):
    handler = tel.handler()
    outer = handler.start_agent(Owner(), "outer")
    with current(outer.context):
        inner = handler.start_agent(Owner(), "inner")
        assert inner.parent is outer
        with current(inner.context):
            handler.start_step(inner)
            handler.finish_chat(handler.start_chat(request_model="m"), input_tokens=5,
                                output_tokens=5)
        handler.finish_agent(inner)
    handler.finish_agent(outer)
    tel.tree("""
        invoke_agent outer
          invoke_agent inner
            react step
              chat m
    """)
    assert "gen_ai.usage.input_tokens" not in tel.span("invoke_agent outer").attributes
    assert tel.span("invoke_agent inner").attributes["gen_ai.usage.input_tokens"] == 5


def test_end_attributes_reply_id_finish_reason_and_first_event(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    handler.agent_event(frame)
    first = frame.first_event_at
    handler.agent_event(frame)  # only the first event's time is kept
    assert frame.first_event_at == first
    frame.max_iterations_reached = True
    frame.finish_reason = "max_iterations"
    handler.finish_agent(frame, reply_id="reply-9", stream_closed_early=True)
    attrs = tel.span("invoke_agent bot").attributes
    assert attrs["agents.agent.reply_id"] == "reply-9"
    assert attrs["agents.agent.finish_reason"] == "max_iterations"
    assert attrs["agents.react.max_iterations_reached"] is True
    assert attrs["agents.stream.closed_early"] is True
    assert attrs["agents.agent.time_to_first_event"] >= 0


def test_duration_metric(tel):
    handler = tel.handler()
    handler.finish_agent(handler.start_agent(Owner(), "bot"))
    handler.finish_agent(handler.start_agent(Owner(), "bot"), error=ValueError("x"))
    metric = tel.metrics()[AGENT_DURATION]
    assert metric.unit == "s"
    ok = tel.point(AGENT_DURATION, {"error.type": None})
    assert dict(ok.attributes) == {"gen_ai.operation.name": "invoke_agent",
                                   "agents.runtime": "test", "gen_ai.agent.name": "bot"}
    assert ok.count == 1 and ok.sum >= 0
    assert tuple(ok.explicit_bounds) == DURATION_BOUNDS
    failed = tel.point(AGENT_DURATION, {"error.type": "ValueError"})
    assert failed.count == 1


def test_error_ends_agent_and_open_round_as_errors(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    handler.start_step(frame)
    try:
        raise ValueError("boom")
    except ValueError as exc:
        error = exc
    traceback = error.__traceback__
    handler.finish_agent(frame, error=error)
    assert error.__traceback__ is traceback and not hasattr(error, "__notes__")
    tel.tree("""
        invoke_agent bot {status=ERROR, error.type=ValueError}
          react step {status=ERROR, error.type=ValueError, gen_ai.react.finish_reason=error}
    """)
    assert tel.span("invoke_agent bot").status.description == "boom"


def test_error_type_without_exception(tel):
    handler = tel.handler()
    handler.finish_agent(handler.start_agent(Owner(), "bot"), error_type="timeout")
    span = tel.span("invoke_agent bot")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "timeout"
    assert tel.point(AGENT_DURATION).attributes["error.type"] == "timeout"


async def test_cancelled_task_ends_spans_as_cancelled(tel):
    handler = tel.handler()
    started = asyncio.Event()

    async def invoke():
        frame = handler.start_agent(Owner(), "bot")
        handler.start_step(frame)
        try:
            started.set()
            await asyncio.sleep(3600)
        except BaseException as exc:
            handler.finish_agent(frame, error=exc)
            raise

    task = asyncio.create_task(invoke())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    tel.tree(f"""
        invoke_agent bot {{status=ERROR, error.type={CANCELLED_TYPE}}}
          react step {{status=ERROR, error.type={CANCELLED_TYPE}, gen_ai.react.finish_reason=cancelled}}
    """)


@pytest.mark.parametrize(("error", "reason"), [
    (GeneratorExit(), "cancelled"),  # a stream closed early
    (KeyboardInterrupt(), "cancelled"),
    (InterruptedError(), "cancelled"),  # a user's interrupt (Hermes)
    (TimeoutError(), "error"),
])
def test_how_an_interrupted_round_ends(tel, error, reason):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    handler.start_step(frame)
    handler.finish_agent(frame, error=error)
    step = tel.span("react step")
    assert step.attributes["gen_ai.react.finish_reason"] == reason
    assert step.attributes["error.type"] == type(error).__qualname__
    assert tel.span("invoke_agent bot").status.status_code is StatusCode.ERROR


@pytest.mark.parametrize("content", [None, "false", "true"])
def test_content_only_when_switched_on(tel, content):
    handler = tel.handler(content=content)
    frame = handler.start_agent(Owner(), "bot", input_value=[{"role": "user", "content": "hi"}])
    handler.finish_agent(frame, output_value="hello")
    attrs = tel.span("invoke_agent bot").attributes
    if content == "true":
        assert attrs["gen_ai.input.messages"] == '[{"role":"user","content":"hi"}]'
        assert attrs["gen_ai.output.messages"] == "hello"
    else:
        assert "gen_ai.input.messages" not in attrs
        assert "gen_ai.output.messages" not in attrs


def test_content_is_truncated_and_never_raises(tel):
    handler = tel.handler(content="true", max_length=40)
    for value in ("x" * 10_000_000, cyclic(), Unserializable(), {"b": b"\x00"}):
        handler.finish_agent(handler.start_agent(Owner(), "bot", input_value=value),
                             output_value=value)
    texts = [s.attributes.get("gen_ai.input.messages") for s in tel.spans()]
    assert texts[0] == "x" * (40 - len(TRUNCATION_MARK)) + TRUNCATION_MARK
    assert texts[1] == "<unserializable>"
    assert texts[3] == '{"b":"<1 bytes>"}'
    assert all(text is None or len(text) <= 40 for text in texts)


def test_suppressed_emits_nothing(tel):
    handler = tel.handler(content="true")
    with suppress_instrumentation():
        assert handler.start_agent(Owner(), "bot", input_value="x") is None
    assert tel.nothing_emitted()


def test_sampled_out_parent_records_no_span_and_raises_nothing(tel):
    handler = tel.handler(content="true")
    with current(sampled_out_parent()):
        frame = handler.start_agent(Owner(), "bot", input_value=cyclic())
        with current(frame.context):
            handler.start_step(frame)
            handler.finish_chat(handler.start_chat(request_model="m"), input_tokens=1)
        handler.finish_agent(frame, error=ValueError("x"), output_value=Unserializable())
    assert tel.spans() == []


def test_sampler_dropping_everything(tel):
    handler = tel.handler(tracer_provider=tel.sampled_out_provider())
    frame = handler.start_agent(Owner(), "bot")
    handler.start_step(frame)
    handler.finish_agent(frame)
    assert tel.spans() == []


def test_without_any_sdk_nothing_is_started():
    handler = TelemetryHandler("test", trace.NoOpTracerProvider(), NoOpMeterProvider())
    assert not handler.enabled
    assert handler.start_agent(Owner(), "bot") is None


def test_bad_values_never_raise(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), Unserializable(), agent_id=Unserializable(),
                                conversation_id=12, version=3.5, max_iterations="many",
                                provider="  ", request_model="m\udcff" * 200)
    handler.start_step(frame)
    frame.finish_reason = Unserializable()
    handler.finish_step(frame, finish_reason="\udcff")
    handler.finish_agent(frame, reply_id=Unserializable(), error_type="x")
    handler.finish_agent(frame)  # ending twice is harmless
    handler.finish_step(frame)
    span = tel.span("invoke_agent")
    assert span.attributes["gen_ai.conversation.id"] == "12"
    assert len(span.attributes["gen_ai.request.model"]) == 256
    assert "agents.react.max_iterations" not in span.attributes
    assert "gen_ai.provider.name" not in span.attributes
    tel.detector.assert_all_ended()
