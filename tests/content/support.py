"""Reading content attributes back and checking their JSON shape."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from opentelemetry.instrumentation.agents._content import TRUNCATION_MARK

CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages",
                "gen_ai.system_instructions", "gen_ai.tool.call.arguments",
                "gen_ai.tool.call.result")
MESSAGE_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages")

# Required fields of each part type (GenAI semantic conventions' JSON schema).
_PART_FIELDS = {
    "text": {"content"},
    "reasoning": {"content"},
    "tool_call": {"id", "name", "arguments"},
    "tool_call_response": {"id", "response"},
    "uri": {"uri"},
    "blob": {"content"},
    "file": {"file_id"},
}


def named(spans: Iterable[Any], prefix: str) -> list[Any]:
    return [s for s in spans if s.name == prefix or s.name.startswith(prefix + " ")]


def one(spans: Iterable[Any], prefix: str) -> Any:
    (span,) = named(spans, prefix)
    return span


def parsed(span: Any, key: str) -> Any:
    """A content attribute's JSON, parsed; the attribute must be there."""
    return json.loads(span.attributes[key])


def assert_no_content(spans: Iterable[Any]) -> None:
    for span in spans:
        present = [k for k in CONTENT_KEYS if k in span.attributes]
        assert not present, f"{span.name} has {present}"


def assert_parts(parts: Any) -> None:
    assert isinstance(parts, list)
    for part in parts:
        assert isinstance(part, dict) and isinstance(part.get("type"), str), part
        missing = _PART_FIELDS.get(part["type"], set()) - set(part)
        assert not missing, f"{part['type']} part lacks {missing}: {part}"
        if part["type"] in ("text", "reasoning"):
            assert isinstance(part["content"], str)


def assert_messages(messages: Any, *, output: bool = False) -> None:
    """Messages in the semantic conventions' shape: role, typed parts (and finish_reason)."""
    assert isinstance(messages, list) and messages
    for message in messages:
        assert isinstance(message.get("role"), str), message
        assert message["role"] != "system", "system instructions belong to their own attribute"
        assert_parts(message["parts"])
        if output:
            assert isinstance(message.get("finish_reason"), str), message


def assert_shapes(spans: Iterable[Any]) -> None:
    """Every content attribute present on `spans` is well-formed JSON of its shape."""
    for span in spans:
        attrs = span.attributes
        if "gen_ai.input.messages" in attrs:
            assert_messages(parsed(span, "gen_ai.input.messages"))
        if "gen_ai.output.messages" in attrs:
            assert_messages(parsed(span, "gen_ai.output.messages"), output=True)
        if "gen_ai.system_instructions" in attrs:
            instructions = parsed(span, "gen_ai.system_instructions")
            assert instructions
            assert_parts(instructions)


def text_of(message: dict[str, Any]) -> str:
    return "".join(p["content"] for p in message["parts"] if p["type"] == "text")


# The content keys whose values are JSON (a tool's arguments and result may be
# plain text, recorded as it is).
JSON_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
             "gen_ai.tool.definitions")


def assert_truncated(spans: Iterable[Any], limit: int) -> int:
    """Every content value is at most `limit` long and the message values are
    still JSON; returns how many were cut (hold a marked text)."""
    cut = 0
    for span in spans:
        for key in CONTENT_KEYS:
            value = span.attributes.get(key)
            if value is None:
                continue
            assert len(value) <= limit, (span.name, key, len(value))
            if key in JSON_KEYS:
                json.loads(value)
            if TRUNCATION_MARK in value:
                cut += 1
    return cut


def assert_cut_in_shape(text: str, limit: int) -> list[Any]:
    """A value cut at `limit` that kept the conventions' message shape: JSON, a
    list of messages with parts, at least one text marked; returns it parsed."""
    assert len(text) <= limit
    value = json.loads(text)
    assert isinstance(value, list) and value
    assert all(isinstance(m, dict) and "role" in m and isinstance(m["parts"], list)
               for m in value)
    marked = [p for m in value for p in m["parts"]
              if isinstance(p.get("content"), str) and p["content"].endswith(TRUNCATION_MARK)]
    assert marked, text
    return value


REDACTED = "[redacted]"


def redact_texts(kind: str, key: str, value: Any) -> Any:
    """A hook: every text part's content becomes REDACTED; tool results are dropped."""
    if key == "gen_ai.tool.call.result":
        return None
    if key == "gen_ai.tool.call.arguments":
        return {"redacted": True}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("type") == "text":
                return {**node, "content": REDACTED}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(value)


def assert_redacted(spans: Iterable[Any], secret: str) -> None:
    spans = list(spans)
    seen = 0
    for span in spans:
        for key in CONTENT_KEYS:
            value = span.attributes.get(key)
            if value is None:
                continue
            seen += 1
            assert secret not in value, (span.name, key, value)
            assert key != "gen_ai.tool.call.result", "the hook dropped tool results"
            if key == "gen_ai.tool.call.arguments":
                assert json.loads(value) == {"redacted": True}
    assert seen, "nothing was recorded at all"
    assert REDACTED in "".join(str(s.attributes.get(k, "")) for s in spans for k in MESSAGE_KEYS)


def raising_hook(kind: str, key: str, value: Any) -> Any:
    raise RuntimeError("hook is broken")


def assert_hook_failure_logged_once(caplog: Any) -> None:
    records = [r for r in caplog.records if r.levelno >= logging.WARNING
               and "content hook raised" in r.getMessage()]
    assert len(records) == 1, [r.getMessage() for r in records]


