"""PraisonAI MCP tools (`praisonaiagents.mcp.MCP`): the caller's context reaches the MCP request.

The MCP spans themselves, and the trace context in ``params._meta``, come
from `opentelemetry.instrumentation.agents.mcp` (it patches the
`mcp.ClientSession` PraisonAI uses). What this adds is what only PraisonAI
knows:

- stdio: `MCPToolRunner` is a thread with its own event loop; a tool call
  puts ``(response_queue, kind, name, arguments, cancelled)`` on the
  runner's `queue.Queue` and the runner sends the request from its loop,
  where the caller's context (its ``execute_tool`` span) is not current.
  The runner gets a queue that remembers, with each item, the context of
  the thread that put it, and makes that context current in the runner
  while it handles the item.
- streamable HTTP: `HTTPStreamMCPTool.__call__` hands the call to the
  session's loop with `asyncio.run_coroutine_threadsafe`, which already
  carries the caller's context; only the connection (``tcp``,
  ``server.address``, ``server.port``) is added.
"""

from __future__ import annotations

import queue
import threading
import weakref
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context as otel_context

from .. import attributes as A
from .._patching import Patcher
from .._safety import report
from ..mcp._client import CONNECTION, Connection

_PIPE = Connection(A.TRANSPORT_PIPE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# The sessions HTTP MCP clients opened -> how they connect.
_SESSIONS: weakref.WeakKeyDictionary[Any, Connection] = weakref.WeakKeyDictionary()


class ContextQueue(queue.Queue):
    """A `queue.Queue` whose items bring their putter's OpenTelemetry context along.

    The items themselves are what PraisonAI put, unchanged. Only the
    consuming thread (the runner) adopts an item's context, from the `get`
    that returned it until its next `get`: PraisonAI's other readers (the
    callers draining a dead runner's queue) adopt nothing.
    """

    def __init__(self, consumer: threading.Thread) -> None:
        super().__init__()
        self._consumer = weakref.ref(consumer)
        self._token: Any = None

    # `_put` / `_get` run under the queue's lock, `_put` in the putter's thread.
    def _put(self, item: Any) -> None:
        try:
            context = otel_context.get_current()
        except Exception:  # noqa: BLE001
            context = None
        self.queue.append((item, context))

    def _get(self) -> Any:
        return self.queue.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        consuming = threading.current_thread() is self._consumer()
        if consuming and self._token is not None:
            self._release()
        item, context = super().get(block, timeout)
        if consuming and item is not None and context is not None:
            try:
                self._token = otel_context.attach(context)
            except Exception:  # noqa: BLE001
                report("handing the caller's context to PraisonAI's MCP runner")
        return item

    def _release(self) -> None:
        token, self._token = self._token, None
        try:
            otel_context.detach(token)
        except Exception:  # noqa: BLE001
            report("releasing the caller's context in PraisonAI's MCP runner")


def _runner_init_wrapper(wrapped, instance, args, kwargs):
    result = wrapped(*args, **kwargs)
    try:
        # `__init__` has started the thread already; it reads `self.queue`
        # afresh on every turn of its loop and nothing is queued before
        # `__init__` returns, so swapping the queue now loses nothing.
        # Whatever might be there anyway moves over.
        old = instance.queue
        if type(old) is queue.Queue:
            new = ContextQueue(instance)
            while True:
                try:
                    new.put(old.get(block=False))
                except queue.Empty:
                    break
            instance.queue = new
    except Exception:  # noqa: BLE001
        report("preparing PraisonAI's MCP runner")
    return result


def _runner_loop_wrapper(wrapped, instance, args, kwargs):
    async def run() -> Any:
        # The runner's whole loop talks over the child's stdin/stdout.
        token = CONNECTION.set(_PIPE)
        try:
            return await wrapped(*args, **kwargs)
        finally:
            CONNECTION.reset(token)

    return run()


def connection_of(url: Any) -> Connection | None:
    """The connection an HTTP MCP URL describes."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    return Connection(A.TRANSPORT_TCP, parts.hostname, port)


def _http_initialize_wrapper(wrapped, instance, args, kwargs):
    try:
        connection = connection_of(getattr(instance, "base_url", None))
    except Exception:  # noqa: BLE001
        report("reading a PraisonAI MCP URL")
        connection = None
    if connection is None:
        return wrapped(*args, **kwargs)

    async def initialize() -> Any:
        token = CONNECTION.set(connection)
        try:
            result = await wrapped(*args, **kwargs)
        finally:
            CONNECTION.reset(token)
        try:
            session = getattr(instance, "session", None)
            if session is not None:
                _SESSIONS[session] = connection
        except Exception:  # noqa: BLE001
            report("remembering a PraisonAI MCP session")
        return result

    return initialize()


def _http_call_wrapper(wrapped, instance, args, kwargs):
    connection = None
    try:
        session = getattr(instance, "session", None)
        connection = _SESSIONS.get(session) if session is not None else None
    except Exception:  # noqa: BLE001
        report("reading a PraisonAI MCP tool's connection")
    if connection is None:
        return wrapped(*args, **kwargs)

    async def call() -> Any:
        token = CONNECTION.set(connection)
        try:
            return await wrapped(*args, **kwargs)
        finally:
            CONNECTION.reset(token)

    return call()


def install(patcher: Patcher) -> None:
    def stdio(module: ModuleType) -> None:
        patcher.wrap(module, "MCPToolRunner.__init__", _runner_init_wrapper)
        patcher.wrap(module, "MCPToolRunner._run_async", _runner_loop_wrapper)

    def http_stream(module: ModuleType) -> None:
        patcher.wrap(module, "HTTPStreamMCPClient._async_initialize", _http_initialize_wrapper)
        patcher.wrap(module, "HTTPStreamMCPTool._async_call", _http_call_wrapper)

    patcher.on_import("praisonaiagents.mcp.mcp", stdio)
    patcher.on_import("praisonaiagents.mcp.mcp_http_stream", http_stream)
