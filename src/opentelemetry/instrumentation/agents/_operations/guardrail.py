"""`guardrail {name}` spans: one per check of an output by a guardrail.

A check that rejects is the guardrail working, not an error: the span says
`agents.guardrail.passed=false` with status UNSET, and the runtime's retry
(a new model round, or the task run again) follows as spans of its own.
Which attempt a check judged is `agents.guardrail.attempt`; an agent span
counts the retries its guardrail asked for (`note_guardrail_retry`).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from opentelemetry.trace import NonRecordingSpan, SpanKind

from .. import attributes as A
from .._context import set_span_in_context as _set_span_in_context
from .._evaluation import emit_evaluation
from .._invocations import AgentInvocation, GuardrailInvocation
from .._safety import report
from .._values import as_int as _as_int
from .._values import clean as _clean
from ._base import HandlerBase


class GuardrailOperations(HandlerBase):
    """Guardrail checks of agent, task and workflow-step outputs."""

    def start_guardrail(self, name: str | None, *, target: str | None = None,
                        attempt: int | None = None,
                        agent_name: str | None = None) -> GuardrailInvocation | None:
        """Open a check's span where the check runs; None when not tracing.

        The parent is the current context as it is (the agent span, the
        workflow span), not the agent's open round: a check judges the
        invocation's answer, and a model call the guardrail makes (an LLM
        guardrail) nests under the check.
        """
        try:
            parent = self.current_parent()
            if parent is None:
                return None
            name = _clean(name)
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_GUARDRAIL}
            if name:
                attrs[A.GUARDRAIL_NAME] = name
            if target:
                attrs[A.GUARDRAIL_TARGET] = target
            agent_name = _clean(agent_name)
            if agent_name:
                attrs[A.AGENT_NAME] = agent_name
            attempt = _as_int(attempt)
            if attempt is not None:
                attrs[A.GUARDRAIL_ATTEMPT] = attempt
            span = self._start(f"{A.OP_GUARDRAIL} {name}" if name else A.OP_GUARDRAIL,
                               SpanKind.INTERNAL, parent, attrs)
            return GuardrailInvocation(span, _set_span_in_context(span, parent),
                                       perf_counter(), attrs)
        except Exception:  # noqa: BLE001
            report("start_guardrail")
            return None

    def finish_guardrail(self, inv: GuardrailInvocation, *, passed: bool | None,
                         feedback: Any = None, error: BaseException | None = None,
                         error_type: str | None = None) -> None:
        """End a check; `feedback` (the rejection reason) only under content capture."""
        try:
            if inv.ended:
                return
            span = inv.span
            if span.is_recording():
                if passed is not None:
                    span.set_attribute(A.GUARDRAIL_PASSED, bool(passed))
                if not passed:
                    self._add_content(span, "guardrail", A.GUARDRAIL_FEEDBACK, feedback)
            self._end(inv, error, error_type)
            if passed is not None and self.signals:
                self._emit_verdict(inv, bool(passed), feedback)
        except Exception:  # noqa: BLE001
            report("finish_guardrail")

    def _emit_verdict(self, inv: GuardrailInvocation, passed: bool, feedback: Any) -> None:
        """The verdict as a `gen_ai.evaluation.result` event on the span the check
        judged (the check span's parent: the agent or workflow span)."""
        parent = getattr(inv.span, "parent", None)  # an SDK span's parent SpanContext
        span = NonRecordingSpan(parent) if parent is not None else inv.span
        emit_evaluation(_set_span_in_context(span), inv.attributes.get(A.GUARDRAIL_NAME)
                        or A.OP_GUARDRAIL, label=A.EVALUATION_PASS if passed
                        else A.EVALUATION_FAIL, explanation=None if passed else feedback,
                        logger_provider=self._logger_provider)

    def note_guardrail_retry(self, frame: AgentInvocation) -> None:
        """`frame`'s guardrail rejected an answer and the model is asked again."""
        try:
            self._count_on(frame, A.GUARDRAIL_RETRIES)
        except Exception:  # noqa: BLE001
            report("note_guardrail_retry")
