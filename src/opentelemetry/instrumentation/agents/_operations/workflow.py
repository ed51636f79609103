"""`invoke_workflow` spans: multi-agent teams and pipelines."""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter
from typing import Any

from opentelemetry.metrics import Meter
from opentelemetry.trace import SpanKind

from .. import attributes as A
from .._context import set_span_in_context as _set_span_in_context
from .._invocations import WorkflowInvocation
from .._safety import error_type as _error_type
from .._safety import report
from .._values import clean as _clean
from ._base import INVOKE_WORKFLOW_BUCKETS, HandlerBase


class WorkflowOperations(HandlerBase):
    """Multi-agent workflows and teams."""


    # -- multi-agent workflows ---------------------------------------------
    def start_workflow(self, name: str | None, *,
                       extra: Mapping[str, Any] | None = None,
                       conversation_id: str | None = None) -> WorkflowInvocation | None:
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
            return WorkflowInvocation(span, _set_span_in_context(span, parent), perf_counter(),
                                      attrs)
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
