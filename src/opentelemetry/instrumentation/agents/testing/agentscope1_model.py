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
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from agentscope.message import TextBlock, ToolUseBlock
from agentscope.model import ChatModelBase, ChatResponse
from agentscope.model._model_usage import ChatUsage
from agentscope.tracing import trace_llm

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

DEFAULT_CONVERSATION = "default"
_conversation: ContextVar[str] = ContextVar("scripted_conversation_as1",
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
    """A text answer (the agent's loop ends on it)."""
    return Turn(text=text, usage=usage, delay=delay)


def call_tools(*calls: tuple[str, Mapping[str, Any]], usage: tuple[int, int] = (10, 5),
               delay: float = 0.0, text: str | None = None) -> Turn:
    """A response asking for the given `(tool name, arguments)` calls."""
    return Turn(text=text, tool_calls=tuple(calls), usage=usage, delay=delay)


def fail(error: BaseException, *, delay: float = 0.0) -> Turn:
    """The model call raises `error` (the same object, every time it is used)."""
    return Turn(error=error, delay=delay)


Script = Sequence[Turn] | Mapping[str, Sequence[Turn]] | Callable[[str, int], Turn]


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

    @trace_llm
    async def __call__(self, messages: list[dict], tools: list[dict] | None = None,
                       tool_choice: str | None = None, structured_model: Any = None,
                       **kwargs: Any) -> ChatResponse | AsyncGenerator[ChatResponse, None]:
        key = _conversation.get()
        turn, index = self._next_turn(key)
        if turn.delay:
            await asyncio.sleep(turn.delay)
        if turn.error is not None:
            raise turn.error
        response_id = f"resp-{key}-{index}"
        text = turn.text.replace("{conv}", key) if turn.text is not None else None
        calls = [ToolUseBlock(type="tool_use", id=f"call-{key}-{index}-{n}", name=name,
                              input=dict(arguments))
                 for n, (name, arguments) in enumerate(turn.tool_calls)]
        usage = ChatUsage(input_tokens=turn.usage[0], output_tokens=turn.usage[1], time=0.0)
        if not self.stream:
            blocks: list[Any] = [TextBlock(type="text", text=text)] if text is not None else []
            return ChatResponse(content=blocks + calls, id=response_id, usage=usage,
                                metadata=dict(turn.metadata) or None)
        return self._stream(text, calls, response_id, usage)

    async def _stream(self, text: str | None, calls: list[Any], response_id: str,
                      usage: ChatUsage) -> AsyncGenerator[ChatResponse, None]:
        if text:
            for end in range(self.chunk_size, len(text) + self.chunk_size, self.chunk_size):
                yield ChatResponse(content=[TextBlock(type="text", text=text[:end])],
                                   id=response_id)
                await asyncio.sleep(0)
        blocks: list[Any] = [TextBlock(type="text", text=text)] if text is not None else []
        yield ChatResponse(content=blocks + calls, id=response_id, usage=usage)
