"""Embeddings and knowledge retrieval on AgentScope 1.x: a scripted embedding
model (a real EmbeddingModelBase), a real FileEmbeddingCache, a real
SimpleKnowledge over an in-memory store, and a ReActAgent that retrieves."""

from __future__ import annotations

import json

import pytest
from agentscope.embedding import FileEmbeddingCache
from agentscope.message import TextBlock
from agentscope.rag import DocMetadata, Document, SimpleKnowledge
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.embedding_v1 import (
    MemoryStore,
    ScriptedTextEmbedding,
)
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    say,
)

from .support import make_agent, user

TEXTS = ("PTO is 25 days.", "Lunch is at noon.", "Badges open every door.")


async def _knowledge(model: ScriptedTextEmbedding) -> SimpleKnowledge:
    kb = SimpleKnowledge(embedding_store=MemoryStore("handbook"), embedding_model=model)
    await kb.add_documents([
        Document(metadata=DocMetadata(content=TextBlock(type="text", text=text),
                                      doc_id="doc1", chunk_id=i, total_chunks=len(TEXTS)),
                 id=f"doc1-{i}")
        for i, text in enumerate(TEXTS)])
    return kb


async def test_embeddings_span(instrumented, exporter, detector):
    model = ScriptedTextEmbedding(dimensions=6, tokens_per_input=2)

    await model([TextBlock(type="text", text="one"), "two"])

    tree = assert_tree(exporter.get_finished_spans(), """
        embeddings scripted-embedding {gen_ai.operation.name=embeddings, gen_ai.request.model=scripted-embedding, gen_ai.embeddings.dimension.count=6, gen_ai.usage.input_tokens=4, agents.embeddings.input_count=2, agents.embeddings.cache_hit=false}
    """)
    assert tree.span.kind is SpanKind.CLIENT
    detector.assert_all_ended()


async def test_embedding_cache_hit_is_visible(instrumented, exporter, tmp_path):
    model = ScriptedTextEmbedding(
        embedding_cache=FileEmbeddingCache(cache_dir=str(tmp_path / "cache")))

    await model(["hello"])
    await model(["hello"])

    assert model.calls == 1
    spans = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time)
    assert [s.attributes["agents.embeddings.cache_hit"] for s in spans] == [False, True]


async def test_failed_embedding_call(instrumented, exporter):
    with pytest.raises(TimeoutError):
        await ScriptedTextEmbedding(error=TimeoutError("slow"))(["x"])

    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "TimeoutError"


async def test_retrieval_with_its_embedding_call(instrumented, exporter, detector):
    kb = await _knowledge(ScriptedTextEmbedding())
    exporter.clear()

    docs = await kb.retrieve("Lunch is at noon.", limit=2)

    assert len(docs) == 2 and docs[0].id == "doc1-1"
    tree = assert_tree(exporter.get_finished_spans(), """
        retrieval handbook {gen_ai.operation.name=retrieval, gen_ai.data_source.id=handbook, gen_ai.request.top_k=2, agents.retrieval.documents.count=2}
          embeddings scripted-embedding {gen_ai.operation.name=embeddings}
    """)
    assert "gen_ai.retrieval.query.text" not in tree.span.attributes
    detector.assert_all_ended()


async def test_retrieval_content_under_capture(provider, exporter, monkeypatch):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
    from tests.runtimes import instrumented_with

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    with instrumented_with(AgentScopeInstrumentor, provider):
        kb = await _knowledge(ScriptedTextEmbedding())
        exporter.clear()
        await kb.retrieve("Badges open every door.", limit=1)

    (span,) = [s for s in exporter.get_finished_spans() if s.name == "retrieval handbook"]
    assert span.attributes["gen_ai.retrieval.query.text"] == "Badges open every door."
    (doc,) = json.loads(span.attributes["gen_ai.retrieval.documents"])
    assert doc["id"] == "doc1-2" and doc["content"] == "Badges open every door."


async def test_agent_retrieves_before_reasoning(instrumented, exporter, detector):
    kb = await _knowledge(ScriptedTextEmbedding())
    exporter.clear()
    agent = make_agent(ScriptedChatModel([say("25 days.")]))
    agent.knowledge = [kb]
    agent.enable_rewrite_query = False

    await agent(user("How much PTO?"))

    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper
          retrieval handbook
            embeddings scripted-embedding
          react step {gen_ai.react.round=1}
            chat scripted-model
    """)
    detector.assert_all_ended()


_EMBEDDING_TRACING_SCRIPT = """
import asyncio, json
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

import agentscope
from agentscope.tracing import trace_embedding

agentscope._config.trace_enabled = True  # what agentscope.init(tracing_url=...) turns on

from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
from opentelemetry.instrumentation.agents.testing.agentscope.embedding_v1 import (
    ScriptedTextEmbedding)


class Traced(ScriptedTextEmbedding):
    # As AgentScope's own embedding models are.
    @trace_embedding
    async def __call__(self, text, **kwargs):
        return await super().__call__(text, **kwargs)


def run():
    exporter.clear()
    asyncio.run(Traced()(["hello"]))
    return sorted([s.name, s.instrumentation_scope.name] for s in exporter.get_finished_spans())


theirs = run()
AgentScopeInstrumentor().instrument()
ours = run()
AgentScopeInstrumentor().uninstrument()
print(json.dumps({"theirs": theirs, "ours": ours}))
"""


def test_agentscope_embedding_tracing_adds_no_duplicate(tmp_path):
    import os
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _EMBEDDING_TRACING_SCRIPT],
                         capture_output=True, text=True, timeout=120, cwd=root,
                         env={**os.environ, "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    runs = json.loads(out.stdout.strip().splitlines()[-1])
    assert [scope for _, scope in runs["theirs"]] == ["agentscope"]
    assert runs["ours"] == [["embeddings scripted-embedding",
                             "opentelemetry.instrumentation.agents"]]
