"""A scripted AgentScope 1.x chat model for offline tests and demos.

It is a real `agentscope.model.ChatModelBase` subclass whose ``__call__``
carries AgentScope's own ``trace_llm`` decorator, like every built-in model,
so the agent, its streaming loop and AgentScope's tracing all see it as they
would see a provider's model; only the provider API call is replaced by a
script.

Scripts are per conversation. The conversation is whatever `conversation()`
set in the calling task or thread (a ContextVar), so many overlapping calls on
one agent instance each follow their own script no matter how AgentScope
interleaves them (AgentScope 1.x shares one memory between them, so scripts
must not depend on what the prompt holds)::

    model = ScriptedChatModel({
        "a": [call_tools(("get_weather", {"city": "Paris"})), say("sunny")],
        "b": [say("hello")],
    })

    async def run(key):
        with conversation(key):
            return await agent(Msg("user", "hi", "user"))

In text, ``{conv}`` is replaced by the conversation key, and response and
tool-call ids name the conversation (``resp-<key>-<n>``,
``call-<key>-<n>-<i>``), so a test can check that every response landed in
the trace of the conversation that asked. ``model.calls`` counts the model
calls each conversation made: the ground truth a trace is checked against.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from agentscope.message import TextBlock, ToolUseBlock
from agentscope.model import ChatModelBase, ChatResponse
from agentscope.model._model_usage import ChatUsage
from agentscope.tracing import trace_llm

from ..scripts import (
    DEFAULT_CONVERSATION,
    Script,
    ScriptBook,
    Turn,
    call_tools,
    conversation,
    current_conversation,
    fail,
    say,
)

__all__ = [
    "DEFAULT_CONVERSATION",
    "ScriptedChatModel",
    "Turn",
    "call_tools",
    "conversation",
    "current_conversation",
    "fail",
    "say",
]

def _provider_usage(turn: Turn) -> dict[str, Any] | None:
    """The provider's own usage object, as AgentScope 1.x's OpenAI model keeps it
    in `ChatUsage.metadata`, when the turn reports usage details."""
    if not (turn.cache_read or turn.cache_creation or turn.reasoning):
        return None
    usage: dict[str, Any] = {"prompt_tokens": turn.usage[0],
                             "completion_tokens": turn.usage[1],
                             "prompt_tokens_details": {"cached_tokens": turn.cache_read},
                             "completion_tokens_details": {"reasoning_tokens": turn.reasoning}}
    if turn.cache_creation:
        usage["cache_creation_input_tokens"] = turn.cache_creation
    return usage


class ScriptedChatModel(ChatModelBase):
    """An AgentScope 1.x chat model that answers from a script instead of an API.

    `stream=True` makes each call return an async generator of accumulating
    `ChatResponse` chunks (each holds everything so far, as AgentScope's own
    models do), `chunk_size` characters of text at a time; the last chunk
    carries the usage.
    """

    def __init__(self, script: Script, *, model: str = "scripted-model",
                 stream: bool = False, chunk_size: int = 8) -> None:
        super().__init__(model, stream)
        self.book = ScriptBook(script)
        self.calls = self.book.calls
        self.chunk_size = max(1, chunk_size)

    @trace_llm
    async def __call__(self, messages: list[dict], tools: list[dict] | None = None,
                       tool_choice: str | None = None, structured_model: Any = None,
                       **kwargs: Any) -> ChatResponse | AsyncGenerator[ChatResponse, None]:
        key, turn, index = self.book.next_turn()
        if turn.delay:
            await asyncio.sleep(turn.delay)
        if turn.error is not None:
            raise turn.error
        response_id = f"resp-{key}-{index}"
        text = turn.text.replace("{conv}", key) if turn.text is not None else None
        calls = [ToolUseBlock(type="tool_use", id=f"call-{key}-{index}-{n}", name=name,
                              input=dict(arguments))
                 for n, (name, arguments) in enumerate(turn.tool_calls)]
        usage = ChatUsage(input_tokens=turn.usage[0], output_tokens=turn.usage[1], time=0.0,
                          metadata=_provider_usage(turn))
        if not self.stream:
            blocks: list[Any] = [TextBlock(type="text", text=text)] if text is not None else []
            return ChatResponse(content=blocks + calls, id=response_id, usage=usage,
                                metadata=dict(turn.metadata) or None)
        return self._stream(text, calls, response_id, usage, turn)

    async def _stream(self, text: str | None, calls: list[Any], response_id: str,
                      usage: ChatUsage, turn: Turn) -> AsyncGenerator[ChatResponse, None]:
        await asyncio.sleep(turn.first_chunk_delay)
        if text:
            for end in range(self.chunk_size, len(text) + self.chunk_size, self.chunk_size):
                yield ChatResponse(content=[TextBlock(type="text", text=text[:end])],
                                   id=response_id)
                await asyncio.sleep(turn.chunk_delay)
        blocks: list[Any] = [TextBlock(type="text", text=text)] if text is not None else []
        yield ChatResponse(content=blocks + calls, id=response_id, usage=usage)
