"""AgentScope 2.x's OpenAI embedding model beside the OpenAI instrumentations:
one embeddings span per request (ours), its tokens counted once, whatever the
order; each instrumentation alone makes its own."""

from __future__ import annotations

import pytest

from .support import (
    EMBEDDING_TOKENS,
    ORDERS,
    OURS,
    PROVIDERS,
    EmbeddingServer,
    embed_with_agentscope,
    embedding_spans,
    scopes,
    token_sums,
)


def _ours():
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return AgentScopeInstrumentor


@pytest.mark.parametrize("name", PROVIDERS)
async def test_provider_alone_emits_its_own_span(name, stack, exporter, metric_reader):
    factory, scope = PROVIDERS[name]
    stack(None, [factory()])
    assert await embed_with_agentscope(["a", "b"]) == 1
    assert scopes(embedding_spans(exporter)) == [scope]
    assert token_sums(metric_reader) == {"input": EMBEDDING_TOKENS}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", PROVIDERS)
async def test_one_embeddings_span_per_request(name, order, stack, exporter, metric_reader):
    factory, _ = PROVIDERS[name]
    stack(_ours(), [factory()], ours_first=ORDERS[order])
    assert await embed_with_agentscope(["a", "b"]) == 1
    (span,) = embedding_spans(exporter)
    assert span.instrumentation_scope.name == OURS
    assert token_sums(metric_reader) == {"input": EMBEDDING_TOKENS}
    assert span.attributes["gen_ai.usage.input_tokens"] == EMBEDDING_TOKENS
    if name == "genai-openai":
        # What only the inner instrumentation saw: the response's model and the server.
        assert span.attributes["gen_ai.response.model"] == "text-embedding-3-small"
        assert span.attributes["server.address"] == "127.0.0.1"


async def _search_knowledge() -> int:
    """A real KnowledgeBase over AgentScope's OpenAI embedding model: one
    document inserted (one embedding request), one search (another); the
    requests the server answered."""
    from agentscope.credential import OpenAICredential
    from agentscope.embedding import OpenAIEmbeddingModel
    from agentscope.message import TextBlock
    from agentscope.rag import Chunk, KnowledgeBase

    from opentelemetry.instrumentation.agents.testing.agentscope.embedding import (
        MemoryVectorStore,
    )

    with EmbeddingServer() as server:
        model = OpenAIEmbeddingModel(
            credential=OpenAICredential(api_key="test", base_url=server.base_url),
            model="text-embedding-3-small", dimensions=3, pass_dimensions=False)
        kb = KnowledgeBase(name="handbook", description="The staff handbook.",
                           embedding_model=model, vector_store=MemoryVectorStore(),
                           collection="handbook")
        texts = ("PTO is 25 days.", "Lunch is at noon.")
        await kb.insert_document(
            [Chunk(content=TextBlock(text=t), source="handbook.md", chunk_index=i,
                   total_chunks=len(texts)) for i, t in enumerate(texts)], document_id="d1")
        assert len(await kb.search(["PTO?"], top_k=1)) == 1
        return server.requests


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", PROVIDERS)
async def test_retrieval_with_its_embedding_call(name, order, stack, exporter, metric_reader):
    """The search's embedding request is ours, under our retrieval span."""
    factory, _ = PROVIDERS[name]
    stack(_ours(), [factory()], ours_first=ORDERS[order])
    assert await _search_knowledge() == 2

    assert scopes(embedding_spans(exporter)) == [OURS, OURS]
    assert token_sums(metric_reader) == {"input": 2 * EMBEDDING_TOKENS}
    (retrieval,) = [s for s in exporter.get_finished_spans() if s.name == "retrieval handbook"]
    assert [s.name for s in exporter.get_finished_spans()
            if s.parent is not None and s.parent.span_id == retrieval.context.span_id] == [
        "embeddings text-embedding-3-small"]
