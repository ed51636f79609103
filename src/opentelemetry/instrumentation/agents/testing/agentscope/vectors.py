"""The deterministic vectors both scripted AgentScope embedding models give.

It imports no runtime, so the 1.x and 2.x kits share it.
"""

from __future__ import annotations

import hashlib
import math

__all__ = ["vector_for"]


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
