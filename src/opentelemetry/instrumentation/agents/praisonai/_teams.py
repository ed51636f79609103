"""Teams: `AgentTeam.start` / `astart` (also `AgentManager`, `Agents`, `PraisonAIAgents`).

Both run the tasks' agents through `Agent.chat` or `Agent.achat` (ordinary
tasks of `astart` in executor threads that copy the context), so each task's
agent span lands under the `invoke_workflow` span on its own, whatever the
process: `sequential`, `workflow` (tasks chosen by `next_tasks` and decision
routes) or `hierarchical`. There PraisonAI first runs a synthetic
`manager_task` on a `Manager` agent (an `invoke_agent Manager` span), then
asks its manager model which task to run next before each one, through the
LiteLLM `LLM` class: those calls are `chat` spans right under the workflow
span, between the agents they chose. `run` delegates to `start`; `start`
calls itself once more to open a tools sandbox, which must not make a second
workflow span.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from .. import attributes as A
from .._context import get_current as _get_current
from .._handler import TelemetryHandler
from .._invocations import WorkflowInvocation
from .._patching import Patcher
from .._safety import report
from ._wrapping import acall_in, call_in

TEAM_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.praisonai.team")

_get_value = otel_context.get_value
_get_current_span = trace.get_current_span


def _name(team: Any) -> str | None:
    # The label PraisonAI itself gives a team run: its name, else its agents'.
    name = getattr(team, "name", None)
    if name:
        return str(name)
    agents = getattr(team, "agents", None) or ()
    return " + ".join(str(getattr(a, "name", None) or "Agent") for a in agents) or None


def _members(agents: Any) -> list[str]:
    return [str(getattr(agent, "name", None) or "Agent") for agent in agents or ()]


def _begin(handler: TelemetryHandler, team: Any) -> tuple[WorkflowInvocation, Any] | None:
    if not handler.enabled:
        return None
    try:
        ctx = _get_current()
        running = _get_value(TEAM_KEY, ctx)
        if running is not None and running[0] is team and _get_current_span(ctx) is running[1]:
            return None
        extra: dict[str, Any] = {A.WORKFLOW_TYPE: type(team).__name__,
                                 A.WORKFLOW_MEMBERS: _members(getattr(team, "agents", None))}
        process = getattr(team, "process", None)
        if isinstance(process, str) and process:
            extra[A.WORKFLOW_PROCESS] = process
        inv = handler.start_workflow(_name(team), extra=extra)
        if inv is None:
            return None
        return inv, otel_context.set_value(TEAM_KEY, (team, inv.span), inv.context)
    except Exception:  # noqa: BLE001
        report("praisonai team start")
        return None


def _end(handler: TelemetryHandler, inv: WorkflowInvocation, team: Any,
         error: BaseException | None = None) -> None:
    try:
        err_type = None
        if error is None:
            tasks = getattr(team, "tasks", None)
            tasks = tasks.values() if isinstance(tasks, dict) else tasks or ()
            if any(getattr(t, "status", None) == "failed" for t in tasks):
                err_type = "task_failed"
        handler.finish_workflow(inv, error=error, error_type=err_type)
    except Exception:  # noqa: BLE001
        report("praisonai team end")


def start_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        begun = _begin(handler, instance)
        if begun is None:
            return wrapped(*args, **kwargs)
        inv, ctx = begun
        result = call_in(ctx, lambda exc: _end(handler, inv, instance, exc), wrapped, args,
                         kwargs)
        _end(handler, inv, instance)
        return result

    return wrapper


def astart_wrapper(handler: TelemetryHandler):
    async def wrapper(wrapped, instance, args, kwargs):
        begun = _begin(handler, instance)
        if begun is None:
            return await wrapped(*args, **kwargs)
        inv, ctx = begun
        result = await acall_in(ctx, lambda exc: _end(handler, inv, instance, exc), wrapped,
                                args, kwargs)
        _end(handler, inv, instance)
        return result

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def teams(module: ModuleType) -> None:
        patcher.wrap(module, "AgentTeam.start", start_wrapper(handler))
        patcher.wrap(module, "AgentTeam.astart", astart_wrapper(handler))

    patcher.on_import("praisonaiagents.agents.agents", teams)
