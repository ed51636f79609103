"""`invoke_workflow` spans: multi-agent teams and pipelines."""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter
from typing import Any

from opentelemetry.trace import SpanKind

from .. import attributes as A
from .._invocations import WorkflowInvocation
from .._safety import report
from ._base import (
    HandlerBase,
    _clean,
    _set_span_in_context,
)


class WorkflowOperations(HandlerBase):
    """Multi-agent workflows and teams."""


    # -- multi-agent workflows ---------------------------------------------
    def start_workflow(self, name: str | None, *,
                       extra: Mapping[str, Any] | None = None) -> WorkflowInvocation | None:
        try:
            parent = self.current_parent()
            if parent is None:
                return None
            name = _clean(name)
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_INVOKE_WORKFLOW,
                                     A.RUNTIME: self.runtime}
            if name:
                attrs[A.WORKFLOW_NAME] = name
            if extra:
                attrs.update(extra)
            span = self._start(f"invoke_workflow {name}" if name else "invoke_workflow",
                               SpanKind.INTERNAL, parent, attrs)
            return WorkflowInvocation(span, _set_span_in_context(span, parent), perf_counter(),
                                      attrs)
        except Exception:  # noqa: BLE001
            report("start_workflow")
            return None

    def finish_workflow(self, inv: WorkflowInvocation, *, error: BaseException | None = None,
                        error_type: str | None = None) -> None:
        try:
            self._end(inv, error, error_type)
        except Exception:  # noqa: BLE001
            report("finish_workflow")
