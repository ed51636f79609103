"""The one place that decides what a span looks like.

Adapters say *where* a runtime's agent, round, model and tool calls are and
hand over plain values (names, ids, token counts); the handler turns them into
spans, attributes and metrics following the GenAI semantic conventions. Every
public method here is safe to call from a wrapper: it logs its own failures
and returns ``None`` (or does nothing) instead of raising.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from time import perf_counter
from typing import Any
from weakref import ref as _ref

from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider, NoOpMeterProvider, get_meter, get_meter_provider
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation import utils as _instrumentation_utils

from . import attributes as A
from ._content import capture_enabled, max_length
from ._content import render as render_content
from ._invocations import (
    FRAME_KEY,
    TOOL_KEY,
    AgentInvocation,
    ChatInvocation,
    StepInvocation,
    ToolInvocation,
    WorkflowInvocation,
    current_frame,
)
from ._safety import error_type as _error_type
from ._safety import report
from .version import __version__

_SCOPE = "opentelemetry.instrumentation.agents"
_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"

# The explicit bucket boundaries the GenAI semantic conventions give for
# `gen_ai.client.token.usage` and `gen_ai.client.operation.duration` (the
# same ones opentelemetry-util-genai uses); the duration boundaries serve our
# agent and tool duration histograms too.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576,
                 4194304, 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12,
                    10.24, 20.48, 40.96, 81.92)

try:  # the API's stand-in until an SDK provider is set
    from opentelemetry.metrics import _internal as _metrics_internal
    from opentelemetry.metrics._internal import _ProxyMeterProvider

    _NOOP_METER_PROVIDERS: tuple[type, ...] = (NoOpMeterProvider, _ProxyMeterProvider)
except ImportError:  # pragma: no cover - another API layout
    _metrics_internal = None
    _NOOP_METER_PROVIDERS = (NoOpMeterProvider,)
_NOOP_TRACER_PROVIDERS = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
_get_tracer_provider = trace.get_tracer_provider


def _global_provider(module: Any, attribute: str, public_getter: Any) -> Any:
    """The globally set provider, or None while none is set.

    The public getters consult `os.environ` on every call (about half a
    microsecond); the module global they read is what changes when an SDK is
    set, so read that when it exists and fall back to the getter otherwise.
    """
    provider = getattr(module, attribute, _ABSENT) if module is not None else _ABSENT
    if provider is _ABSENT:
        return public_getter()
    return provider


_ABSENT = object()

# Both keys `suppress_instrumentation()` sets; read straight off the context
# we already hold instead of looking the context up twice more.
_SUPPRESS_KEYS = tuple(
    getattr(_instrumentation_utils, name) for name in
    ("_SUPPRESS_INSTRUMENTATION_KEY", "_SUPPRESS_INSTRUMENTATION_KEY_PLAIN")
    if hasattr(_instrumentation_utils, name))


if len(_SUPPRESS_KEYS) == 2:
    _SUPPRESS, _SUPPRESS_PLAIN = _SUPPRESS_KEYS

    def _suppressed(ctx: Context) -> bool:
        return bool(ctx.get(_SUPPRESS) or ctx.get(_SUPPRESS_PLAIN))
else:  # pragma: no cover - another API layout
    def _suppressed(ctx: Context) -> bool:
        if not _SUPPRESS_KEYS:
            return not _instrumentation_utils.is_instrumentation_enabled()
        return any(ctx.get(key) for key in _SUPPRESS_KEYS)


_get_current_span = trace.get_current_span
try:  # the key the API stores the current span under
    from opentelemetry.trace.propagation import _SPAN_KEY
except ImportError:  # pragma: no cover - another API layout
    _SPAN_KEY = None
_set_span_in_context = trace.set_span_in_context
_set_value = otel_context.set_value
_get_current = otel_context.get_current


def _span_of(ctx: Context) -> Any:
    """The span current in `ctx` (None for none), read straight off the context."""
    if _SPAN_KEY is None:  # pragma: no cover - another API layout
        return _get_current_span(ctx)
    return ctx.get(_SPAN_KEY)


def _context_with(parent: Context, span: Any, key: str, value: Any) -> Context:
    """`parent` with `span` current and `key` set: one copy of the context, not two."""
    if _SPAN_KEY is None:  # pragma: no cover - another API layout
        return _set_value(key, value, _set_span_in_context(span, parent))
    values = dict(parent)
    values[_SPAN_KEY] = span
    values[key] = value
    return Context(values)


def _status_description(exc: BaseException) -> str:
    try:
        text = str(exc)[:1024]
        if not text.isascii():
            # Lone surrogates would make the exporter fail the whole batch.
            text = text.encode("utf-8", "replace").decode("utf-8")
        return text
    except Exception:  # noqa: BLE001 - a broken __str__ must not break the host
        return type(exc).__name__


class TelemetryHandler:
    """Creates and ends the spans (and records the metrics) of one runtime."""

    def __init__(self, runtime: str, tracer_provider: TracerProvider | None = None,
                 meter_provider: MeterProvider | None = None) -> None:
        self.runtime = runtime
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._sdk_seen = False
        self._meter_seen = False
        try:
            self._tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider,
                                            schema_url=_SCHEMA_URL)
        except Exception:  # noqa: BLE001 - a broken provider must not fail instrument()
            report("getting a tracer")
            self._tracer = trace.NoOpTracer()
        self._usage_lock = threading.Lock()
        self.capture_content = capture_enabled()
        self.content_limit = max_length()
        self._init_metrics(meter_provider)

    def _init_metrics(self, meter_provider: MeterProvider | None) -> None:
        try:
            meter = get_meter(_SCOPE, __version__, meter_provider, schema_url=_SCHEMA_URL)
            self._token_usage = meter.create_histogram(
                A.METRIC_TOKEN_USAGE, unit="{token}",
                description="Number of input and output tokens used.",
                explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS))
            self._operation_duration = meter.create_histogram(
                A.METRIC_OPERATION_DURATION, unit="s",
                description="GenAI operation duration.",
                explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))
            self._agent_duration = meter.create_histogram(
                A.METRIC_AGENT_DURATION, unit="s",
                description="Duration of agent invocations",
                explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))
            self._tool_duration = meter.create_histogram(
                A.METRIC_TOOL_DURATION, unit="s",
                description="Duration of tool calls",
                explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))
        except Exception:  # noqa: BLE001
            report("creating metric instruments")
            self._token_usage = self._operation_duration = None
            self._agent_duration = self._tool_duration = None

    @property
    def enabled(self) -> bool:
        """False while neither a tracing nor a metrics SDK is configured.

        Wrappers check this first and step aside entirely, so an application
        that has the instrumentation installed but no SDK pays next to nothing.
        An SDK set up after `instrument()` counts from then on; once one has
        been seen the answer stays True (global providers are set once).
        """
        if self._sdk_seen:
            return True
        tracer_provider = self._tracer_provider or _global_provider(
            trace, "_TRACER_PROVIDER", _get_tracer_provider)
        if (tracer_provider is not None
                and not isinstance(tracer_provider, _NOOP_TRACER_PROVIDERS)) or self.metering:
            self._sdk_seen = True
            return True
        return False

    @property
    def metering(self) -> bool:
        """False while no metrics SDK is configured: no metric is worth building then.

        Instruments from the API's stand-in provider would discard every
        measurement; skipping them saves building their attribute sets.
        """
        if self._meter_seen:
            return True
        if self._agent_duration is None:
            return False
        meter_provider = self._meter_provider or _global_provider(
            _metrics_internal, "_METER_PROVIDER", get_meter_provider)
        if meter_provider is not None and not isinstance(meter_provider, _NOOP_METER_PROVIDERS):
            self._meter_seen = True
            return True
        return False

    # -- content ---------------------------------------------------------
    def _content(self, kind: str, key: str, value: Any) -> str | None:
        return render_content(kind, key, value, self.content_limit)

    # -- shared span plumbing --------------------------------------------
    def _start(self, name: str, kind: SpanKind, parent: Context,
               attrs: dict[str, Any]):
        return self._tracer.start_span(name, context=parent, kind=kind, attributes=attrs)

    def _end(self, inv, error: BaseException | None, err_type: str | None) -> bool:
        """End `inv`'s span once; returns False if it had already ended."""
        if inv.ended:
            return False
        inv.ended = True
        span = inv.span
        if err_type is None and error is not None:
            err_type = _error_type(error)
        if err_type is not None and span.is_recording():
            span.set_attribute(A.ERROR_TYPE, err_type)
            span.set_status(Status(StatusCode.ERROR,
                                   _status_description(error) if error is not None else None))
        span.end()
        return True

    # -- agent -----------------------------------------------------------
    def start_agent(self, owner: Any, name: str | None, *, agent_id: str | None = None,
                    conversation_id: str | None = None, description: str | None = None,
                    provider: str | None = None, request_model: str | None = None,
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
            for key, value in ((A.AGENT_ID, agent_id), (A.CONVERSATION_ID, conversation_id),
                               (A.AGENT_DESCRIPTION, description), (A.PROVIDER_NAME, provider),
                               (A.REQUEST_MODEL, request_model)):
                if value:
                    value = _clean(value)
                    if value:
                        attrs[key] = value
            max_iterations = _as_int(max_iterations)
            if max_iterations is not None:
                attrs[A.AGENT_MAX_ITERATIONS] = max_iterations
            span = self._start(f"invoke_agent {name}" if name else "invoke_agent",
                               SpanKind.INTERNAL, parent_ctx, attrs)
            if self.capture_content and input_value is not None and span.is_recording():
                text = self._content("agent", A.INPUT_MESSAGES, input_value)
                if text is not None:
                    span.set_attribute(A.INPUT_MESSAGES, text)
            frame = AgentInvocation(owner, span, parent_ctx, perf_counter(),
                                    current_frame(parent_ctx), attrs)
            frame.context = _context_with(parent_ctx, span, FRAME_KEY, _ref(frame))
            return frame
        except Exception:  # noqa: BLE001
            report("start_agent")
            return None

    def finish_agent(self, frame: AgentInvocation, *, error: BaseException | None = None,
                     error_type: str | None = None, output_value: Any = None,
                     stream_closed_early: bool = False) -> None:
        try:
            if frame.ended:
                return
            self.finish_step(frame, error=error)
            span = frame.span
            if span.is_recording():
                attrs: dict[str, Any] = {
                    A.AGENT_ROUNDS: frame.rounds,
                    A.AGENT_MAX_ITERATIONS_REACHED: frame.max_iterations_reached}
                if frame.input_tokens or frame.output_tokens:
                    attrs[A.USAGE_INPUT_TOKENS] = frame.input_tokens
                    attrs[A.USAGE_OUTPUT_TOKENS] = frame.output_tokens
                finish_reason = _clean(frame.finish_reason)
                if finish_reason:
                    attrs[A.AGENT_FINISH_REASON] = finish_reason
                if stream_closed_early:
                    attrs[A.STREAM_CLOSED_EARLY] = True
                if self.capture_content and output_value is not None:
                    text = self._content("agent", A.OUTPUT_MESSAGES, output_value)
                    if text is not None:
                        attrs[A.OUTPUT_MESSAGES] = text
                # One call: the SDK takes its span lock once, not per key.
                span.set_attributes(attrs)
            self._end(frame, error, error_type)
            if self.metering:
                metric_attrs = {A.OPERATION_NAME: A.OP_INVOKE_AGENT, A.RUNTIME: self.runtime}
                if A.AGENT_NAME in frame.attributes:
                    metric_attrs[A.AGENT_NAME] = frame.attributes[A.AGENT_NAME]
                if error is not None or error_type is not None:
                    metric_attrs[A.ERROR_TYPE] = error_type or _error_type(error)
                self._agent_duration.record(perf_counter() - frame.start, metric_attrs,
                                            frame.context)
        except Exception:  # noqa: BLE001
            report("finish_agent")

    # -- rounds ----------------------------------------------------------
    def start_step(self, frame: AgentInvocation) -> StepInvocation | None:
        """End the frame's open round, if any, and open the next one."""
        try:
            if frame.ended:
                return None
            if frame.step is not None:
                self.finish_step(frame)
            frame.rounds += 1
            span = self._start(A.STEP_SPAN_NAME, SpanKind.INTERNAL, frame.context,
                               {A.OPERATION_NAME: A.OP_REACT, A.REACT_ROUND: frame.rounds})
            step = StepInvocation(span, _set_span_in_context(span, frame.context),
                                  perf_counter(), frame.rounds)
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

    def child_parent(self) -> tuple[Context | None, AgentInvocation | None]:
        """Where a model or tool call made now belongs (None: suppressed).

        Directly inside an agent invocation that is the agent's open round; when
        something else is current (say, a tool span of the round, or a span the
        user opened) it is the current context, so nothing is re-parented.
        """
        ctx = _get_current()
        if _suppressed(ctx):
            return None, None
        frame = current_frame(ctx)
        if frame is not None and frame.step is not None and _span_of(ctx) is frame.span:
            return frame.step.context, frame
        return ctx, frame

    # -- model calls -----------------------------------------------------
    def start_chat(self, *, request_model: str | None, provider: str | None = None,
                   stream: bool | None = None, input_messages: Any = None,
                   system_instructions: Any = None) -> ChatInvocation | None:
        try:
            if not self.enabled:
                return None
            parent, frame = self.child_parent()
            if parent is None:
                return None
            request_model = _clean(request_model)
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_CHAT}
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
                if step is not None:
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

    # -- tool calls ------------------------------------------------------
    def start_tool(self, name: str | None, *, call_id: str | None = None,
                   tool_type: str | None = "function", description: str | None = None,
                   arguments: Any = None) -> ToolInvocation | None:
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
            call_id = _clean(call_id)
            if call_id:
                attrs[A.TOOL_CALL_ID] = call_id
            if tool_type:
                attrs[A.TOOL_TYPE] = tool_type
            description = _clean(description)
            if description:
                attrs["gen_ai.tool.description"] = description
            span = self._start(f"execute_tool {name}" if name else "execute_tool",
                               SpanKind.INTERNAL, parent, attrs)
            if self.capture_content and arguments is not None and span.is_recording():
                text = self._content("tool", A.TOOL_CALL_ARGUMENTS, arguments)
                if text is not None:
                    span.set_attribute(A.TOOL_CALL_ARGUMENTS, text)
            inv = ToolInvocation(span, parent, perf_counter(), frame, attrs)
            inv.context = _context_with(parent, span, TOOL_KEY, _ref(inv))
            return inv
        except Exception:  # noqa: BLE001
            report("start_tool")
            return None

    def finish_tool(self, inv: ToolInvocation, *, result: Any = None,
                    error: BaseException | None = None, error_type: str | None = None) -> None:
        try:
            if inv.ended:
                return
            if error_type is None and error is None:
                error_type = inv.error_type
            if self.capture_content and result is not None and inv.span.is_recording():
                text = self._content("tool", A.TOOL_CALL_RESULT, result)
                if text is not None:
                    inv.span.set_attribute(A.TOOL_CALL_RESULT, text)
            self._end(inv, error, error_type)
            if self.metering:
                attrs = {A.OPERATION_NAME: A.OP_EXECUTE_TOOL}
                if A.TOOL_NAME in inv.attributes:
                    attrs[A.TOOL_NAME] = inv.attributes[A.TOOL_NAME]
                if error is not None or error_type is not None:
                    attrs[A.ERROR_TYPE] = error_type or _error_type(error)
                self._tool_duration.record(perf_counter() - inv.start, attrs, inv.context)
        except Exception:  # noqa: BLE001
            report("finish_tool")

    # -- multi-agent workflows ---------------------------------------------
    def start_workflow(self, name: str | None, *,
                       extra: Mapping[str, Any] | None = None) -> WorkflowInvocation | None:
        try:
            if not self.enabled:
                return None
            parent = _get_current()
            if _suppressed(parent):
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


