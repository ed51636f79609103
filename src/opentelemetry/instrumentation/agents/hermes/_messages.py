"""Hermes's messages in the GenAI semantic conventions' JSON shape.

Only called when content capture is on. Hermes speaks the chat-completions
message format (dicts with ``role``/``content``/``tool_calls``) to most
providers, the Anthropic Messages format (``system`` beside the messages) or
the Responses API (``instructions`` and ``input``) to the others, and gets
back an ``openai`` response, Hermes's own ``SimpleNamespace`` look-alike of
one after streaming, or the Anthropic / Responses API object. All are read
by the shared converter (`.._genai_messages`), never changed; anything
unexpected becomes a generic part instead of an error.
"""

from __future__ import annotations

from typing import Any

from .. import _genai_messages as M


@M.never_raises((None, None))
def request(api_kwargs: Any) -> tuple[Any, list[dict[str, Any]] | None]:
    """(input messages, system instructions) of one model request's keyword arguments.

    Hermes sends the whole conversation every call: the history is converted
    only as far as its serialization under the length limit reads
    (`_genai_messages.lazy_openai_request`).
    """
    if not isinstance(api_kwargs, dict):
        return None, None
    messages = api_kwargs.get("messages")
    if messages is None:
        messages = api_kwargs.get("input")
    return M.lazy_openai_request(messages,
                                 api_kwargs.get("system") or api_kwargs.get("instructions"))


@M.never_raises((None, None))
def messages(msgs: Any) -> tuple[Any, list[dict[str, Any]] | None]:
    """(input messages, system instructions) of a bare message list (converted lazily)."""
    return M.lazy_openai_request(msgs)


@M.never_raises()
def response(resp: Any) -> list[dict[str, Any]] | None:
    """The output messages of a model response."""
    return M.openai_response(resp)


@M.never_raises()
def user_text(text: Any) -> list[dict[str, Any]] | None:
    """The user message a conversation was started with."""
    return M.text_message("user", text)


@M.never_raises()
def assistant_text(text: Any, finish_reason: str = "stop") -> list[dict[str, Any]] | None:
    """The final answer of a conversation (or of the summary call)."""
    if not isinstance(text, str):
        return None
    return M.text_message("assistant", text, finish_reason)
