"""The OpenTelemetry context as the handler and the adapters read it.

Public to adapters: what is current in a context (`span_of`), whether
instrumentation is suppressed there (`suppressed`), and a context with one
span and one value set in a single copy (`context_with`), and the current
context itself (`get_current`, `attach`, `detach`: the API's, minus the two
Python calls around its ContextVar). Each reads the context directly instead
of through the API's getters, which look the current context up again on
every call: this is the hot path of every wrapped call.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

from opentelemetry.context import Context

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation import utils as _instrumentation_utils

try:
    from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
except ImportError:  # pragma: no cover - another API layout
    ContextVarsRuntimeContext = None

__all__ = ["attach", "context_with", "detach", "get_current", "get_current_span",
           "set_span_in_context", "set_value", "span_of", "suppressed"]

# Both keys `suppress_instrumentation()` sets; read straight off the context
# we already hold instead of looking the context up twice more.
_SUPPRESS_KEYS = tuple(
    getattr(_instrumentation_utils, name) for name in
    ("_SUPPRESS_INSTRUMENTATION_KEY", "_SUPPRESS_INSTRUMENTATION_KEY_PLAIN")
    if hasattr(_instrumentation_utils, name))


if len(_SUPPRESS_KEYS) == 2:
    _SUPPRESS, _SUPPRESS_PLAIN = _SUPPRESS_KEYS

    def suppressed(ctx: Context) -> bool:
        if ctx.get(_SUPPRESS) or ctx.get(_SUPPRESS_PLAIN):
            return True
        return False
else:  # pragma: no cover - another API layout
    def suppressed(ctx: Context) -> bool:
        if not _SUPPRESS_KEYS:
            return not _instrumentation_utils.is_instrumentation_enabled()
        return any(ctx.get(key) for key in _SUPPRESS_KEYS)


get_current_span = trace.get_current_span
try:  # the key the API stores the current span under
    from opentelemetry.trace.propagation import _SPAN_KEY
except ImportError:  # pragma: no cover - another API layout
    _SPAN_KEY = None
set_value = otel_context.set_value


def _context_var() -> ContextVar[Context] | None:
    """The ContextVar the API's default runtime context keeps the current
    context in; None under another runtime context (`OTEL_PYTHON_CONTEXT`)."""
    runtime = getattr(otel_context, "_RUNTIME_CONTEXT", None)
    if ContextVarsRuntimeContext is None or type(runtime) is not ContextVarsRuntimeContext:
        return None  # pragma: no cover - another runtime context or API layout
    var = getattr(runtime, "_current_context", None)
    return var if isinstance(var, ContextVar) else None


_CURRENT = _context_var()
if _CURRENT is not None:
    # The API's get_current / attach / detach are two Python calls each
    # around this ContextVar; every wrapped call makes several of them.
    get_current = _CURRENT.get
    attach = _CURRENT.set
    _reset = _CURRENT.reset

    def detach(token: Token[Context]) -> None:
        """Restore the context `token` replaced; never raises (as the API's)."""
        try:
            _reset(token)
        except Exception:  # noqa: BLE001
            # The API's detach fails the same way, and logs it as it always has.
            otel_context.detach(token)
else:  # pragma: no cover - another runtime context
    get_current = otel_context.get_current
    attach = otel_context.attach
    detach = otel_context.detach


def span_of(ctx: Context) -> Any:
    """The span current in `ctx` (None for none), read straight off the context."""
    if _SPAN_KEY is None:  # pragma: no cover - another API layout
        return get_current_span(ctx)
    return ctx.get(_SPAN_KEY)


def set_span_in_context(span: Any, context: Context | None = None) -> Context:
    """`context` (default: the current one) with `span` current: the API's
    `set_span_in_context`, in one call instead of two."""
    if _SPAN_KEY is None:  # pragma: no cover - another API layout
        return trace.set_span_in_context(span, context)
    return Context({**(context if context is not None else get_current()), _SPAN_KEY: span})


def context_with(parent: Context, span: Any, key: str, value: Any) -> Context:
    """`parent` with `span` current and `key` set: one copy of the context, not two."""
    if _SPAN_KEY is None:  # pragma: no cover - another API layout
        return set_value(key, value, trace.set_span_in_context(span, parent))
    return Context({**parent, _SPAN_KEY: span, key: value})
