"""PraisonAI's OpenAI-format messages in the GenAI semantic conventions' JSON shape.

Only called when content capture is on. PraisonAI hands the model plain
OpenAI chat messages (dicts), and gets back OpenAI `ChatCompletion` objects or
its own look-alike dataclass; both are read by the shared converter
(`.._genai_messages`) without being changed, and anything unexpected becomes
a generic part rather than an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import _genai_messages as M


@M.never_raises((None, None))
def request(msgs: Any) -> tuple[Any, list[dict[str, Any]] | None]:
    """(input messages, system instructions) of the messages a model call is given.

    The chat history is converted only as far as its serialization under the
    length limit reads (`_genai_messages.lazy_openai_request`).
    """
    return M.lazy_openai_request(msgs)


@M.never_raises()
def user_text(prompt: Any) -> Any:
    """The prompt an agent was invoked with: text, content blocks or messages."""
    if prompt is None:
        return None
    if isinstance(prompt, (list, tuple)):
        if prompt and all(isinstance(m, Mapping) and "role" in m for m in prompt):
            return M.lazy_openai_request(prompt)[0]
        return M.text_message("user", list(prompt))
    return M.text_message("user", str(prompt))


@M.never_raises()
def assistant_text(text: Any, finish_reason: str = "stop") -> list[dict[str, Any]] | None:
    if text is None:
        return None
    return M.text_message("assistant", str(text), finish_reason)


@M.never_raises()
def response(completion: Any) -> list[dict[str, Any]]:
    """The choices of a (PraisonAI or OpenAI) `ChatCompletion`."""
    return M.openai_response(completion) or []


@M.never_raises()
def add_tool_call_deltas(calls: dict[int, list[Any]], deltas: Any) -> None:
    """Fold one chunk's tool-call deltas into `calls` (index -> [id, name, argument pieces])."""
    for delta in deltas:
        index = M.get(delta, "index", 0)
        entry = calls.setdefault(index if isinstance(index, int) else 0, [None, None, []])
        if M.get(delta, "id"):
            entry[0] = M.get(delta, "id")
        function = M.get(delta, "function")
        if function is not None:
            if M.get(function, "name"):
                entry[1] = M.get(function, "name")
            if M.get(function, "arguments"):
                entry[2].append(M.get(function, "arguments"))


@M.never_raises()
def streamed(text: list[str], calls: dict[int, list[Any]], finish: str) -> list[dict[str, Any]]:
    """The output message assembled from a streamed response's deltas."""
    content = "".join(text)
    parts = [M.text(content)] if content else []
    parts.extend(M.tool_call(call_id, name, "".join(pieces))
                 for _, (call_id, name, pieces) in sorted(calls.items()))
    return [M.message("assistant", parts, finish_reason=finish)]
