"""MCP request spans, client and server side (OpenTelemetry MCP conventions).

One span per request: ``{mcp.method.name} {target}`` where the target is the
tool (``tools/call``) or prompt (``prompts/get``) name, CLIENT on the side
that sent it and SERVER on the side that handled it. A ``tools/call`` span
is also an ``execute_tool`` operation. The server span's parent is the
context the request carried in ``params._meta`` (see `_propagation`).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from opentelemetry.context import Context
from opentelemetry.metrics import Meter
from opentelemetry.trace import SpanKind

from .. import attributes as A
from .._context import set_span_in_context as _set_span_in_context
from .._invocations import MCPInvocation
from .._safety import error_type as _error_type
from .._safety import report
from .._values import clean as _clean
from ._base import DURATION_BUCKETS, HandlerBase

_TOOLS_CALL = "tools/call"
_PROMPTS_GET = "prompts/get"


class MCPOperations(HandlerBase):
    """MCP requests sent (client) and handled (server)."""

    def _create_instruments(self, meter: Meter) -> None:
        super()._create_instruments(meter)
        self._mcp_client_duration = meter.create_histogram(
            A.METRIC_MCP_CLIENT_DURATION, unit="s",
            description="Duration of MCP requests sent",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))
        self._mcp_server_duration = meter.create_histogram(
            A.METRIC_MCP_SERVER_DURATION, unit="s",
            description="Duration of MCP requests handled",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))

    def start_mcp(self, method: str | None, *, target: str | None = None,
                  server: bool = False, parent: Context | None = None,
                  request_id: Any = None, session_id: str | None = None,
                  protocol_version: str | None = None, transport: str | None = None,
                  address: str | None = None, port: int | None = None,
                  ) -> MCPInvocation | None:
        """Start the span of one MCP request.

        `parent` is the context to continue (the server's extracted one);
        None means the current context.
        """
        try:
            current = self.current_parent()
            if current is None:
                return None
            method = _clean(method) or "unknown"
            target = _clean(target)
            attrs: dict[str, Any] = {A.MCP_METHOD_NAME: method}
            if method == _TOOLS_CALL:
                attrs[A.OPERATION_NAME] = A.OP_EXECUTE_TOOL
                if target:
                    attrs[A.TOOL_NAME] = target
            elif method == _PROMPTS_GET and target:
                attrs[A.PROMPT_NAME] = target
            # Ids from the peer: bounded text, and one that cannot be read
            # as text is left out rather than losing the span.
            for key, value in ((A.JSONRPC_REQUEST_ID, request_id),
                               (A.MCP_SESSION_ID, session_id),
                               (A.MCP_PROTOCOL_VERSION, protocol_version)):
                value = _clean(value)
                if value:
                    attrs[key] = value
            if transport:
                attrs[A.NETWORK_TRANSPORT] = transport
            if address:
                attrs[A.SERVER_ADDRESS] = address
            if port is not None:
                attrs[A.SERVER_PORT] = port
            context = parent if parent is not None else current
            span = self._start(f"{method} {target}" if target else method,
                               SpanKind.SERVER if server else SpanKind.CLIENT, context, attrs)
            return MCPInvocation(span, _set_span_in_context(span, context), perf_counter(),
                                 attrs, server)
        except Exception:  # noqa: BLE001
            report("start_mcp")
            return None

    def finish_mcp(self, inv: MCPInvocation, *, error: BaseException | None = None,
                   error_type: str | None = None, status_code: Any = None) -> None:
        """End the request's span; `status_code` is the JSON-RPC error code, if any."""
        try:
            if inv.ended:
                return
            # `_clean`: a code that cannot be read as text must not keep the span open.
            code = _clean(status_code) if status_code is not None else None
            if code is not None and inv.span.is_recording():
                inv.span.set_attribute(A.RPC_RESPONSE_STATUS_CODE, code)
                if error_type is None:
                    error_type = code
            self._end(inv, error, error_type)
            if self.metering:
                attrs = {A.MCP_METHOD_NAME: inv.attributes[A.MCP_METHOD_NAME]}
                for key in (A.TOOL_NAME, A.NETWORK_TRANSPORT):
                    if key in inv.attributes:
                        attrs[key] = inv.attributes[key]
                if error is not None or error_type is not None:
                    attrs[A.ERROR_TYPE] = error_type or _error_type(error)
                histogram = self._mcp_server_duration if inv.server else self._mcp_client_duration
                histogram.record(perf_counter() - inv.start, attrs, inv.context)
        except Exception:  # noqa: BLE001
            report("finish_mcp")
