"""Embeddings and knowledge-base retrieval on AgentScope 2.x: a scripted
embedding model (a real EmbeddingModelBase), a real FileEmbeddingCache and a
real KnowledgeBase over an in-memory vector store."""

from __future__ import annotations

import json

import pytest
from agentscope.embedding import FileEmbeddingCache
from agentscope.message import TextBlock
from agentscope.rag import Chunk, KnowledgeBase
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.embedding import (
    MemoryVectorStore,
    ScriptedEmbeddingModel,
)
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)

from .support import make_agent, user


def _chunks(*texts: str) -> list[Chunk]:
    return [Chunk(content=TextBlock(text=text), source="handbook.md", chunk_index=i,
                  total_chunks=len(texts)) for i, text in enumerate(texts)]


async def _knowledge(model: ScriptedEmbeddingModel) -> KnowledgeBase:
    kb = KnowledgeBase(name="handbook", description="The staff handbook.",
                       embedding_model=model, vector_store=MemoryVectorStore(),
                       collection="handbook")
    await kb.insert_document(_chunks("PTO is 25 days.", "Lunch is at noon.",
                                     "Badges open every door."), document_id="doc1")
    return kb


async def test_embeddings_span(instrumented, exporter, detector):
    model = ScriptedEmbeddingModel(dimensions=12, tokens_per_input=4)

    response = await model(["one", TextBlock(text="two"), "three"])

    assert len(response.embeddings) == 3
    tree = assert_tree(exporter.get_finished_spans(), """
        embeddings scripted-embedding {gen_ai.operation.name=embeddings, gen_ai.request.model=scripted-embedding, gen_ai.embeddings.dimension.count=12, gen_ai.usage.input_tokens=12, agents.embeddings.input_count=3, agents.embeddings.cache_hit=false}
    """)
    assert tree.span.kind is SpanKind.CLIENT
    detector.assert_all_ended()


async def test_batched_embeddings_are_one_span(instrumented, exporter):
    model = ScriptedEmbeddingModel(batch_size=2, tokens_per_input=1)

    await model(["a", "b", "c", "d", "e"])

    assert model.calls == 3  # AgentScope split the call into three batches
    assert_tree(exporter.get_finished_spans(), """
        embeddings scripted-embedding {gen_ai.usage.input_tokens=5, agents.embeddings.input_count=5}
    """)


async def test_embedding_cache_hit_is_visible(instrumented, exporter, tmp_path):
    model = ScriptedEmbeddingModel(
        embedding_cache=FileEmbeddingCache(cache_dir=str(tmp_path / "cache")))

    first = await model(["hello", "world"])
    second = await model(["hello", "world"])

    assert model.calls == 1 and second.source == "cache"
    assert second.embeddings == first.embeddings
    spans = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time)
    assert [s.name for s in spans] == ["embeddings scripted-embedding"] * 2
    assert spans[0].attributes["agents.embeddings.cache_hit"] is False
    assert spans[0].attributes["gen_ai.usage.input_tokens"] == 6
    assert spans[1].attributes["agents.embeddings.cache_hit"] is True
    assert spans[1].attributes["gen_ai.usage.input_tokens"] == 0


async def test_failed_embedding_call(instrumented, exporter, detector):
    model = ScriptedEmbeddingModel(error=ConnectionError("embedding API down"))

    with pytest.raises(ConnectionError):
        await model(["x"])

    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "ConnectionError"
    detector.assert_all_ended()


async def test_embedding_metrics(metered, exporter, metric_reader):
    model = ScriptedEmbeddingModel(tokens_per_input=2)
    await model(["a", "b"])

    points = {}
    for rm in metric_reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for point in metric.data.data_points:
                    if point.attributes.get("gen_ai.operation.name") == "embeddings":
                        points.setdefault(metric.name, []).append(point)
    (tokens,) = points["gen_ai.client.token.usage"]
    assert tokens.sum == 4 and tokens.attributes["gen_ai.token.type"] == "input"
    assert tokens.attributes["gen_ai.request.model"] == "scripted-embedding"
    (duration,) = points["gen_ai.client.operation.duration"]
    assert duration.count == 1


async def test_retrieval_with_its_embedding_call(instrumented, exporter, detector):
    model = ScriptedEmbeddingModel()
    kb = await _knowledge(model)
    exporter.clear()

    results = await kb.search(["PTO is 25 days."], top_k=2)

    assert len(results) == 2 and results[0].chunk.content.text == "PTO is 25 days."
    tree = assert_tree(exporter.get_finished_spans(), """
        retrieval handbook {gen_ai.operation.name=retrieval, gen_ai.data_source.id=handbook, gen_ai.request.top_k=2, agents.retrieval.documents.count=2}
          embeddings scripted-embedding {gen_ai.operation.name=embeddings, agents.embeddings.input_count=1}
    """)
    assert tree.span.kind is SpanKind.CLIENT
    # No query text and no documents without content capture.
    assert "gen_ai.retrieval.query.text" not in tree.span.attributes
    assert "gen_ai.retrieval.documents" not in tree.span.attributes
    detector.assert_all_ended()


async def test_retrieval_content_under_capture(capturing, exporter):
    kb = await _knowledge(ScriptedEmbeddingModel())
    exporter.clear()

    await kb.search([TextBlock(text="Lunch is at noon.")], top_k=1)

    (retrieval,) = [s for s in exporter.get_finished_spans() if s.name == "retrieval handbook"]
    assert retrieval.attributes["gen_ai.retrieval.query.text"] == "Lunch is at noon."
    (document,) = json.loads(retrieval.attributes["gen_ai.retrieval.documents"])
    assert document["id"] == "doc1#1"
    assert document["content"] == "Lunch is at noon."
    assert document["score"] == pytest.approx(1.0)


async def test_retrieval_inside_an_agent_tool(instrumented, exporter, detector):
    kb = await _knowledge(ScriptedEmbeddingModel())
    exporter.clear()

    async def search_handbook(query: str) -> str:
        """Search the handbook.

        Args:
            query: What to look for.
        """
        hits = await kb.search([query], top_k=1)
        return hits[0].chunk.content.text

    model = ScriptedChatModel([call_tools(("search_handbook", {"query": "badges"})),
                               say("Badges open every door.")])
    agent = make_agent(model, [search_handbook])

    await agent.reply(user("what do badges do?"))

    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper
          react step {gen_ai.react.round=1}
            chat scripted-model
            execute_tool search_handbook
              retrieval handbook {agents.retrieval.documents.count=1}
                embeddings scripted-embedding
          react step {gen_ai.react.round=2}
            chat scripted-model
    """, ordered=True)
    detector.assert_all_ended()
