"""`invoke_agent` spans and the `react step` rounds inside them."""

from __future__ import annotations

from time import perf_counter
from typing import Any
from weakref import ref as _ref

from opentelemetry.metrics import Meter
from opentelemetry.trace import SpanKind

from .. import _signals
from .. import attributes as A
from .._completion import complete
from .._context import context_with as _context_with
from .._context import get_current as _get_current
from .._context import set_span_in_context as _set_span_in_context
from .._context import suppressed as _suppressed
from .._invocations import (
    FRAME_KEY,
    AgentInvocation,
    StepInvocation,
    current_frame,
)
from .._safety import is_cancellation as _is_cancellation
from .._safety import report
from .._signals import WORKFLOW_KEY
from .._values import as_int as _as_int
from .._values import clean as _clean
from ._base import DURATION_BUCKETS, INVOKE_AGENT_BUCKETS
from .signals import SignalOperations

_note_returned = _signals.note_returned
# What every round's span starts with, one global lookup each.
_STEP_NAME, _INTERNAL, _OPERATION_NAME, _OP_REACT, _REACT_ROUND = (
    A.STEP_SPAN_NAME, SpanKind.INTERNAL, A.OPERATION_NAME, A.OP_REACT, A.REACT_ROUND)

# The keys of start_agent's ids and names, in the order it takes them.
_NAME_KEYS = (A.AGENT_ID, A.CONVERSATION_ID, A.AGENT_DESCRIPTION, A.PROVIDER_NAME,
              A.REQUEST_MODEL)


class AgentOperations(SignalOperations):
    """Agent invocations and their rounds."""

    def _create_instruments(self, meter: Meter) -> None:
        super()._create_instruments(meter)
        self._agent_duration = meter.create_histogram(
            A.METRIC_AGENT_DURATION, unit="s",
            description="Duration of agent invocations",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))
        self._invoke_agent_duration = meter.create_histogram(
            A.METRIC_INVOKE_AGENT_DURATION, unit="s",
            description="Measures the duration of an agent invocation.",
            explicit_bucket_boundaries_advisory=list(INVOKE_AGENT_BUCKETS))

    # -- agent -----------------------------------------------------------
    def start_agent(self, owner: Any, name: str | None, *, agent_id: str | None = None,
                    conversation_id: str | None = None, description: str | None = None,
                    version: str | None = None, provider: str | None = None,
                    request_model: str | None = None,
                    max_iterations: int | None = None,
                    input_value: Any = None) -> AgentInvocation | None:
        """Open an `invoke_agent` span and push its frame; None when suppressed."""
        try:
            if not self.enabled:
                return None
            parent_ctx = _get_current()
            if _suppressed(parent_ctx):
                return None
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_INVOKE_AGENT,
                                     A.RUNTIME: self.runtime}
            name = _clean(name)
            if name:
                attrs[A.AGENT_NAME] = name
            # Ids and names may come from a model or a user: bounded, valid UTF-8.
            for key, value in zip(_NAME_KEYS, (agent_id, conversation_id, description,
                                               provider, request_model), strict=True):
                if value:
                    value = _clean(value)
                    if value:
                        attrs[key] = value
            if version:
                version = _clean(version)
                if version:
                    attrs[A.AGENT_VERSION] = version
            max_iterations = _as_int(max_iterations)
            if max_iterations is not None:
                attrs[A.AGENT_MAX_ITERATIONS] = max_iterations
            span_name = f"invoke_agent {name}" if name else "invoke_agent"
            members = parent_ctx.get(WORKFLOW_KEY)
            if members is None:
                span = self._start(span_name, SpanKind.INTERNAL, parent_ctx, attrs)
            else:  # inside a workflow: a member links to those it runs on
                members, span = self._start_member(members, owner, span_name, parent_ctx,
                                                   attrs)
            if self.span_content:  # hot path: no call while content is off
                self._add_content(span, "agent", A.INPUT_MESSAGES, input_value)
            frame = AgentInvocation(owner, span, parent_ctx, perf_counter(),
                                    current_frame(parent_ctx), attrs)
            if self.completion_hook is not None:
                frame.completion = input_value
            frame.context = _context_with(parent_ctx, span, FRAME_KEY, _ref(frame))
            frame.workflow = members
            if self.signals:
                self._signals_start(frame)
            return frame
        except Exception:  # noqa: BLE001
            report("start_agent")
            return None

    @staticmethod
    def agent_event(frame: AgentInvocation) -> None:
        """A streamed invocation gave an event; the first one's time is kept."""
        if frame.first_event_at is None:
            frame.first_event_at = perf_counter()

    def finish_agent(self, frame: AgentInvocation, *, error: BaseException | None = None,
                     error_type: str | None = None, output_value: Any = None,
                     stream_closed_early: bool = False, reply_id: str | None = None,
                     answer: Any = _signals.NO_ANSWER) -> None:
        """End the invocation; `reply_id` is the runtime's id of the logical reply;
        `answer`: what the runtime returned, when the adapter has it (given
        whether or not content is captured: it says whether it was empty)."""
        try:
            if frame.ended:
                return
            if frame.step is not None:
                self.finish_step(frame, error=error)
            span = frame.span
            if span.is_recording():
                attrs = _agent_attributes(frame, stream_closed_early, reply_id)
                if frame.signal_state or self.signals:
                    self._signals_finish(frame, attrs, answer, error)
                if self.span_content and output_value is not None:
                    text = self._content("agent", A.OUTPUT_MESSAGES, output_value)
                    if text is not None:
                        attrs[A.OUTPUT_MESSAGES] = text
                # One call: the SDK takes its span lock once, not per key.
                span.set_attributes(attrs)
                if self.completion_hook is not None:
                    complete(self.completion_hook, span, "agent",
                             inputs=getattr(frame, "completion", None), outputs=output_value)
            elif frame.signal_state:
                self._signals_finish(frame, None, answer, error)
            self._end(frame, error, error_type)
            _note_returned(span.get_span_context())
            if frame.workflow is not None:
                self._member_finished(frame, error, error_type, answer)
            if self.metering:
                self._record_agent_metrics(frame, error, error_type)
        except Exception:  # noqa: BLE001
            report("finish_agent")

    def _record_agent_metrics(self, frame: AgentInvocation, error: BaseException | None,
                              error_type: str | None) -> None:
        metric_attrs = self._duration_attributes(
            {A.OPERATION_NAME: A.OP_INVOKE_AGENT, A.RUNTIME: self.runtime}, frame.attributes,
            A.AGENT_NAME, error, error_type)
        duration = perf_counter() - frame.start
        self._agent_duration.record(duration, metric_attrs, frame.context)
        # The current conventions' metric and attributes (util-genai 1.3b0's).
        current = {k: metric_attrs[k] for k in (A.AGENT_NAME, A.ERROR_TYPE)
                   if k in metric_attrs}
        if A.REQUEST_MODEL in frame.attributes:
            current[A.REQUEST_MODEL] = frame.attributes[A.REQUEST_MODEL]
        self._invoke_agent_duration.record(duration, current, frame.context)

    # -- rounds ----------------------------------------------------------
    def start_step(self, frame: AgentInvocation) -> StepInvocation | None:
        """End the frame's open round, if any, and open the next one."""
        try:
            if frame.ended:
                return None
            if frame.step is not None:
                self.finish_step(frame)
            rounds = frame.rounds = frame.rounds + 1
            context = frame.context
            span = self._start(_STEP_NAME, _INTERNAL, context,
                               {_OPERATION_NAME: _OP_REACT, _REACT_ROUND: rounds})
            step = StepInvocation(span, _set_span_in_context(span, context), perf_counter(),
                                  rounds)
            frame.step = step
            return step
        except Exception:  # noqa: BLE001
            report("start_step")
            return None

    def finish_step(self, frame: AgentInvocation, *, error: BaseException | None = None,
                    finish_reason: str | None = None) -> None:
        try:
            step = frame.step
            if step is None:
                return
            frame.step = None
            # Reasons may come from the runtime (bounded, valid UTF-8).
            reason = _clean(finish_reason or step.finish_reason)
            if reason is None and error is not None:
                reason = A.FINISH_CANCELLED if _is_cancellation(error) else A.FINISH_ERROR
            if reason and step.span.is_recording():
                step.span.set_attribute(A.REACT_FINISH_REASON, reason)
            self._end(step, error, None)
        except Exception:  # noqa: BLE001
            report("finish_step")


