"""A span processor that remembers spans started and not yet ended."""

from __future__ import annotations

import threading

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor


class OpenSpanDetector(SpanProcessor):
    """Add it to a tracer provider; `open_spans()` lists what never ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, Span] = {}
        self.started = 0
        self.ended = 0

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        with self._lock:
            self._open[span.context.span_id] = span
            self.started += 1

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            # on_end gets a read-only copy, not the object on_start saw.
            self._open.pop(span.context.span_id, None)
            self.ended += 1

    def open_spans(self) -> list[Span]:
        with self._lock:
            return list(self._open.values())

    def assert_all_ended(self) -> None:
        spans = self.open_spans()
        if spans:
            names = ", ".join(sorted(span.name for span in spans))
            raise AssertionError(f"{len(spans)} span(s) never ended: {names}")

    def clear(self) -> None:
        with self._lock:
            self._open.clear()
            self.started = self.ended = 0

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
