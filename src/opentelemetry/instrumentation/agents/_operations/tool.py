"""`execute_tool` spans: one per tool call."""

from __future__ import annotations

from time import perf_counter
from typing import Any
from weakref import ref as _ref

from opentelemetry.metrics import Meter
from opentelemetry.trace import SpanKind

from .. import attributes as A
from .._content import truncate
from .._context import context_with as _context_with
from .._context import get_current_span as _get_current_span
from .._invocations import (
    TOOL_KEY,
    ToolInvocation,
)
from .._safety import report
from .._values import clean as _clean
from ._base import DURATION_BUCKETS
from .signals import SignalOperations


class ToolOperations(SignalOperations):
    """Tool calls."""

    def _create_instruments(self, meter: Meter) -> None:
        super()._create_instruments(meter)
        self._tool_duration = meter.create_histogram(
            A.METRIC_TOOL_DURATION, unit="s",
            description="Duration of tool calls",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))
        self._execute_tool_duration = meter.create_histogram(
            A.METRIC_EXECUTE_TOOL_DURATION, unit="s",
            description="Measures the duration of a tool execution.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))

    # -- tool calls ------------------------------------------------------
    def start_tool(self, name: str | None, *, call_id: str | None = None,
                   tool_type: str | None = "function", description: str | None = None,
                   arguments: Any = None) -> ToolInvocation | None:
        """Open a tool call's span; `arguments` (always given, content or not)
        go on the span only under content capture, and into the in-memory loop
        digest while signals are on."""
        try:
            if not self.enabled:
                return None
            parent, frame = self.child_parent()
            if parent is None:
                return None
            if frame is not None and frame.step is None and not frame.ended \
                    and _get_current_span(parent) is frame.span:
                # A tool run without a model call first (say, resuming after a
                # user confirmation) still belongs to a round of its own.
                self.start_step(frame)
                parent, frame = self.child_parent()
            name = _clean(name)
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_EXECUTE_TOOL}
            if name:
                attrs[A.TOOL_NAME] = name
            if frame is not None:
                conversation = frame.attributes.get(A.CONVERSATION_ID)
                if conversation:
                    attrs[A.CONVERSATION_ID] = conversation
                # The agent that runs the tool, as the current conventions give it.
                agent_name = frame.attributes.get(A.AGENT_NAME)
                if agent_name:
                    attrs[A.AGENT_NAME] = agent_name
            call_id = _clean(call_id)
            if call_id:
                attrs[A.TOOL_CALL_ID] = call_id
            if tool_type:
                attrs[A.TOOL_TYPE] = tool_type
            if description and type(description) is str:
                attrs[A.TOOL_DESCRIPTION] = _text(description, self.content_limit)
            span = self._start(f"execute_tool {name}" if name else "execute_tool",
                               SpanKind.INTERNAL, parent, attrs)
            if self.span_content:  # hot path: no call while content is off
                self._add_content(span, "tool", A.TOOL_CALL_ARGUMENTS, arguments)
            inv = ToolInvocation(span, parent, perf_counter(), frame, attrs)
            inv.context = _context_with(parent, span, TOOL_KEY, _ref(inv))
            if self.signals and frame is not None and not frame.ended:
                # Adapters give `arguments` whether or not content is captured.
                self._watch_loop(frame, name, arguments)
            return inv
        except Exception:  # noqa: BLE001
            report("start_tool")
            return None

    def describe_tool(self, inv: ToolInvocation, description: Any) -> None:
        """Note the tool's description once the runtime has found the tool."""
        try:
            if not description or type(description) is not str or inv.ended \
                    or not inv.span.is_recording():
                return
            description = _text(description, self.content_limit)
            inv.attributes[A.TOOL_DESCRIPTION] = description
            inv.span.set_attribute(A.TOOL_DESCRIPTION, description)
        except Exception:  # noqa: BLE001
            report("describe_tool")

    def finish_tool(self, inv: ToolInvocation, *, result: Any = None,
                    error: BaseException | None = None, error_type: str | None = None) -> None:
        try:
            if inv.ended:
                return
            if error_type is None and error is None:
                error_type = inv.error_type
            if self.span_content:  # hot path: no call while content is off
                self._add_content(inv.span, "tool", A.TOOL_CALL_RESULT, result)
            self._end(inv, error, error_type)
            if self.metering:
                attrs = self._duration_attributes({A.OPERATION_NAME: A.OP_EXECUTE_TOOL},
                                                  inv.attributes, A.TOOL_NAME, error, error_type)
                duration = perf_counter() - inv.start
                self._tool_duration.record(duration, attrs, inv.context)
                # The current conventions' metric and attributes (util-genai 1.3b0's).
                current = {k: v for k, v in attrs.items() if k != A.OPERATION_NAME}
                for key in (A.TOOL_TYPE, A.AGENT_NAME):
                    if key in inv.attributes:
                        current[key] = inv.attributes[key]
                self._execute_tool_duration.record(duration, current, inv.context)
        except Exception:  # noqa: BLE001
            report("finish_tool")


def _text(value: str, limit: int) -> str:
    """A free text (a tool description) fit for an attribute: cut to `limit`, valid UTF-8."""
    if len(value) > limit:  # the common case, a description that fits: no call
        value = truncate(value, limit)
    if not value.isascii():
        # Lone surrogates cannot be exported as UTF-8.
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value
