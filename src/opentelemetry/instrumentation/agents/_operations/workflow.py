"""`invoke_workflow` spans: multi-agent teams and pipelines."""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter
from typing import Any

from opentelemetry.metrics import Meter
from opentelemetry.trace import SpanKind

from .. import attributes as A
from .._context import context_with as _context_with
from .._context import set_span_in_context as _set_span_in_context
from .._invocations import FRAME_KEY, WorkflowInvocation
from .._safety import error_type as _error_type
from .._safety import report
from .._signals import WORKFLOW_KEY, Members
from .._values import clean as _clean
from ._base import INVOKE_WORKFLOW_BUCKETS, HandlerBase


class WorkflowOperations(HandlerBase):
    """Multi-agent workflows and teams."""


    # -- multi-agent workflows ---------------------------------------------
    def start_workflow(self, name: str | None, *, extra: Mapping[str, Any] | None = None,
                       conversation_id: str | None = None,
                       parallel: bool = False) -> WorkflowInvocation | None:
        """Open an `invoke_workflow` span; the agents invoked in its context are
        its members. `parallel`: every member runs on the workflow's own input
        (a fan-out), so no member's input is another's output."""
        try:
            parent = self.current_parent()
            if parent is None:
                return None
            name = _clean(name)
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_INVOKE_WORKFLOW,
                                     A.RUNTIME: self.runtime}
            if name:
                attrs[A.WORKFLOW_NAME] = name
            conversation_id = _clean(conversation_id)
            if conversation_id:
                attrs[A.CONVERSATION_ID] = conversation_id
            if extra:
                attrs.update(extra)
            span = self._start(f"invoke_workflow {name}" if name else "invoke_workflow",
                               SpanKind.INTERNAL, parent, attrs)
            if not self.signals:
                return WorkflowInvocation(span, _set_span_in_context(span, parent),
                                          perf_counter(), attrs)
            # Cascades: the members' invocations find what was handed on in the context.
            members = Members(parent.get(FRAME_KEY), parallel)
            inv = WorkflowInvocation(span, _context_with(parent, span, WORKFLOW_KEY, members),
                                     perf_counter(), attrs)
            inv.members = members
            return inv
        except Exception:  # noqa: BLE001
            report("start_workflow")
            return None

    def _create_instruments(self, meter: Meter) -> None:
        super()._create_instruments(meter)
        self._invoke_workflow_duration = meter.create_histogram(
            A.METRIC_INVOKE_WORKFLOW_DURATION, unit="s",
            description="Measures the duration of a workflow execution.",
            explicit_bucket_boundaries_advisory=list(INVOKE_WORKFLOW_BUCKETS))

    def finish_workflow(self, inv: WorkflowInvocation, *, error: BaseException | None = None,
                        error_type: str | None = None) -> None:
        try:
            if inv.members is not None and not inv.ended:
                self._cascade_attributes(inv)
            self._end(inv, error, error_type)
            if self.metering:
                # The current conventions' metric and attributes (util-genai 1.3b0's).
                attrs = {}
                if A.WORKFLOW_NAME in inv.attributes:
                    attrs[A.WORKFLOW_NAME] = inv.attributes[A.WORKFLOW_NAME]
                if error is not None or error_type is not None:
                    attrs[A.ERROR_TYPE] = error_type or _error_type(error)
                self._invoke_workflow_duration.record(perf_counter() - inv.start, attrs,
                                                      inv.context)
        except Exception:  # noqa: BLE001
            report("finish_workflow")

    @staticmethod
    def _cascade_attributes(inv: WorkflowInvocation) -> None:
        """Which members failed, and whether one ran on a failed one's output."""
        members = inv.members
        span = inv.span
        if not span.is_recording():
            return
        with members.lock:
            failed, degraded = list(members.failed), members.degraded
        attrs: dict[str, Any] = {}
        if failed:
            attrs[A.WORKFLOW_FAILED_MEMBERS] = failed
        if degraded:
            attrs[A.WORKFLOW_DEGRADED] = True
        if attrs:
            span.set_attributes(attrs)
