"""OpenAI chat completions: ``POST /v1/chat/completions``, JSON and SSE chunks."""

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
from .protocol import Protocol, content_texts, last_index, openai_error_body
from .turns import Turn


def turn_index(request: Mapping[str, Any], *, since_last_user: bool = False) -> int:
    """The turn a chat-completions request asks for: its number of assistant messages.

    Counting the transcript rather than requests keeps replies deterministic
    under concurrency and retries. With `since_last_user`, only assistant
    messages after the last user message count: the turn within the latest
    prompt, for agents whose history holds earlier (or other callers')
    prompts. Agents that prune history or inject assistant messages of their
    own need a `Responder` instead.
    """
    messages = request.get("messages")
    if not isinstance(messages, list):
        return 0
    if since_last_user:
        messages = messages[last_index(messages, _is_user) + 1:]
    return sum(1 for message in messages if _role(message) == "assistant")


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, Mapping) else None


def _is_user(message: Any) -> bool:
    return _role(message) == "user"


def usage_body(turn: Turn) -> dict[str, Any] | None:
    """Chat-completions usage; detail objects only for details the turn sets."""
    if turn.usage is None:
        return None
    prompt, completion = turn.usage
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if turn.cache_read_tokens is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": turn.cache_read_tokens}
    if turn.reasoning_tokens is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": turn.reasoning_tokens}
    return usage


class ChatCompletions(Protocol):
    name = "chat.completions"
    path = "/v1/chat/completions"

    def check(self, request: Mapping[str, Any]) -> tuple[str, str] | None:
        if not isinstance(request.get("messages"), list):
            return "'messages' must be a list", "messages"
        return None

    def marker_texts(self, request: Mapping[str, Any], last_prompt_only: bool) -> Iterator[str]:
        messages = request.get("messages")
        if not isinstance(messages, list):
            return
        if last_prompt_only:
            last = last_index(messages, _is_user)
            messages = messages[last:last + 1] if last >= 0 else []
        for message in messages:
            if isinstance(message, Mapping):
                yield from content_texts(message.get("content"))

    def turn_index(self, request: Mapping[str, Any], since_last_user: bool) -> int:
        return turn_index(request, since_last_user=since_last_user)

    def response_id(self, exchange: Exchange) -> str:
        return exchange.ident("chatcmpl", "-")

    def error_body(
        self,
        status: int,
        message: str,
        error_type: str | None,
        code: str | None = None,
        param: str | None = None,
    ) -> dict[str, Any]:
        return openai_error_body(status, message, error_type, code, param)

    def respond(self, turn: Turn, exchange: Exchange, request: Mapping[str, Any]) -> Reply:
        content = render_content(turn, exchange)
        calls = render_calls(turn, exchange)
        if request.get("stream") is True:
            options = request.get("stream_options")
            include_usage = isinstance(options, Mapping) and options.get("include_usage") is True
            chunks = self._chunks(content, calls, turn, exchange, include_usage)
            return Reply(
                200,
                events=[(None, chunk) for chunk in chunks],
                done_marker=True,
                delay=turn.delay,
                first_chunk_delay=turn.first_chunk_delay,
                chunk_delay=turn.chunk_delay,
            )
        return Reply(200, body=self._completion(content, calls, turn, exchange), delay=turn.delay)

    def _completion(
        self, content: str | None, calls: list[RenderedCall], turn: Turn, exchange: Exchange
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if calls:
            message["tool_calls"] = [_call_body(call) for call in calls]
        completion: dict[str, Any] = {
            "id": self.response_id(exchange),
            "object": "chat.completion",
            "created": exchange.created,
            "model": exchange.model,
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "message": message, "logprobs": None,
                 "finish_reason": turn.finish_reason}
            ],
        }
        usage = usage_body(turn)
        if usage is not None:
            completion["usage"] = usage
        return completion

    def _chunks(
        self,
        content: str | None,
        calls: list[RenderedCall],
        turn: Turn,
        exchange: Exchange,
        include_usage: bool,
    ) -> list[dict[str, Any]]:
        """The ``chat.completion.chunk`` objects OpenAI would stream."""
        completion_id = self.response_id(exchange)

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            body: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": exchange.created,
                "model": exchange.model,
                "system_fingerprint": None,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }
            if include_usage:
                # OpenAI sends an explicit null on every chunk but the last one.
                body["usage"] = None
            return body

        chunks = [
            chunk({"role": "assistant", "content": "" if content is not None else None,
                   "refusal": None})
        ]
        chunks.extend(chunk({"content": piece}) for piece in split_words(content or ""))
        for i, call in enumerate(calls):
            head = {
                "index": i,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            chunks.append(chunk({"tool_calls": [head]}))
            chunks.extend(
                chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
                for piece in split_even(call.arguments, 3)
            )
        chunks.append(chunk({}, turn.finish_reason))

        usage = usage_body(turn)
        if include_usage and usage is not None:
            final = chunk({})
            final["choices"] = []
            final["usage"] = usage
            chunks.append(final)
        return chunks


def _call_body(call: RenderedCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
