"""PraisonAI served agents (`Agent.launch()`, `AgentTeam.launch()`): continue the caller's trace.

Both launchers register their routes on one FastAPI app per port, created
by PraisonAI's server registry (`_AgentServerRegistry.get_or_create_app`)
and served by uvicorn on a loop of its own. Two things stand between an
incoming ``traceparent`` and the agent's spans:

- nothing reads the request's headers: an ASGI middleware added to each app
  the registry creates makes the W3C context they carry current for the
  request, unless a span is already current there (the server span of
  `opentelemetry-instrumentation-fastapi`, which continues the same
  headers), and
- `Agent.launch` runs the sync ``chat`` with `loop.run_in_executor`, which
  does not copy the context into the worker thread (`AgentTeam.launch`
  copies it itself): when the app starts, the serving loop's default
  executor becomes a thread pool that carries the submitting task's
  OpenTelemetry context into each call (only that context, not other
  context variables).

A single agent's request adds no span of our own: its ``invoke_agent``
span is a child of the caller's span (or of the FastAPI server span when
that instrumentation, or FastAPI's own telemetry, is active). A request to
a team's endpoint runs in an ``invoke_workflow {team}`` span opened by the
same middleware, so that several teams served on one port, each on its own
path, name the team each request ran (see `_served_teams`).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from .._context import get_current as _get_current
from .._context import span_of as _span_of
from .._handler import TelemetryHandler
from .._patching import Patcher
from .._propagation import extract
from .._safety import report
from ._served_teams import (
    Routes,
    route_reserved,
    routes_of,
    serve_team_run,
    team_for,
    team_launch_wrapper,
    using_app,
)

_MIDDLEWARE_LOCK = threading.Lock()


class ContextCarryingExecutor(ThreadPoolExecutor):
    """A thread pool whose calls run in the OpenTelemetry context they were submitted in."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            context = otel_context.get_current()
        except Exception:  # noqa: BLE001
            return super().submit(fn, *args, **kwargs)
        return super().submit(_run_in, context, fn, args, kwargs)


def _run_in(context: Any, fn: Any, args: tuple, kwargs: dict) -> Any:
    token = otel_context.attach(context)
    try:
        return fn(*args, **kwargs)
    finally:
        otel_context.detach(token)


def _carry_context_into_executor(loop: asyncio.AbstractEventLoop) -> None:
    """Make `loop`'s default executor carry the OpenTelemetry context.

    Done when the app starts (its lifespan), before uvicorn has served
    anything; uvicorn runs on uvloop where it is installed, whose default
    executor cannot be read, so the one in place is replaced (an unused
    one is collected with its idle threads).
    """
    if isinstance(getattr(loop, "_default_executor", None), ContextCarryingExecutor):
        return
    loop.set_default_executor(ContextCarryingExecutor(thread_name_prefix="asyncio"))


def _headers(scope: dict) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in scope.get("headers") or ():
        try:
            headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        except (AttributeError, UnicodeDecodeError):
            continue
    return headers


class ContinueTraceMiddleware:
    """ASGI middleware: handle each HTTP request in the W3C context its headers carry,
    and a request to a team's endpoint in a workflow span for that team."""

    def __init__(self, app: Any, handler: TelemetryHandler, routes: Routes | None = None) -> None:
        self.app = app
        self._handler = handler
        self._routes: Routes = routes if routes is not None else {}
        self._prepared: Any = None  # the serving loop, once its executor carries context

    def _prepare_loop(self) -> None:
        try:
            # At the lifespan's start, or at the first request when uvicorn
            # runs without a lifespan.
            loop = asyncio.get_running_loop()
            if loop is not self._prepared:
                self._prepared = loop
                _carry_context_into_executor(loop)
        except Exception:  # noqa: BLE001
            report("preparing PraisonAI's serving loop")

    def _parent_and_team(self, scope: dict) -> tuple[Any, Any]:
        parent = team = None
        try:
            # A server span already current (FastAPI's instrumentation or its
            # own telemetry) has continued these headers itself.
            current = _span_of(_get_current())
            if current is None or not current.get_span_context().is_valid:
                parent = extract(_headers(scope))
        except Exception:  # noqa: BLE001
            report("reading the trace headers of a PraisonAI served request")
        try:
            team = team_for(self._routes, scope)
        except Exception:  # noqa: BLE001
            report("finding the team of a PraisonAI served request")
        return parent, team

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        self._prepare_loop()
        if not (isinstance(scope, dict) and scope.get("type") == "http"
                and self._handler.enabled):
            return await self.app(scope, receive, send)
        parent, team = self._parent_and_team(scope)
        if parent is None and team is None:
            return await self.app(scope, receive, send)
        token = otel_context.attach(parent) if parent is not None else None
        try:
            if team is None:
                return await self.app(scope, receive, send)
            return await serve_team_run(self._handler, team, self.app, scope, receive, send)
        finally:
            if token is not None:
                otel_context.detach(token)


def _get_or_create_app_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        result = wrapped(*args, **kwargs)
        try:
            app, _is_new = result
            routes = routes_of(app)
            using_app(routes)
            # Whichever launch of the port gets here first adds it, not only
            # the one that made the app: each launch passes here before it
            # may start the server, and middleware cannot be added after.
            with _MIDDLEWARE_LOCK:
                if not getattr(app.state, "_otel_agents_continue_trace", False):
                    app.add_middleware(ContinueTraceMiddleware, handler=handler, routes=routes)
                    app.state._otel_agents_continue_trace = True
        except Exception:  # noqa: BLE001
            report("adding trace continuation to PraisonAI's launch app")
        return result

    return wrapper


def _reserve_route_wrapper(wrapped, instance, args, kwargs):
    result = wrapped(*args, **kwargs)
    try:
        route_reserved(result[0])
    except Exception:  # noqa: BLE001
        report("noting the team of a PraisonAI launch route")
    return result


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def registry(module: ModuleType) -> None:
        patcher.wrap(module, "_AgentServerRegistry.get_or_create_app",
                     _get_or_create_app_wrapper(handler))
        patcher.wrap(module, "_AgentServerRegistry.reserve_route", _reserve_route_wrapper)

    def teams(module: ModuleType) -> None:
        patcher.wrap(module, "AgentTeam.launch", team_launch_wrapper)

    patcher.on_import("praisonaiagents.agent.server_registry", registry)
    patcher.on_import("praisonaiagents.agents.agents", teams)
