"""Guardrail checks: `guardrail=` on an `Agent` or on a `Task`.

- `Agent._process_guardrail(task_output)`: one check of the agent's answer,
  made by `_apply_guardrail_with_retry` (sync, and async through an executor
  thread with the context copied) inside the agent span; the check span is
  a child of the agent span. A rejected answer is handed back to the model
  (`Agent._record_guardrail_retry` counts it, so do we, on the agent span as
  `agents.guardrail.retries`) and the new answer is a further `react step`;
  the next check says `agents.guardrail.attempt=2`, and so on. When the
  retries run out (or the retry's model call fails) PraisonAI answers a
  fixed refusal instead of the rejected text and marks its run failed: the
  agent span is ERROR `guardrail_blocked`.
- `Task._process_guardrail(task_output)`: a team (`AgentTeam`) checks a
  task's output after its agent answered; the check span sits under the
  workflow span, after that agent's span. A rejection makes the team run
  the task again: another `invoke_agent` span, then a check with the next
  attempt number (PraisonAI's own `task.retry_count` + 1).

PraisonAI catches an exception a guardrail raises and reports it as a
rejection; the check span says `passed=false` like any rejection, with
PraisonAI's message as the feedback under content capture.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from .._handler import TelemetryHandler
from .._invocations import current_frame
from .._patching import Patcher
from .._safety import report
from ._wrapping import call_in

# Working notes on the agent frame: checks made so far in this invocation,
# and whether the last one rejected (read by `_agents.end`).
_CHECKS = "_praisonai.guardrail_checks"
REJECTED = "_praisonai.guardrail_rejected"


def _guardrail_name(fn: Any) -> str | None:
    if fn is None:
        return None
    for attr in ("name", "__name__"):
        value = getattr(fn, attr, None)
        if isinstance(value, str) and value and value != "<lambda>":
            return value
    return type(fn).__name__


def _own_frame(agent: Any) -> Any:
    frame = current_frame()
    return frame if frame is not None and frame.owner is agent and not frame.ended else None


def _agent_attempt(agent: Any) -> int | None:
    frame = _own_frame(agent)
    if frame is None:
        return None
    extra = frame.extra if frame.extra is not None else {}
    checks = int(extra.get(_CHECKS, 0)) + 1
    extra[_CHECKS] = checks
    frame.extra = extra
    return checks


def guardrail_failed(handler: TelemetryHandler, inv: Any) -> Callable[[BaseException], object]:
    """The `on_error` of a check: a guardrail that raised gave no verdict."""
    return lambda exc: handler.finish_guardrail(inv, passed=None, error=exc)


def _agent_name(agent: Any) -> Any:
    return getattr(agent, "name", None)


def _task_attempt(task: Any) -> int | None:
    # PraisonAI's own count of the task's retries so far.
    retries = getattr(task, "retry_count", None)
    return retries + 1 if isinstance(retries, int) else None


def _task_agent_name(task: Any) -> Any:
    return _agent_name(getattr(task, "agent", None))


def _start(handler: TelemetryHandler, owner: Any, target: str,
           attempt: Callable[[Any], int | None], agent_name: Callable[[Any], Any]) -> Any:
    """The check span of `owner`'s (an agent's or a task's) guardrail, if it has one."""
    if not handler.enabled:
        return None
    try:
        fn = getattr(owner, "_guardrail_fn", None)
        if fn is not None:
            return handler.start_guardrail(_guardrail_name(fn), target=target,
                                           attempt=attempt(owner), agent_name=agent_name(owner))
    except Exception:  # noqa: BLE001
        report(f"praisonai {target} guardrail start")
    return None


def _run(handler: TelemetryHandler, inv: Any, wrapped: Any, args: Any, kwargs: Any) -> Any:
    result = call_in(inv.context, guardrail_failed(handler, inv), wrapped, args, kwargs)
    try:
        passed = getattr(result, "success", None)
        handler.finish_guardrail(inv, passed=passed if isinstance(passed, bool) else None,
                                 feedback=getattr(result, "error", None))
    except Exception:  # noqa: BLE001
        report("praisonai guardrail end")
    return result


def agent_check_wrapper(handler: TelemetryHandler):
    """`Agent._process_guardrail(task_output)` -> GuardrailResult."""
    def wrapper(wrapped, instance, args, kwargs):
        inv = _start(handler, instance, "agent", _agent_attempt, _agent_name)
        if inv is None:
            return wrapped(*args, **kwargs)
        result = _run(handler, inv, wrapped, args, kwargs)
        try:
            frame = _own_frame(instance)
            if frame is not None and frame.extra is not None:
                frame.extra[REJECTED] = getattr(result, "success", None) is False
        except Exception:  # noqa: BLE001
            report("praisonai agent guardrail note")
        return result

    return wrapper


def task_check_wrapper(handler: TelemetryHandler):
    """`Task._process_guardrail(task_output)` -> GuardrailResult."""
    def wrapper(wrapped, instance, args, kwargs):
        inv = _start(handler, instance, "task", _task_attempt, _task_agent_name)
        if inv is None:
            return wrapped(*args, **kwargs)
        return _run(handler, inv, wrapped, args, kwargs)

    return wrapper


def retry_wrapper(handler: TelemetryHandler):
    """`Agent._record_guardrail_retry(*, attempt, error, delay)`: one more retry."""
    def wrapper(wrapped, instance, args, kwargs):
        result = wrapped(*args, **kwargs)
        if handler.enabled:
            try:
                frame = _own_frame(instance)
                if frame is not None:
                    handler.note_guardrail_retry(frame)
            except Exception:  # noqa: BLE001
                report("praisonai guardrail retry")
        return result

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def agent_guardrails(module: ModuleType) -> None:
        patcher.wrap(module, "Agent._process_guardrail", agent_check_wrapper(handler))
        patcher.wrap(module, "Agent._record_guardrail_retry", retry_wrapper(handler))

    def task_guardrails(module: ModuleType) -> None:
        patcher.wrap(module, "Task._process_guardrail", task_check_wrapper(handler))

    patcher.on_import("praisonaiagents.agent.agent", agent_guardrails)
    patcher.on_import("praisonaiagents.task.task", task_guardrails)
