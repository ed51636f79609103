"""`chat {model}` model calls: start_chat, chat_chunk, finish_chat, with the
GenAI client metrics (streamed calls included) and the details event."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from .contract import (
    CANCELLED_TYPE,
    DURATION_BOUNDS,
    TOKEN_BOUNDS,
    TRUNCATION_MARK,
    Owner,
    TelemetryHandler,
    Unserializable,
    current,
    cyclic,
    sampled_out_parent,
)

TOKENS = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"
FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
PER_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
MESSAGES = [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
OUTPUT = [{"role": "assistant", "parts": [{"type": "text", "content": "hello"}],
           "finish_reason": "stop"}]


class Clock:
    """Stands in for `perf_counter` in the chat operation: time moves when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    # The module the chat operation lives in, found through the handler.
    monkeypatch.setattr(sys.modules[TelemetryHandler.start_chat.__module__], "perf_counter",
                        clock)
    return clock


def _call(handler, **finish):
    inv = handler.start_chat(request_model="m", provider="openai")
    handler.finish_chat(inv, **finish)
    return inv


def test_span_name_kind_and_attributes(tel):
    handler = tel.handler()
    inv = handler.start_chat(request_model="gpt-x", provider="openai", stream=False,
                             server_address="api.example", server_port=443,
                             request={"gen_ai.request.temperature": 0.5})
    handler.finish_chat(inv, response_model="gpt-x-1", response_id="r-1",
                        finish_reasons=["stop"], input_tokens=10, output_tokens=4,
                        usage_details=(3, 2, 1))
    span = tel.span("chat gpt-x")
    assert span.kind is SpanKind.CLIENT
    assert span.parent is None
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-x", "server.address": "api.example", "server.port": 443,
        "gen_ai.request.stream": False, "gen_ai.request.temperature": 0.5,
        "gen_ai.response.model": "gpt-x-1", "gen_ai.response.id": "r-1",
        "gen_ai.response.finish_reasons": ("stop",), "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 4, "gen_ai.usage.cache_read.input_tokens": 3,
        "gen_ai.usage.cache_creation.input_tokens": 2,
        "gen_ai.usage.cache_write.input_tokens": 2,
        "gen_ai.usage.reasoning.output_tokens": 1}
    assert span.status.status_code is StatusCode.UNSET


