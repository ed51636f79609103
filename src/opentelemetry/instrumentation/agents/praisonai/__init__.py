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

from types import ModuleType

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
        from . import (
            _agents,
            _flows,
            _guardrails,
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

        self._lite_class: type | None = None

        def chat_mixin(module: ModuleType) -> None:
            patcher.wrap(module, "ChatMixin.chat", _agents.chat_wrapper(handler))
            patcher.wrap(module, "ChatMixin.achat", _agents.achat_wrapper(handler))
            patcher.wrap(module, "ChatMixin._start_stream",
                         _agents.start_stream_wrapper(handler))

        def execution_mixin(module: ModuleType) -> None:
            patcher.wrap(module, "ExecutionMixin.start", _tty.start_wrapper)
            patcher.wrap(module, "ExecutionMixin.execute_tool_async",
                         _tools.execute_tool_async_wrapper(handler))

        def tool_execution(module: ModuleType) -> None:
            patcher.wrap(module, "ToolExecutionMixin.execute_tool",
                         _tools.execute_tool_wrapper(handler))

        def openai_client(module: ModuleType) -> None:
            for name, is_async in (("acreate_completion", True), ("create_completion", False)):
                patcher.wrap(module, f"OpenAIClient.{name}",
                             _models.completion_wrapper(handler, is_async))
            for name, is_async in (("process_stream_response_async", True),
                                   ("process_stream_response", False)):
                patcher.wrap(module, f"OpenAIClient.{name}",
                             _models.stream_processor_wrapper(handler, is_async))
            for name in ("achat_completion_with_tools", "chat_completion_with_tools"):
                patcher.wrap(module, f"OpenAIClient.{name}", _models.loop_wrapper)

        def litellm_path(module: ModuleType) -> None:
            patcher.wrap(module, "LLM._completion_with_retry",
                         _litellm.completion_wrapper(handler))
            patcher.wrap(module, "LLM._acompletion_with_retry",
                         _litellm.acompletion_wrapper(handler))
            # Models PraisonAI sends to the Responses API (`gpt-4o*`, `o*`).
            patcher.wrap(module, "LLM._call_responses_api", _responses.call_wrapper(handler))
            patcher.wrap(module, "LLM._call_responses_api_async",
                         _responses.acall_wrapper(handler))
            patcher.wrap(module, "LLM._stream_responses_api", _responses.stream_wrapper(handler))
            patcher.wrap(module, "LLM._stream_responses_api_async",
                         _responses.astream_wrapper(handler))

        def litellm_module(module: ModuleType) -> None:
            # Only to time a streamed Responses call's events (see `_responses`).
            patcher.wrap(module, "responses", _responses.litellm_responses_wrapper)
            patcher.wrap(module, "aresponses", _responses.litellm_aresponses_wrapper)

        def openai_sdk(module: ModuleType) -> None:
            patcher.wrap(module, "Completions.create", _models.sdk_create_wrapper(handler, False))
            patcher.wrap(module, "AsyncCompletions.create",
                         _models.sdk_create_wrapper(handler, True))

        def teams(module: ModuleType) -> None:
            patcher.wrap(module, "AgentTeam.start", _teams.start_wrapper(handler))
            patcher.wrap(module, "AgentTeam.astart", _teams.astart_wrapper(handler))

        def flows(module: ModuleType) -> None:
            patcher.wrap(module, "AgentFlow.run", _flows.run_wrapper(handler))
            patcher.wrap(module, "AgentFlow._normalize_single_step",
                         _flows.normalize_wrapper(handler))

        def agent_guardrails(module: ModuleType) -> None:
            patcher.wrap(module, "Agent._process_guardrail",
                         _guardrails.agent_check_wrapper(handler))
            patcher.wrap(module, "Agent._record_guardrail_retry",
                         _guardrails.retry_wrapper(handler))

        def task_guardrails(module: ModuleType) -> None:
            patcher.wrap(module, "Task._process_guardrail",
                         _guardrails.task_check_wrapper(handler))

        def knowledge(module: ModuleType) -> None:
            patcher.wrap(module, "Knowledge.search", _knowledge.search_wrapper(handler))

        def memory(module: ModuleType) -> None:
            patcher.wrap(module, "FileMemory.search", _memory.search_wrapper(handler))

        def lite(module: ModuleType) -> None:
            cls = module.LiteAgent
            patcher.wrap(module, "LiteAgent.chat", _lite.chat_wrapper(handler))
            patcher.wrap(module, "LiteAgent.execute_tool", _lite.execute_tool_wrapper(handler))
            if "llm_fn" not in cls.__dict__:
                cls.llm_fn = _lite.LlmFnDescriptor(handler)
                self._lite_class = cls

        patcher.on_import("praisonaiagents.agent.chat_mixin", chat_mixin)
        patcher.on_import("praisonaiagents.agent.execution_mixin", execution_mixin)
        patcher.on_import("praisonaiagents.agent.tool_execution", tool_execution)
        patcher.on_import("praisonaiagents.llm.openai_client", openai_client)
        patcher.on_import("praisonaiagents.llm.llm", litellm_path)
        patcher.on_import("litellm", litellm_module)
        patcher.on_import("praisonaiagents.agents.agents", teams)
        patcher.on_import("praisonaiagents.lite", lite)
        patcher.on_import("praisonaiagents.workflows.workflows", flows)
        patcher.on_import("praisonaiagents.agent.agent", agent_guardrails)
        patcher.on_import("praisonaiagents.task.task", task_guardrails)
        patcher.on_import("praisonaiagents.knowledge.knowledge", knowledge)
        patcher.on_import("praisonaiagents.memory.file_memory", memory)
        _mcp.install(patcher)
        _launch.install(patcher, handler)
        _schedule.install(patcher, handler)
        _rate_limit.install(patcher, handler)
        _persistence.install(patcher, handler)
        # `start(stream=True)` calls the OpenAI SDK directly; its wrapper only
        # acts inside a PraisonAI agent span.
        patcher.on_import("openai.resources.chat.completions.completions", openai_sdk)

    def _remove(self) -> None:
        from . import _lite, _tty

        _tty.clear()
        cls, self._lite_class = getattr(self, "_lite_class", None), None
        if cls is not None and isinstance(cls.__dict__.get("llm_fn"), _lite.LlmFnDescriptor):
            del cls.llm_fn
