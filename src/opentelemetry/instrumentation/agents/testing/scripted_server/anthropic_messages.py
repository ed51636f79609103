"""Anthropic Messages: ``POST /v1/messages``, JSON and the SSE event stream.

Text becomes a ``text`` block and each scripted tool call a ``tool_use``
block; tool results come back as ``tool_result`` blocks inside *user*
messages, so a user message holding only tool results is not a new prompt.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .exchange import (
    Exchange,
    RenderedCall,
    Reply,
    render_calls,
    render_content,
    split_even,
    split_words,
)
from .protocol import Protocol, content_texts, last_index
from .turns import Turn

# Chat-completions finish reasons (what scripts are written in) to stop reasons.
_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _is_prompt(message: Any) -> bool:
    """A user message with content of its own, not only tool results."""
    if not isinstance(message, Mapping) or message.get("role") != "user":
        return False
    content = message.get("content")
    if isinstance(content, list):
        return any(
            not (isinstance(block, Mapping) and block.get("type") == "tool_result")
            for block in content
        )
    return True


def usage_body(turn: Turn) -> dict[str, Any] | None:
    """Anthropic usage; the cache fields are always present, as the API sends them."""
    if turn.usage is None:
        return None
    return {
        "input_tokens": turn.usage[0],
        "output_tokens": turn.usage[1],
        "cache_creation_input_tokens": turn.cache_creation_tokens or 0,
        "cache_read_input_tokens": turn.cache_read_tokens or 0,
    }


class AnthropicMessages(Protocol):
    name = "messages"
    path = "/v1/messages"
    request_id_header = "request-id"

    def check(self, request: Mapping[str, Any]) -> tuple[str, str] | None:
        if not isinstance(request.get("messages"), list):
            return "messages: Field required (a list)", "messages"
        return None

    def marker_texts(self, request: Mapping[str, Any], last_prompt_only: bool) -> Iterator[str]:
        messages = request.get("messages")
        if not isinstance(messages, list):
            return
        if last_prompt_only:
            last = last_index(messages, _is_prompt)
            messages = messages[last:last + 1] if last >= 0 else []
        else:
            yield from content_texts(request.get("system"))
        for message in messages:
            if not isinstance(message, Mapping):
                continue
            content = message.get("content")
            if last_prompt_only and isinstance(content, list):
                content = [b for b in content if isinstance(b, Mapping) and b.get("type") == "text"]
            yield from content_texts(content)

    def turn_index(self, request: Mapping[str, Any], since_last_user: bool) -> int:
        messages = request.get("messages")
        if not isinstance(messages, list):
            return 0
        if since_last_user:
            messages = messages[last_index(messages, _is_prompt) + 1:]
        return sum(
            1 for m in messages if isinstance(m, Mapping) and m.get("role") == "assistant"
        )

    def response_id(self, exchange: Exchange) -> str:
        return exchange.ident("msg")

    def error_body(
        self,
        status: int,
        message: str,
        error_type: str | None,
        code: str | None = None,
        param: str | None = None,
    ) -> dict[str, Any]:
        if error_type is None:
            error_type = _ERROR_TYPES.get(status, "api_error" if status >= 500 else
                                          "invalid_request_error")
        return {"type": "error", "error": {"type": error_type, "message": message}}

    def respond(self, turn: Turn, exchange: Exchange, request: Mapping[str, Any]) -> Reply:
        content = render_content(turn, exchange)
        calls = render_calls(turn, exchange, "toolu")
        stop_reason = _STOP_REASONS.get(turn.finish_reason, turn.finish_reason)
        if request.get("stream") is True:
            return Reply(
                200,
                events=self._events(content, calls, stop_reason, turn, exchange),
                delay=turn.delay,
                first_chunk_delay=turn.first_chunk_delay,
                chunk_delay=turn.chunk_delay,
            )
        blocks: list[dict[str, Any]] = []
        if content is not None:
            blocks.append({"type": "text", "text": content})
        blocks.extend(_tool_use(call, call.input) for call in calls)
        message = self._message(exchange, blocks, stop_reason, usage_body(turn))
        return Reply(200, body=message, delay=turn.delay)

    def _message(
        self,
        exchange: Exchange,
        blocks: list[dict[str, Any]],
        stop_reason: str | None,
        usage: dict[str, Any] | None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": self.response_id(exchange),
            "type": "message",
            "role": "assistant",
            "model": exchange.model,
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": None,
        }
        if usage is not None:
            message["usage"] = usage
        return message

    def _events(
        self,
        content: str | None,
        calls: list[RenderedCall],
        stop_reason: str,
        turn: Turn,
        exchange: Exchange,
    ) -> list[tuple[str | None, dict[str, Any]]]:
        usage = usage_body(turn)
        # As the API does: input and cache counts up front, the output count
        # (cumulative) in message_delta.
        start_usage = dict(usage, output_tokens=0) if usage is not None else None
        events: list[tuple[str | None, dict[str, Any]]] = [
            ("message_start", {"type": "message_start",
                               "message": self._message(exchange, [], None, start_usage)}),
            ("ping", {"type": "ping"}),
        ]

        def block(index: int, head: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
            events.append(("content_block_start", {"type": "content_block_start",
                                                   "index": index, "content_block": head}))
            events.extend(
                ("content_block_delta", {"type": "content_block_delta", "index": index,
                                         "delta": delta})
                for delta in deltas
            )
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))

        index = 0
        if content is not None:
            block(index, {"type": "text", "text": ""},
                  [{"type": "text_delta", "text": piece} for piece in split_words(content)])
            index += 1
        for call in calls:
            block(index, _tool_use(call, {}),
                  [{"type": "input_json_delta", "partial_json": piece}
                   for piece in split_even(call.arguments, 3)])
            index += 1

        delta: dict[str, Any] = {"type": "message_delta",
                                 "delta": {"stop_reason": stop_reason, "stop_sequence": None}}
        delta["usage"] = {"output_tokens": usage["output_tokens"] if usage else 0}
        events.append(("message_delta", delta))
        events.append(("message_stop", {"type": "message_stop"}))
        return events


def _tool_use(call: RenderedCall, input_value: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": input_value}
