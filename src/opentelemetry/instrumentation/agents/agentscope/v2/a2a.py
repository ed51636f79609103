"""AgentScope 2.x `A2AAgent`: a remote agent, called over A2A.

Each reply (``reply`` and ``reply_stream`` both run ``_reply``) is an
``invoke_agent {remote name}`` CLIENT span with the peer's address from its
agent card, current while the A2A client sends, so the request carries it
(the W3C headers are added by `opentelemetry.instrumentation.agents.a2a`).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from ..._handler import TelemetryHandler
from ..._patching import Patcher
from ..._safety import report
from ..._streams import EndingObserver, trace_async_stream

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _peer(card: Any) -> tuple[str | None, int | None]:
    """Host and port of the card's first interface (A2A 1.x), else its ``url`` (0.3)."""
    url = None
    interfaces = getattr(card, "supported_interfaces", None)
    if interfaces:
        url = getattr(interfaces[0], "url", None)
    url = url or getattr(card, "url", None)
    if not url:
        return None, None
    parts = urlsplit(url)
    return parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme)


def _reply_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        source = wrapped(*args, **kwargs)
        if not handler.enabled:
            return source

        def begin() -> EndingObserver | None:
            try:
                card = getattr(instance, "_agent_card", None)
                address, port = _peer(card)
                inv = handler.start_remote_agent(
                    getattr(instance, "name", None) or getattr(card, "name", None),
                    address=address, port=port,
                    description=getattr(card, "description", None))
            except Exception:  # noqa: BLE001
                report("starting an A2A agent span")
                return None
            return EndingObserver(handler.finish_remote_agent, inv) if inv is not None else None

        return trace_async_stream(source, begin, observe_items=False)

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def a2a_agent_module(module: ModuleType) -> None:
        patcher.wrap(module, "A2AAgent._reply", _reply_wrapper(handler))

    patcher.on_import("agentscope.agent._a2a_agent", a2a_agent_module)
