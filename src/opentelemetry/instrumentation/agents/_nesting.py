"""Living beside the provider-level GenAI instrumentations.

Our `chat` / `embeddings` / `retrieval` spans are the framework layer; the
SDK call under them is what `opentelemetry-instrumentation-genai-*` (built on
`opentelemetry-util-genai`) and OpenLLMetry's instrumentations wrap. Two
contracts keep them from becoming a second span with its tokens counted twice:

- util-genai's nesting contract: while an outer span is current, its context
  holds an `InferenceData` / `EmbeddingData` / `RetrievalData` under
  `CLIENT_*_CONTEXT_KEY`; an inner util-genai invocation then emits no span,
  no metric and no event and publishes what it saw into that object, which
  the outer one folds into its own span (the outer values win).
- OpenLLMetry's: its instrumentations step aside while the context value
  `"suppress_language_model_instrumentation"` is true.

util-genai is looked up once, when this module is imported: without it the
model-call contexts carry only the suppression key, and nothing here runs.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from opentelemetry.context import Context

from . import attributes as A

try:  # the key the API stores the current span under
    from opentelemetry.trace.propagation import _SPAN_KEY
except ImportError:  # pragma: no cover - another API layout
    _SPAN_KEY = None

from opentelemetry import trace

_logger = logging.getLogger(__name__)

# OpenLLMetry's key (opentelemetry-semantic-conventions-ai), a plain string key.
LM_SUPPRESS_KEY = "suppress_language_model_instrumentation"

INFERENCE_KEY = EMBEDDING_KEY = RETRIEVAL_KEY = None
InferenceData = EmbeddingData = RetrievalData = None
try:
    from opentelemetry.util.genai.invocation import (
        CLIENT_EMBEDDING_CONTEXT_KEY as EMBEDDING_KEY,
    )
    from opentelemetry.util.genai.invocation import (
        CLIENT_INFERENCE_CONTEXT_KEY as INFERENCE_KEY,
    )
    from opentelemetry.util.genai.invocation import (
        CLIENT_RETRIEVAL_CONTEXT_KEY as RETRIEVAL_KEY,
    )
    from opentelemetry.util.genai.invocation import (
        EmbeddingData,
        InferenceData,
        RetrievalData,
    )
except ImportError:  # util-genai absent, or a release before the contract (<1.2b0)
    pass
except Exception:
    _logger.debug("opentelemetry-util-genai could not be imported", exc_info=True)
    INFERENCE_KEY = EMBEDDING_KEY = RETRIEVAL_KEY = None

AVAILABLE = INFERENCE_KEY is not None
_new = object.__new__


def _fast_factory(cls: Any) -> Any:
    """A constructor for the context-data class `cls` that skips its dataclass
    `__init__` (about fifty field stores on the hot path of every model call).

    Every field but `attributes` and `metric_attributes` has a plain default,
    kept as a class attribute, so an instance with only those two set reads
    the same as a freshly constructed one. A release that adds another
    factory-made field gets the dataclass constructor instead.
    """
    from dataclasses import MISSING, fields

    try:
        made = {f.name for f in fields(cls) if f.default is MISSING}
        plain = all(hasattr(cls, f.name) for f in fields(cls) if f.default is not MISSING)
    except Exception:  # noqa: BLE001
        return cls
    if made != {"attributes", "metric_attributes"} or not plain:
        return cls

    def make() -> Any:
        data = _new(cls)
        data.attributes = {}
        data.metric_attributes = {}
        return data

    return make


if AVAILABLE:
    new_inference = _fast_factory(InferenceData)
    new_embedding = _fast_factory(EmbeddingData)
    new_retrieval = _fast_factory(RetrievalData)


def _context(parent: Context, span: Any, key: str | None, data: Any) -> Context:
    """`parent` with `span` current, language-model instrumentation suppressed
    and `data` under `key`: one copy of the context."""
    if _SPAN_KEY is None:  # pragma: no cover - another API layout
        from opentelemetry.context import set_value

        ctx = set_value(LM_SUPPRESS_KEY, True, trace.set_span_in_context(span, parent))
        return set_value(key, data, ctx) if key is not None else ctx
    values = dict(parent)
    values[_SPAN_KEY] = span
    values[LM_SUPPRESS_KEY] = True
    if key is not None:
        values[key] = data
    return Context(values)


if AVAILABLE:
    class _CapturingInferenceData(InferenceData):  # type: ignore[misc,valid-type]
        """InferenceData that lets inner invocations publish content: a class
        default, so our fresh instances hold only their two dicts either way."""

        capture_content = True

    _inference_cls = None if new_inference is InferenceData else InferenceData

    def note_capture(capture: bool) -> None:
        """Inner invocations publish message content only while ours captures it."""
        global _inference_cls
        if new_inference is not InferenceData:  # the fast construction applies
            _inference_cls = _CapturingInferenceData if capture else InferenceData

    if _inference_cls is not None:
        def model_context(parent: Context, span: Any) -> Context:
            """The context a model call runs in; it holds the data inner calls
            publish to (`inference_data`). Flat: it runs on every model call."""
            data = _new(_inference_cls)
            data.attributes = {}
            data.metric_attributes = {}
            return Context({**parent, _SPAN_KEY: span, LM_SUPPRESS_KEY: True,
                            INFERENCE_KEY: data})
    else:  # a util-genai release the fast construction does not fit
        def model_context(parent: Context, span: Any) -> Context:
            """The context a model call runs in, with the data inner calls publish to."""
            return Context({**parent, _SPAN_KEY: span, LM_SUPPRESS_KEY: True,
                            INFERENCE_KEY: InferenceData()})

    def inference_data(ctx: Context) -> Any:
        """The InferenceData `model_context` put in `ctx`."""
        return ctx.get(INFERENCE_KEY)
else:
    def note_capture(capture: bool) -> None:
        """Nothing to note without util-genai."""

    def model_context(parent: Context, span: Any) -> Context:
        """The context a model call runs in (util-genai absent: nothing to publish to).

        On every model call's path: one copy of the context, nothing else.
        """
        return Context({**parent, _SPAN_KEY: span, LM_SUPPRESS_KEY: True})

    def inference_data(ctx: Context) -> Any:
        """None: without util-genai there is no data in the context."""
        return None


def embedding_context(parent: Context, span: Any) -> tuple[Context, Any]:
    """The context an embedding call runs in, and the data inner calls publish to."""
    if not AVAILABLE:
        return _context(parent, span, None, None), None
    data = new_embedding()
    return _context(parent, span, EMBEDDING_KEY, data), data


def retrieval_context(parent: Context, span: Any) -> tuple[Context, Any]:
    """The context a retrieval runs in, and the data inner calls publish to."""
    if not AVAILABLE:
        return _context(parent, span, None, None), None
    data = new_retrieval()
    return _context(parent, span, RETRIEVAL_KEY, data), data


def published(data: Any) -> dict[str, Any] | None:
    """What inner invocations published into `data` (None: nothing)."""
    if data is None:
        return None
    values = data.__dict__
    # Our own instance holds only its two dicts until an inner invocation
    # publishes; it sets fields one by one.
    if len(values) <= 2 + ("capture_content" in values) and not values["attributes"]:
        return None
    return values



# Provider instrumentations that honour neither contract for some SDK API:
# openai-v2 ignores the suppression keys and runs only on util-genai
# releases without the nesting data; OpenLLMetry's OpenAI instrumentation
# steps aside for chat completions and embeddings but not for the Responses
# API (those wrappers read only the generic suppress-instrumentation key, which
# would silence every instrumentation under the call). The SDK API -> (its
# module, its instrumentor class, whether it records `gen_ai.client.*`
# metrics for those calls: where it does not, ours stay).
DEFER_ALL = 2  # its span and its metrics: none of ours
DEFER_SPAN = 1  # its span, our metrics
_OPENAI_V2 = ("opentelemetry.instrumentation.openai_v2", "OpenAIInstrumentor", DEFER_ALL)
_OPENLLMETRY = ("opentelemetry.instrumentation.openai", "OpenAIInstrumentor", DEFER_SPAN)
_NON_COOPERATING: dict[str, tuple[tuple[str, str, int], ...]] = {
    A.SDK_OPENAI_CHAT: (_OPENAI_V2,),
    A.SDK_OPENAI_EMBEDDINGS: (_OPENAI_V2,),
    A.SDK_OPENAI_RESPONSES: (_OPENLLMETRY,),
}
_modules = sys.modules


def deferred_to(api: str) -> int:
    """How far a model call through `api` defers to a provider instrumentation
    that cannot step aside (0: not at all, `DEFER_SPAN`, `DEFER_ALL`).

    Read off the instrumentor itself (instrumentors are singletons that note
    whether they are instrumented), so it holds whichever was instrumented
    first and whenever. Nothing is imported: an instrumentation whose module
    was never imported is not instrumented; the common case is one dict
    lookup for the API and one in `sys.modules`.
    """
    for module_name, class_name, how in _NON_COOPERATING.get(api, ()):
        module = _modules.get(module_name)
        if module is not None:
            instance = getattr(getattr(module, class_name, None), "_instance", None)
            if getattr(instance, "_is_instrumented_by_opentelemetry", False) is True:
                return how
    return 0


# The InferenceData fields that map one-to-one onto span attributes, for the
# ones our span lacks after the call (ours win).
_INFERENCE_ATTRIBUTES = (
    ("server_address", A.SERVER_ADDRESS),
    ("server_port", A.SERVER_PORT),
    ("request_temperature", A.REQUEST_TEMPERATURE),
    ("request_top_p", A.REQUEST_TOP_P),
    ("request_top_k", A.REQUEST_TOP_K),
    ("request_max_tokens", A.REQUEST_MAX_TOKENS),
    ("request_frequency_penalty", A.REQUEST_FREQUENCY_PENALTY),
    ("request_presence_penalty", A.REQUEST_PRESENCE_PENALTY),
    ("request_stop_sequences", A.REQUEST_STOP_SEQUENCES),
    ("request_seed", A.REQUEST_SEED),
    ("request_choice_count", A.REQUEST_CHOICE_COUNT),
    ("output_type", A.OUTPUT_TYPE),
    ("request_stream", A.REQUEST_STREAM),
    ("response_time_to_first_chunk", A.RESPONSE_TIME_TO_FIRST_CHUNK),
)
_EMBEDDING_ATTRIBUTES = (
    ("server_address", A.SERVER_ADDRESS),
    ("server_port", A.SERVER_PORT),
    ("response_model", A.RESPONSE_MODEL),
    ("embeddings_dimension_count", A.EMBEDDINGS_DIMENSION_COUNT),
    ("request_encoding_formats", A.REQUEST_ENCODING_FORMATS),
    ("usage_input_tokens", A.USAGE_INPUT_TOKENS),
)
_RETRIEVAL_ATTRIBUTES = (
    ("server_address", A.SERVER_ADDRESS),
    ("server_port", A.SERVER_PORT),
    ("provider_name", A.PROVIDER_NAME),
    ("request_model", A.REQUEST_MODEL),
    ("retrieval_top_k", A.RETRIEVAL_TOP_K),
)


def _missing(values: dict[str, Any], table: Any, have: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for field, key in table:
        value = values.get(field)
        if value is not None and key not in have:
            extra[key] = list(value) if isinstance(value, (list, tuple)) else value
    for key, value in values["attributes"].items():
        if key not in have and key not in extra:
            extra[key] = value
    return extra


def inference_extras(values: dict[str, Any], have: Any) -> dict[str, Any]:
    """The span attributes an inner inference published that `have` lacks."""
    return _missing(values, _INFERENCE_ATTRIBUTES, have)


def embedding_extras(values: dict[str, Any], have: Any) -> dict[str, Any]:
    """The span attributes an inner embedding published that `have` lacks."""
    return _missing(values, _EMBEDDING_ATTRIBUTES, have)


def retrieval_extras(values: dict[str, Any], have: Any) -> dict[str, Any]:
    """The span attributes an inner retrieval published that `have` lacks."""
    return _missing(values, _RETRIEVAL_ATTRIBUTES, have)
