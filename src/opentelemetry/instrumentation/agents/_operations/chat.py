"""`chat` spans: one per model call, and the model-call metrics."""

from __future__ import annotations

from collections.abc import Iterable
from time import perf_counter
from typing import Any

from opentelemetry.metrics import Meter
from opentelemetry.trace import NonRecordingSpan, SpanKind, get_current_span

from .._completion import complete
from .._events import emit_details
from .._invocations import (
    AgentInvocation,
    ChatInvocation,
    DeferredChatInvocation,
    SpanDeferredChatInvocation,
)
from .._nesting import AVAILABLE as _NESTING
from .._nesting import DEFER_ALL as _DEFER_ALL
from .._nesting import INFERENCE_KEY as _INFERENCE_KEY
from .._nesting import deferred_to as _deferred_to
from .._nesting import inference_data, inference_extras, published
from .._nesting import model_context as _model_context
from .._safety import error_type as _error_type
from .._safety import is_cancellation as _is_cancellation
from .._safety import report
from .._values import as_int as _as_int
from .._values import as_strings as _as_strings
from .._values import clean as _clean
from .._values import clean_id as _clean_id
from ..attributes import (
    CHAT_COMPRESSION,
    CONVERSATION_ID,
    ERROR_TYPE,
    FINISH_CANCELLED,
    FINISH_ERROR,
    INPUT_MESSAGES,
    METRIC_TIME_PER_OUTPUT_CHUNK,
    METRIC_TIME_TO_FIRST_CHUNK,
    OP_CHAT,
    OPERATION_NAME,
    OUTPUT_MESSAGES,
    PROVIDER_NAME,
    REQUEST_MODEL,
    REQUEST_STREAM,
    RESPONSE_FINISH_REASONS,
    RESPONSE_ID,
    RESPONSE_MODEL,
    RESPONSE_TIME_TO_FIRST_CHUNK,
    SERVER_ADDRESS,
    SERVER_PORT,
    SYSTEM_INSTRUCTIONS,
    TOKEN_TYPE,
    TOKEN_TYPE_INPUT,
    TOKEN_TYPE_OUTPUT,
    TOOL_DEFINITIONS,
    USAGE_CACHE_CREATION_INPUT_TOKENS,
    USAGE_CACHE_READ_INPUT_TOKENS,
    USAGE_CACHE_WRITE_INPUT_TOKENS,
    USAGE_INPUT_TOKENS,
    USAGE_OUTPUT_TOKENS,
    USAGE_REASONING_OUTPUT_TOKENS,
)
from ._base import DURATION_BUCKETS, HandlerBase


