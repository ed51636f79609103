"""The W3C trace context in and out of messages that leave the process.

Uses the globally configured propagator (`opentelemetry.propagate`, W3C
trace context and baggage unless the application chose otherwise), so what
we write is what every other OpenTelemetry component reads.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from opentelemetry.context import Context

from opentelemetry import propagate, trace

_TRACEPARENT = "traceparent"


def inject(carrier: MutableMapping[str, Any], context: Context | None = None) -> None:
    """Write the trace context of `context` (default: the current one) into `carrier`."""
    propagate.inject(carrier, context=context)


def carrier_of(context: Context | None = None) -> dict[str, str]:
    """A fresh carrier holding the trace context of `context`."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier


def extract(carrier: Mapping[str, Any] | None, context: Context | None = None) -> Context | None:
    """The context `carrier` continues, or None when it carries no valid trace context.

    None lets the caller keep its own current context (a request from an
    uninstrumented peer must not cut a local trace in two).
    """
    if not carrier or _TRACEPARENT not in carrier:
        return None
    extracted = propagate.extract(carrier, context=context)
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        return None
    return extracted
