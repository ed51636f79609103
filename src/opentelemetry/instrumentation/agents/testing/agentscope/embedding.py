"""A scripted AgentScope 2.x embedding model and an in-memory vector store.

`ScriptedEmbeddingModel` is a real `agentscope.embedding.EmbeddingModelBase`
subclass: AgentScope's own batching, retry and merging run as in production;
only the provider API call is replaced by a deterministic function of the
text (the same text always gives the same vector), so nothing leaves the
process. Given an `EmbeddingCacheBase` (say AgentScope's `FileEmbeddingCache`
in a temporary directory) it consults the cache as AgentScope's own models
do, and answers a repeated request from it.

`MemoryVectorStore` is a real `agentscope.rag.VectorStoreBase` subclass that
keeps its collections in a dict and ranks by cosine similarity, so a
`KnowledgeBase` can run end to end offline.
"""

from __future__ import annotations

from typing import Any

from agentscope.credential import CredentialBase
from agentscope.embedding import (
    EmbeddingCacheBase,
    EmbeddingModelBase,
    EmbeddingResponse,
    EmbeddingUsage,
)
from agentscope.rag import VectorStoreBase

from .vectors import embed, vector_for

__all__ = ["MemoryVectorStore", "ScriptedEmbeddingModel", "vector_for"]


class ScriptedEmbeddingModel(EmbeddingModelBase):
    """An AgentScope embedding model that computes vectors instead of calling an API.

    `calls` counts the batches that reached the "API" (cache hits excluded);
    each input costs `tokens_per_input` tokens.
    """

    def __init__(self, *, model: str = "scripted-embedding", dimensions: int = 8,
                 batch_size: int = 16, tokens_per_input: int = 3,
                 embedding_cache: EmbeddingCacheBase | None = None,
                 delay: float = 0.0, error: BaseException | None = None) -> None:
        super().__init__(credential=CredentialBase(), model=model, dimensions=dimensions,
                         parameters=None, context_size=8192, batch_size=batch_size,
                         max_retries=0, retry_delay=0.0)
        self.embedding_cache = embedding_cache
        self.tokens_per_input = tokens_per_input
        self.delay = delay
        self.error = error
        self.calls = 0

    async def _call_api(self, inputs: list[Any], **kwargs: Any) -> EmbeddingResponse:
        texts = [item if isinstance(item, str) else str(item) for item in inputs]
        return await embed(self, self.model, texts, EmbeddingResponse, EmbeddingUsage)


class MemoryVectorStore(VectorStoreBase):
    """Collections in a dict; search ranks by cosine similarity (vectors are unit length)."""

    def __init__(self) -> None:
        self.collections: dict[str, list[Any]] = {}

    async def create_collection(self, name: str, dimensions: int, **kwargs: Any) -> None:
        self.collections.setdefault(name, [])

    async def delete_collection(self, name: str) -> None:
        self.collections.pop(name, None)

    async def has_collection(self, name: str) -> bool:
        return name in self.collections

    async def insert(self, collection: str, records: list[Any], **kwargs: Any) -> None:
        self.collections.setdefault(collection, []).extend(records)

    async def delete(self, collection: str, document_id: str, **kwargs: Any) -> None:
        self.collections[collection] = [
            r for r in self.collections.get(collection, []) if r.document_id != document_id]

    async def search(self, collection: str, query_vector: list[float], top_k: int,
                     metadata_filter: dict | None = None, **kwargs: Any) -> list[Any]:
        from agentscope.rag import VectorSearchResult

        scored = []
        for record in self.collections.get(collection, []):
            if metadata_filter and any(record.chunk.metadata.get(k) != v
                                       for k, v in metadata_filter.items()):
                continue
            score = sum(a * b for a, b in zip(query_vector, record.vector, strict=False))
            scored.append(VectorSearchResult(score=score, document_id=record.document_id,
                                             chunk=record.chunk))
        scored.sort(key=lambda result: result.score, reverse=True)
        return scored[:top_k]

    async def list_documents(self, collection: str, **kwargs: Any) -> list[Any]:
        return []

    async def list_chunks(self, collection: str, document_id: str, **kwargs: Any) -> list[Any]:
        return []
