"""Instrumentation for PraisonAI Agents (https://github.com/MervinPraison/PraisonAI).

Usage::

    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    PraisonAIInstrumentor().instrument()

Traces `Agent.chat` / `achat` (and so `run`, `start`, `arun`, `astart`),
`start(stream=True)`, the OpenAI-native tool loop's model and tool calls,
the LiteLLM-based `LLM` class's model calls (chat completions and the
Responses API),
`AgentTeam.start` / `astart` (every process), `AgentFlow.run` (the
workflow API: `Workflow`, `Pipeline`), guardrail checks of agents and tasks,
`Knowledge.search`, `FileMemory.search` and `LiteAgent.chat`; MCP tools
(`praisonaiagents.mcp.MCP`) hand the tool call's context to the thread or
loop that sends the MCP request (the MCP spans come from `MCPInstrumentor`);
agents and teams served with `launch()` continue an incoming W3C context.
Each module is patched
when the application imports it; PraisonAI loads its modules lazily, on first
use of a name such as `praisonaiagents.Agent`.
"""

from __future__ import annotations

from .._handler import TelemetryHandler
from .._instrumentor import RuntimeInstrumentor
from .._patching import Patcher
from ..package import PRAISONAI_AGENTS

__all__ = ["PraisonAIInstrumentor"]


class PraisonAIInstrumentor(RuntimeInstrumentor):
    """Traces PraisonAI agents, teams, workflows, model calls, tool calls,
    guardrail checks and knowledge searches."""

    runtime = "praisonai"
    requirements = (PRAISONAI_AGENTS,)

    def _install(self, patcher: Patcher, handler: TelemetryHandler) -> None:
        # Imported here: patching starts only when instrumenting.
        from . import (
            _agents,
            _approvals,
            _auto,
            _flows,
            _guardrails,
            _handoffs,
            _knowledge,
            _launch,
            _lite,
            _litellm,
            _mcp,
            _memory,
            _models,
            _persistence,
            _rate_limit,
            _responses,
            _schedule,
            _teams,
            _tools,
            _tty,
        )

        # Each concern registers its own patches, for the modules it cares about.
        for concern in (_agents, _tty, _tools, _models, _litellm, _responses, _teams, _lite,
                        _flows, _guardrails, _knowledge, _memory, _launch, _schedule,
                        _rate_limit, _persistence, _auto, _approvals,
                        _handoffs):
            concern.install(patcher, handler)
        _mcp.install(patcher)

    def _remove(self) -> None:
        from . import _lite, _tty

        _tty.clear()
        _lite.remove()
