"""What the scripted server's endpoint tests share."""

from __future__ import annotations

# A first-chunk delay long enough to tell from a slow request on a loaded machine.
FIRST_CHUNK_DELAY = 1.0


def assert_first_chunk_held_back(headers_at: float, first_at: float) -> None:
    """The headers came at once and the first chunk `FIRST_CHUNK_DELAY` later.

    Measured as the gap between them, not against a clock: a loaded machine
    may be slow to send the request, never to hold back a chunk it already has.
    """
    assert first_at >= FIRST_CHUNK_DELAY
    assert first_at - headers_at >= FIRST_CHUNK_DELAY / 2
