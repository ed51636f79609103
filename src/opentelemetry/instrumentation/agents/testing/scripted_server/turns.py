"""What a test scripts: turns (responses), their tool calls, and responders.

Protocol-neutral: the same `Turn` is rendered as a chat completion, an
Anthropic message or an OpenAI Responses object, depending on the endpoint
the agent called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "DEFAULT_CONVERSATION_PATTERN",
    "Responder",
    "ToolCall",
    "Turn",
    "error",
    "text",
    "tool_calls",
]

DEFAULT_CONVERSATION_PATTERN = r"\[conv:([A-Za-z0-9_-]+)\]"
"""Default marker: ``[conv:<id>]`` anywhere in a message's text."""

DEFAULT_USAGE = (10, 5)


@dataclass(frozen=True)
class ToolCall:
    """One function call in an assistant turn.

    Args:
        name: Function name.
        arguments: A mapping (serialised as JSON) or a ready-made JSON string;
            a string is sent verbatim, which lets a test send malformed
            arguments on purpose.
        id: Tool call id; by default ``call_<conversation>_<turn>_<i>``
            (``toolu_...`` on the Anthropic endpoint).

    ``{conv}`` and ``{turn}`` placeholders in the id and in string arguments
    are replaced like in turn content.
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Turn:
    """One scripted response. Build it with `text`, `tool_calls` or `error`.

    ``content`` may contain ``{conv}`` and ``{turn}`` placeholders, replaced
    by the conversation id and the turn index, so a test can check that every
    response reached the conversation it was scripted for.

    ``delay`` is slept before responding at all, ``first_chunk_delay`` after
    a stream's headers and before its first event, and ``chunk_delay``
    between streamed events; they let a test force interleavings or
    measurable latencies (time to first chunk is ``delay +
    first_chunk_delay``).

    ``usage`` is ``(input_tokens, output_tokens)``; ``cache_read_tokens``,
    ``cache_creation_tokens`` and ``reasoning_tokens`` add the detail fields
    of each protocol (see the README's testing-kit section for where each
    lands). Every number is sent as given: the server does not re-derive one
    protocol's accounting from another's.
    """

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: tuple[int, int] | None = DEFAULT_USAGE
    finish_reason: str = "stop"
    delay: float = 0.0
    chunk_delay: float = 0.0
    status: int = 200
    error_message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    reasoning_tokens: int | None = None
    first_chunk_delay: float = 0.0

    def __post_init__(self) -> None:
        # Fail when the script is written, not in a server thread mid-test.
        if min(self.delay, self.chunk_delay, self.first_chunk_delay) < 0:
            raise ValueError("delay, first_chunk_delay and chunk_delay must be >= 0")
        if self.status != 200 and not 400 <= self.status <= 599:
            raise ValueError(f"status must be 200 or an HTTP error (400-599), got {self.status}")
        if self.usage is not None and (len(self.usage) != 2 or min(self.usage) < 0):
            raise ValueError("usage must be (prompt_tokens, completion_tokens), both >= 0")
        for name in ("cache_read_tokens", "cache_creation_tokens", "reasoning_tokens"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be None or an int >= 0")
        if not all(isinstance(call, ToolCall) for call in self.tool_calls):
            raise TypeError("tool_calls must contain ToolCall instances")

    @property
    def is_error(self) -> bool:
        """Whether this turn answers with an HTTP error instead of a completion."""
        return self.status != 200

    def with_delay(self, seconds: float) -> Turn:
        """Return a copy of this turn that waits ``seconds`` before responding."""
        return replace(self, delay=seconds)


Responder = Callable[[str | None, Mapping[str, Any]], Turn | None]
"""``(conversation_id, request_json) -> Turn | None``.

