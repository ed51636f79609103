"""What the AgentScope 1.x concern modules share: the streams an invocation
opened, provider names, the classes compared against."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from ... import attributes as A
from ..._safety import report
from ..common.providers import ProviderNames
from ..common.types import LazyTypes

# The model and tool streams opened during this task's invocation. AgentScope
# stops reading such a stream without closing it when a call is cancelled
# (`_reasoning` or `_acting` left by a CancelledError, which `__call__` turns
# into an "interrupted" reply) and after its finish function succeeds; the
# stream would then end only when garbage-collected, after its agent span.
# What is still open when the invocation ends is ended with it.
STREAMS: ContextVar[list[Any] | None] = ContextVar("otel_agents_as1_streams", default=None)


def watch_stream(observer: Any) -> None:
    streams = STREAMS.get()
    if streams is not None:
        streams.append(observer)


def end_abandoned(streams: list[Any], error: BaseException | None, interrupted: bool) -> None:
    for observer in streams:
        if not observer.inv.ended:
            try:
                observer.abandoned(error, interrupted)
            except Exception:  # noqa: BLE001
                report("agentscope abandoned stream")


# Where AgentScope keeps each provider's models -> gen_ai.provider.name.
provider_name = ProviderNames({
    "_openai_model": "openai",
    "_openai_response_model": "openai",
    "_anthropic_model": "anthropic",
    "_dashscope_model": "dashscope",
    "_gemini_model": "gcp.gemini",
    "_ollama_model": "ollama",
})
# The models that call the OpenAI SDK -> the SDK API they call.
sdk_api = ProviderNames({
    "_openai_model": A.SDK_OPENAI_CHAT,
    "_openai_response_model": A.SDK_OPENAI_RESPONSES,
})


class Types(LazyTypes):
    """The AgentScope 1.x classes the adapter compares against (see `LazyTypes`)."""

    def _import(self) -> None:
        from agentscope.agent import ReActAgentBase
        from agentscope.model import ChatModelBase, ChatResponse
        from agentscope.tool import ToolResponse

        self.react_base = ReActAgentBase
        self.model_base = ChatModelBase
        self.chat_response = ChatResponse
        self.tool_response = ToolResponse


