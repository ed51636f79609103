"""Client side: a span per request sent, and the trace context in ``params._meta``."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, NamedTuple

from .. import attributes as A
from .._handler import TelemetryHandler
from .._propagation import carrier_of
from .._safety import report


class Connection(NamedTuple):
    """What the runtime knows about the connection a request goes over.

    `mcp.ClientSession` only sees two in-memory streams; the runtime that
    opened the transport (stdio, streamable HTTP) says which it was.
    """

    transport: str | None = None
    address: str | None = None
    port: int | None = None


CONNECTION: ContextVar[Connection | None] = ContextVar(
    "opentelemetry-instrumentation-agents.mcp.connection", default=None)
"""Set by runtime adapters around their MCP calls; read by `send_request`."""

_TARGETED = ("tools/call", "prompts/get")


def _with_context(request: Any, context: Any) -> Any:
    """A copy of `request` whose ``params._meta`` carries `context`.

    The caller's objects are left as they were. A request sent without params
    (``tools/list`` with no cursor) gets an empty params object of its own
    type holding only ``_meta``, which says the same to the server.
    """
    root = getattr(request, "root", None)
    if root is None or not hasattr(root, "params"):
        return request
    carrier = carrier_of(context)
    if not carrier:
        return request
    from mcp.types import RequestParams

    params = root.params
    if params is None:
        params_type = _params_type(type(root))
        if params_type is None:
            return request
        params = params_type()
    meta = getattr(params, "meta", None)
    if meta is not None:
        meta = type(meta)(**{**meta.model_dump(by_alias=True, exclude_none=True), **carrier})
    else:
        meta = RequestParams.Meta(**carrier)
    root = root.model_copy(update={"params": params.model_copy(update={"meta": meta})})
    return type(request)(root)


_PARAMS_TYPES: dict[type, type | None] = {}


def _params_type(request_type: type) -> type | None:
    """The params class a request type declares (for ``params: X | None``: X)."""
    try:
        return _PARAMS_TYPES[request_type]
    except KeyError:
        pass
    import typing

    from mcp.types import RequestParams

    found = None
    field = request_type.model_fields.get("params")
    annotation = field.annotation if field is not None else None
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, RequestParams):
            found = candidate
            break
    _PARAMS_TYPES[request_type] = found
    return found


def send_request_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        return _send(handler, wrapped, instance, args, kwargs)

    return wrapper


async def _send(handler: TelemetryHandler, wrapped, instance, args, kwargs):
    inv = None
    try:
        request = args[0] if args else kwargs.get("request")
        root = getattr(request, "root", request)
        method = getattr(root, "method", None)
        params = getattr(root, "params", None)
        target = getattr(params, "name", None) if method in _TARGETED else None
        connection = CONNECTION.get() or Connection()
        inv = handler.start_mcp(
            method, target=target, request_id=getattr(instance, "_request_id", None),
            transport=connection.transport, address=connection.address, port=connection.port)
        if inv is not None:
            request = _with_context(request, inv.context)
            if args:
                args = (request, *args[1:])
            else:
                kwargs = {**kwargs, "request": request}
    except Exception:  # noqa: BLE001
        report("tracing an MCP request")
    if inv is None:
        return await wrapped(*args, **kwargs)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _finish_failed(handler, inv, exc)
        raise
    handler.finish_mcp(inv, error_type=A.MCP_TOOL_ERROR if getattr(result, "isError", False)
                       else None)
    return result


def _finish_failed(handler: TelemetryHandler, inv: Any, exc: BaseException) -> None:
    # McpError carries the JSON-RPC error the server (or the session, for a
    # timeout or a closed connection) answered with.
    code = getattr(getattr(exc, "error", None), "code", None)
    handler.finish_mcp(inv, error=exc, status_code=code if isinstance(code, int) else None)


# -- mcp 2.x -------------------------------------------------------------------
#
# mcp 2.x sends every request through `JSONRPCDispatcher.send_raw_request`,
# which opens a CLIENT span of its own ("MCP send {method}", on the global
# tracer provider) and injects the current trace context into ``_meta``
# itself. We keep its injection and put our span in place of its span: ours
# is current while the request is sent, and the dispatcher's `otel_span` hands
# ours back instead of starting a second one, so the ``traceparent`` the
# server sees is our span's.

# Our span for the request being sent in this task, until the dispatcher
# asks `otel_span` for its own (then it is taken, so a nested send starts its
# own span).
_SENDING: ContextVar[Any] = ContextVar(
    "opentelemetry-instrumentation-agents.mcp.sending", default=None)


def send_raw_request_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        return _send_raw(handler, wrapped, args, kwargs)

    return wrapper


async def _send_raw(handler: TelemetryHandler, wrapped, args, kwargs):
    from opentelemetry import context as otel_context

    inv = None
    try:
        method = args[0] if args else kwargs.get("method")
        params = args[1] if len(args) > 1 else kwargs.get("params")
        target = params.get("name") if method in _TARGETED and hasattr(params, "get") else None
        connection = CONNECTION.get() or Connection()
        inv = handler.start_mcp(
            method, target=target if isinstance(target, str) else None,
            transport=connection.transport, address=connection.address, port=connection.port)
    except Exception:  # noqa: BLE001
        report("tracing an MCP request")
    if inv is None:
        return await wrapped(*args, **kwargs)
    token = otel_context.attach(inv.context)
    sending = _SENDING.set(inv)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _finish_failed(handler, inv, exc)
        raise
    finally:
        _SENDING.reset(sending)
        otel_context.detach(token)
    handler.finish_mcp(inv, error_type=A.MCP_TOOL_ERROR if isinstance(result, dict)
                       and result.get("isError") is True else None)
    return result


class _OurSpan:
    """What the dispatcher's ``with otel_span(...) as span`` gets: our span.

    It sets the error attributes and status on it for an error response,
    which is what we would set too; ending is ours (`_send_raw`).
    """

    def __init__(self, span: Any) -> None:
        self._span = span

    def __enter__(self) -> Any:
        return self._span

    def __exit__(self, *exc_info: Any) -> None:
        return None


def otel_span_wrapper():
    def wrapper(wrapped, instance, args, kwargs):
        inv = _SENDING.get()
        if inv is None:
            return wrapped(*args, **kwargs)
        try:
            _SENDING.set(None)
            # The request id is allocated inside the dispatcher; this is
            # where it shows it.
            request_id = (kwargs.get("attributes") or {}).get(A.JSONRPC_REQUEST_ID)
            if request_id is not None and inv.span.is_recording():
                inv.span.set_attribute(A.JSONRPC_REQUEST_ID, str(request_id))
            return _OurSpan(inv.span)
        except Exception:  # noqa: BLE001
            report("tracing an MCP request")
            return wrapped(*args, **kwargs)

    return wrapper
