"""Production signals derived from agent and tool calls the adapters report.

Overlapping invocations of one instance, loops of identical tool calls,
empty answers and cascades in workflows (a member running on a failed
member's output) become attributes, links, events and metrics here, so every runtime
gets them from the calls its adapter already makes. All of it is skipped
when `OTEL_INSTRUMENTATION_AGENTS_SIGNALS=false`; the span work is skipped
when the span is not recorded.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.metrics import Meter
from opentelemetry.trace import SpanKind

from .. import _signals
from .. import attributes as A
from .._context import get_current as _get_current
from .._context import set_value as _set_value
from .._context import suppressed as _suppressed
from .._invocations import FRAME_KEY, AgentInvocation, current_frame
from .._run import add_run_attributes
from .._safety import report
from ._base import HandlerBase

# Module globals, one lookup each on every invocation's path.
_enter, _leave, _tool_digest = _signals.enter, _signals.leave, _signals.tool_digest
_is_empty, _NO_ANSWER = _signals.is_empty, _signals.NO_ANSWER

_COUNTED = 1
_METERED = 2


class SignalOperations(HandlerBase):
    """Overlap, loops and empty answers on agent invocations."""

    NO_ANSWER = _signals.NO_ANSWER
    """`finish_agent(answer=...)` when the adapter cannot say what the agent
    answered (a paused reply, a stream whose text is not gathered)."""

    def _create_instruments(self, meter: Meter) -> None:
        super()._create_instruments(meter)
        self._active = meter.create_up_down_counter(
            A.METRIC_INVOCATIONS_ACTIVE, unit="{invocation}",
            description="Agent invocations in flight")
        self._loops = meter.create_counter(
            A.METRIC_LOOPS, unit="{loop}",
            description="Loops of identical tool calls detected in agent invocations")

    def _metric_attrs(self, frame: AgentInvocation) -> dict[str, Any]:
        attrs: dict[str, Any] = {A.RUNTIME: self.runtime}
        name = frame.attributes.get(A.AGENT_NAME)
        if name:
            attrs[A.AGENT_NAME] = name
        return attrs

    def _signals_start(self, frame: AgentInvocation) -> None:
        _enter(frame)
        frame.signal_state = _COUNTED
        if self.metering:
            # A broken meter must not cost the span this start is opening.
            try:
                self._active.add(1, self._metric_attrs(frame), frame.context)
                frame.signal_state = _METERED
            except Exception:  # noqa: BLE001
                report("counting agent invocations in flight")

    def _signals_finish(self, frame: AgentInvocation, attrs: dict[str, Any] | None,
                        answer: Any, error: BaseException | None) -> None:
        """Leave the in-flight count; `attrs` (None: the span is not recorded)
        gets the invocation's signal attributes."""
        state, frame.signal_state = frame.signal_state, 0
        if state:
            _leave(frame)
        if state == _METERED:
            try:
                self._active.add(-1, self._metric_attrs(frame), frame.context)
            except Exception:  # noqa: BLE001
                report("counting agent invocations in flight")
        if attrs is None:
            return
        if frame.overlap:
            attrs[A.AGENT_CONCURRENT_INVOCATIONS] = frame.overlap
        if frame.loop_detected:
            attrs[A.LOOP_DETECTED] = True
        if error is None and answer is not _NO_ANSWER and _is_empty(answer):
            attrs[A.AGENT_EMPTY_OUTPUT] = True

    def _watch_loop(self, frame: AgentInvocation, name: Any, arguments: Any) -> None:
        """Count one tool call of `frame`; at the threshold, flag the loop once."""
        counts = frame.tool_calls
        if counts is None:
            counts = frame.tool_calls = {}
        digest = _tool_digest(name, arguments)
        count = counts.get(digest, 0) + 1
        counts[digest] = count
        if count != self.loop_threshold:
            return
        frame.loop_detected = True
        step = frame.step
        if step is not None and step.span.is_recording():
            step.span.add_event(A.LOOP_DETECTED, {A.TOOL_NAME: name or "",
                                                  A.LOOP_REPETITIONS: count})
        if self.metering:
            attrs: dict[str, Any] = {A.RUNTIME: self.runtime}
            agent_name = frame.attributes.get(A.AGENT_NAME)
            if agent_name:
                attrs[A.AGENT_NAME] = agent_name
            if name:
                attrs[A.TOOL_NAME] = name
            try:
                self._loops.add(1, attrs, frame.context)
            except Exception:  # noqa: BLE001
                report("counting loops")

    def _start_member(self, members: _signals.Members, owner: Any, span_name: str,
                      parent_ctx: Any, attrs: dict[str, Any]) -> tuple[Any, Any]:
        """The `invoke_agent` span of an agent started in a workflow's context,
        and the workflow's `Members` when it is a direct member (not an agent
        nested in one): then it links to the members whose output it runs on,
        given at start, where samplers see links."""
        if members.outer is not parent_ctx.get(FRAME_KEY):
            members = None
        links = members.started(owner) if members is not None else None
        add_run_attributes(attrs, parent_ctx)
        span = self._tracer.start_span(span_name, context=parent_ctx, kind=SpanKind.INTERNAL,
                                       attributes=attrs, links=links)
        return members, span

    def handoff_context(self) -> Any:
        """A context for handing the conversation over from the agent invocation
        current now to another agent (a handoff): the agent invoked in it runs
        on this one's output, and its `invoke_agent` links to this one's
        (`input_from`). None when there is nothing to link (signals off, no
        invocation current, suppressed)."""
        try:
            if not (self.enabled and self.signals):
                return None
            ctx = _get_current()
            frame = current_frame(ctx)
            if frame is None or _suppressed(ctx):
                return None
            members = _signals.Members(ctx.get(FRAME_KEY), False)
            members.finished(frame.owner, frame.span.get_span_context(),
                             frame.attributes.get(A.AGENT_NAME), False)
            return _set_value(_signals.WORKFLOW_KEY, members, ctx)
        except Exception:  # noqa: BLE001
            report("handoff_context")
            return None

    @staticmethod
    def _member_finished(frame: AgentInvocation, error: BaseException | None,
                         error_type: str | None, answer: Any) -> None:
        """A workflow member ended: what it hands on, and whether it failed."""
        bad = (error is not None or error_type is not None
               or (answer is not _signals.NO_ANSWER and _signals.is_empty(answer)))
        frame.workflow.finished(frame.owner, frame.span.get_span_context(),
                                frame.attributes.get(A.AGENT_NAME), bad)
