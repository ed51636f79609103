"""Instrumentation for Hermes Agent (https://github.com/NousResearch/hermes-agent).

Usage::

    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    HermesAgentInstrumentor().instrument()

Every ``AIAgent.run_conversation`` (and so ``AIAgent.chat``) becomes an
``invoke_agent hermes`` span with one ``react step`` per iteration of Hermes's
loop, a ``chat {model}`` span per model call (streaming or not, and the
summary call made when the iteration limit is hit) and an
``execute_tool {tool}`` span per tool call, sequential or parallel.

Hermes agents have no name: ``gen_ai.agent.name`` is ``hermes`` for an agent
the application runs, ``hermes-<role>`` (``hermes-leaf``,
``hermes-orchestrator``) with ``gen_ai.agent.id`` = the sub-agent id for one
started by ``delegate_task``, and ``hermes-review`` for the background
memory/skill review. ``gen_ai.conversation.id`` is the agent's session id.
Model calls Hermes makes outside the conversation loop through its auxiliary
client (context compression, session titles) are not traced.

Hermes installs generic top-level modules (``run_agent``, ``agent``,
``tools``, ``model_tools``); nothing here imports them. Patches wait for the
application's own import, and only once the ``hermes-agent`` distribution
has been found installed.
"""

from __future__ import annotations

from .._handler import TelemetryHandler
from .._instrumentor import RuntimeInstrumentor
from .._patching import Patcher
from ..package import HERMES_AGENT

__all__ = ["HermesAgentInstrumentor"]


class HermesAgentInstrumentor(RuntimeInstrumentor):
    """Traces Hermes Agent conversations, model calls and tool calls."""

    runtime = "hermes"
    requirements = (HERMES_AGENT,)

    def _install(self, patcher: Patcher, handler: TelemetryHandler) -> None:
        from . import _agent, _model, _threads, _tools

        self._threads = _threads.install(patcher)
        self._children = _agent.install(patcher, handler)
        _model.install(patcher, handler)
        _tools.install(patcher, handler)

    def _remove(self) -> None:
        threads = getattr(self, "_threads", None)
        if threads is not None:
            threads.remove()
        children = getattr(self, "_children", None)
        if children is not None:
            children.clear()
