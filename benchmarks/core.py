"""The handler alone: the span work of one AgentScope-shaped invocation, hot.

No runtime and no wrappers: the adapter's calls into `TelemetryHandler` for an
agent with two rounds and one tool (the headline case), including the context
switches the adapters make, against the SDK replaying the very same spans by
hand. Both run in a tight loop, so this is what the core costs once caches are
warm; `run.py` shows the same spans measured inside real invocations.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry import context as otel_context
from opentelemetry.instrumentation.agents._handler import TelemetryHandler


class _Agent:
    pass


def _invocation(handler: TelemetryHandler) -> Callable[[], None]:
    agent = _Agent()
    attach, detach = otel_context.attach, otel_context.detach

    def run() -> None:
        frame = handler.start_agent(agent, "bench", conversation_id="c0ffee",
                                    provider="openai", request_model="gpt-x",
                                    max_iterations=3)
        outer = attach(frame.context)
        for index, reason in enumerate(("tool_calls", "stop")):
            handler.start_step(frame)
            chat = handler.start_chat(request_model="gpt-x", provider="openai", stream=False)
            detach(attach(chat.context))
            handler.finish_chat(chat, response_id=f"r{index}", finish_reasons=[reason],
                                input_tokens=10, output_tokens=5, step_finish_reason=reason)
            if reason == "tool_calls":
                tool = handler.start_tool("lookup", call_id="call_1")
                detach(attach(tool.context))
                handler.finish_tool(tool)
        detach(outer)
        handler.finish_agent(frame)

    return run


def _per_span(call: Callable[[], None], spans: int, n: int = 2000) -> float:
    start = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - start) / n / spans


def handler_alone(exporter: SpanExporter, replayer: Callable, reps: int = 15
                  ) -> tuple[float, float, float]:
    """(handler µs/span, bare SDK µs/span, ratio), medians of interleaved loops."""
    recorder = InMemorySpanExporter()
    recording = TracerProvider()
    recording.add_span_processor(SimpleSpanProcessor(recorder))
    _invocation(TelemetryHandler("bench", recording))()
    spans = list(recorder.get_finished_spans())

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    ours = _invocation(TelemetryHandler("bench", provider))
    bare = replayer(spans, provider)
    ours_samples, bare_samples = [], []
    for _ in range(reps):
        ours_samples.append(_per_span(ours, len(spans)))
        bare_samples.append(_per_span(bare, len(spans)))
    a, b = statistics.median(ours_samples), statistics.median(bare_samples)
    return a * 1e6, b * 1e6, a / b
