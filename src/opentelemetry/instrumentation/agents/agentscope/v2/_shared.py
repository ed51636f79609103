"""What the AgentScope 2.x concern modules share: the streams a reply opened,
provider names, the classes compared against, field reads."""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context

from ... import attributes as A
from ..._safety import report
from ..common.providers import ProviderNames
from ..common.types import LazyTypes

# The model and tool streams a reply opened, in the reply's context. AgentScope
# stops reading such a stream without closing it when something it does with
# an item raises (and `Toolkit.call_tool` yields its final result from a
# `finally`, so the last item is not always the end); the stream would then
# end only when garbage-collected, after its reply. What is still open when
# the reply ends is ended with it.
STREAMS_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.agentscope.streams")


def watch_stream(observer: Any) -> None:
    streams = otel_context.get_value(STREAMS_KEY)
    if streams is not None:
        streams.append(observer)


def end_abandoned(streams: list[Any], error: BaseException | None) -> None:
    for observer in streams:
        try:
            observer.abandoned(error)
        except Exception:  # noqa: BLE001
            report("agentscope abandoned stream")
    # The observers' contexts hold this list: emptied, it frees them at once
    # instead of leaving a cycle for the garbage collector.
    streams.clear()


# Where AgentScope keeps each provider's models -> (gen_ai.provider.name, the
# SDK API its model calls go through). AgentScope's DashScope, DeepSeek,
# Moonshot and Volcengine classes use the OpenAI SDK's chat completions
# against their own endpoints.
_PROVIDERS = {
    "_openai_chat": ("openai", A.SDK_OPENAI_CHAT),
    "_openai_response": ("openai", A.SDK_OPENAI_RESPONSES),
    "_anthropic": ("anthropic", None),
    "_dashscope": ("dashscope", A.SDK_OPENAI_CHAT),
    "_gemini": ("gcp.gemini", None),
    "_ollama": ("ollama", None),
    "_deepseek": ("deepseek", A.SDK_OPENAI_CHAT),
    "_moonshot": ("moonshot", A.SDK_OPENAI_CHAT),
    "_xai": ("x_ai", None),
    "_volcengine": ("volcengine", A.SDK_OPENAI_CHAT),
    "_minimax": ("minimax", None),
}
provider_name = ProviderNames({module: names[0] for module, names in _PROVIDERS.items()})
# Both at once for a model call: one cached lookup.
provider_and_api = ProviderNames(_PROVIDERS, default=(None, None))


class Types(LazyTypes):
    """The AgentScope 2.x classes the adapter compares against (see `LazyTypes`)."""

    def _import(self) -> None:
        from agentscope.event import ReplyEndEvent
        from agentscope.message import Msg
        from agentscope.model import ChatResponse
        from agentscope.tool import ToolResponse

        self.reply_end = ReplyEndEvent
        self.msg = Msg
        self.chat_response = ChatResponse
        self.tool_response = ToolResponse


def read_field(obj: Any, name: str, default: Any = None) -> Any:
    """`obj.name`, read as a key where AgentScope's objects are dicts.

    ChatResponse and ChatUsage are dicts with attribute access through a
    Python-level `__getattr__`; a key lookup skips that call (and the
    exception it raises for a missing field).
    """
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


