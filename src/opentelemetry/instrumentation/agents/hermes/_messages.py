"""Hermes's OpenAI-format messages in the GenAI semantic conventions' JSON shape.

Only called when content capture is on. Hermes speaks the chat-completions
message format (dicts with ``role``/``content``/``tool_calls``) to every
provider, and gets back either an ``openai`` response or Hermes's own
``SimpleNamespace`` look-alike of one after streaming. Reads, never changes,
and anything unexpected becomes a generic part instead of an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append({"type": "text", "content": part})
            elif isinstance(part, Mapping):
                kind = part.get("type")
                if kind == "text" or (kind is None and "text" in part):
                    parts.append({"type": "text", "content": part.get("text", "")})
                else:
                    parts.append({"type": str(kind or "unknown")})
        return parts
    return [{"type": type(content).__name__}]


def _field(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _tool_call_part(call: Any) -> dict[str, Any]:
    function = _field(call, "function")
    return {"type": "tool_call", "id": _field(call, "id"), "name": _field(function, "name"),
            "arguments": _field(function, "arguments")}


def _message(msg: Any) -> dict[str, Any]:
    role = str(_field(msg, "role") or "user")
    if role == "tool":
        return {"role": "tool", "parts": [{"type": "tool_call_response",
                                           "id": _field(msg, "tool_call_id"),
                                           "response": _field(msg, "content")}]}
    parts = _content_parts(_field(msg, "content"))
    parts.extend(_tool_call_part(call) for call in _field(msg, "tool_calls") or ())
    return {"role": role, "parts": parts}


def request(messages: Any) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """(input messages, system instructions) of one chat-completions request."""
    if not isinstance(messages, list):
        return None, None
    inputs: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    for msg in messages:
        if _field(msg, "role") == "system":
            system.extend(_content_parts(_field(msg, "content")))
        else:
            inputs.append(_message(msg))
    return inputs, system or None


def response(resp: Any) -> list[dict[str, Any]] | None:
    """The output messages of a chat-completions response."""
    out = []
    for choice in getattr(resp, "choices", None) or ():
        message = getattr(choice, "message", None)
        if message is None:
            continue
        converted = _message(message)
        converted["role"] = "assistant"
        reason = getattr(choice, "finish_reason", None)
        if reason:
            converted["finish_reason"] = str(reason)
        out.append(converted)
    return out or None


def user_text(text: Any) -> list[dict[str, Any]] | None:
    if text is None:
        return None
    return [{"role": "user", "parts": _content_parts(text if isinstance(text, (str, list))
                                                     else str(text))}]


def assistant_text(text: Any) -> list[dict[str, Any]] | None:
    if not isinstance(text, str):
        return None
    return [{"role": "assistant", "parts": _content_parts(text)}]
