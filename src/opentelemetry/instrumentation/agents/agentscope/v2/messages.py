"""AgentScope 2.x messages in the GenAI semantic conventions' JSON shape.

Only called when content capture is on. A 2.x `Msg` holds typed blocks
(`TextBlock`, `ThinkingBlock`, `ToolCallBlock`, `ToolResultBlock`,
`DataBlock`, `HintBlock`); one assistant `Msg` may hold a whole round (its
tool calls and their results) and hints for the model. They are laid out the
way AgentScope's own formatters send them to the model: a tool result is a
``tool`` message of its own, a hint a ``user`` message. The agent's system
prompt, the leading ``SystemMsg`` of a model call, becomes the system
instructions. Reads the runtime's objects without changing them; anything
unexpected becomes a generic part, never an error.
"""

from __future__ import annotations

from typing import Any

from ... import _genai_messages as M
from ..common import messages as common

# How AgentScope says a reply or a model response ended -> a GenAI finish reason.
_FINISH = {"completed": "stop", "exceed_max_iters": "length", "error": "error"}


def _media(block: Any) -> dict[str, Any]:
    source = getattr(block, "source", None)
    mime_type = getattr(source, "media_type", None)
    if getattr(source, "type", None) == "base64":
        return M.media(data=getattr(source, "data", None), mime_type=mime_type)
    return M.media(uri=getattr(source, "url", None), mime_type=mime_type)


def _tool_output(output: Any) -> Any:
    if output is None or isinstance(output, str):
        return output
    return M.text_or_parts([_part(block) for block in output])


def _part(block: Any) -> dict[str, Any]:
    kind = getattr(block, "type", None)
    if kind == "text":
        return M.text(getattr(block, "text", ""))
    if kind == "thinking":
        return M.reasoning(getattr(block, "thinking", ""))
    if kind == "tool_call":
        return M.tool_call(getattr(block, "id", None), getattr(block, "name", None),
                           getattr(block, "input", None))
    if kind == "tool_result":
        return M.tool_response(getattr(block, "id", None),
                               _tool_output(getattr(block, "output", None)))
    if kind == "data":
        return _media(block)
    if isinstance(block, str):
        return M.text(block)
    return M.part(block)


@M.never_raises(())
def convert_blocks(blocks: Any) -> list[dict[str, Any]]:
    """Content blocks (or a string) as message parts, in order."""
    if blocks is None:
        return []
    if isinstance(blocks, str):
        return [M.text(blocks)]
    return [_part(block) for block in blocks]


@M.never_raises()
def tool_result(blocks: Any) -> Any:
    """A tool's result (a `ToolResponse`'s content): its text, or its parts."""
    if blocks is None or isinstance(blocks, str):
        return blocks
    return M.text_or_parts(convert_blocks(blocks))


def _hint(block: Any) -> dict[str, Any]:
    hint = getattr(block, "hint", None)
    return M.message("user", [M.text(hint)] if isinstance(hint, str) else convert_blocks(hint))


def _block(block: Any) -> dict[str, Any]:
    if getattr(block, "type", None) == "text":  # most blocks of a history: made here
        value = getattr(block, "text", "")
        return {"type": "text", "content": value if isinstance(value, str) else str(value)}
    return _part(block)


def _alone(block: Any) -> dict[str, Any] | None:
    kind = getattr(block, "type", None)
    if kind == "tool_result":
        return M.message("tool", [_part(block)])
    if kind == "hint":
        return _hint(block)
    return None


def _messages(msg: Any) -> list[dict[str, Any]]:
    """One `Msg` as the messages a model sees for it."""
    role = str(getattr(msg, "role", None) or "user")
    name = getattr(msg, "name", None)
    content = getattr(msg, "content", None)
    if content is None or isinstance(content, str):
        return [M.message(role, convert_blocks(content), name=name)]
    return common.split(role, name, content, _block, _alone)


convert, _history_item, agent_input = common.converters(_messages)


@M.never_raises((None, None))
def request(msgs: Any) -> tuple[Any, list[dict[str, Any]] | None]:
    """(input messages, system instructions) of a model call's messages.

    The history is converted only as far as serializing it reads (see
    `_genai_messages.lazy_split_system`): a long one costs what the length
    limit lets through.
    """
    if isinstance(msgs, (list, tuple)):
        return M.lazy_split_system(msgs, _history_item)
    return M.split_system(convert(msgs))


def _finish(reason: Any, content: Any) -> str:
    reason = None if reason is None else str(reason)
    if reason in (None, "", "completed"):
        for block in content or ():
            if getattr(block, "type", None) == "tool_call":
                return "tool_calls"
        return "stop"
    return _FINISH.get(reason, reason)


@M.never_raises()
def reply(msg: Any) -> list[dict[str, Any]] | None:
    """The `Msg` a reply returned, as the agent's output message."""
    if msg is None or not hasattr(msg, "content"):
        return None
    content = getattr(msg, "content", None)
    return [M.message(str(getattr(msg, "role", None) or "assistant"), convert_blocks(content),
                      name=getattr(msg, "name", None),
                      finish_reason=_finish(getattr(msg, "finished_reason", None), content))]


@M.never_raises()
def convert_response(response: Any) -> list[dict[str, Any]]:
    """A `ChatResponse` as the model's output message."""
    content = getattr(response, "content", None)
    return [M.message("assistant", convert_blocks(content),
                      finish_reason=_finish(getattr(response, "finished_reason", None),
                                            content))]


@M.never_raises()
def streamed_reply(text: str, outcome: str | None) -> list[dict[str, Any]]:
    """The answer of a streamed reply, from its last model call's text deltas."""
    finish = {"completed": "stop", "max_iterations": "length"}.get(outcome or "completed",
                                                                    outcome or "stop")
    return [M.message("assistant", [M.text(text)] if text else [], finish_reason=finish)]
