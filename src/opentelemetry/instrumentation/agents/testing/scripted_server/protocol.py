"""What each served API must say about a request so it can be routed to a script.

A protocol (chat completions, Anthropic Messages, Responses) knows where the
conversation marker may be written in its request shape, how many model turns
the transcript already holds, and how a `Turn` or an error is rendered. The
server does the rest (marker matching, script selection, recording) once, for
all of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .exchange import Exchange, Reply
from .turns import Turn


class Protocol:
    """Base for the served APIs; subclasses fill in the request and response shapes."""

    name: str = ""
    path: str = ""
    request_id_header: str = "x-request-id"

    def check(self, request: Mapping[str, Any]) -> tuple[str, str] | None:
        """``(problem, parameter)`` when the request cannot be answered, else None."""
        raise NotImplementedError

    def marker_texts(self, request: Mapping[str, Any], last_prompt_only: bool) -> Iterator[str]:
        """Texts to search for the conversation marker, in transcript order.

        With ``last_prompt_only``, only the last user prompt's text.
        """
        raise NotImplementedError

    def turn_index(self, request: Mapping[str, Any], since_last_user: bool) -> int:
        """Model turns already in the transcript (after the last prompt, if asked)."""
        raise NotImplementedError

    def continues(self, request: Mapping[str, Any]) -> str | None:
        """The id of an earlier response this request continues server-side, if any."""
        return None

    def has_prompt(self, request: Mapping[str, Any]) -> bool:
        """Whether the request itself carries a user prompt (for continuations)."""
        return False

    def respond(self, turn: Turn, exchange: Exchange, request: Mapping[str, Any]) -> Reply:
        """The reply for a successful turn (JSON, or an event stream when asked)."""
        raise NotImplementedError

    def response_id(self, exchange: Exchange) -> str:
        raise NotImplementedError

    def error_body(
        self,
        status: int,
        message: str,
        error_type: str | None,
        code: str | None = None,
        param: str | None = None,
    ) -> dict[str, Any]:
        """The provider's error document; ``error_type`` None means its default."""
        raise NotImplementedError


def openai_error_body(
    status: int,
    message: str,
    error_type: str | None,
    code: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    """OpenAI's ``{"error": {...}}`` shape (chat completions, Responses, 404s)."""
    if error_type is None:
        if status == 429:
            error_type = "requests"
        else:
            error_type = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def content_texts(content: Any) -> Iterator[str]:
    """Text of a message's content: a string, or a list of parts with ``text``."""
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                yield part["text"]


def last_index(items: list[Any], matches: Any) -> int:
    """Index of the last item for which ``matches(item)`` holds, or -1."""
    for index in range(len(items) - 1, -1, -1):
        if matches(items[index]):
            return index
    return -1
