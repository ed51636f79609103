"""`chat` spans: one per model call, and the model-call metrics."""

from __future__ import annotations

from collections.abc import Iterable
from time import perf_counter
from typing import Any

from opentelemetry.metrics import Meter
from opentelemetry.trace import SpanKind

from .. import attributes as A
from .._invocations import ChatInvocation
from .._safety import error_type as _error_type
from .._safety import report
from ._base import (
    DURATION_BUCKETS,
    TOKEN_BUCKETS,
    HandlerBase,
    _as_int,
    _as_strings,
    _clean,
    _is_cancellation,
    _set_span_in_context,
)


class ChatOperations(HandlerBase):
    """Model calls."""

    def _create_instruments(self, meter: Meter) -> None:
        super()._create_instruments(meter)
        self._token_usage = meter.create_histogram(
            A.METRIC_TOKEN_USAGE, unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS))
        self._operation_duration = meter.create_histogram(
            A.METRIC_OPERATION_DURATION, unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))

    # -- model calls -----------------------------------------------------
    def start_chat(self, *, request_model: str | None, provider: str | None = None,
                   stream: bool | None = None, input_messages: Any = None,
                   system_instructions: Any = None,
                   compression: bool = False) -> ChatInvocation | None:
        """Open a `chat` span; `compression` marks a call that summarizes the
        agent's context (it sits under the agent span, outside any round)."""
        try:
            if not self.enabled:
                return None
            parent, frame = self.child_parent()
            if parent is None:
                return None
            request_model = _clean(request_model)
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_CHAT}
            if frame is not None:
                # Every span of an invocation names its conversation, as the
                # conventions allow (and as AgentScope's own tracer does).
                conversation = frame.attributes.get(A.CONVERSATION_ID)
                if conversation:
                    attrs[A.CONVERSATION_ID] = conversation
            if compression:
                attrs[A.CHAT_COMPRESSION] = True
                if frame is not None:
                    parent = frame.context
            provider = _clean(provider)
            if provider:
                attrs[A.PROVIDER_NAME] = provider
            if request_model:
                attrs[A.REQUEST_MODEL] = request_model
            if stream is not None:
                attrs[A.REQUEST_STREAM] = bool(stream)
            span = self._start(f"chat {request_model}" if request_model else "chat",
                               SpanKind.CLIENT, parent, attrs)
            if self.capture_content and span.is_recording():
                for key, value in ((A.INPUT_MESSAGES, input_messages),
                                   (A.SYSTEM_INSTRUCTIONS, system_instructions)):
                    if value is not None:
                        text = self._content("chat", key, value)
                        if text is not None:
                            span.set_attribute(key, text)
            return ChatInvocation(span, _set_span_in_context(span, parent), perf_counter(),
                                  frame, attrs)
        except Exception:  # noqa: BLE001
            report("start_chat")
            return None

    def finish_chat(self, inv: ChatInvocation, *, response_model: str | None = None,
                    response_id: str | None = None,
                    finish_reasons: Iterable[str] | None = None,
                    input_tokens: int | None = None, output_tokens: int | None = None,
                    output_messages: Any = None, step_finish_reason: str | None = None,
                    error: BaseException | None = None,
                    error_type: str | None = None) -> None:
        """End a model call; its tokens count toward its own agent invocation only."""
        try:
            if inv.ended:
                return
            # What a runtime reports may be anything: a span must end regardless.
            input_tokens = _as_int(input_tokens)
            output_tokens = _as_int(output_tokens)
            span = inv.span
            if span.is_recording():
                attrs: dict[str, Any] = {}
                response_model = _clean(response_model)
                if response_model:
                    attrs[A.RESPONSE_MODEL] = response_model
                response_id = _clean(response_id)
                if response_id:
                    attrs[A.RESPONSE_ID] = response_id
                reasons = _as_strings(finish_reasons) if finish_reasons else None
                if reasons:
                    attrs[A.RESPONSE_FINISH_REASONS] = reasons
                if input_tokens is not None:
                    attrs[A.USAGE_INPUT_TOKENS] = input_tokens
                if output_tokens is not None:
                    attrs[A.USAGE_OUTPUT_TOKENS] = output_tokens
                if self.capture_content and output_messages is not None:
                    text = self._content("chat", A.OUTPUT_MESSAGES, output_messages)
                    if text is not None:
                        attrs[A.OUTPUT_MESSAGES] = text
                if attrs:
                    span.set_attributes(attrs)
            self._end(inv, error, error_type)
            frame = inv.agent
            if frame is not None:
                if input_tokens or output_tokens:
                    with self._usage_lock:
                        frame.input_tokens += int(input_tokens or 0)
                        frame.output_tokens += int(output_tokens or 0)
                step = frame.step
                if step is not None and A.CHAT_COMPRESSION not in inv.attributes:
                    if error is not None:
                        step.finish_reason = (A.FINISH_CANCELLED if _is_cancellation(error)
                                              else A.FINISH_ERROR)
                    elif error_type is not None:
                        # A call the runtime reports as cancelled, not failed.
                        step.finish_reason = (
                            A.FINISH_CANCELLED
                            if A.FINISH_CANCELLED in (step_finish_reason, error_type)
                            else A.FINISH_ERROR)
                    elif step_finish_reason is not None:
                        step.finish_reason = step_finish_reason
            self._record_chat_metrics(inv, response_model, input_tokens, output_tokens,
                                      error_type or (_error_type(error) if error else None))
        except Exception:  # noqa: BLE001
            report("finish_chat")

    def _record_chat_metrics(self, inv: ChatInvocation, response_model: str | None,
                             input_tokens: int | None, output_tokens: int | None,
                             err_type: str | None) -> None:
        if not self.metering:
            return
        attrs = {A.OPERATION_NAME: A.OP_CHAT}
        for key in (A.PROVIDER_NAME, A.REQUEST_MODEL):
            if key in inv.attributes:
                attrs[key] = inv.attributes[key]
        response_model = _clean(response_model)
        if response_model:
            attrs[A.RESPONSE_MODEL] = response_model
        # The span's context: an SDK keeps exemplars that point at the span.
        ctx = inv.context
        # Tokens only where the response reported them (none for a failed call).
        for token_type, count in ((A.TOKEN_TYPE_INPUT, input_tokens),
                                  (A.TOKEN_TYPE_OUTPUT, output_tokens)):
            if count is not None:
                self._token_usage.record(int(count), {**attrs, A.TOKEN_TYPE: token_type}, ctx)
        if err_type:
            attrs[A.ERROR_TYPE] = err_type
        self._operation_duration.record(perf_counter() - inv.start, attrs, ctx)