_NAME_LIMIT = 256


# Strings already found fit: the same few agent, model and tool names come back
# on every call, and one lookup is cheaper than the checks. Bounded, so ids
# that are new on every call simply stop being added once it is full.
_FIT: dict[str, None] = {}
_FIT_LIMIT = 1024


def _clean(value: Any) -> str | None:
    """A name or model id fit for a span name: a bounded, non-empty string."""
    if type(value) is str:
        if value in _FIT:
            return value
        if 0 < len(value) <= _NAME_LIMIT and value.isascii() and value.strip() == value:
            if len(_FIT) < _FIT_LIMIT:
                _FIT[value] = None
            return value  # the common case, checked cheaply
    if value is None:
        return None
    if not isinstance(value, str):
        try:
            value = str(value)
        except Exception:  # noqa: BLE001
            return None
    value = value.strip()
    if not value:
        return None
    if len(value) > _NAME_LIMIT:
        value = value[:_NAME_LIMIT]
    if not value.isascii():
        # Lone surrogates cannot be exported as UTF-8.
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _as_int(value: Any) -> int | None:
    """`value` as an int, or None when it is none or not a number."""
    if value is None or type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _as_strings(values: Any) -> list[str] | None:
    """`values` (one string or several) as bounded strings, or None."""
    if isinstance(values, str):
        values = (values,)
    try:
        return [_clean(value) or "" for value in values]
    except TypeError:
        return None


def _is_cancellation(exc: BaseException) -> bool:
    import asyncio

    # InterruptedError: what Hermes raises out of a model call the user interrupted.
    return isinstance(exc, (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt,
                            InterruptedError))
