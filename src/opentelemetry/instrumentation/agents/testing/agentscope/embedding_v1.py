"""A scripted AgentScope 1.x embedding model and an in-memory vector store.

The 1.x twins of `agentscope_embedding`: `ScriptedTextEmbedding` is a real
`agentscope.embedding.EmbeddingModelBase` subclass answering deterministic
vectors (consulting an `EmbeddingCacheBase` when given one, as AgentScope's
own models do); `MemoryStore` is a real `agentscope.rag.VDBStoreBase` that
ranks by cosine similarity, so a `SimpleKnowledge` runs offline.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agentscope.embedding import (
    EmbeddingCacheBase,
    EmbeddingModelBase,
    EmbeddingResponse,
    EmbeddingUsage,
)
from agentscope.rag import VDBStoreBase

from .vectors import vector_for

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
        identifier = {"model": self.model_name, "dimensions": self.dimensions, "input": texts}
        if self.embedding_cache is not None:
            cached = await self.embedding_cache.retrieve(identifier=identifier)
            if cached:
                return EmbeddingResponse(embeddings=cached,
                                         usage=EmbeddingUsage(tokens=0, time=0),
                                         source="cache")
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        self.calls += 1
        embeddings = [vector_for(t, self.dimensions) for t in texts]
        if self.embedding_cache is not None:
            await self.embedding_cache.store(identifier=identifier, embeddings=embeddings)
        return EmbeddingResponse(
            embeddings=embeddings,
            usage=EmbeddingUsage(tokens=self.tokens_per_input * len(texts), time=0.0))


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
