"""Which team a request to PraisonAI's launch app is for, and its `invoke_workflow` span.

`AgentTeam.launch(path=..., port=...)` registers an endpoint that runs the
team's agents one after the other (each member's ``chat``, not the team's
``start``), and several teams (and agents) may share one port's app, each
on its own path, launched from several threads at once. The endpoint is a
closure PraisonAI builds inside ``launch``; the only things we can see are
the registry calls ``launch`` makes in its own thread: ``get_or_create_app``
(which app) then ``reserve_route`` (the path it finally got, renamed on a
collision). A context variable set for the duration of ``launch`` says
which team is registering, so concurrent launches never swap teams; the
app's route table (path -> team, held weakly) is what the app's middleware
reads for each request.
"""

from __future__ import annotations

import threading
import weakref
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context

from .. import attributes as A
from .._handler import TelemetryHandler
from .._invocations import WorkflowInvocation
from .._safety import report
from ._teams import _members, _name

Routes = dict[str, Any]  # path -> a callable returning the team, or None once it is gone

_ROUTES_LOCK = threading.Lock()
# Set by our wrappers around PraisonAI's launch calls, in the launching thread.
_LAUNCHING_TEAM: ContextVar[Any] = ContextVar("otel_agents_praisonai_launching_team",
                                              default=None)
_APP_ROUTES: ContextVar[Routes | None] = ContextVar("otel_agents_praisonai_app_routes",
                                                    default=None)


def routes_of(app: Any) -> Routes:
    """The team route table of one launch app (made on first use; shared by all launches)."""
    with _ROUTES_LOCK:
        routes = getattr(app.state, "_otel_agents_team_routes", None)
        if routes is None:
            routes = {}
            app.state._otel_agents_team_routes = routes
        return routes


def using_app(routes: Routes) -> None:
    """The launch running in this thread registers its routes on the app of `routes`."""
    _APP_ROUTES.set(routes)


def route_reserved(path: Any) -> None:
    """`path` now belongs to the team launching in this thread, or to no team."""
    routes = _APP_ROUTES.get()
    if routes is None or not isinstance(path, str):
        return
    team = _LAUNCHING_TEAM.get()
    if team is None:
        routes.pop(path, None)  # an agent took over a path a torn-down team had
        return
    try:
        routes[path] = weakref.ref(team)
    except TypeError:
        routes[path] = lambda: team


def team_launch_wrapper(wrapped, instance, args, kwargs):
    """`AgentTeam.launch`: the routes it reserves (in this thread) are `instance`'s."""
    token = _LAUNCHING_TEAM.set(instance)
    try:
        return wrapped(*args, **kwargs)
    finally:
        _LAUNCHING_TEAM.reset(token)


def team_for(routes: Routes, scope: dict) -> Any:
    """The team whose run endpoint `scope` (an HTTP request) calls, else None."""
    if scope.get("method") != "POST":
        return None
    ref = routes.get(scope.get("path"))
    return ref() if ref is not None else None


def _start(handler: TelemetryHandler, team: Any) -> WorkflowInvocation | None:
    try:
        return handler.start_workflow(_name(team), extra={
            A.WORKFLOW_TYPE: type(team).__name__,
            A.WORKFLOW_MEMBERS: _members(getattr(team, "agents", None))})
    except Exception:  # noqa: BLE001
        report("starting a PraisonAI served team's run")
        return None


def _finish(handler: TelemetryHandler, inv: WorkflowInvocation, error: BaseException | None,
            status: list[int]) -> None:
    # A member that fails is caught by PraisonAI and reported in a 200
    # answer (its own span says so); the run failed only when the app did.
    error_type = str(status[0]) if status and status[0] >= 500 else None
    handler.finish_workflow(inv, error=error, error_type=error_type)


async def serve_team_run(handler: TelemetryHandler, team: Any, app: Any, scope: dict,
                         receive: Any, send: Any) -> None:
    """Serve one request to `team`'s endpoint inside an `invoke_workflow` span for the team."""
    inv = _start(handler, team)
    if inv is None:
        return await app(scope, receive, send)
    status: list[int] = []

    async def send_noting_status(message: Any) -> None:
        if isinstance(message, dict) and message.get("type") == "http.response.start":
            code = message.get("status")
            if isinstance(code, int):
                status.append(code)
        await send(message)

    token = otel_context.attach(inv.context)
    try:
        await app(scope, receive, send_noting_status)
    except BaseException as exc:
        otel_context.detach(token)
        _finish(handler, inv, exc, status)
        raise
    otel_context.detach(token)
    _finish(handler, inv, None, status)
