"""`HandlerBase`: what every operation of the telemetry handler shares.

The context and value helpers the operations use live in `_context` and
`_values` (public to adapters too); each operation module imports them from
there.
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.context import Context
from opentelemetry.metrics import (
    Meter,
    MeterProvider,
    NoOpMeterProvider,
    get_meter,
    get_meter_provider,
)
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider

from opentelemetry import trace

from .. import attributes as A
from .._completion import load_hook
from .._content import render as render_content
from .._content import render_structured
from .._context import get_current as _get_current
from .._context import span_of as _span_of
from .._context import suppressed as _suppressed
from .._events import make_logger
from .._exceptions import record as record_exception
from .._invocations import FRAME_KEY, AgentInvocation
from .._nesting import note_capture
from .._run import BAGGAGE_KEY, add_run_attributes
from .._safety import error_type as _error_type
from .._safety import report
from .._settings import (
    capture_enabled,
    emit_event_enabled,
    event_content_enabled,
    loop_threshold,
    max_length,
    signals_enabled,
)
from ..version import __version__

_SCOPE = "opentelemetry.instrumentation.agents"
_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"

# The explicit bucket boundaries the GenAI semantic conventions give for
# `gen_ai.client.token.usage` and `gen_ai.client.operation.duration` (the
# same ones opentelemetry-util-genai uses); the duration boundaries serve our
# agent and tool duration histograms too, and the conventions give them to
# `time_to_first_chunk` and `time_per_output_chunk` as well.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576,
                 4194304, 16777216, 67108864)
# The current conventions' boundaries for agent invocations and workflows
# (the ones opentelemetry-util-genai 1.3b0 gives them): they run for seconds
# to hours, not milliseconds.
INVOKE_AGENT_BUCKETS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8,
                        409.6)
INVOKE_WORKFLOW_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
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
_HAS_METER_GLOBAL = hasattr(_metrics_internal, "_METER_PROVIDER")
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

def _status_description(exc: BaseException) -> str:
    try:
        text = str(exc)[:1024]
        if not text.isascii():
            # Lone surrogates would make the exporter fail the whole batch.
            text = text.encode("utf-8", "replace").decode("utf-8")
        return text
    except Exception:  # noqa: BLE001 - a broken __str__ must not break the host
        return type(exc).__name__


def _set_error(span: Any, error: BaseException | None, err_type: str | None) -> None:
    """A failed span's `error.type` and status (`err_type` wins over `error`'s class)."""
    if err_type is None:
        err_type = _error_type(error)
    if err_type is not None and span.is_recording():
        span.set_attribute(A.ERROR_TYPE, err_type)
        span.set_status(Status(StatusCode.ERROR,
                               _status_description(error) if error is not None else None))
        # The exception itself, as an `exception` event (bounded); not a
        # stream the consumer closed early (GeneratorExit is how that ends).
        if error is not None and not isinstance(error, GeneratorExit):
            record_exception(span, error)


class _TrueOnceSeen:
    """A read-only flag that `check` answers until it says True; from then on
    the instance holds True itself (a descriptor without `__set__` gives way
    to the instance's attribute), so every later read is a plain attribute
    read, with no call at all: `enabled` is read several times per wrapped call."""

    def __init__(self, check: Any) -> None:
        self.check = check
        self.__doc__ = check.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        if self.check(instance):
            instance.__dict__[self.name] = True
            return True
        return False


class HandlerBase:
    """What every operation shares: providers, the tracer and meter, content
    settings, and the start/end plumbing of a span.

    Each operation (agent, chat, tool, ...) is a mixin in a module of its own
    that adds its start/finish pair and creates its own instruments in
    `_create_instruments`, calling `super()` so every mixin gets its turn.
    """

    def __init__(self, runtime: str, tracer_provider: TracerProvider | None = None,
                 meter_provider: MeterProvider | None = None,
                 logger_provider: Any = None) -> None:
        self.runtime = runtime
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        # No provider given and the API's global readable: `metering` reads it.
        self._meter_global = meter_provider is None and _HAS_METER_GLOBAL
        self._meter_seen = False
        try:
            self._tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider,
                                            schema_url=_SCHEMA_URL)
        except Exception:  # noqa: BLE001 - a broken provider must not fail instrument()
            report("getting a tracer")
            self._tracer = trace.NoOpTracer()
        self._usage_lock = threading.Lock()
        # Content on spans (SPAN_ONLY, SPAN_AND_EVENT, or `true`), on the
        # details event (EVENT_ONLY, SPAN_AND_EVENT); adapters build content
        # when either wants it (`capture_content`).
        self.span_content = capture_enabled()
        self.event_content = event_content_enabled()
        # util-genai's completion hook (content to external storage): content
        # is built for it whatever the capture mode; the mode alone still
        # decides what goes on spans and events.
        self.completion_hook = load_hook()
        self.capture_content = (self.span_content or self.event_content
                                or self.completion_hook is not None)
        note_capture(self.capture_content)
        self.content_limit = max_length()
        # The production signals derived from what is traced (see `_signals`).
        self.signals = signals_enabled()
        self.loop_threshold = loop_threshold()
        self._logger_provider = logger_provider
        self._logger = None
        if emit_event_enabled():
            self._logger = make_logger(_SCOPE, __version__, logger_provider, _SCHEMA_URL)
        # Whether a model call's input content goes anywhere (span, hook, event).
        self._note_inputs = (self.span_content or self.completion_hook is not None
                             or self._logger is not None)
        self._init_metrics(meter_provider)

    def _init_metrics(self, meter_provider: MeterProvider | None) -> None:
        self._instruments_ok = False
        try:
            meter = get_meter(_SCOPE, __version__, meter_provider, schema_url=_SCHEMA_URL)
            self._create_instruments(meter)
            self._instruments_ok = True
        except Exception:  # noqa: BLE001
            report("creating metric instruments")

    def _create_instruments(self, meter: Meter) -> None:
        """Create this operation's instruments; mixins extend it and call super().

        The two instruments the conventions define for every GenAI client
        operation (chat and embeddings alike) live here, so whichever mixins a
        handler combines, one meter registers each exactly once.
        """
        self._token_usage = meter.create_histogram(
            A.METRIC_TOKEN_USAGE, unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS))
        self._operation_duration = meter.create_histogram(
            A.METRIC_OPERATION_DURATION, unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))

    def _sdk_configured(self) -> bool:
        """False while neither a tracing nor a metrics SDK is configured.

        Wrappers check this first (as `enabled`) and step aside entirely, so an
        application that has the instrumentation installed but no SDK pays next
        to nothing. An SDK set up after `instrument()` counts from then on; once
        one has been seen the answer stays True (global providers are set once).
        """
        tracer_provider = self._tracer_provider or _global_provider(
            trace, "_TRACER_PROVIDER", _get_tracer_provider)
        return (tracer_provider is not None
                and not isinstance(tracer_provider, _NOOP_TRACER_PROVIDERS)) or self.metering

    enabled = _TrueOnceSeen(_sdk_configured)

    @property
    def metering(self) -> bool:
        """False while no metrics SDK is configured: no metric is worth building then.

        Instruments from the API's stand-in provider would discard every
        measurement; skipping them saves building their attribute sets.
        """
        if self._meter_seen:
            return True
        # Asked several times per invocation while no SDK is set: the global
        # read directly (see `_global_provider`) when the API has it.
        if self._meter_global:
            meter_provider = _metrics_internal._METER_PROVIDER
            if meter_provider is None:
                return False
        else:
            meter_provider = self._meter_provider or _global_provider(
                _metrics_internal, "_METER_PROVIDER", get_meter_provider)
        if not self._instruments_ok:
            return False
        if meter_provider is not None and not isinstance(meter_provider, _NOOP_METER_PROVIDERS):
            self._meter_seen = True
            return True
        return False

    @staticmethod
    def _duration_attributes(attrs: dict[str, Any], source: dict[str, Any], name_key: str,
                             error: BaseException | None, error_type: str | None
                             ) -> dict[str, Any]:
        """`attrs` (a duration metric's fixed attributes) with the invocation's
        name from its span attributes `source` and the error type, if any."""
        if name_key in source:
            attrs[name_key] = source[name_key]
        if error is not None or error_type is not None:
            attrs[A.ERROR_TYPE] = error_type or _error_type(error)
        return attrs

    # -- content ---------------------------------------------------------
    def _content(self, kind: str, key: str, value: Any) -> str | None:
        return render_content(kind, key, value, self.content_limit)

    def _event_content(self, kind: str, key: str, value: Any) -> Any:
        return render_structured(kind, key, value, self.content_limit)

    def _add_content(self, span: Any, kind: str, key: str, value: Any) -> None:
        """`value` rendered on `span` as content attribute `key`, when content goes
        on spans; None (nothing given) adds nothing."""
        if self.span_content and value is not None and span.is_recording():
            text = self._content(kind, key, value)
            if text is not None:
                span.set_attribute(key, text)

    # -- shared span plumbing --------------------------------------------
    def _start(self, name: str, kind: SpanKind, parent: Context,
               attrs: dict[str, Any]):
        # `agent_run` values, carried as baggage; on every span's path, so
        # one dict lookup when the context carries no baggage at all.
        if parent is None or parent.get(BAGGAGE_KEY):
            add_run_attributes(attrs, parent)
        # Positional: the API's order (name, context, kind, attributes).
        return self._tracer.start_span(name, parent, kind, attrs)

    def _end(self, inv, error: BaseException | None, err_type: str | None) -> bool:
        """End `inv`'s span once; returns False if it had already ended."""
        if inv.ended:
            return False
        inv.ended = True
        if error is not None or err_type is not None:
            _set_error(inv.span, error, err_type)
        inv.span.end()
        return True

    def current_parent(self) -> Context | None:
        """The current context, where a span started now belongs; None when not
        tracing (no SDK configured) or when instrumentation is suppressed there."""
        if not self.enabled:
            return None
        parent = _get_current()
        return None if _suppressed(parent) else parent

    @staticmethod
    def _count_on(frame: AgentInvocation, key: str) -> None:
        """One more `key` on `frame`'s agent span (its extra attributes, set when
        it ends); nothing once it has ended or when it is not recorded."""
        if frame.ended or not frame.span.is_recording():
            return
        extra = frame.extra if frame.extra is not None else {}
        extra[key] = int(extra.get(key, 0)) + 1
        frame.extra = extra

    def child_parent(self) -> tuple[Context | None, AgentInvocation | None]:
        """Where a model or tool call made now belongs (None: suppressed).

        Directly inside an agent invocation that is the agent's open round; when
        something else is current (say, a tool span of the round, or a span the
        user opened) it is the current context, so nothing is re-parented.
        """
        ctx = _get_current()
        if _suppressed(ctx):
            return None, None
        ref = ctx.get(FRAME_KEY)  # `current_frame(ctx)`, without the call
        frame = ref() if ref is not None else None
        if frame is not None and frame.step is not None and _span_of(ctx) is frame.span:
            return frame.step.context, frame
        return ctx, frame
