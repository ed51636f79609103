"""Scheduled runs: one `invoke_workflow` span per run, one `attempt` child per try.

A run is the root of a trace of its own (a scheduler fires on its own clock,
not on behalf of whoever started it); the span current when it began, if
any, becomes a link. Why `invoke_workflow` and not an operation of ours: a
run with retries orchestrates agent invocations the way a team does, and
backends already group and render `invoke_workflow`; `agents.workflow.type`
says it is a schedule.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanKind

from .. import attributes as A
from .._context import get_current_span as _get_current_span
from .._context import set_span_in_context as _set_span_in_context
from .._invocations import ScheduleRun, WorkflowInvocation
from .._safety import error_type as _error_type
from .._safety import report
from .._values import clean as _clean
from ._base import HandlerBase


class ScheduleOperations(HandlerBase):
    """Scheduled runs of an agent, their attempts and backoffs."""

    def start_schedule_run(self, name: str | None, *, expression: str | None = None,
                           max_retries: int | None = None) -> ScheduleRun | None:
        try:
            caller = self.current_parent()
            if caller is None:
                return None
            name = _clean(name)
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_INVOKE_WORKFLOW,
                                     A.RUNTIME: self.runtime,
                                     A.WORKFLOW_TYPE: A.WORKFLOW_TYPE_SCHEDULE}
            if name:
                attrs[A.WORKFLOW_NAME] = name
            if _clean(expression):
                attrs[A.SCHEDULE_EXPRESSION] = _clean(expression)
            if type(max_retries) is int:
                attrs[A.SCHEDULE_MAX_RETRIES] = max_retries
            starter = _get_current_span(caller).get_span_context()
            links = [Link(starter)] if starter.is_valid else None
            # A root: a scheduled run is nobody's child.
            span = self._tracer.start_span(
                f"invoke_workflow {name}" if name else "invoke_workflow", context=Context(),
                kind=SpanKind.INTERNAL, attributes=attrs, links=links)
            return ScheduleRun(span, _set_span_in_context(span, Context()), perf_counter(),
                               attrs)
        except Exception:  # noqa: BLE001
            report("start_schedule_run")
            return None

    def start_attempt(self, run: ScheduleRun) -> WorkflowInvocation | None:
        """The run's next attempt (the one before it ends first, if still open)."""
        try:
            if run.ended:
                return None
            if run.attempt is not None:
                self.finish_attempt(run, run.attempt)
            run.attempts += 1
            run.backoff_pending = False
            run.pending_error = None
            attrs = {A.OPERATION_NAME: A.OP_ATTEMPT, A.RUNTIME: self.runtime,
                     A.SCHEDULE_ATTEMPT: run.attempts}
            span = self._start(f"attempt {run.attempts}", SpanKind.INTERNAL, run.context, attrs)
            run.attempt = WorkflowInvocation(span, _set_span_in_context(span, run.context),
                                             perf_counter(), attrs)
            return run.attempt
        except Exception:  # noqa: BLE001
            report("start_attempt")
            return None

    def finish_attempt(self, run: ScheduleRun, attempt: WorkflowInvocation, *,
                       error: BaseException | None = None,
                       error_type: str | None = None) -> None:
        try:
            if attempt.ended:
                return
            if run.attempt is attempt:
                run.attempt = None
            if error_type is None and error is not None:
                error_type = _error_type(error)
            self._end(attempt, error, error_type)
            if error_type is not None:
                run.last_error = error_type
        except Exception:  # noqa: BLE001
            report("finish_attempt")

    @staticmethod
    def attempt_failed(run: ScheduleRun, error: BaseException) -> None:
        """The attempt's call failed; it ends when the scheduler says what comes next."""
        run.pending_error = error

    def note_backoff(self, run: ScheduleRun, seconds: Any,
                     error: BaseException | None = None) -> None:
        """The scheduler will wait `seconds` before the next attempt: on the failed
        attempt (ended now, with `error` if still open) and as an event on the run."""
        try:
            if run.ended:
                return
            attempt = run.attempt
            value = float(seconds)
            error = error if error is not None else run.pending_error
            if attempt is not None:
                if attempt.span.is_recording():
                    attempt.span.set_attribute(A.RETRY_BACKOFF, value)
                self.finish_attempt(run, attempt, error=error,
                                    error_type=None if error is not None else "error")
            if run.span.is_recording():
                run.span.add_event(A.RETRY_BACKOFF, {A.RETRY_BACKOFF: value,
                                                     A.SCHEDULE_ATTEMPT: run.attempts})
            run.backoff_pending = True
        except Exception:  # noqa: BLE001
            report("note_backoff")

    def finish_schedule_run(self, run: ScheduleRun, outcome: str, *,
                            callback: str | None = None,
                            error: BaseException | None = None) -> None:
        try:
            if run.ended:
                return
            if run.attempt is not None:
                failed = outcome != "success"
                pending = run.pending_error if failed else None
                self.finish_attempt(run, run.attempt, error=pending,
                                    error_type="error" if failed and pending is None else None)
            if run.span.is_recording():
                attrs: dict[str, Any] = {A.SCHEDULE_ATTEMPTS: run.attempts}
                if outcome in A.SCHEDULE_OUTCOMES:
                    attrs[A.SCHEDULE_OUTCOME] = outcome
                if callback in ("on_success", "on_failure"):
                    attrs[A.SCHEDULE_CALLBACK] = callback
                run.span.set_attributes(attrs)
            error_type = None
            if error is None and outcome == "failure":
                error_type = run.last_error or "error"
            elif error is None and outcome == "cancelled":
                error_type = A.FINISH_CANCELLED
            self._end(run, error, error_type)
        except Exception:  # noqa: BLE001
            report("finish_schedule_run")
