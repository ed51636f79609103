"""One request/response exchange: its identity, placeholders, and what goes back.

Shared by the protocol modules. Everything an exchange holds derives from the
request (conversation, turn index, model), so a replayed or retried request
gets byte-identical output.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .turns import Turn


@dataclass(frozen=True)
class Exchange:
    """Identity of one response."""

    conv: str
    index: int
    model: str
    created: int

    def ident(self, prefix: str, sep: str = "_") -> str:
        """``<prefix><sep><conv><sep><index>``: a response or item id."""
        return f"{prefix}{sep}{self.conv}{sep}{self.index}"

    @property
    def request_id(self) -> str:
        return self.ident("req")

    def fill(self, value: str) -> str:
        # Plain replacement, not str.format: content is free text with braces.
        return value.replace("{conv}", self.conv).replace("{turn}", str(self.index))

    def fill_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.fill(value)
        if isinstance(value, Mapping):
            return {key: self.fill_json(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.fill_json(item) for item in value]
        return value


@dataclass(frozen=True)
class RenderedCall:
    """A scripted tool call with placeholders filled, ready for any protocol."""

    id: str
    name: str
    arguments: str  # JSON text, sent verbatim (may be malformed on purpose)

    @property
    def input(self) -> Any:
        """The arguments as a JSON value (the raw text if it does not parse)."""
        try:
            return json.loads(self.arguments)
        except ValueError:
            return self.arguments


def render_calls(turn: Turn, exchange: Exchange, id_prefix: str = "call") -> list[RenderedCall]:
    calls = []
    for i, call in enumerate(turn.tool_calls):
        if isinstance(call.arguments, str):
            arguments = exchange.fill(call.arguments)
        else:
            arguments = json.dumps(
                exchange.fill_json(call.arguments), ensure_ascii=False, separators=(",", ":")
            )
        call_id = (
            exchange.fill(call.id) if call.id else f"{exchange.ident(id_prefix)}_{i}"
        )
        calls.append(RenderedCall(id=call_id, name=call.name, arguments=arguments))
    return calls


def render_content(turn: Turn, exchange: Exchange) -> str | None:
    return exchange.fill(turn.content) if turn.content is not None else None


@dataclass(frozen=True)
class Reply:
    """What the HTTP handler sends back.

    A JSON ``body``, or, when ``events`` is set, a server-sent event stream:
    ``(event name or None, data)`` pairs, followed by ``data: [DONE]`` when
    ``done_marker`` is set (chat completions; the other protocols end with
    a terminal event instead).
    """

    status: int
    body: dict[str, Any] | None = None
    events: list[tuple[str | None, dict[str, Any]]] | None = None
    done_marker: bool = False
    delay: float = 0.0
    first_chunk_delay: float = 0.0
    chunk_delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def split_words(value: str) -> list[str]:
    """Token-like pieces: each word with its leading whitespace; joins back exactly."""
    return re.findall(r"\s*\S+|\s+$", value)


def split_even(value: str, parts: int) -> list[str]:
    if not value:
        return []
    size = max(1, math.ceil(len(value) / parts))
    return [value[i : i + size] for i in range(0, len(value), size)]