def _agent_attributes(frame: AgentInvocation, stream_closed_early: bool, reply_id: Any
                      ) -> dict[str, Any]:
    """What the invocation's frame gathered, as the agent span's attributes."""
    attrs: dict[str, Any] = {
        A.AGENT_ROUNDS: frame.rounds,
        A.AGENT_MAX_ITERATIONS_REACHED: frame.max_iterations_reached}
    if frame.input_tokens or frame.output_tokens:
        attrs[A.USAGE_INPUT_TOKENS] = frame.input_tokens
        attrs[A.USAGE_OUTPUT_TOKENS] = frame.output_tokens
    if frame.usage_details is not None:
        attrs.update(frame.usage_details)
    if frame.first_event_at is not None:
        attrs[A.AGENT_TIME_TO_FIRST_EVENT] = frame.first_event_at - frame.start
    finish_reason = _clean(frame.finish_reason)
    if finish_reason:
        attrs[A.AGENT_FINISH_REASON] = finish_reason
    if stream_closed_early:
        attrs[A.STREAM_CLOSED_EARLY] = True
    if reply_id:
        # A runtime's generated id: checked cheaply, not cached as names are.
        if not (type(reply_id) is str and len(reply_id) <= 256
                and reply_id.isascii()):
            reply_id = _clean(reply_id)
        if reply_id:
            attrs[A.REPLY_ID] = reply_id
    if frame.extra:
        # Keys starting with "_" are an adapter's working notes.
        attrs.update((k, v) for k, v in frame.extra.items() if k[0] != "_")
    return attrs
