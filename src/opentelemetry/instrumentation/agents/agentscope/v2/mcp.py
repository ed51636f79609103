"""AgentScope 2.x MCP clients: tell the MCP instrumentation which transport a call uses.

The MCP spans themselves (and the trace context in ``params._meta``) come
from `opentelemetry.instrumentation.agents.mcp`, which patches the
`mcp` client every AgentScope `MCPClient` and `MCPTool` uses (`ClientSession`
in mcp 1.x, `Client` in 2.x). All an
AgentScope adapter adds is what only AgentScope knows: whether the
connection is stdio (``network.transport=pipe``) or streamable HTTP (``tcp``,
with ``server.address`` / ``server.port``).
"""

from __future__ import annotations

import weakref
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from ... import attributes as A
from ..._patching import Patcher
from ..._safety import report
from ...mcp._client import CONNECTION, Connection


class _Sessions:
    """Stateful clients: the session `MCPClient.connect` opened -> its connection.

    Keyed by identity, held weakly: with mcp 2.x the session is an
    `mcp.Client`, a dataclass and so unhashable.
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref, Connection]] = {}

    def __setitem__(self, session: Any, connection: Connection) -> None:
        key = id(session)
        self._entries[key] = (weakref.ref(session, lambda _ref: self._entries.pop(key, None)),
                              connection)

    def get(self, session: Any) -> Connection | None:
        entry = self._entries.get(id(session))
        return entry[1] if entry is not None and entry[0]() is session else None


_SESSIONS = _Sessions()
_DEFAULT_PORTS = {"http": 80, "https": 443}


def connection_of(config: Any) -> Connection | None:
    """The transport an AgentScope MCP config describes."""
    kind = getattr(config, "type", None)
    if kind == "stdio_mcp":
        return Connection(A.TRANSPORT_PIPE)
    url = getattr(config, "url", None)
    if not url:
        return None
    parts = urlsplit(url)
    return Connection(A.TRANSPORT_TCP, parts.hostname,
                      parts.port or _DEFAULT_PORTS.get(parts.scheme))


async def _under(connection: Connection, call: Any) -> Any:
    token = CONNECTION.set(connection)
    try:
        return await call
    finally:
        CONNECTION.reset(token)


def _client_method_wrapper(wrapped, instance, args, kwargs):
    try:
        connection = connection_of(getattr(instance, "mcp_config", None))
    except Exception:  # noqa: BLE001
        report("reading an AgentScope MCP config")
        connection = None
    if connection is None:
        return wrapped(*args, **kwargs)
    return _under(connection, wrapped(*args, **kwargs))


def _connect_wrapper(wrapped, instance, args, kwargs):
    async def connect():
        result = await _client_method_wrapper(wrapped, instance, args, kwargs)
        try:
            # `_session` with mcp 1.x, `_client` (an `mcp.Client`) with 2.x.
            session = getattr(instance, "_session", None) or getattr(instance, "_client", None)
            connection = connection_of(getattr(instance, "mcp_config", None))
            if session is not None and connection is not None:
                _SESSIONS[session] = connection
        except Exception:  # noqa: BLE001
            report("remembering an AgentScope MCP session")
        return result

    return connect()


def _tool_call_wrapper(wrapped, instance, args, kwargs):
    connection = None
    try:
        client = getattr(getattr(instance, "_client_gen", None), "__self__", None)
        if client is not None:
            connection = connection_of(getattr(client, "mcp_config", None))
        else:
            session = getattr(instance, "_session", None)
            connection = _SESSIONS.get(session) if session is not None else None
    except Exception:  # noqa: BLE001
        report("reading an AgentScope MCP tool's connection")
    if connection is None:
        return wrapped(*args, **kwargs)
    return _under(connection, wrapped(*args, **kwargs))


def install(patcher: Patcher) -> None:
    def client_module(module: ModuleType) -> None:
        patcher.wrap(module, "MCPClient.connect", _connect_wrapper)
        patcher.wrap(module, "MCPClient.list_raw_tools", _client_method_wrapper)

    def adapters_module(module: ModuleType) -> None:
        patcher.wrap(module, "MCPTool.call", _tool_call_wrapper)

    patcher.on_import("agentscope.mcp._mcp_client", client_module)
    patcher.on_import("agentscope.tool._adapters", adapters_module)
