"""Scripts for scripted in-process models: turns, conversations, bookkeeping.

Shared by the scripted AgentScope models (`agentscope.model` for 2.x,
`agentscope.model_v1` for 1.x); it imports no runtime.

Scripts are per conversation. The conversation is whatever `conversation()`
set in the calling task or thread (a ContextVar), so many overlapping
invocations of one agent each follow their own script however the runtime
interleaves them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

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
    """One scripted model response (or failure).

    `usage` is (input, output) tokens; `cache_read`, `cache_creation` and
    `reasoning` the usage details the response reports (0: none reported).
    `delay` is spent before the call answers; for a streamed answer,
    `first_chunk_delay` before its first chunk and `chunk_delay` before each
    later one.
    """

    text: str | None = None
    tool_calls: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    error: BaseException | None = None
    delay: float = 0.0
    usage: tuple[int, int] = (10, 5)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    cache_read: int = 0
    cache_creation: int = 0
    reasoning: int = 0
    first_chunk_delay: float = 0.0
    chunk_delay: float = 0.0


def say(text: str, *, usage: tuple[int, int] = (10, 5), delay: float = 0.0,
        **details: Any) -> Turn:
    """A text answer (the agent's loop ends on it); `details`: more `Turn` fields."""
    return Turn(text=text, usage=usage, delay=delay, **details)


def call_tools(*calls: tuple[str, Mapping[str, Any]], usage: tuple[int, int] = (10, 5),
               delay: float = 0.0, text: str | None = None, **details: Any) -> Turn:
    """A response asking for the given `(tool name, arguments)` calls."""
    return Turn(text=text, tool_calls=tuple(calls), usage=usage, delay=delay, **details)


def fail(error: BaseException, *, delay: float = 0.0) -> Turn:
    """The model call raises `error` (the same object, every time it is used)."""
    return Turn(error=error, delay=delay)


Script = Sequence[Turn] | Mapping[str, Sequence[Turn]] | Callable[[str, int], Turn]
"""One script for all, one per conversation, or `(conversation, index) -> Turn`."""


class ScriptBook:
    """Hands out each conversation's next turn; `calls` counts them.

    `calls` is the ground truth a trace is checked against: how many model
    calls each conversation's own task made.
    """

    def __init__(self, script: Script) -> None:
        self.script = script
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def next_turn(self) -> tuple[str, Turn, int]:
        """(conversation, its next turn, that turn's index) for the caller."""
        key = _conversation.get()
        with self._lock:
            index = self.calls.get(key, 0)
            self.calls[key] = index + 1
        script = self.script
        if callable(script):
            return key, script(key, index), index
        turns = script.get(key) if isinstance(script, Mapping) else script
        if turns is None:
            raise LookupError(f"no script for conversation {key!r}")
        if index >= len(turns):
            raise LookupError(f"script for conversation {key!r} has {len(turns)} turns; "
                              f"model call {index + 1} has none")
        return key, turns[index], index
