"""A scripted AgentScope 2.x chat model for offline tests and demos.

It is a real `agentscope.model.ChatModelBase` subclass, so the agent, its
retry logic and its streaming accumulator all run as in production; only the
provider API call is replaced by a script.

Scripts are per conversation. The conversation is whatever `conversation()`
set in the calling task or thread (a ContextVar), so many overlapping replies
on one agent instance each follow their own script no matter how AgentScope
interleaves them::

    model = ScriptedChatModel({
        "a": [call_tools(("get_weather", {"city": "Paris"})), say("sunny")],
        "b": [say("hello")],
    })

    async def run(key):
        with conversation(key):
            return await agent.reply(UserMsg("user", "hi"))

In text, ``{conv}`` is replaced by the conversation key, so a test can check
that every response landed in the trace of the conversation that asked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

from agentscope.credential import CredentialBase
from agentscope.formatter import OpenAIChatFormatter
from agentscope.message import TextBlock, ToolCallBlock
from agentscope.model import ChatModelBase, ChatResponse, ChatUsage
from pydantic import BaseModel

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

class _Parameters(BaseModel):
    """The request parameters AgentScope's own models have (unset by default)."""

    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    top_k: int | None = None


class ScriptedChatModel(ChatModelBase):
    """An AgentScope chat model that answers from a script instead of an API."""

    def __init__(self, script: Script, *, model: str = "scripted-model",
                 stream: bool = False, chunk_size: int = 8, **parameters: Any) -> None:
        """`parameters`: request parameters (temperature, max_tokens, top_p, top_k)."""
        super().__init__(credential=CredentialBase(), model=model,
                         parameters=_Parameters(**parameters), stream=stream, max_retries=0)
        self.formatter = OpenAIChatFormatter()
        self.book = ScriptBook(script)
        self.calls = self.book.calls
        self.chunk_size = max(1, chunk_size)

    async def _call_api(self, model_name: str, messages: list, tools: list | None = None,
                        tool_choice: Any = None, **kwargs: Any
                        ) -> ChatResponse | AsyncGenerator[ChatResponse, None]:
        key, turn, index = self.book.next_turn()
        if turn.delay:
            await asyncio.sleep(turn.delay)
        if turn.error is not None:
            raise turn.error
        response_id = f"resp-{key}-{index}"
        blocks: list[Any] = []
        if turn.text is not None:
            blocks.append(TextBlock(text=turn.text.replace("{conv}", key)))
        for n, (name, arguments) in enumerate(turn.tool_calls):
            blocks.append(ToolCallBlock(id=f"call-{key}-{index}-{n}", name=name,
                                        input=json.dumps(arguments)))
        # AgentScope 2.x's ChatUsage has cache counts but no reasoning count.
        usage = ChatUsage(input_tokens=turn.usage[0], output_tokens=turn.usage[1], time=0.0,
                          cache_input_tokens=turn.cache_read,
                          cache_creation_input_tokens=turn.cache_creation)
        if not self.stream:
            return ChatResponse(content=blocks, is_last=True, id=response_id, usage=usage)
        return self._stream(blocks, response_id, usage, turn)

    async def _stream(self, blocks: list[Any], response_id: str, usage: ChatUsage,
                      turn: Turn) -> AsyncGenerator[ChatResponse, None]:
        first = True

        async def pause() -> None:
            nonlocal first
            wait = turn.first_chunk_delay if first else turn.chunk_delay
            first = False
            await asyncio.sleep(wait)

        for block in blocks:
            if isinstance(block, TextBlock):
                text = block.text
                for start in range(0, max(len(text), 1), self.chunk_size):
                    piece = ChatResponse(content=[], is_last=False, id=response_id)
                    piece.append_text(text[start:start + self.chunk_size], block_id=block.id)
                    await pause()
                    yield piece
            else:
                await pause()
                yield ChatResponse(content=[block], is_last=False, id=response_id)
        yield ChatResponse(content=[], is_last=False, id=response_id, usage=usage)
