"""`retrieval {data source}` searches: start_retrieval, finish_retrieval."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from .contract import (
    CANCELLED_TYPE,
    TRUNCATION_MARK,
    Owner,
    Unserializable,
    current,
    cyclic,
    sampled_out_parent,
)


def test_span_name_kind_attributes_and_the_embedding_nests(tel):
    handler = tel.handler()
    inv = handler.start_retrieval("kb", top_k=5)
    with current(inv.context):
        handler.finish_embeddings(handler.start_embeddings(request_model="emb"))
    handler.finish_retrieval(inv, documents_count=2)
    tel.tree("""
        retrieval kb
          embeddings emb
    """)
    span = tel.span("retrieval kb")
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "kb",
        "gen_ai.retrieval.top_k": 5, "gen_ai.request.top_k": 5,
        "agents.retrieval.documents.count": 2}
    assert span.status.status_code is StatusCode.UNSET


def test_inside_an_agent_it_belongs_to_the_open_round(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot", conversation_id="conv-1")
    with current(frame.context):
        handler.start_step(frame)
        handler.finish_retrieval(handler.start_retrieval(None))
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot
          react step
            retrieval
    """)
    assert tel.span("retrieval").attributes["gen_ai.conversation.id"] == "conv-1"


@pytest.mark.parametrize("content", [None, "true"])
def test_query_and_documents_only_with_content(tel, content):
    handler = tel.handler(content=content)
    inv = handler.start_retrieval("kb", query="what is otel")
    handler.finish_retrieval(inv, documents=[{"id": "d1", "score": 0.5}])
    attrs = tel.span("retrieval kb").attributes
    if content is None:
        assert "gen_ai.retrieval.query.text" not in attrs
        assert "gen_ai.retrieval.documents" not in attrs
    else:
        assert attrs["gen_ai.retrieval.query.text"] == "what is otel"
        assert attrs["gen_ai.retrieval.documents"] == '[{"id":"d1","score":0.5}]'


def test_content_truncated_and_unserializable(tel):
    handler = tel.handler(content="true", max_length=20)
    inv = handler.start_retrieval("kb", query="q" * 1_000_000)
    handler.finish_retrieval(inv, documents=cyclic())
    attrs = tel.span("retrieval kb").attributes
    assert attrs["gen_ai.retrieval.query.text"] == "q" * 6 + TRUNCATION_MARK
    assert attrs["gen_ai.retrieval.documents"] == "<unserializable>"


def test_error_path(tel):
    handler = tel.handler()
    handler.finish_retrieval(handler.start_retrieval("kb"), error=LookupError("gone"))
    span = tel.span("retrieval kb")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "gone"
    assert span.attributes["error.type"] == "LookupError"


async def test_cancelled_task(tel):
    handler = tel.handler()
    started = asyncio.Event()

    async def run():
        inv = handler.start_retrieval("kb")
        try:
            started.set()
            await asyncio.sleep(3600)
        except BaseException as exc:
            handler.finish_retrieval(inv, error=exc)
            raise

    task = asyncio.create_task(run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tel.span("retrieval kb").attributes["error.type"] == CANCELLED_TYPE


def test_suppressed_emits_nothing(tel):
    handler = tel.handler(content="true")
    with suppress_instrumentation():
        assert handler.start_retrieval("kb", query="q") is None
    assert tel.nothing_emitted()


def test_sampled_out_parent_records_no_span_and_raises_nothing(tel):
    handler = tel.handler(content="true")
    with current(sampled_out_parent()):
        inv = handler.start_retrieval("kb", query=Unserializable())
        handler.finish_retrieval(inv, documents=cyclic(), documents_count="x")
    assert tel.spans() == []


def test_bad_values_never_raise(tel):
    handler = tel.handler(content="true")
    inv = handler.start_retrieval(Unserializable(), top_k="ten", query=Unserializable())
    handler.finish_retrieval(inv, documents_count=object(), documents=Unserializable())
    handler.finish_retrieval(inv)  # ending twice is harmless
    (span,) = tel.spans()
    assert span.name == "retrieval"
    assert "gen_ai.request.top_k" not in span.attributes
    assert "gen_ai.retrieval.top_k" not in span.attributes
    assert "agents.retrieval.documents.count" not in span.attributes