``conversation_id`` is ``None`` for requests without a marker. The request is
the body as the client sent it (chat completions, Anthropic Messages or
Responses shape). Returning ``None`` means "no more turns" and produces the
same error as an exhausted script.
"""


def text(
    content: str,
    *,
    usage: tuple[int, int] | None = DEFAULT_USAGE,
    finish_reason: str = "stop",
    delay: float = 0.0,
    chunk_delay: float = 0.0,
    first_chunk_delay: float = 0.0,
    cache_read_tokens: int | None = None,
    cache_creation_tokens: int | None = None,
    reasoning_tokens: int | None = None,
) -> Turn:
    """A plain assistant message.

    Args:
        content: Message text; ``{conv}`` and ``{turn}`` are substituted.
        usage: ``(prompt_tokens, completion_tokens)``, or ``None`` to send no
            usage at all (to test code paths for providers that omit it).
        finish_reason: In chat-completions terms, for example ``"length"`` to
            simulate truncation; mapped for the other protocols.
        delay: Seconds to wait before responding.
        chunk_delay: Seconds to wait between streamed chunks.
        first_chunk_delay: Seconds between a stream's headers and its first chunk.
        cache_read_tokens, cache_creation_tokens, reasoning_tokens: Usage details.
    """
    return Turn(
        content=content,
        usage=usage,
        finish_reason=finish_reason,
        delay=delay,
        chunk_delay=chunk_delay,
        first_chunk_delay=first_chunk_delay,
        cache_read_tokens=cache_read_tokens,
        cache_creation_tokens=cache_creation_tokens,
        reasoning_tokens=reasoning_tokens,
    )


def tool_calls(
    calls: Iterable[ToolCall],
    *,
    content: str | None = None,
    usage: tuple[int, int] | None = DEFAULT_USAGE,
    finish_reason: str = "tool_calls",
    delay: float = 0.0,
    chunk_delay: float = 0.0,
    first_chunk_delay: float = 0.0,
    cache_read_tokens: int | None = None,
    cache_creation_tokens: int | None = None,
    reasoning_tokens: int | None = None,
) -> Turn:
    """An assistant message requesting one or more tool calls.

    Args:
        calls: The calls, in order; they are indexed as streamed.
        content: Optional text sent alongside the calls.
        usage, finish_reason, delay, chunk_delay, first_chunk_delay,
        cache_read_tokens, cache_creation_tokens, reasoning_tokens: As for `text`.
    """
    calls = tuple(calls)
    if not calls:
        raise ValueError("tool_calls() needs at least one ToolCall")
    return Turn(
        content=content,
        tool_calls=calls,
        usage=usage,
        finish_reason=finish_reason,
        delay=delay,
        chunk_delay=chunk_delay,
        first_chunk_delay=first_chunk_delay,
        cache_read_tokens=cache_read_tokens,
        cache_creation_tokens=cache_creation_tokens,
        reasoning_tokens=reasoning_tokens,
    )


def error(
    status: int = 500,
    message: str = "Scripted error",
    *,
    error_type: str | None = None,
    code: str | None = None,
    delay: float = 0.0,
) -> Turn:
    """An HTTP error in the called protocol's error shape.

    Args:
        status: HTTP status, 400-599. The ``openai`` client maps it to its
            exception classes (429 -> ``RateLimitError``, 5xx ->
            ``InternalServerError``...) and retries 408, 409, 429 and 5xx
            unless built with ``max_retries=0``; so does ``anthropic``. A
            retry is the same request, so it gets this same turn again.
        message: ``error.message``; ``{conv}`` and ``{turn}`` are substituted.
        error_type: ``error.type``; by default what the provider uses for
            ``status`` (OpenAI's types, or Anthropic's on ``/v1/messages``).
        code: ``error.code`` (OpenAI shapes only); by default
            ``"rate_limit_exceeded"`` for 429.
        delay: Seconds to wait before responding.
    """
    if not 400 <= status <= 599:
        raise ValueError(f"error status must be 400-599, got {status}")
    return Turn(
        status=status,
        error_message=message,
        error_type=error_type,
        error_code=code if code is not None else ("rate_limit_exceeded" if status == 429 else None),
        delay=delay,
    )


def as_script(turns: Sequence[Turn], what: str) -> tuple[Turn, ...]:
    """``turns`` as a tuple, or a TypeError naming ``what`` was malformed."""
    if isinstance(turns, (str, bytes)) or not isinstance(turns, Iterable):
        raise TypeError(f"{what} must be a sequence of Turn")
    script = tuple(turns)
    for turn in script:
        if not isinstance(turn, Turn):
            raise TypeError(f"{what} must contain Turn objects, got {type(turn).__name__}")
    return script
