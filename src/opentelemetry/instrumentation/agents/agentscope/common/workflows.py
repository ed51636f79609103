"""Workflow spans around AgentScope pipelines; shared by both lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ... import attributes as A
from ..._context import attach as _attach
from ..._context import detach as _detach
from ..._handler import TelemetryHandler
from ..._safety import report
from ..._streams import EndingObserver, trace_async_stream


def start(handler: TelemetryHandler, name: Any, kind: str, members: Iterable[Any], *,
          parallel: bool = False) -> Any:
    """Open the `invoke_workflow` span of one pipeline run (None: not tracing);
    `parallel`: every member gets the pipeline's own input (a fan-out)."""
    try:
        names = [str(getattr(agent, "name", "") or "") for agent in members]
        return handler.start_workflow(name, extra={A.WORKFLOW_TYPE: kind,
                                                   A.WORKFLOW_MEMBERS: names},
                                      parallel=parallel)
    except Exception:  # noqa: BLE001
        report("agentscope workflow start")
        return None


def streamed(handler: TelemetryHandler, source: Any, begin: Any) -> Any:
    """`source` (an async generator) traced as one workflow run.

    The workflow's context is current while the pipeline runs each step, so
    the agents it drives, and the tasks it starts for them, nest under it.
    """
    def observer() -> EndingObserver | None:
        inv = begin()
        return EndingObserver(handler.finish_workflow, inv) if inv is not None else None

    return trace_async_stream(source, observer, observe_items=False)


async def awaited(handler: TelemetryHandler, inv: Any, call: Any) -> Any:
    """Await `call` (a coroutine) as one workflow run."""
    token = _attach(inv.context)
    try:
        result = await call
    except BaseException as exc:
        _detach(token)
        handler.finish_workflow(inv, error=exc)
        raise
    _detach(token)
    handler.finish_workflow(inv)
    return result
