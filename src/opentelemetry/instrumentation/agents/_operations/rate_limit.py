"""Waits on a runtime's rate limiter: on the span that waited, and a histogram."""

from __future__ import annotations

from opentelemetry.metrics import Meter

from .. import attributes as A
from .._context import get_current as _get_current
from .._context import span_of as _span_of
from .._context import suppressed as _suppressed
from .._invocations import current_frame
from .._safety import report
from ._base import DURATION_BUCKETS, HandlerBase


class RateLimitOperations(HandlerBase):
    """A model call held back by the runtime's rate limiter."""

    def _create_instruments(self, meter: Meter) -> None:
        super()._create_instruments(meter)
        self._rate_limit_wait = meter.create_histogram(
            A.METRIC_RATE_LIMIT_WAIT, unit="s",
            description="Time spent waiting on the runtime's rate limiter.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))

    def note_rate_limit_wait(self, seconds: float) -> None:
        """The code running now waited `seconds` on a rate limiter.

        On the current span: a model call's own, or the agent invocation's
        when the runtime waits before its first round (summed there, set when
        the invocation ends: one invocation may wait before several calls).
        """
        try:
            if not self.enabled:
                return
            ctx = _get_current()
            if _suppressed(ctx):
                return
            seconds = float(seconds)
            span = _span_of(ctx)
            frame = current_frame(ctx)
            if frame is not None and span is frame.span:
                if not frame.ended and span.is_recording():
                    extra = frame.extra if frame.extra is not None else {}
                    extra[A.RATE_LIMIT_WAIT] = float(extra.get(A.RATE_LIMIT_WAIT, 0.0)) + seconds
                    frame.extra = extra
            elif span is not None and span.is_recording():
                span.set_attribute(A.RATE_LIMIT_WAIT, seconds)
            if self.metering:
                self._rate_limit_wait.record(seconds, {A.RUNTIME: self.runtime}, ctx)
        except Exception:  # noqa: BLE001
            report("note_rate_limit_wait")
