"""AgentScope 1.x messages in the GenAI semantic conventions' JSON shape.

Only called when content capture is on. AgentScope 1.x content blocks are
plain dicts (TypedDicts: ``text``, ``thinking``, ``tool_use``,
``tool_result``, ``image``/``audio``/``video`` with a ``source``); what
reaches the model is already in the provider's own format (OpenAI-style
dicts for most formatters, DashScope, Anthropic and Gemini variants), which
the shared converter reads best-effort. The agent's system prompt, the
leading system message of a model call, becomes the system instructions.
Reads the runtime's objects without changing them; anything unexpected
becomes a generic part, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import _genai_messages as M
from ..common import messages as common


@M.never_raises(())
def convert_blocks(blocks: Any) -> list[dict[str, Any]]:
    """Content blocks (or a string) as message parts."""
    return M.parts(blocks)


@M.never_raises()
def tool_result(blocks: Any) -> Any:
    """A tool's result (a `ToolResponse`'s content): its text, or its parts."""
    if blocks is None or isinstance(blocks, str):
        return blocks
    return M.text_or_parts(M.parts(blocks))


def _alone(block: Any) -> dict[str, Any] | None:
    if isinstance(block, Mapping) and block.get("type") == "tool_result":
        return M.message("tool", [M.part(block)])
    return None


def _messages(msg: Any) -> list[dict[str, Any]]:
    """One `Msg` as the messages a model sees for it (tool results on their own)."""
    role = str(getattr(msg, "role", None) or "user")
    name = getattr(msg, "name", None)
    content = getattr(msg, "content", None)
    if not isinstance(content, (list, tuple)):
        return [M.message(role, M.parts(content), name=name)]
    return common.split(role, name, content, M.part, _alone)


convert, _history_item, agent_input = common.converters(_messages)


@M.never_raises()
def reply(msg: Any) -> list[dict[str, Any]] | None:
    """The `Msg` an agent answered with, as its output message."""
    out = convert(msg)
    if out:
        out[-1]["finish_reason"] = "stop"
    return out


@M.never_raises((None, None))
def convert_prompt(messages: Any) -> tuple[Any, list[dict[str, Any]] | None]:
    """(input messages, system instructions) of the formatted provider messages
    a model is called with; the history is converted only as far as its
    serialization under the length limit reads."""
    return M.lazy_openai_request(messages)


@M.never_raises()
def convert_response(response: Any) -> list[dict[str, Any]]:
    """A `ChatResponse` as the model's output message."""
    content = M.parts(getattr(response, "content", None))
    wants_tools = any(p["type"] == "tool_call" for p in content)
    return [M.message("assistant", content,
                      finish_reason="tool_calls" if wants_tools else "stop")]
