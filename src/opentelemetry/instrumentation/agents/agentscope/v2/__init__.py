"""AgentScope 2.x (`agentscope.agent.Agent`), one module per concern.

Each module's `install` registers class-level patches for the modules it
cares about; nothing is added to agents, so nothing needs undoing on them.
AgentScope's own opt-in `TracingMiddleware` turns into a pass-through while
this instrumentation is active (`tracing`); for agents that have it, with
AgentScope's tracing configured, our spans carry its attribute names (`native`).
"""

from __future__ import annotations

from ..._handler import TelemetryHandler
from ..._patching import Patcher
from . import a2a, agent, bus, compression, mcp, model, pipelines, rag, tool, tracing


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    """Register every 2.x patch (in the order they have always been registered)."""
    agent.install(patcher, handler)
    model.install(patcher, handler)
    tool.install(patcher, handler)
    tracing.install(patcher)
    mcp.install(patcher)
    a2a.install(patcher, handler)
    rag.install(patcher, handler)
    pipelines.install(patcher, handler)
    compression.install(patcher, handler)
    bus.install(patcher, handler)
