"""The one place that decides what a span looks like.

Adapters say *where* a runtime's agent, round, model and tool calls are and
hand over plain values (names, ids, token counts); the handler turns them into
spans, attributes and metrics following the GenAI semantic conventions. Every
public method here is safe to call from a wrapper: it logs its own failures
and returns ``None`` (or does nothing) instead of raising.

Each operation lives in a module of its own under `_operations`; this class
only puts them together, so a new operation is a new module and one line here.
"""

from __future__ import annotations

from ._operations._base import DURATION_BUCKETS, TOKEN_BUCKETS
from ._operations.agent import AgentOperations
from ._operations.chat import ChatOperations
from ._operations.compression import CompressionOperations
from ._operations.embeddings import EmbeddingsOperations
from ._operations.guardrail import GuardrailOperations
from ._operations.hitl import HitlOperations
from ._operations.mcp import MCPOperations
from ._operations.messaging import MessagingOperations
from ._operations.rate_limit import RateLimitOperations
from ._operations.remote import RemoteAgentOperations
from ._operations.retrieval import RetrievalOperations
from ._operations.runtime_attributes import RuntimeAttributeOperations
from ._operations.schedule import ScheduleOperations
from ._operations.tool import ToolOperations
from ._operations.workflow import WorkflowOperations

__all__ = ["DURATION_BUCKETS", "TOKEN_BUCKETS", "TelemetryHandler"]


class TelemetryHandler(AgentOperations, HitlOperations, CompressionOperations,
                       EmbeddingsOperations, RetrievalOperations, ChatOperations,
                       ToolOperations, WorkflowOperations, MCPOperations,
                       RemoteAgentOperations, GuardrailOperations, MessagingOperations,
                       ScheduleOperations, RateLimitOperations,
                       RuntimeAttributeOperations):
    """Creates and ends the spans (and records the metrics) of one runtime."""
