"""The handler never breaks the host, and spans look the way the contract says."""

from __future__ import annotations

import logging

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import StatusCode

from opentelemetry.instrumentation.agents._content import to_json
from opentelemetry.instrumentation.agents._handler import TelemetryHandler


class BrokenTracer:
    def start_span(self, *args, **kwargs):
        raise RuntimeError("tracer is broken")


class BrokenProvider(TracerProvider):
    def get_tracer(self, *args, **kwargs):
        return BrokenTracer()


class Owner:
    pass


def test_broken_tracer_provider_logs_once_and_returns_none(caplog):
    handler = TelemetryHandler("test", BrokenProvider())
    with caplog.at_level(logging.DEBUG, logger="opentelemetry.instrumentation.agents"):
        for _ in range(50):
            assert handler.start_agent(Owner(), "a") is None
            assert handler.start_chat(request_model="m") is None
            assert handler.start_tool("t") is None
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    # One fault (the tracer's start_span) reached from three places: one
    # warning, not one per call nor one per place.
    assert len(warnings) == 1


def test_agent_step_chat_tool_shape(provider, exporter, detector):
    handler = TelemetryHandler("test", provider)
    owner = Owner()
    frame = handler.start_agent(owner, "bot", conversation_id="conv-1")
    from opentelemetry import context

    token = context.attach(frame.context)
    try:
        handler.start_step(frame)
        chat = handler.start_chat(request_model="m1", provider="openai")
        handler.finish_chat(chat, input_tokens=3, output_tokens=2, finish_reasons=["stop"],
                            response_id="r1", step_finish_reason="tool_calls")
        tool = handler.start_tool("search", call_id="c1")
        handler.finish_tool(tool, error=ValueError("bad"))
        handler.start_step(frame)
        chat = handler.start_chat(request_model="m1")
        handler.finish_chat(chat, input_tokens=4, output_tokens=1)
    finally:
        context.detach(token)
    handler.finish_agent(frame)
    handler.finish_agent(frame)  # ending twice is harmless
    detector.assert_all_ended()
    spans = {s.name + str(i): s for i, s in enumerate(exporter.get_finished_spans())}
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["chat m1", "execute_tool search", "react step", "chat m1", "react step",
                     "invoke_agent bot"]
    agent_span = exporter.get_finished_spans()[-1]
    assert agent_span.attributes["gen_ai.usage.input_tokens"] == 7
    assert agent_span.attributes["agents.react.rounds"] == 2
    tool_span = exporter.get_finished_spans()[1]
    assert tool_span.status.status_code is StatusCode.ERROR
    assert tool_span.attributes["error.type"] == "ValueError"
    assert spans


def test_names_are_bounded_and_never_empty(provider, exporter):
    handler = TelemetryHandler("test", provider)
    for name in (None, "", "   ", "x" * 10_000, 12345, "bad\udcff"):
        frame = handler.start_agent(Owner(), name)
        handler.finish_agent(frame)
    names = [s.name for s in exporter.get_finished_spans()]
    assert names[:3] == ["invoke_agent"] * 3
    assert len(names[3]) == len("invoke_agent ") + 256
    assert names[4] == "invoke_agent 12345"


def test_to_json_never_raises_and_truncates():
    cyclic = []
    cyclic.append(cyclic)

    class Weird:
        def __repr__(self):
            raise RuntimeError("no repr")

    assert to_json(cyclic, 100) == "<unserializable>"
    assert to_json({"b": b"\x00\x01"}, 100) == '{"b":"<2 bytes>"}'
    assert to_json(Weird(), 100) == '"<unserializable>"'
    big = to_json("x" * 10_000_000, 50)
    assert len(big) == 50 and big.endswith("...[truncated]")
    assert to_json("bad \udcff unicode", 100).encode("utf-8")
