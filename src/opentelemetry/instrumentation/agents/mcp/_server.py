"""Server side: a span per request handled, continuing the caller's trace."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context

from .. import attributes as A
from .._handler import TelemetryHandler
from .._invocations import MCPInvocation
from .._propagation import extract
from .._safety import report

_TARGETED = ("tools/call", "prompts/get")

# The request being handled in this task, so `respond` can tell its span
# how the request ended: the low-level server turns a handler's exception
# (and FastMCP a tool's) into a response instead of raising it.
_HANDLING: ContextVar[MCPInvocation | None] = ContextVar(
    "opentelemetry-instrumentation-agents.mcp.handling", default=None)


def _carrier(params: Any) -> dict[str, Any] | None:
    meta = getattr(params, "meta", None)
    if meta is None:
        return None
    extra = getattr(meta, "model_extra", None)
    return extra if extra else None


def _http_request(message: Any) -> Any:
    metadata = getattr(message, "message_metadata", None)
    return getattr(metadata, "request_context", None)


def handle_request_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        return _handle(handler, wrapped, args, kwargs)

    return wrapper


def _start(handler: TelemetryHandler, args: tuple, kwargs: dict) -> MCPInvocation | None:
    message = args[0] if args else kwargs.get("message")
    req = args[1] if len(args) > 1 else kwargs.get("req")
    session = args[2] if len(args) > 2 else kwargs.get("session")
    method = getattr(req, "method", None)
    params = getattr(req, "params", None)
    target = getattr(params, "name", None) if method in _TARGETED else None
    session_id = transport = None
    http = _http_request(message)
    if http is not None and hasattr(http, "headers"):
        transport = A.TRANSPORT_TCP
        session_id = http.headers.get("mcp-session-id")
    client_params = getattr(session, "client_params", None)
    return handler.start_mcp(
        method, target=target, server=True, parent=extract(_carrier(params)),
        request_id=getattr(message, "request_id", None), session_id=session_id,
        protocol_version=getattr(client_params, "protocolVersion", None), transport=transport)


async def _handle(handler: TelemetryHandler, wrapped, args, kwargs):
    inv = None
    try:
        inv = _start(handler, args, kwargs)
    except Exception:  # noqa: BLE001
        report("tracing an MCP request handled")
    if inv is None:
        return await wrapped(*args, **kwargs)
    token = otel_context.attach(inv.context)
    handling = _HANDLING.set(inv)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        handler.finish_mcp(inv, error=exc)
        raise
    finally:
        _HANDLING.reset(handling)
        otel_context.detach(token)
    handler.finish_mcp(inv, error_type=inv.error_type, status_code=inv.status_code)
    return result


def respond_wrapper():
    def wrapper(wrapped, instance, args, kwargs):
        inv = _HANDLING.get()
        if inv is not None:
            try:
                response = args[0] if args else kwargs.get("response")
                code = getattr(response, "code", None)
                if isinstance(code, int) and hasattr(response, "message"):
                    inv.status_code = code  # ErrorData
                elif getattr(getattr(response, "root", response), "isError", False):
                    inv.error_type = A.MCP_TOOL_ERROR
            except Exception:  # noqa: BLE001
                report("reading an MCP response")
        return wrapped(*args, **kwargs)

    return wrapper


# -- mcp 2.x -------------------------------------------------------------------
#
# mcp 2.x's low-level `Server` runs every inbound request through its
# middleware list, which starts with its own `OpenTelemetryMiddleware`: a
# SERVER span on the global tracer provider, continuing ``_meta``'s
# ``traceparent``. Instrumented, that middleware opens our span instead (the
# same request would otherwise have two SERVER spans): ours continues the
# same ``_meta``, adds the session id and transport, and follows our
# provider, suppression and metrics. Uninstrumented, it is the SDK's again.

_INVALID_PARAMS = -32602  # JSON-RPC; what the SDK answers a params ValidationError with


def _meta_carrier(meta: Any) -> dict[str, Any] | None:
    if meta is None:
        return None
    if isinstance(meta, dict):
        return meta
    extra = getattr(meta, "model_extra", None)
    return extra if extra else None


def middleware_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        return _middleware(handler, wrapped, args, kwargs)

    return wrapper


def _start_v2(handler: TelemetryHandler, ctx: Any) -> MCPInvocation | None:
    method = getattr(ctx, "method", None)
    params = getattr(ctx, "params", None)
    name = params.get("name") if method in _TARGETED and hasattr(params, "get") else None
    session_id = transport = None
    headers = getattr(getattr(ctx, "request", None), "headers", None)
    if headers is not None:
        transport = A.TRANSPORT_TCP
        session_id = headers.get("mcp-session-id")
    return handler.start_mcp(
        method, target=name if isinstance(name, str) else None, server=True,
        parent=extract(_meta_carrier(getattr(ctx, "meta", None))),
        request_id=getattr(ctx, "request_id", None), session_id=session_id,
        protocol_version=getattr(ctx, "protocol_version", None), transport=transport)


async def _middleware(handler: TelemetryHandler, wrapped, args, kwargs):
    ctx = args[0] if args else kwargs.get("ctx")
    call_next = args[1] if len(args) > 1 else kwargs.get("call_next")
    inv = None
    try:
        inv = _start_v2(handler, ctx)
    except Exception:  # noqa: BLE001
        report("tracing an MCP request handled")
    if inv is None or call_next is None:
        return await wrapped(*args, **kwargs)
    token = otel_context.attach(inv.context)
    try:
        result = await call_next(ctx)
    except BaseException as exc:
        code = getattr(getattr(exc, "error", None), "code", None)
        if not isinstance(code, int) and type(exc).__name__ == "ValidationError":
            code = _INVALID_PARAMS  # the response the SDK turns it into
        if isinstance(code, int):
            handler.finish_mcp(inv, status_code=code)
        else:
            handler.finish_mcp(inv, error=exc)
        raise
    finally:
        otel_context.detach(token)
    is_error = getattr(result, "is_error", None) is True or (
        isinstance(result, dict) and result.get("isError") is True)
    handler.finish_mcp(inv, error_type=A.MCP_TOOL_ERROR if is_error else None)
    return result
