"""AgentScope 1.x messages in the GenAI semantic conventions' JSON shape.

Only called when content capture is on. AgentScope 1.x content blocks are
plain dicts (TypedDicts); what reaches the model is already in the
provider's own format (OpenAI-style dicts for most formatters), so that is
read best-effort. Reads the runtime's objects without changing them; anything
unexpected becomes a generic part, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _part(block: Any) -> dict[str, Any]:
    if isinstance(block, str):
        return {"type": "text", "content": block}
    if not isinstance(block, Mapping):
        return {"type": type(block).__name__}
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "content": block.get("text", "")}
    if kind == "thinking":
        return {"type": "reasoning", "content": block.get("thinking", "")}
    if kind == "tool_use":
        return {"type": "tool_call", "id": block.get("id"), "name": block.get("name"),
                "arguments": block.get("input")}
    if kind == "tool_result":
        output = block.get("output")
        if not isinstance(output, str):
            output = convert_blocks(output)
        return {"type": "tool_call_response", "id": block.get("id"), "response": output}
    return {"type": str(kind or "unknown")}


def convert_blocks(blocks: Any) -> list[dict[str, Any]]:
    """Content blocks (or a string) as message parts."""
    if blocks is None:
        return []
    if isinstance(blocks, str):
        return [{"type": "text", "content": blocks}]
    return [_part(block) for block in blocks]


def _message(msg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"role": str(getattr(msg, "role", "user")),
                           "parts": convert_blocks(getattr(msg, "content", None))}
    name = getattr(msg, "name", None)
    if name:
        out["name"] = name
    return out


def convert(msgs: Any) -> list[dict[str, Any]] | None:
    """A `Msg`, a list of them, or None, as a list of JSON messages."""
    if msgs is None:
        return None
    if isinstance(msgs, (list, tuple)):
        return [_message(m) for m in msgs if hasattr(m, "content")]
    if hasattr(msgs, "content") and hasattr(msgs, "role"):
        return [_message(msgs)]
    return None


def _prompt_part(part: Any) -> dict[str, Any]:
    if isinstance(part, Mapping) and part.get("type") == "text":
        return {"type": "text", "content": part.get("text", "")}
    if isinstance(part, Mapping) and "text" in part and "type" not in part:
        return {"type": "text", "content": part["text"]}  # DashScope's shape
    return _part(part)


def convert_prompt(messages: Any) -> list[dict[str, Any]] | None:
    """Formatted provider messages (what the model is called with) as JSON messages."""
    if not isinstance(messages, (list, tuple)):
        return None
    out: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        if isinstance(content, (list, tuple)):
            parts = [_prompt_part(p) for p in content]
        elif content is None:
            parts = []
        else:
            parts = [{"type": "text", "content": str(content)}]
        role = str(message.get("role", "user"))
        if role == "tool":
            parts = [{"type": "tool_call_response", "id": message.get("tool_call_id"),
                      "response": content}]
        for call in message.get("tool_calls") or ():
            function = call.get("function", {}) if isinstance(call, Mapping) else {}
            parts.append({"type": "tool_call", "id": call.get("id"),
                          "name": function.get("name"),
                          "arguments": function.get("arguments")})
        entry: dict[str, Any] = {"role": role, "parts": parts}
        if message.get("name"):
            entry["name"] = message["name"]
        out.append(entry)
    return out


def convert_response(response: Any) -> list[dict[str, Any]]:
    """A `ChatResponse` as the model's output message."""
    return [{"role": "assistant", "parts": convert_blocks(getattr(response, "content", None))}]
