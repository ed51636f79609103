"""A scripted AgentScope 1.x embedding model and an in-memory vector store.

The 1.x twins of `agentscope_embedding`: `ScriptedTextEmbedding` is a real
`agentscope.embedding.EmbeddingModelBase` subclass answering deterministic
vectors (consulting an `EmbeddingCacheBase` when given one, as AgentScope's
own models do); `MemoryStore` is a real `agentscope.rag.VDBStoreBase` that
ranks by cosine similarity, so a `SimpleKnowledge` runs offline.
"""

from __future__ import annotations

from typing import Any

from agentscope.embedding import (
    EmbeddingCacheBase,
    EmbeddingModelBase,
    EmbeddingResponse,
    EmbeddingUsage,
)
from agentscope.rag import VDBStoreBase

from .vectors import embed, vector_for

__all__ = ["MemoryStore", "ScriptedTextEmbedding", "vector_for"]


class ScriptedTextEmbedding(EmbeddingModelBase):
    """An AgentScope 1.x text embedding model that computes vectors instead of calling an API."""

    supported_modalities = ["text"]

    def __init__(self, *, model_name: str = "scripted-embedding", dimensions: int = 8,
                 tokens_per_input: int = 3, embedding_cache: EmbeddingCacheBase | None = None,
                 delay: float = 0.0, error: BaseException | None = None) -> None:
        super().__init__(model_name=model_name, dimensions=dimensions)
        self.embedding_cache = embedding_cache
        self.tokens_per_input = tokens_per_input
        self.delay = delay
        self.error = error
        self.calls = 0

    async def __call__(self, text: list[Any], **kwargs: Any) -> EmbeddingResponse:
        texts = [item["text"] if isinstance(item, dict) else str(item) for item in text]
        return await embed(self, self.model_name, texts, EmbeddingResponse, EmbeddingUsage)


class MemoryStore(VDBStoreBase):
    """Documents in a list; search ranks by cosine similarity (vectors are unit length)."""

    def __init__(self, collection_name: str = "memory") -> None:
        self.collection_name = collection_name
        self.documents: list[Any] = []

    async def add(self, documents: list[Any], **kwargs: Any) -> None:
        self.documents.extend(documents)

    async def delete(self, *args: Any, **kwargs: Any) -> None:
        self.documents.clear()

    async def search(self, query_embedding: list[float], limit: int,
                     score_threshold: float | None = None, **kwargs: Any) -> list[Any]:
        from dataclasses import replace

        scored = []
        for doc in self.documents:
            score = sum(a * b for a, b in zip(query_embedding, doc.embedding, strict=False))
            if score_threshold is None or score >= score_threshold:
                scored.append(replace(doc, score=score))
        scored.sort(key=lambda doc: doc.score, reverse=True)
        return scored[:limit]
