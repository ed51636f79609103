"""Instrumentation for the Python MCP SDK (https://github.com/modelcontextprotocol/python-sdk).

Usage::

    from opentelemetry.instrumentation.agents.mcp import MCPInstrumentor

    MCPInstrumentor().instrument()

Client side (`mcp.ClientSession`, which AgentScope's and PraisonAI's MCP
tools use): one CLIENT span per request, ``tools/call {tool}`` and so on,
under whatever span is current (the runtime's ``execute_tool`` span), and the
trace context written into the request's ``params._meta`` (``traceparent``,
``tracestate``) as the OpenTelemetry MCP conventions ask. Server side (the
low-level `Server` under FastMCP): one SERVER span per request handled,
continuing the context found in ``params._meta``, current while the handler
runs, so a tool's own spans land under the caller's tool call.

`mcp` 1.x does neither itself; this adds both. `mcp` 2.x sends requests
through a JSON-RPC dispatcher that opens spans of its own (on the global
tracer provider) and already writes and reads ``traceparent`` in ``_meta``:
there we keep its propagation and put our spans in place of its spans, so a
request still has one span per side, in this package's shape. Each version's
call points are patched only when that version is installed.
"""

from __future__ import annotations

from .._handler import TelemetryHandler
from .._instrumentor import RuntimeInstrumentor
from .._patching import Patcher
from ..package import MCP

__all__ = ["MCPInstrumentor"]


class MCPInstrumentor(RuntimeInstrumentor):
    """Traces MCP requests on both sides and carries the trace context across."""

    runtime = "mcp"
    requirements = (MCP,)

    def _install(self, patcher: Patcher, handler: TelemetryHandler) -> None:
        from . import _client, _server

        def session_module(module):
            # Both sides' sessions send requests through the base class (a
            # server's sampling or elicitation requests are client spans too).
            patcher.wrap(module, "BaseSession.send_request", _client.send_request_wrapper(handler))
            patcher.wrap(module, "RequestResponder.respond", _server.respond_wrapper())

        def lowlevel_server(module):
            # mcp 1.x only; 2.x's Server dispatches through middleware
            # (below), and has no `_handle_request` to warn about.
            if hasattr(getattr(module, "Server", None), "_handle_request"):
                patcher.wrap(module, "Server._handle_request",
                             _server.handle_request_wrapper(handler))

        def dispatcher_module(module):
            patcher.wrap(module, "JSONRPCDispatcher.send_raw_request",
                         _client.send_raw_request_wrapper(handler))
            patcher.wrap(module, "otel_span", _client.otel_span_wrapper())

        # mcp 1.x
        patcher.on_import("mcp.shared.session", session_module)
        patcher.on_import("mcp.server.lowlevel.server", lowlevel_server)
        # mcp 2.x (neither module exists in 1.x)
        patcher.on_import("mcp.shared.jsonrpc_dispatcher", dispatcher_module)
        patcher.on_import("mcp.server._otel", lambda module: patcher.wrap(
            module, "OpenTelemetryMiddleware.__call__", _server.middleware_wrapper(handler)))
