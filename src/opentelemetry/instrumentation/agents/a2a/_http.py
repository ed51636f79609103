"""W3C headers out of the A2A client, and into the A2A server's handling."""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context

from .._context import get_current as _get_current
from .._context import span_of as _span_of
from .._context import suppressed as _suppressed
from .._handler import TelemetryHandler
from .._propagation import carrier_of, extract
from .._safety import report


def http_args_wrapper(handler: TelemetryHandler):
    """`get_http_args(context)` plus the current trace context in its headers."""

    def wrapper(wrapped, instance, args, kwargs):
        http_kwargs = wrapped(*args, **kwargs)
        if not handler.enabled:
            return http_kwargs
        try:
            current = _get_current()
            if _suppressed(current) or _span_of(current) is None:
                return http_kwargs
            carrier = carrier_of(current)
            if carrier and isinstance(http_kwargs, dict):
                headers = dict(http_kwargs.get("headers") or {})
                headers.update(carrier)
                http_kwargs["headers"] = headers
        except Exception:  # noqa: BLE001
            report("adding trace headers to an A2A request")
        return http_kwargs

    return wrapper


def continue_request_wrapper(handler: TelemetryHandler):
    """Handle the request (a Starlette `Request`) in the context its headers carry."""

    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        parent = None
        try:
            request = args[0] if args else kwargs.get("request")
            parent = extract(getattr(request, "headers", None))
        except Exception:  # noqa: BLE001
            report("reading trace headers of an A2A request")
        if parent is None:
            return wrapped(*args, **kwargs)
        return _within(parent, wrapped, args, kwargs)

    return wrapper


async def _within(parent: Any, wrapped, args, kwargs):
    # Tasks the dispatcher starts (the agent executor's among them) copy
    # the context current here.
    token = otel_context.attach(parent)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        otel_context.detach(token)
