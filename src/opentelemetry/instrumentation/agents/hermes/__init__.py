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

from types import ModuleType

from .._handler import TelemetryHandler
from .._instrumentor import RuntimeInstrumentor
from .._patching import Patcher
from ..package import HERMES_AGENT
from ._agent import ChildHandoff, build_child_wrapper, new_turn_wrapper, run_conversation_wrapper
from ._model import (
    max_iterations_wrapper,
    model_call_wrapper,
    normalize_response_wrapper,
    touch_activity_wrapper,
)
from ._threads import ThreadHandoff
from ._tools import function_call_args, middleware_args, sanitize_error_wrapper, tool_wrapper

__all__ = ["HermesAgentInstrumentor"]

# The transports Hermes hands the summary call's raw response to.
_TRANSPORTS = {
    "agent.transports.chat_completions": "ChatCompletionsTransport",
    "agent.transports.anthropic": "AnthropicTransport",
    "agent.transports.codex": "ResponsesApiTransport",
}


class HermesAgentInstrumentor(RuntimeInstrumentor):
    """Traces Hermes Agent conversations, model calls and tool calls."""

    runtime = "hermes"
    requirements = (HERMES_AGENT,)

    def _install(self, patcher: Patcher, handler: TelemetryHandler) -> None:
        threads = self._threads = ThreadHandoff()
        handoff = self._children = ChildHandoff()

        def run_agent(module: ModuleType) -> None:
            patcher.wrap(module, "AIAgent.run_conversation",
                         run_conversation_wrapper(handler, handoff))
            patcher.wrap(module, "AIAgent._interruptible_streaming_api_call",
                         model_call_wrapper(handler, stream=True))
            patcher.wrap(module, "AIAgent._interruptible_api_call",
                         model_call_wrapper(handler, stream=False))
            patcher.wrap(module, "AIAgent._touch_activity", touch_activity_wrapper(handler))
            patcher.wrap(module, "AIAgent._handle_max_iterations",
                         max_iterations_wrapper(handler))
            patcher.wrap(module, "AIAgent._invoke_tool", tool_wrapper(handler, function_call_args))
            patcher.wrap(module, "handle_function_call", tool_wrapper(handler, function_call_args))

        def tool_executor(module: ModuleType) -> None:
            patcher.wrap(module, "_run_agent_tool_execution_middleware",
                         tool_wrapper(handler, middleware_args, returns_pair=True))

        def transport(class_name: str):
            def apply(module: ModuleType) -> None:
                patcher.wrap(module, f"{class_name}.normalize_response",
                             normalize_response_wrapper)
            return apply

        patcher.on_import("run_agent", run_agent)
        patcher.on_import("agent.tool_executor", tool_executor)
        patcher.on_import("agent.chat_completion_helpers", threads.install)
        patcher.on_import("tools.checkpoint_manager", lambda module: patcher.wrap(
            module, "CheckpointManager.new_turn", new_turn_wrapper))
        patcher.on_import("tools.delegate_tool", lambda module: patcher.wrap(
            module, "_build_child_agent", build_child_wrapper(handler, handoff)))
        patcher.on_import("model_tools", lambda module: patcher.wrap(
            module, "_sanitize_tool_error", sanitize_error_wrapper))
        for module_name, class_name in _TRANSPORTS.items():
            patcher.on_import(module_name, transport(class_name))

    def _remove(self) -> None:
        threads = getattr(self, "_threads", None)
        if threads is not None:
            threads.remove()
        children = getattr(self, "_children", None)
        if children is not None:
            children.clear()
