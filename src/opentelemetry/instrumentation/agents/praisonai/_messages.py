"""PraisonAI's OpenAI-format messages in the GenAI semantic conventions' JSON shape.

Only called when content capture is on. PraisonAI hands the model plain
OpenAI chat messages (dicts), and gets back OpenAI `ChatCompletion` objects or
its own look-alike dataclass; both are read without being changed, and
anything unexpected becomes a generic part rather than an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _text_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    if isinstance(content, (list, tuple)):
        parts = []
        for item in content:
            kind = _get(item, "type")
            if kind == "text":
                parts.append({"type": "text", "content": _get(item, "text") or ""})
            else:
                parts.append({"type": str(kind or type(item).__name__)})
        return parts
    return [{"type": "text", "content": str(content)}]


def _tool_call(call: Any) -> dict[str, Any]:
    function = _get(call, "function")
    return {"type": "tool_call", "id": _get(call, "id"), "name": _get(function, "name"),
            "arguments": _get(function, "arguments")}


def message(msg: Any) -> dict[str, Any]:
    """One OpenAI chat message (dict or SDK object) as a GenAI JSON message."""
    role = str(_get(msg, "role") or "user")
    if role == "tool":
        parts = [{"type": "tool_call_response", "id": _get(msg, "tool_call_id"),
                  "response": _get(msg, "content")}]
    else:
        parts = _text_parts(_get(msg, "content"))
        parts.extend(_tool_call(call) for call in _get(msg, "tool_calls") or ())
    return {"role": role, "parts": parts}


def messages(msgs: Any) -> list[dict[str, Any]] | None:
    if not isinstance(msgs, (list, tuple)):
        return None
    return [message(m) for m in msgs]


def user_text(prompt: Any) -> list[dict[str, Any]] | None:
    """The prompt an agent was invoked with, as one user message."""
    if prompt is None:
        return None
    if isinstance(prompt, (list, tuple)):
        return messages(prompt)
    return [{"role": "user", "parts": _text_parts(str(prompt))}]


def assistant_text(text: Any) -> list[dict[str, Any]] | None:
    if text is None:
        return None
    return [{"role": "assistant", "parts": _text_parts(str(text))}]


def response(completion: Any) -> list[dict[str, Any]]:
    """The choices of a (PraisonAI or OpenAI) `ChatCompletion`."""
    out = []
    for choice in _get(completion, "choices") or ():
        msg = message(_get(choice, "message") or {"role": "assistant"})
        msg["role"] = "assistant"
        reason = _get(choice, "finish_reason")
        if reason:
            msg["finish_reason"] = str(reason)
        out.append(msg)
    return out
