"""What both AgentScope lines do alike with a `Msg`: lay its blocks out as the
messages a model sees, and convert one `Msg`, a list of them or a history.

The lines differ only in how a block becomes a part and which blocks are
messages of their own (a tool result is a ``tool`` message in both; 2.x
hints are ``user`` messages): each line passes those in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ... import _genai_messages as M
from ..._content import LazyList

Part = Callable[[Any], dict[str, Any]]
# A block that is a message of its own -> that message; None for any other.
Alone = Callable[[Any], "dict[str, Any] | None"]
OneMsg = Callable[[Any], list[dict[str, Any]]]


def split(role: str, name: Any, blocks: Iterable[Any], part: Part,
          alone: Alone) -> list[dict[str, Any]]:
    """`blocks` of one `Msg` as messages: runs of ordinary blocks become one
    `role` message each, a block `alone` answers for becomes its own."""
    out: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for block in blocks:
        message = alone(block)
        if message is None:
            current.append(part(block))
            continue
        if current:
            out.append(M.message(role, current, name=name))
            current = []
        out.append(message)
    if current or not out:
        out.append(M.message(role, current, name=name))
    return out


def convert(msgs: Any, one: OneMsg) -> list[dict[str, Any]] | None:
    """A `Msg`, a list of them, or None, as a list of JSON messages."""
    if msgs is None:
        return None
    if isinstance(msgs, (list, tuple)):
        out: list[dict[str, Any]] = []
        for msg in msgs:
            if hasattr(msg, "content"):
                out.extend(one(msg))
        return out
    if hasattr(msgs, "content") and hasattr(msgs, "role"):
        return one(msgs)
    return None


def converters(one: OneMsg) -> tuple[Any, OneMsg, Any]:
    """(convert, history item, agent input) for a line's converter of one `Msg`;
    convert and agent input never raise (None instead)."""
    def item(msg: Any) -> list[dict[str, Any]]:
        # An item of a history: anything without content is skipped.
        return one(msg) if hasattr(msg, "content") else []

    @M.never_raises()
    def convert_msgs(msgs: Any) -> list[dict[str, Any]] | None:
        """A `Msg`, a list of them, or None, as a list of JSON messages."""
        return convert(msgs, one)

    @M.never_raises()
    def agent_input_of(msgs: Any) -> Any:
        """What an agent was called with (see `common.messages.agent_input`)."""
        return agent_input(msgs, one, item)

    return convert_msgs, item, agent_input_of


def agent_input(msgs: Any, one: OneMsg, item: OneMsg) -> Any:
    """What an agent was called with, as `convert` gives it; a list of `Msg`
    is converted only as far as serializing it under the length limit reads."""
    if isinstance(msgs, (list, tuple)):
        return LazyList(msgs, item)
    return convert(msgs, one)