def test_unnamed_model_and_parent_is_the_current_span(tel):
    handler = tel.handler()
    with tel.provider.get_tracer("user").start_as_current_span("request"):
        handler.finish_chat(handler.start_chat(request_model=None), finish_reasons="stop")
    tel.tree("""
        request
          chat
    """)
    assert tel.span("chat").attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_inside_an_agent_the_call_belongs_to_the_open_round(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot", conversation_id="conv-1")
    with current(frame.context):
        handler.start_step(frame)
        _call(handler, step_finish_reason="tool_calls")
        # A compression call sits under the agent, outside the round, and
        # leaves the round's finish reason alone.
        handler.finish_chat(handler.start_chat(request_model="m", compression=True),
                            step_finish_reason="stop")
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot
          react step {gen_ai.react.finish_reason=tool_calls}
            chat m
          chat m {agents.chat.context_compression=true}
    """)
    chats = [s for s in tel.spans() if s.name == "chat m"]
    assert [s.attributes["gen_ai.conversation.id"] for s in chats] == ["conv-1"] * 2


@pytest.mark.parametrize(("finish", "reason"), [
    ({"error": ValueError("x")}, "error"),
    ({"error": asyncio.CancelledError()}, "cancelled"),
    ({"error_type": "incomplete_stream"}, "error"),
    ({"error_type": "cancelled"}, "cancelled"),
])
def test_a_failed_call_ends_its_round_with_its_reason(tel, finish, reason):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        handler.start_step(frame)
        _call(handler, **finish)
    handler.finish_agent(frame)
    step = tel.span("react step")
    assert step.attributes["gen_ai.react.finish_reason"] == reason
    chat = tel.span("chat m")
    assert chat.status.status_code is StatusCode.ERROR
    assert chat.attributes["error.type"] in ("ValueError", CANCELLED_TYPE, "incomplete_stream",
                                             "cancelled")


def test_error_path(tel):
    handler = tel.handler()
    error = RuntimeError("rate limited")
    _call(handler, error=error)
    span = tel.span("chat m")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "rate limited"
    assert span.attributes["error.type"] == "RuntimeError"
    assert not hasattr(error, "__notes__")
    assert tel.points(TOKENS) == []  # no tokens reported, none counted
    assert tel.point(DURATION).attributes["error.type"] == "RuntimeError"


def test_metrics_names_units_attributes_and_buckets(tel):
    handler = tel.handler()
    inv = handler.start_chat(request_model="m", provider="openai", server_address="h",
                             server_port=8080, request={"gen_ai.request.temperature": 0.1})
    handler.finish_chat(inv, response_model="m-1", input_tokens=100, output_tokens=5)
    metrics = tel.metrics()
    assert (metrics[TOKENS].unit, metrics[DURATION].unit) == ("{token}", "s")
    base = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "m", "server.address": "h", "server.port": 8080,
            "gen_ai.response.model": "m-1"}
    for token_type, value in (("input", 100), ("output", 5)):
        point = tel.point(TOKENS, {"gen_ai.token.type": token_type})
        assert dict(point.attributes) == {**base, "gen_ai.token.type": token_type}
        assert (point.count, point.sum) == (1, value)
        assert tuple(point.explicit_bounds) == TOKEN_BOUNDS
    duration = tel.point(DURATION)
    assert dict(duration.attributes) == base
    assert tuple(duration.explicit_bounds) == DURATION_BOUNDS
    assert FIRST_CHUNK not in metrics and PER_CHUNK not in metrics


def test_streamed_call_metrics(tel, clock):
    handler = tel.handler()
    inv = handler.start_chat(request_model="m", stream=True)
    for now in (100.5, 100.7, 101.0):
        clock.now = now
        handler.chat_chunk(inv)
    clock.now = 102.0
    handler.finish_chat(inv, input_tokens=1, output_tokens=3)
    span = tel.span("chat m")
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.response.time_to_first_chunk"] == pytest.approx(0.5)
    assert tel.point(DURATION).sum == pytest.approx(2.0)
    first = tel.point(FIRST_CHUNK)
    assert (first.count, first.sum) == (1, pytest.approx(0.5))
    assert tuple(first.explicit_bounds) == DURATION_BOUNDS
    per_chunk = tel.point(PER_CHUNK)
    assert (per_chunk.count, per_chunk.sum) == (2, pytest.approx(0.5))
    assert tuple(per_chunk.explicit_bounds) == DURATION_BOUNDS
    assert tel.metrics()[FIRST_CHUNK].unit == tel.metrics()[PER_CHUNK].unit == "s"


def test_stream_closed_early(tel, clock):
    handler = tel.handler()
    inv = handler.start_chat(request_model="m", stream=True)
    clock.now = 100.25
    handler.chat_chunk(inv)
    handler.finish_chat(inv, error_type="incomplete_stream")
    span = tel.span("chat m")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "incomplete_stream"
    assert tel.point(FIRST_CHUNK).attributes["error.type"] == "incomplete_stream"
    assert tel.points(PER_CHUNK) == []


async def test_cancelled_while_streaming(tel):
    handler = tel.handler()
    started = asyncio.Event()

    async def call():
        inv = handler.start_chat(request_model="m", stream=True)
        try:
            handler.chat_chunk(inv)
            started.set()
            await asyncio.sleep(3600)
        except BaseException as exc:
            handler.finish_chat(inv, error=exc)
            raise

    task = asyncio.create_task(call())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tel.span("chat m").attributes["error.type"] == CANCELLED_TYPE
    assert tel.point(DURATION).attributes["error.type"] == CANCELLED_TYPE


@pytest.mark.parametrize("content", [None, "true"])
def test_content_on_the_span(tel, content):
    handler = tel.handler(content=content)
    inv = handler.start_chat(request_model="m", input_messages=MESSAGES,
                             system_instructions=[{"type": "text", "content": "be brief"}],
                             tool_definitions=[{"type": "function", "name": "f"}])
    handler.finish_chat(inv, output_messages=OUTPUT)
    attrs = tel.span("chat m").attributes
    keys = ("gen_ai.input.messages", "gen_ai.system_instructions", "gen_ai.tool.definitions",
            "gen_ai.output.messages")
    if content is None:
        assert not any(key in attrs for key in keys)
        return
    assert attrs["gen_ai.input.messages"] == (
        '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]')
    assert attrs["gen_ai.system_instructions"] == '[{"type":"text","content":"be brief"}]'
    assert attrs["gen_ai.tool.definitions"] == '[{"type":"function","name":"f"}]'
    assert attrs["gen_ai.output.messages"].startswith('[{"role":"assistant"')


def test_content_truncated_and_unserializable(tel):
    handler = tel.handler(content="true", max_length=30)
    inv = handler.start_chat(request_model="m", input_messages=["x" * 5_000_000],
                             system_instructions=cyclic())
    handler.finish_chat(inv, output_messages=Unserializable())
    attrs = tel.span("chat m").attributes
    # Cut inside the text: still a JSON array of one (marked) string.
    assert len(attrs["gen_ai.input.messages"]) <= 30
    (text,) = json.loads(attrs["gen_ai.input.messages"])
    assert text.startswith("xxx") and text.endswith(TRUNCATION_MARK)
    assert attrs["gen_ai.system_instructions"] == "<unserializable>"
    assert attrs["gen_ai.output.messages"] == '"<unserializable>"'


def test_details_event_with_content_in_event_only_mode(tel):
    handler = tel.handler(mode="EVENT_ONLY")
    inv = handler.start_chat(request_model="m", provider="openai", input_messages=MESSAGES)
    handler.finish_chat(inv, response_id="r-1", input_tokens=2, output_messages=OUTPUT)
    assert "gen_ai.input.messages" not in tel.span("chat m").attributes
    (event,) = tel.events()
    assert event.event_name == "gen_ai.client.inference.operation.details"
    attrs = dict(event.attributes)
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "m"
    assert attrs["gen_ai.response.id"] == "r-1"
    assert attrs["gen_ai.usage.input_tokens"] == 2
    assert attrs["gen_ai.input.messages"][0]["role"] == "user"
    assert attrs["gen_ai.output.messages"][0]["role"] == "assistant"
    assert event.span_id == tel.span("chat m").context.span_id


@pytest.mark.parametrize(("settings", "events", "on_span"), [
    ({"content": "true"}, 0, True),  # no experimental opt-in: no event
    ({"mode": "SPAN_ONLY"}, 0, True),
    ({"mode": "SPAN_AND_EVENT"}, 1, True),
    ({"mode": "EVENT_ONLY", "emit_event": "false"}, 0, False),
    ({"mode": "NO_CONTENT", "emit_event": "true"}, 1, False),
])
def test_event_and_content_settings(tel, settings, events, on_span):
    handler = tel.handler(**settings)
    handler.finish_chat(handler.start_chat(request_model="m", input_messages=MESSAGES),
                        error=ValueError("x"))
    assert len(tel.events()) == events
    assert ("gen_ai.input.messages" in tel.span("chat m").attributes) is on_span
    for event in tel.events():
        assert event.attributes["error.type"] == "ValueError"


def test_suppressed_emits_nothing(tel):
    handler = tel.handler(mode="SPAN_AND_EVENT")
    with suppress_instrumentation():
        assert handler.start_chat(request_model="m", input_messages=MESSAGES) is None
    assert tel.nothing_emitted()


def test_sampled_out_parent_records_no_span_and_raises_nothing(tel):
    handler = tel.handler(content="true")
    with current(sampled_out_parent()):
        inv = handler.start_chat(request_model="m", stream=True, input_messages=cyclic())
        handler.chat_chunk(inv)
        handler.finish_chat(inv, output_messages=Unserializable(), input_tokens=3)
    assert tel.spans() == []


def test_bad_values_never_raise(tel):
    handler = tel.handler()
    inv = handler.start_chat(request_model=Unserializable(), provider=b"raw",
                             server_address="\udcff", server_port="443", stream="yes")
    handler.finish_chat(inv, response_model=Unserializable(), response_id=["a"],
                        finish_reasons=5, input_tokens="many", output_tokens=float("nan"),
                        usage_details=(object(), "3", float("inf")), step_finish_reason=1)
    handler.finish_chat(inv, input_tokens=1)  # ending twice is harmless
    tel.detector.assert_all_ended()
    (span,) = tel.spans()
    assert span.name == "chat"
    assert "server.port" not in span.attributes
    assert "gen_ai.usage.input_tokens" not in span.attributes
    assert span.attributes["gen_ai.usage.cache_creation.input_tokens"] == 3
    assert tel.points(TOKENS) == []
