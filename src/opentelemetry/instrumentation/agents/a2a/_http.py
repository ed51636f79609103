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
from .._streams import trace_async_stream


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
        response = await wrapped(*args, **kwargs)
    finally:
        otel_context.detach(token)
    _continue_body(response, parent)
    return response


class _Continued:
    """The continued context, for each step of a response body (nothing to record)."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context

    def on_item(self, item: Any) -> None:
        pass

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        pass


def _continue_body(response: Any, parent: Any) -> None:
    """A streamed response's body runs after the dispatcher returned, when Starlette
    sends it (an SSE stream of a streamed request): each of its steps, its end
    and its close run in the continued context too, so what runs there (a2a-sdk's
    own spans, the agent's events) stays in the caller's trace."""
    body = getattr(response, "body_iterator", None)
    if body is None:
        return
    try:
        source = body if hasattr(body, "__anext__") else aiter(body)
        response.body_iterator = trace_async_stream(
            source, lambda: _Continued(parent), observe_items=False)
    except Exception:  # noqa: BLE001
        report("continuing the trace in an A2A response body")
