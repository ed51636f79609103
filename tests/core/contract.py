"""What the handler contract tests (`test_op_*.py`) share: no runtime, only the
OpenTelemetry SDK. One `Telemetry` per test (the `tel` fixture) collects spans,
metrics and log events, and makes handlers against it with the content settings
a test asks for (the handler reads its settings from the environment when it is
made)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from opentelemetry import context as otel_context
from opentelemetry import trace

# The one import of the handler's module in these tests: a move changes this line only.
from opentelemetry.instrumentation.agents._handler import TelemetryHandler
from opentelemetry.instrumentation.agents.testing import assert_tree

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
MAX_LENGTH = "OTEL_INSTRUMENTATION_AGENTS_CONTENT_MAX_LENGTH"
STABILITY = "OTEL_SEMCONV_STABILITY_OPT_IN"
EMIT_EVENT = "OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT"
TRUNCATION_MARK = "...[truncated]"

# The semantic conventions' explicit bucket boundaries, written out here so a
# change to the ones the handler advises shows up as a failing test.
TOKEN_BOUNDS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576,
                4194304, 16777216, 67108864)
DURATION_BOUNDS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12,
                   10.24, 20.48, 40.96, 81.92)


class Owner:
    """Stands for a runtime's agent object (the handler only keeps it)."""


class Unserializable:
    """A value no serializer can read: every way to print it raises."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


def cyclic() -> list[Any]:
    value: list[Any] = []
    value.append(value)
    return value


class Telemetry:
    """The SDK side of one test: spans, metric points and log events."""

    def __init__(self, provider: TracerProvider, exporter: InMemorySpanExporter,
                 detector: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.provider = provider
        self.exporter = exporter
        self.detector = detector
        self._monkeypatch = monkeypatch
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.log_exporter = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(
            SimpleLogRecordProcessor(self.log_exporter))

    def close(self) -> None:
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()

    # -- handlers ----------------------------------------------------------
    def handler(self, *, content: str | None = None, mode: str | None = None,
                emit_event: str | None = None, max_length: int | None = None,
                tracer_provider: Any = None) -> TelemetryHandler:
        """A handler made under these settings: `content` is the capture
        variable's value, `mode` puts the experimental opt-in on first."""
        env = self._monkeypatch
        for name, value in ((CAPTURE, content), (STABILITY, mode and "gen_ai_latest_experimental"),
                            (EMIT_EVENT, emit_event),
                            (MAX_LENGTH, None if max_length is None else str(max_length))):
            if value is None:
                env.delenv(name, raising=False)
            else:
                env.setenv(name, value)
        if mode is not None:
            env.setenv(CAPTURE, mode)
        return TelemetryHandler("test", tracer_provider or self.provider, self.meter_provider,
                                self.logger_provider)

    def sampled_out_provider(self) -> TracerProvider:
        """A provider whose spans are all sampled out (never recorded)."""
        from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

        provider = TracerProvider(sampler=ALWAYS_OFF)
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        return provider

    # -- what was emitted ----------------------------------------------------
    def spans(self) -> list[Any]:
        return list(self.exporter.get_finished_spans())

    def span(self, name: str) -> Any:
        """The one finished span called `name`."""
        found = [s for s in self.spans() if s.name == name]
        assert len(found) == 1, f"{len(found)} spans named {name!r}: {self.names()}"
        return found[0]

    def names(self) -> list[str]:
        return [s.name for s in self.spans()]

    def tree(self, expected: str, **kwargs: Any) -> Any:
        self.detector.assert_all_ended()
        return assert_tree(self.spans(), expected, **kwargs)

    def metrics(self) -> dict[str, Any]:
        """Every metric recorded so far, by name."""
        data = self.reader.get_metrics_data()
        found: dict[str, Any] = {}
        for resource in (data.resource_metrics if data else ()):
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found[metric.name] = metric
        return found

    def points(self, name: str) -> list[Any]:
        """The data points of metric `name` ([] when it has none)."""
        metric = self.metrics().get(name)
        return list(metric.data.data_points) if metric is not None else []

    def point(self, name: str, wanted: dict[str, Any] | None = None) -> Any:
        """The one data point of `name` whose attributes include `wanted`
        (a value of None: the key is absent)."""
        wanted = wanted or {}
        found = [p for p in self.points(name)
                 if all(p.attributes.get(k) == v for k, v in wanted.items())]
        assert len(found) == 1, f"{len(found)} points of {name} match {wanted}"
        return found[0]

    def events(self) -> list[Any]:
        return [record.log_record for record in self.log_exporter.get_finished_logs()]

    def nothing_emitted(self) -> bool:
        return not self.spans() and not self.metrics() and not self.events()


@contextmanager
def current(ctx: Any) -> Iterator[None]:
    """`ctx` current for the block, as an adapter makes its invocation current."""
    token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(token)


def sampled_out_parent() -> Any:
    """A context whose current span is a valid parent that was not sampled."""
    parent = SpanContext(trace_id=0x1234, span_id=0x5678, is_remote=True,
                         trace_flags=TraceFlags(TraceFlags.DEFAULT))
    return trace.set_span_in_context(NonRecordingSpan(parent))


def cancelled() -> asyncio.CancelledError:
    return asyncio.CancelledError()


CANCELLED_TYPE = "asyncio.exceptions.CancelledError"