class ChatOperations(HandlerBase):
    """Model calls."""

    def _create_instruments(self, meter: Meter) -> None:
        super()._create_instruments(meter)
        self._time_to_first_chunk = meter.create_histogram(
            METRIC_TIME_TO_FIRST_CHUNK, unit="s",
            description="Time to receive the first chunk, measured from when the client "
                        "issues the generation request to when the first chunk is received "
                        "in the response stream.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))
        self._time_per_output_chunk = meter.create_histogram(
            METRIC_TIME_PER_OUTPUT_CHUNK, unit="s",
            description="Time per output chunk, recorded for each chunk received after the "
                        "first one, measured as the time elapsed from the end of the previous "
                        "chunk to the end of the current chunk.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))

    # -- model calls -----------------------------------------------------
    def start_chat(self, *, request_model: str | None, provider: str | None = None,
                   stream: bool | None = None, input_messages: Any = None,
                   system_instructions: Any = None, compression: bool = False,
                   request: dict[str, Any] | None = None, server_address: str | None = None,
                   server_port: int | None = None, tool_definitions: Any = None,
                   api: str | None = None) -> ChatInvocation | None:
        """Open a `chat` span.

        `compression` marks a call that summarizes the agent's context (it
        sits under the agent span, outside any round). `request` holds the
        request's parameters as attributes (see `_request`); `tool_definitions`
        the tools offered to the model, in the conventions' shape, recorded
        only with content capture on (they are opt-in, as content is). `api`: the
        SDK API the call goes through (`attributes.SDK_*`), if known (see
        `_deferred_chat`).
        """
        try:
            if not self.enabled:
                return None
            parent, frame = self.child_parent()
            if parent is None:
                return None
            request_model = _clean(request_model)
            attrs: dict[str, Any] = {OPERATION_NAME: OP_CHAT}
            if frame is not None:
                # Every span of an invocation names its conversation (conventions allow it).
                conversation = frame.attributes.get(CONVERSATION_ID)
                if conversation:
                    attrs[CONVERSATION_ID] = conversation
            if compression:  # outside any round: under the agent span itself
                parent = _compression(attrs, frame, parent)
            if provider:
                provider = _clean(provider)
                if provider:
                    attrs[PROVIDER_NAME] = provider
            if request_model:
                attrs[REQUEST_MODEL] = request_model
            if server_address:
                _add_server(attrs, server_address, server_port)
            if stream is not None:
                attrs[REQUEST_STREAM] = bool(stream)
            if request:
                attrs.update(request)
            how = _deferred_to(api) if api is not None else 0
            if how:
                return self._deferred_chat(parent, frame, attrs, how, stream)
            span = self._start(f"chat {request_model}" if request_model else "chat",
                               SpanKind.CLIENT, parent, attrs)
            # Inner provider instrumentations step aside and publish into `nested`.
            inv = ChatInvocation(span, _model_context(parent, span), perf_counter(), frame, attrs)
            if stream:  # what chat_chunk times the chunks with
                inv.last_chunk_at, inv.chunk_gaps = None, [] if self.metering else None
            if self._note_inputs:
                self._note_input_content(inv, input_messages, system_instructions,
                                         tool_definitions)
            return inv
        except Exception:  # noqa: BLE001
            report("start_chat")
            return None

    def _deferred_chat(self, parent: Any, frame: Any, attrs: dict[str, Any], how: int,
                       stream: bool | None) -> ChatInvocation:
        """A model call a provider instrumentation that cannot step aside traces:
        no span or event of ours (and, where it records them, no metrics), so a
        call is one span and its tokens count once. The SDK call runs under the
        enclosing span (the round), where the provider's span lands; what the
        runtime reports still counts toward the agent span and ends the round."""
        span = NonRecordingSpan(get_current_span(parent).get_span_context())
        cls = DeferredChatInvocation if how == _DEFER_ALL else SpanDeferredChatInvocation
        inv = cls(span, _model_context(parent, span), perf_counter(), frame, attrs)
        if stream:
            inv.last_chunk_at = None
            inv.chunk_gaps = [] if self.metering and cls.own_metrics else None
        return inv

    def _note_input_content(self, inv: ChatInvocation, input_messages: Any,
                            system_instructions: Any, tool_definitions: Any) -> None:
        """The request's content: on the span, and kept for the completion hook
        and the details event."""
        items = ((INPUT_MESSAGES, input_messages), (SYSTEM_INSTRUCTIONS, system_instructions),
                 (TOOL_DEFINITIONS, tool_definitions))
        span = inv.span
        if self.span_content and span.is_recording():
            for key, value in items:
                if value:
                    text = self._content("chat", key, value)
                    if text is not None:
                        span.set_attribute(key, text)
        if self.completion_hook is not None:
            inv.completion = (input_messages, system_instructions, tool_definitions)
        if self._logger is not None:
            inv.event = {}
            if self.event_content:
                self._note_event_content(inv, items)

    def _note_event_content(self, inv: ChatInvocation, items: Iterable[tuple[str, Any]]
                            ) -> None:
        event = inv.event
        for key, value in items:
            if value:
                structured = self._event_content("chat", key, value)
                if structured is not None:
                    event[key] = structured

    def chat_chunk(self, inv: ChatInvocation) -> None:
        """A streamed model call received a chunk (call once per chunk)."""
        now = perf_counter()
        # Set by start_chat for calls it knew were streamed.
        last = getattr(inv, "last_chunk_at", None)
        if last is None:
            inv.first_chunk_at = now
        else:
            gaps = getattr(inv, "chunk_gaps", None)
            if gaps is not None:
                gaps.append(now - last)
        inv.last_chunk_at = now

    def finish_chat(self, inv: ChatInvocation, *, response_model: str | None = None,
                    response_id: str | None = None,
                    finish_reasons: Iterable[str] | None = None,
                    input_tokens: int | None = None, output_tokens: int | None = None,
                    usage_details: tuple[Any, Any, Any] | None = None,
                    output_messages: Any = None, step_finish_reason: str | None = None,
                    error: BaseException | None = None,
                    error_type: str | None = None) -> None:
        """End a model call; its tokens count toward its own agent invocation only.

        `usage_details`: (cache read, cache creation, reasoning) tokens, each
        None where the response did not report it (see `_usage_details`).
        """
        try:
            if inv.ended:
                return
            # An inner invocation published into the InferenceData (it always
            # names its operation; a fresh one holds only its two dicts).
            if _NESTING and "operation_name" in inv.context[_INFERENCE_KEY].__dict__:
                (response_model, response_id, finish_reasons, input_tokens, output_tokens,
                 usage_details) = _fold_inference(
                    inv, response_model, response_id, finish_reasons, input_tokens,
                    output_tokens, usage_details)
            # What a runtime reports may be anything: a span must end regardless
            # (ints, the common case, checked here without a call).
            if type(input_tokens) is not int:
                input_tokens = _as_int(input_tokens)
            if type(output_tokens) is not int:
                output_tokens = _as_int(output_tokens)
            details = _usage_details(usage_details) if usage_details is not None else None
            span = inv.span
            recording = span.is_recording()
            event = inv.event
            attrs = _response_attributes(inv, response_model, response_id, finish_reasons,
                                         input_tokens, output_tokens, details) \
                if recording or event is not None else {}
            if recording:
                if self.span_content and output_messages is not None:
                    text = self._content("chat", OUTPUT_MESSAGES, output_messages)
                    if text is not None:
                        span.set_attributes({**attrs, OUTPUT_MESSAGES: text})
                elif attrs:
                    span.set_attributes(attrs)
                if self.completion_hook is not None:
                    self._complete(inv, output_messages)
            self._end(inv, error, error_type)
            frame = inv.agent
            if frame is not None:
                self._count_chat(inv, frame, input_tokens, output_tokens, details,
                                 step_finish_reason, error, error_type)
            if event is not None:
                self._emit_details(inv, attrs, output_messages, error, error_type)
            if self.metering:
                self._record_chat_metrics(inv, response_model, input_tokens, output_tokens,
                                          error, error_type)
        except Exception:  # noqa: BLE001
            report("finish_chat")

    def _count_chat(self, inv: ChatInvocation, frame: AgentInvocation, input_tokens: int | None,
                    output_tokens: int | None, details: dict[str, int] | None,
                    step_finish_reason: str | None, error: BaseException | None,
                    error_type: str | None) -> None:
        """A finished model call on its agent invocation: its tokens, and how
        the round it belongs to ended."""
        if input_tokens or output_tokens or details:
            with self._usage_lock:
                frame.input_tokens += input_tokens or 0
                frame.output_tokens += output_tokens or 0
                if details:
                    _add_details(frame, details)
        step = frame.step
        if step is None or CHAT_COMPRESSION in inv.attributes:
            return
        if error is not None:
            step.finish_reason = FINISH_CANCELLED if _is_cancellation(error) else FINISH_ERROR
        elif error_type is not None:
            # A call the runtime reports as cancelled, not failed.
            step.finish_reason = (FINISH_CANCELLED
                                  if FINISH_CANCELLED in (step_finish_reason, error_type)
                                  else FINISH_ERROR)
        elif step_finish_reason is not None:
            step.finish_reason = step_finish_reason

    def _complete(self, inv: ChatInvocation, output_messages: Any) -> None:
        """The call's content to the completion hook (it puts the references on
        the span, still open)."""
        inputs, system, tools = getattr(inv, "completion", None) or (None, None, None)
        complete(self.completion_hook, inv.span, "chat", inputs=inputs, outputs=output_messages,
                 system=system, tools=tools)

    def _emit_details(self, inv: ChatInvocation, attrs: dict[str, Any], output_messages: Any,
                      error: BaseException | None, error_type: str | None) -> None:
        event = inv.event
        if self.event_content and output_messages is not None:
            self._note_event_content(inv, ((OUTPUT_MESSAGES, output_messages),))
        attributes = {**inv.attributes, **attrs}
        err_type = error_type or (_error_type(error) if error else None)
        if err_type:
            attributes[ERROR_TYPE] = err_type
        emit_details(self._logger, inv.context, attributes, event)

    def _record_chat_metrics(self, inv: ChatInvocation, response_model: str | None,
                             input_tokens: int | None, output_tokens: int | None,
                             error: BaseException | None, error_type: str | None) -> None:
        if not inv.own_metrics:
            return
        base = inv.attributes
        attrs = {OPERATION_NAME: OP_CHAT}
        for key in _METRIC_KEYS:
            if key in base:
                attrs[key] = base[key]
        response_model = _clean(response_model)
        if response_model:
            attrs[RESPONSE_MODEL] = response_model
        # The span's context: an SDK keeps exemplars that point at the span.
        ctx = inv.context
        # Tokens only where the response reported them (none for a failed call).
        # `gen_ai.token.type` has only `input` and `output`: cache and reasoning
        # counts are parts of those, so they get no data point of their own.
        for token_type, count in ((TOKEN_TYPE_INPUT, input_tokens),
                                  (TOKEN_TYPE_OUTPUT, output_tokens)):
            if count is not None:
                self._token_usage.record(int(count), {**attrs, TOKEN_TYPE: token_type}, ctx)
        err_type = error_type or (_error_type(error) if error else None)
        if err_type:
            attrs[ERROR_TYPE] = err_type
        self._operation_duration.record(perf_counter() - inv.start, attrs, ctx)
        first = inv.first_chunk_at
        if first is not None:
            self._time_to_first_chunk.record(first - inv.start, attrs, ctx)
            for gap in getattr(inv, "chunk_gaps", None) or ():
                self._time_per_output_chunk.record(gap, attrs, ctx)


def _response_attributes(inv: ChatInvocation, response_model: Any, response_id: Any,
                         finish_reasons: Any, input_tokens: int | None,
                         output_tokens: int | None, details: dict[str, int] | None
                         ) -> dict[str, Any]:
    """What the response says, as the span's and the details event's attributes."""
    attrs: dict[str, Any] = {}
    if response_model is not None:
        response_model = _clean(response_model)
        if response_model:
            attrs[RESPONSE_MODEL] = response_model
    if response_id is not None:
        response_id = _clean_id(response_id)
        if response_id:
            attrs[RESPONSE_ID] = response_id
    reasons = _as_strings(finish_reasons) if finish_reasons else None
    if reasons:
        attrs[RESPONSE_FINISH_REASONS] = reasons
    if input_tokens is not None:
        attrs[USAGE_INPUT_TOKENS] = input_tokens
    if output_tokens is not None:
        attrs[USAGE_OUTPUT_TOKENS] = output_tokens
    if details:
        attrs.update(details)
    if inv.first_chunk_at is not None:
        attrs[RESPONSE_TIME_TO_FIRST_CHUNK] = inv.first_chunk_at - inv.start
    return attrs


def _compression(attrs: dict[str, Any], frame: Any, parent: Any) -> Any:
    """Mark a context compression's call; returns its parent context."""
    attrs[CHAT_COMPRESSION] = True
    return frame.context if frame is not None else parent


def _add_server(attrs: dict[str, Any], address: Any, port: Any) -> None:
    address = _clean(address)
    if address:
        attrs[SERVER_ADDRESS] = address
        if type(port) is int:
            attrs[SERVER_PORT] = port


def _add_details(frame: Any, details: dict[str, int]) -> None:
    """`details` summed into `frame`'s usage details (under the usage lock)."""
    summed = frame.usage_details
    if summed is None:
        frame.usage_details = dict(details)
    else:
        for key, value in details.items():
            summed[key] = summed.get(key, 0) + value


# The request's attributes that metrics carry (the conventions' metric attributes).
_METRIC_KEYS = (PROVIDER_NAME, REQUEST_MODEL, SERVER_ADDRESS, SERVER_PORT)

_DETAIL_KEYS = (USAGE_CACHE_READ_INPUT_TOKENS, USAGE_CACHE_CREATION_INPUT_TOKENS,
                USAGE_REASONING_OUTPUT_TOKENS)


def _usage_details(values: tuple[Any, Any, Any]) -> dict[str, int]:
    """(cache read, cache creation, reasoning) tokens as attributes, where
    reported (`_usage.details` reads them off a provider's usage object).
    They are recorded as the conventions give them: parts of the input and
    output counts, not additions to them."""
    details = {}
    for key, value in zip(_DETAIL_KEYS, values, strict=True):
        value = _as_int(value)
        if value is not None and value >= 0:
            details[key] = value
    if USAGE_CACHE_CREATION_INPUT_TOKENS in details:
        # The current conventions' name; the old one stays for one release.
        details[USAGE_CACHE_WRITE_INPUT_TOKENS] = details[USAGE_CACHE_CREATION_INPUT_TOKENS]
    return details


def _fold_inference(inv: ChatInvocation, response_model: Any, response_id: Any,
                    finish_reasons: Any, input_tokens: Any, output_tokens: Any,
                    usage_details: Any) -> tuple[Any, ...]:
    """What an inner util-genai invocation published, where the runtime gave
    us nothing (ours win); its extra attributes go on the span and, for the
    metric keys, on the metrics."""
    values = published(inference_data(inv.context))
    if values is None:
        return (response_model, response_id, finish_reasons, input_tokens, output_tokens,
                usage_details)
    get = values.get
    if usage_details is None or not any(v is not None for v in usage_details):
        inner = (get("usage_cache_read_input_tokens"), get("usage_cache_write_input_tokens"),
                 get("usage_reasoning_output_tokens"))
        if any(v is not None for v in inner):
            usage_details = inner
    extras = inference_extras(values, inv.attributes)
    if extras:
        if inv.span.is_recording():
            inv.span.set_attributes(extras)
        for key in _METRIC_KEYS:
            if key in extras:
                inv.attributes[key] = extras[key]
    return (response_model or get("response_model"), response_id or get("response_id"),
            finish_reasons or get("response_finish_reasons"),
            get("usage_input_tokens") if input_tokens is None else input_tokens,
            get("usage_output_tokens") if output_tokens is None else output_tokens,
            usage_details)
