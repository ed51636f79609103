"""PraisonAI's workflow API: `AgentFlow.run` (`Workflow` and `Pipeline` are aliases).

One `invoke_workflow` span per run. Everything a run does happens inside
`run` with our context current: agent steps call `Agent.chat`, so their
`invoke_agent` spans nest under it; `Parallel` branches run in a thread pool
through PraisonAI's `copy_context_to_callable`, which carries our context
into each branch; `Route`, `Loop`, `Repeat`, `If` and `Discussion` run their
steps inline; an `Include` (or a workflow used as a step) runs another
`AgentFlow.run`, a nested `invoke_workflow` span. `astart` / `arun` call
`run` in an executor thread with the context copied, so they need nothing
of their own. A plain function step makes no span.

A run PraisonAI reports as failed (a step that failed, `status: failed` in
the result it returns, no exception) ends ERROR with `step_failed`.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context

from .. import attributes as A
from .._handler import TelemetryHandler
from .._safety import report
from ._teams import _members

_attach = otel_context.attach
_detach = otel_context.detach


def _start(handler: TelemetryHandler, flow: Any) -> Any:
    if not handler.enabled:
        return None
    try:
        extra: dict[str, Any] = {A.WORKFLOW_TYPE: type(flow).__name__}
        collect = getattr(flow, "_collect_agents", None)
        if callable(collect):
            extra[A.WORKFLOW_MEMBERS] = _members(collect())
        process = getattr(flow, "process", None)
        if isinstance(process, str) and process:
            extra[A.WORKFLOW_PROCESS] = process
        return handler.start_workflow(getattr(flow, "name", None), extra=extra)
    except Exception:  # noqa: BLE001
        report("praisonai flow start")
        return None


def _failed(result: Any) -> str | None:
    try:
        if isinstance(result, dict) and result.get("status") == "failed":
            return "step_failed"
    except Exception:  # noqa: BLE001
        report("praisonai flow result")
    return None


def run_wrapper(handler: TelemetryHandler):
    """`AgentFlow.run(input, llm, verbose, stream)`."""
    def wrapper(wrapped, instance, args, kwargs):
        inv = _start(handler, instance)
        if inv is None:
            return wrapped(*args, **kwargs)
        token = _attach(inv.context)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            _detach(token)
            handler.finish_workflow(inv, error=exc)
            raise
        _detach(token)
        handler.finish_workflow(inv, error_type=_failed(result))
        return result

    return wrapper
