"""The deterministic vectors both scripted AgentScope embedding models give.

It imports no runtime, so the 1.x and 2.x kits share it.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from typing import Any

__all__ = ["embed", "vector_for"]


def vector_for(text: str, dimensions: int) -> list[float]:
    """The unit vector the scripted model gives `text` (a hash, spread out)."""
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend(byte / 255.0 - 0.5 for byte in digest)
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


async def embed(model: Any, name: str, texts: list[str], response: type, usage: type) -> Any:
    """What both scripted models' "API" answers: from `model`'s cache when it has
    the request, else computed vectors (after its delay, or its error).

    `response` and `usage` are the running line's EmbeddingResponse and
    EmbeddingUsage classes (1.x and 2.x each have their own)."""
    identifier = {"model": name, "dimensions": model.dimensions, "input": texts}
    cache = model.embedding_cache
    if cache is not None:
        cached = await cache.retrieve(identifier=identifier)
        if cached:
            return response(embeddings=cached, usage=usage(tokens=0, time=0), source="cache")
    if model.delay:
        await asyncio.sleep(model.delay)
    if model.error is not None:
        raise model.error
    model.calls += 1
    embeddings = [vector_for(text, model.dimensions) for text in texts]
    if cache is not None:
        await cache.store(identifier=identifier, embeddings=embeddings)
    return response(embeddings=embeddings,
                    usage=usage(tokens=model.tokens_per_input * len(texts), time=0.0))
