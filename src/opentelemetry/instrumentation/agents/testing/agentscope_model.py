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
import contextlib
import json
import threading
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from agentscope.credential import CredentialBase
from agentscope.formatter import OpenAIChatFormatter
from agentscope.message import TextBlock, ToolCallBlock
from agentscope.model import ChatModelBase, ChatResponse, ChatUsage
from pydantic import BaseModel

DEFAULT_CONVERSATION = "default"
_conversation: ContextVar[str] = ContextVar("scripted_conversation",
                                            default=DEFAULT_CONVERSATION)


@contextlib.contextmanager
def conversation(key: str) -> Iterator[None]:
    """Make model calls in this task/thread follow the script named `key`."""
    token = _conversation.set(key)
    try:
        yield
    finally:
        _conversation.reset(token)


def current_conversation() -> str:
    """The conversation key set by `conversation()` here (or the default)."""
    return _conversation.get()


@dataclass(frozen=True)
class Turn:
    """One scripted model response (or failure)."""

    text: str | None = None
    tool_calls: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    error: BaseException | None = None
    delay: float = 0.0
    usage: tuple[int, int] = (10, 5)
    metadata: Mapping[str, Any] = field(default_factory=dict)


def say(text: str, *, usage: tuple[int, int] = (10, 5), delay: float = 0.0) -> Turn:
    return Turn(text=text, usage=usage, delay=delay)


def call_tools(*calls: tuple[str, Mapping[str, Any]], usage: tuple[int, int] = (10, 5),
               delay: float = 0.0) -> Turn:
    return Turn(tool_calls=tuple(calls), usage=usage, delay=delay)


def fail(error: BaseException, *, delay: float = 0.0) -> Turn:
    return Turn(error=error, delay=delay)


Script = Sequence[Turn] | Mapping[str, Sequence[Turn]] | Callable[[str, int], Turn]


class _Parameters(BaseModel):
    pass


class ScriptedChatModel(ChatModelBase):
    """An AgentScope chat model that answers from a script instead of an API."""

    def __init__(self, script: Script, *, model: str = "scripted-model",
                 stream: bool = False, chunk_size: int = 8) -> None:
        super().__init__(credential=CredentialBase(), model=model,
                         parameters=_Parameters(), stream=stream, max_retries=0)
        self.formatter = OpenAIChatFormatter()
        self.script = script
        self.chunk_size = max(1, chunk_size)
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def _next_turn(self, key: str) -> tuple[Turn, int]:
        with self._lock:
            index = self.calls.get(key, 0)
            self.calls[key] = index + 1
        script = self.script
        if callable(script):
            return script(key, index), index
        turns = script.get(key) if isinstance(script, Mapping) else script
        if turns is None:
            raise LookupError(f"no script for conversation {key!r}")
        if index >= len(turns):
            raise LookupError(f"script for conversation {key!r} has {len(turns)} turns; "
                              f"model call {index + 1} has none")
        return turns[index], index

    async def _call_api(self, model_name: str, messages: list, tools: list | None = None,
                        tool_choice: Any = None, **kwargs: Any
                        ) -> ChatResponse | AsyncGenerator[ChatResponse, None]:
        key = _conversation.get()
        turn, index = self._next_turn(key)
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
        usage = ChatUsage(input_tokens=turn.usage[0], output_tokens=turn.usage[1], time=0.0)
        if not self.stream:
            return ChatResponse(content=blocks, is_last=True, id=response_id, usage=usage)
        return self._stream(blocks, response_id, usage)

    async def _stream(self, blocks: list[Any], response_id: str, usage: ChatUsage
                      ) -> AsyncGenerator[ChatResponse, None]:
        for block in blocks:
            if isinstance(block, TextBlock):
                text = block.text
                for start in range(0, max(len(text), 1), self.chunk_size):
                    piece = ChatResponse(content=[], is_last=False, id=response_id)
                    piece.append_text(text[start:start + self.chunk_size], block_id=block.id)
                    yield piece
                    await asyncio.sleep(0)
            else:
                yield ChatResponse(content=[block], is_last=False, id=response_id)
        yield ChatResponse(content=[], is_last=False, id=response_id, usage=usage)
