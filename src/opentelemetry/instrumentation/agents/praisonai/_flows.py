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

Step guardrails (`Task(guardrail=...)` as a step) are called inline, by
the run loop and by `_apply_step_policies` (steps inside patterns), on the
step `AgentFlow._normalize_single_step` returned for this execution. For a
guarded step that method returns, through us, a proxy of the step: every
attribute read and write goes to the step itself, except the guardrail,
which is the user's function wrapped in a `guardrail` check span
(`agents.guardrail.target=step`, attempt 1, 2, ... within this execution).
The step object itself is never changed, so parallel branches running one
step share nothing of ours.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import wrapt

from .. import attributes as A
from .._handler import TelemetryHandler
from .._patching import Patcher
from .._safety import report
from ._guardrails import _guardrail_name, guardrail_failed
from ._teams import _members
from ._wrapping import call_in, fail_with


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
        result = call_in(inv.context, fail_with(handler.finish_workflow, inv), wrapped, args,
                         kwargs)
        handler.finish_workflow(inv, error_type=_failed(result))
        return result

    return wrapper


class _GuardedStep(wrapt.ObjectProxy):
    """The step as `_apply_step_policies` sees it: its guardrail traced."""

    def __init__(self, step: Any, check: Any) -> None:
        super().__init__(step)
        self._self_check = check

    @property
    def guardrails(self) -> Any:
        return self._self_check

    @guardrails.setter
    def guardrails(self, value: Any) -> None:
        # A write is the step's own business: it goes to the step.
        self.__wrapped__.guardrails = value

    @property
    def guardrail(self) -> Any:
        return self._self_check

    @guardrail.setter
    def guardrail(self, value: Any) -> None:
        self.__wrapped__.guardrail = value


def _traced_check(handler: TelemetryHandler, step: Any, guardrail: Any) -> Any:
    name = _guardrail_name(guardrail)
    agent = getattr(getattr(step, "agent", None), "name", None)
    attempts = [0]

    def check(*args: Any, **kwargs: Any) -> Any:
        attempts[0] += 1
        inv = handler.start_guardrail(name, target="step", attempt=attempts[0],
                                      agent_name=agent)
        if inv is None:
            return guardrail(*args, **kwargs)
        verdict = call_in(inv.context, guardrail_failed(handler, inv), guardrail, args, kwargs)
        try:
            # PraisonAI unpacks `(is_valid, feedback)`.
            passed = feedback = None
            if isinstance(verdict, tuple) and len(verdict) == 2:
                passed, feedback = bool(verdict[0]), verdict[1]
            handler.finish_guardrail(inv, passed=passed, feedback=feedback)
        except Exception:  # noqa: BLE001
            report("praisonai step guardrail end")
        return verdict

    return check


def normalize_wrapper(handler: TelemetryHandler):
    """`AgentFlow._normalize_single_step(step, index)` -> the Task to execute."""
    def wrapper(wrapped, instance, args, kwargs):
        step = wrapped(*args, **kwargs)
        if not handler.enabled or isinstance(step, _GuardedStep):
            return step
        try:
            guardrail = getattr(step, "guardrails", None) or getattr(step, "guardrail", None)
            if guardrail is not None and callable(guardrail):
                return _GuardedStep(step, _traced_check(handler, step, guardrail))
        except Exception:  # noqa: BLE001
            report("praisonai step guardrail start")
        return step

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def flows(module: ModuleType) -> None:
        patcher.wrap(module, "AgentFlow.run", run_wrapper(handler))
        patcher.wrap(module, "AgentFlow._normalize_single_step", normalize_wrapper(handler))

    patcher.on_import("praisonaiagents.workflows.workflows", flows)
