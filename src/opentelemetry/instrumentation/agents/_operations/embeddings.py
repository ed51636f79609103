"""`embeddings {model}` spans: one per embedding model call, with the
GenAI client metrics the conventions define for it."""

from __future__ import annotations

from time import perf_counter
from typing import Any

from opentelemetry.trace import NonRecordingSpan, SpanKind, get_current_span

from .. import attributes as A
from .._invocations import DeferredEmbeddingsInvocation, EmbeddingsInvocation
from .._nesting import DEFER_ALL, deferred_to, embedding_context, embedding_extras, published
from .._safety import error_type as _error_type
from .._safety import report
from .._values import as_int as _as_int
from .._values import clean as _clean
from ._base import HandlerBase


class EmbeddingsOperations(HandlerBase):
    """Embedding model calls."""

    def start_embeddings(self, *, request_model: str | None, provider: str | None = None,
                         dimensions: int | None = None,
                         input_count: int | None = None,
                         server_address: str | None = None,
                         server_port: int | None = None,
                         api: str | None = None) -> EmbeddingsInvocation | None:
        """Open an `embeddings` span where the call is made; None when not tracing.

        The provider, models and server are the metrics' attributes too, as
        the conventions give them. `api`: the SDK API the call goes through
        (`attributes.SDK_*`); while a provider instrumentation that cannot
        step aside wraps it (and records its metrics), the call is its span."""
        try:
            if not self.enabled:
                return None
            parent, frame = self.child_parent()
            if parent is None:
                return None
            request_model = _clean(request_model)
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_EMBEDDINGS}
            provider = _clean(provider)
            if provider:
                attrs[A.PROVIDER_NAME] = provider
            if request_model:
                attrs[A.REQUEST_MODEL] = request_model
            server_address = _clean(server_address)
            if server_address:
                attrs[A.SERVER_ADDRESS] = server_address
                if type(server_port) is int:
                    attrs[A.SERVER_PORT] = server_port
            if api is not None and deferred_to(api) == DEFER_ALL:
                # Under the enclosing span, where the provider's span lands.
                span = NonRecordingSpan(get_current_span(parent).get_span_context())
                ctx, nested = embedding_context(parent, span)
                return DeferredEmbeddingsInvocation(span, ctx, perf_counter(), attrs, nested)
            span_attrs = dict(attrs)
            if frame is not None:
                conversation = frame.attributes.get(A.CONVERSATION_ID)
                if conversation:
                    span_attrs[A.CONVERSATION_ID] = conversation
            dimensions = _as_int(dimensions)
            if dimensions is not None:
                span_attrs[A.EMBEDDINGS_DIMENSION_COUNT] = dimensions
            input_count = _as_int(input_count)
            if input_count is not None:
                span_attrs[A.EMBEDDINGS_INPUT_COUNT] = input_count
            name = f"{A.OP_EMBEDDINGS} {request_model}" if request_model else A.OP_EMBEDDINGS
            span = self._start(name, SpanKind.CLIENT, parent, span_attrs)
            ctx, nested = embedding_context(parent, span)
            return EmbeddingsInvocation(span, ctx, perf_counter(), attrs, nested)
        except Exception:  # noqa: BLE001
            report("start_embeddings")
            return None

    def finish_embeddings(self, inv: EmbeddingsInvocation, *,
                          input_tokens: int | None = None,
                          dimensions: int | None = None, cache_hit: bool | None = None,
                          response_model: str | None = None,
                          error: BaseException | None = None,
                          error_type: str | None = None) -> None:
        try:
            if inv.ended:
                return
            values = published(inv.nested) if inv.nested is not None else None
            if values is not None:
                # An inner embedding instrumentation's findings, where ours are missing.
                extras = embedding_extras(values, inv.attributes)
                if input_tokens is None:
                    input_tokens = extras.pop(A.USAGE_INPUT_TOKENS, None)
                response_model = response_model or extras.pop(A.RESPONSE_MODEL, None)
                extras.pop(A.USAGE_INPUT_TOKENS, None)
                extras.pop(A.RESPONSE_MODEL, None)
                for key in (A.SERVER_ADDRESS, A.SERVER_PORT):
                    if key in extras:  # metric attributes too
                        inv.attributes[key] = extras[key]
                if extras and inv.span.is_recording():
                    inv.span.set_attributes(extras)
            input_tokens = _as_int(input_tokens)
            response_model = _clean(response_model)
            span = inv.span
            if span.is_recording():
                attrs: dict[str, Any] = {}
                if input_tokens is not None:
                    attrs[A.USAGE_INPUT_TOKENS] = input_tokens
                dimensions = _as_int(dimensions)
                if dimensions is not None:
                    attrs[A.EMBEDDINGS_DIMENSION_COUNT] = dimensions
                if cache_hit is not None:
                    attrs[A.EMBEDDINGS_CACHE_HIT] = bool(cache_hit)
                if response_model:
                    attrs[A.RESPONSE_MODEL] = response_model
                if attrs:
                    span.set_attributes(attrs)
            self._end(inv, error, error_type)
            if self.metering and inv.own_metrics:
                metric_attrs = dict(inv.attributes)
                if response_model:
                    metric_attrs[A.RESPONSE_MODEL] = response_model
                if input_tokens is not None:
                    self._token_usage.record(
                        input_tokens, {**metric_attrs, A.TOKEN_TYPE: A.TOKEN_TYPE_INPUT},
                        inv.context)
                err = error_type or (_error_type(error) if error is not None else None)
                if err:
                    metric_attrs[A.ERROR_TYPE] = err
                self._operation_duration.record(perf_counter() - inv.start, metric_attrs,
                                                inv.context)
        except Exception:  # noqa: BLE001
            report("finish_embeddings")
