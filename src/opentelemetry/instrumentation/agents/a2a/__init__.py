"""Trace context across A2A (https://github.com/a2aproject/a2a-python, `a2a-sdk`).

Usage::

    from opentelemetry.instrumentation.agents.a2a import A2AInstrumentor

    A2AInstrumentor().instrument()

Client side: every HTTP request the SDK's JSON-RPC and REST transports send
carries the current trace context as W3C headers (``traceparent``,
``tracestate``). Server side: a request reaching the SDK's JSON-RPC or REST
dispatcher is handled in the context those headers carry, so the agent
executor it starts (and the agent that executor fronts) joins the caller's
trace; so does a streamed response's body, which Starlette sends after the
dispatcher returned. The span of the remote call itself (``invoke_agent {remote}``,
CLIENT) comes from the runtime's adapter (AgentScope's `A2AAgent`).
"""

from __future__ import annotations

from .._handler import TelemetryHandler
from .._instrumentor import RuntimeInstrumentor
from .._patching import Patcher
from ..package import A2A_SDK

__all__ = ["A2AInstrumentor"]

_REST_HANDLERS = ("on_message_send", "on_message_send_stream")


class A2AInstrumentor(RuntimeInstrumentor):
    """Carries the trace context over A2A requests, both ways."""

    runtime = "a2a"
    requirements = (A2A_SDK,)

    def _install(self, patcher: Patcher, handler: TelemetryHandler) -> None:
        from . import _http

        outgoing = _http.http_args_wrapper(handler)
        # The transports import `get_http_args` by name: patch their copies.
        for module_name in ("a2a.client.transports.jsonrpc", "a2a.client.transports.rest"):
            patcher.on_import(module_name, lambda module: patcher.wrap(
                module, "get_http_args", outgoing))
        incoming = _http.continue_request_wrapper(handler)
        patcher.on_import("a2a.server.routes.jsonrpc_dispatcher", lambda module: patcher.wrap(
            module, "JsonRpcDispatcher.handle_requests", incoming))

        def rest(module):
            for name in _REST_HANDLERS:
                patcher.wrap(module, f"RestDispatcher.{name}", incoming)

        patcher.on_import("a2a.server.routes.rest_dispatcher", rest)
