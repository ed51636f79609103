"""Context compression: an agent summarizing (or truncating) its own context.

The summary model call itself is a `chat` span marked as a compression call
(`start_chat(compression=True)`); this records on the agent span that the
invocation compressed its context, and how many times.
"""

from __future__ import annotations

from .. import attributes as A
from .._invocations import AgentInvocation
from .._safety import report
from ._base import HandlerBase


class CompressionOperations(HandlerBase):
    """Context compressions of an agent invocation."""

    def note_compression(self, frame: AgentInvocation) -> None:
        """`frame`'s invocation compressed its context once more."""
        try:
            self._count_on(frame, A.AGENT_COMPRESSIONS)
        except Exception:  # noqa: BLE001
            report("note_compression")
