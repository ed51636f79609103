"""AgentScope 2.x messages in the GenAI semantic conventions' JSON shape.

Only called when content capture is on. Reads the runtime's objects without
changing them; anything unexpected becomes a generic part, never an error.
"""

from __future__ import annotations

from typing import Any


def _part(block: Any) -> dict[str, Any]:
    kind = getattr(block, "type", None)
    if kind == "text":
        return {"type": "text", "content": getattr(block, "text", "")}
    if kind == "thinking":
        return {"type": "reasoning", "content": getattr(block, "thinking", "")}
    if kind == "tool_call":
        return {"type": "tool_call", "id": getattr(block, "id", None),
                "name": getattr(block, "name", None),
                "arguments": getattr(block, "input", None)}
    if kind == "tool_result":
        output = getattr(block, "output", None)
        if not isinstance(output, str):
            output = convert_blocks(output)
        return {"type": "tool_call_response", "id": getattr(block, "id", None),
                "response": output}
    if isinstance(block, str):
        return {"type": "text", "content": block}
    return {"type": str(kind or type(block).__name__)}


def convert_blocks(blocks: Any) -> list[dict[str, Any]]:
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


def convert_response(response: Any) -> list[dict[str, Any]]:
    return [{"role": "assistant", "parts": convert_blocks(getattr(response, "content", None))}]
