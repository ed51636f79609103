"""`retrieval {data source}` spans: one per knowledge-base search."""

from __future__ import annotations

from time import perf_counter
from typing import Any

from opentelemetry.trace import SpanKind

from .. import attributes as A
from .._invocations import RetrievalInvocation
from .._nesting import published, retrieval_context, retrieval_extras
from .._safety import error_type as _error_type
from .._safety import report
from .._values import as_int as _as_int
from .._values import clean as _clean
from ._base import HandlerBase


class RetrievalOperations(HandlerBase):
    """Knowledge-base retrievals (the embedding call they make nests inside)."""

    def start_retrieval(self, data_source: str | None, *, top_k: int | None = None,
                        query: Any = None, provider: str | None = None,
                        request_model: str | None = None, server_address: str | None = None,
                        server_port: int | None = None) -> RetrievalInvocation | None:
        """Open a `retrieval` span where the search is made; None when not tracing.

        `query` is recorded only under content capture. `top_k` goes on the
        span as `gen_ai.retrieval.top_k` (the current conventions) and, for
        one release, as the deprecated `gen_ai.request.top_k`.
        """
        try:
            if not self.enabled:
                return None
            parent, frame = self.child_parent()
            if parent is None:
                return None
            data_source = _clean(data_source)
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_RETRIEVAL}
            if data_source:
                attrs[A.DATA_SOURCE_ID] = data_source
            if frame is not None:
                conversation = frame.attributes.get(A.CONVERSATION_ID)
                if conversation:
                    attrs[A.CONVERSATION_ID] = conversation
            _add_clean(attrs, ((A.PROVIDER_NAME, provider), (A.REQUEST_MODEL, request_model),
                               (A.SERVER_ADDRESS, server_address)))
            if A.SERVER_ADDRESS in attrs and type(server_port) is int:
                attrs[A.SERVER_PORT] = server_port
            top_k = _as_int(top_k)
            if top_k is not None:
                attrs[A.RETRIEVAL_TOP_K] = top_k
                attrs[A.REQUEST_TOP_K] = top_k
            name = f"{A.OP_RETRIEVAL} {data_source}" if data_source else A.OP_RETRIEVAL
            span = self._start(name, SpanKind.CLIENT, parent, attrs)
            self._add_content(span, "retrieval", A.RETRIEVAL_QUERY_TEXT, query)
            ctx, nested = retrieval_context(parent, span)
            return RetrievalInvocation(span, ctx, perf_counter(), attrs, nested)
        except Exception:  # noqa: BLE001
            report("start_retrieval")
            return None

    def finish_retrieval(self, inv: RetrievalInvocation, *, documents_count: int | None = None,
                         documents: Any = None, error: BaseException | None = None,
                         error_type: str | None = None) -> None:
        """End a retrieval; `documents` is recorded only under content capture."""
        try:
            if inv.ended:
                return
            span = inv.span
            values = published(inv.nested) if inv.nested is not None else None
            if values is not None and span.is_recording():
                # An inner retrieval instrumentation's findings, where ours are missing.
                extras = retrieval_extras(values, inv.attributes)
                for key in _METRIC_KEYS:
                    if key in extras:
                        inv.attributes[key] = extras[key]
                if extras:
                    span.set_attributes(extras)
            if span.is_recording():
                count = _as_int(documents_count)
                if count is not None:
                    span.set_attribute(A.RETRIEVAL_DOCUMENTS_COUNT, count)
                self._add_content(span, "retrieval", A.RETRIEVAL_DOCUMENTS, documents)
            self._end(inv, error, error_type)
            if self.metering:
                self._record_retrieval(inv, error, error_type)
        except Exception:  # noqa: BLE001
            report("finish_retrieval")

    def _record_retrieval(self, inv: RetrievalInvocation, error: BaseException | None,
                          error_type: str | None) -> None:
        """`gen_ai.client.operation.duration`, with the conventions' metric
        attributes (not the data source: too many values)."""
        attrs = {key: inv.attributes[key] for key in _METRIC_KEYS if key in inv.attributes}
        err = error_type or (_error_type(error) if error is not None else None)
        if err:
            attrs[A.ERROR_TYPE] = err
        self._operation_duration.record(perf_counter() - inv.start, attrs, inv.context)


_METRIC_KEYS = (A.OPERATION_NAME, A.PROVIDER_NAME, A.REQUEST_MODEL, A.SERVER_ADDRESS,
                A.SERVER_PORT)


def _add_clean(attrs: dict[str, Any], items: Any) -> None:
    for key, value in items:
        value = _clean(value) if value else None
        if value:
            attrs[key] = value
