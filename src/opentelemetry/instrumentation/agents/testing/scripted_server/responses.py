"""OpenAI Responses: ``POST /v1/responses``, JSON and the SSE event stream.

Text becomes a ``message`` output item and each scripted tool call a
``function_call`` item. In the request, the model's earlier output comes back
as input items (``function_call``, ``reasoning``, assistant ``message``); one
unbroken run of them is one earlier turn. A request continuing a stored
response (``previous_response_id``) counts that response's turn too.
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
from .protocol import Protocol, content_texts, last_index, openai_error_body
from .turns import Turn

_MODEL_ITEM_TYPES = frozenset({"function_call", "reasoning", "custom_tool_call"})
# Chat-completions finish reasons that end a response as "incomplete".
_INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


def _items(request: Mapping[str, Any]) -> list[Any]:
    value = request.get("input")
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return value if isinstance(value, list) else []


def _is_prompt(item: Any) -> bool:
    return (
        isinstance(item, Mapping)
        and item.get("role") == "user"
        and item.get("type", "message") == "message"
    )


def _is_model_output(item: Any) -> bool:
    if not isinstance(item, Mapping):
        return False
    if item.get("type") in _MODEL_ITEM_TYPES:
        return True
    return item.get("role") == "assistant" and item.get("type", "message") == "message"


def usage_body(turn: Turn) -> dict[str, Any] | None:
    """Responses usage; both detail objects always present, as the API sends them."""
    if turn.usage is None:
        return None
    prompt, completion = turn.usage
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": turn.cache_read_tokens or 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens or 0},
        "total_tokens": prompt + completion,
    }


class Responses(Protocol):
    name = "responses"
    path = "/v1/responses"

    def check(self, request: Mapping[str, Any]) -> tuple[str, str] | None:
        value = request.get("input")
        if not isinstance(value, (str, list)) and request.get("previous_response_id") is None:
            return "'input' must be a string or a list of items", "input"
        return None

    def marker_texts(self, request: Mapping[str, Any], last_prompt_only: bool) -> Iterator[str]:
        items = _items(request)
        if last_prompt_only:
            last = last_index(items, _is_prompt)
            items = items[last:last + 1] if last >= 0 else []
        elif isinstance(request.get("instructions"), str):
            yield request["instructions"]
        for item in items:
            if isinstance(item, Mapping):
                yield from content_texts(item.get("content"))

    def turn_index(self, request: Mapping[str, Any], since_last_user: bool) -> int:
        items = _items(request)
        if since_last_user:
            items = items[last_index(items, _is_prompt) + 1:]
        runs, inside = 0, False
        for item in items:
            model_output = _is_model_output(item)
            if model_output and not inside:
                runs += 1
            inside = model_output
        return runs

    def continues(self, request: Mapping[str, Any]) -> str | None:
        previous = request.get("previous_response_id")
        return previous if isinstance(previous, str) else None

    def has_prompt(self, request: Mapping[str, Any]) -> bool:
        return any(_is_prompt(item) for item in _items(request))

    def response_id(self, exchange: Exchange) -> str:
        return exchange.ident("resp")

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
            return Reply(
                200,
                events=self._events(content, calls, turn, exchange, request),
                delay=turn.delay,
                first_chunk_delay=turn.first_chunk_delay,
                chunk_delay=turn.chunk_delay,
            )
        output = []
        if content is not None:
            output.append(_message_item(exchange, content, "completed"))
        output.extend(_call_item(exchange, i, call, call.arguments, "completed")
                      for i, call in enumerate(calls))
        return Reply(200, body=self._response(exchange, request, turn, output, final=True),
                     delay=turn.delay)

    def _response(
        self,
        exchange: Exchange,
        request: Mapping[str, Any],
        turn: Turn,
        output: list[dict[str, Any]],
        final: bool,
    ) -> dict[str, Any]:
        incomplete = _INCOMPLETE_REASONS.get(turn.finish_reason) if final else None
        if not final:
            status = "in_progress"
        else:
            status = "incomplete" if incomplete else "completed"
        return {
            "id": self.response_id(exchange),
            "object": "response",
            "created_at": exchange.created,
            "status": status,
            "error": None,
            "incomplete_details": {"reason": incomplete} if incomplete else None,
            "instructions": request.get("instructions"),
            "max_output_tokens": request.get("max_output_tokens"),
            "model": exchange.model,
            "output": output,
            "parallel_tool_calls": request.get("parallel_tool_calls", True),
            "previous_response_id": request.get("previous_response_id"),
            "reasoning": request.get("reasoning") or {"effort": None, "summary": None},
            "store": request.get("store", True),
            "temperature": request.get("temperature", 1.0),
            "text": request.get("text") or {"format": {"type": "text"}},
            "tool_choice": request.get("tool_choice", "auto"),
            "tools": request.get("tools") or [],
            "top_p": request.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": usage_body(turn) if final else None,
            "metadata": request.get("metadata") or {},
        }

    def _events(
        self,
        content: str | None,
        calls: list[RenderedCall],
        turn: Turn,
        exchange: Exchange,
        request: Mapping[str, Any],
    ) -> list[tuple[str | None, dict[str, Any]]]:
        events: list[tuple[str | None, dict[str, Any]]] = []

        def emit(kind: str, **data: Any) -> None:
            events.append((kind, {"type": kind, "sequence_number": len(events), **data}))

        pending = self._response(exchange, request, turn, [], final=False)
        emit("response.created", response=pending)
        emit("response.in_progress", response=pending)

        output: list[dict[str, Any]] = []
        if content is not None:
            index = len(output)
            item_id = _message_item(exchange, "", "in_progress")["id"]
            part = {"type": "output_text", "text": "", "annotations": []}
            emit("response.output_item.added", output_index=index,
                 item=_message_item(exchange, None, "in_progress"))
            emit("response.content_part.added", item_id=item_id, output_index=index,
                 content_index=0, part=part)
            for piece in split_words(content):
                emit("response.output_text.delta", item_id=item_id, output_index=index,
                     content_index=0, delta=piece, logprobs=[])
            emit("response.output_text.done", item_id=item_id, output_index=index,
                 content_index=0, text=content, logprobs=[])
            emit("response.content_part.done", item_id=item_id, output_index=index,
                 content_index=0, part=dict(part, text=content))
            done = _message_item(exchange, content, "completed")
            emit("response.output_item.done", output_index=index, item=done)
            output.append(done)
        for i, call in enumerate(calls):
            index = len(output)
            head = _call_item(exchange, i, call, "", "in_progress")
            emit("response.output_item.added", output_index=index, item=head)
            for piece in split_even(call.arguments, 3):
                emit("response.function_call_arguments.delta", item_id=head["id"],
                     output_index=index, delta=piece)
            emit("response.function_call_arguments.done", item_id=head["id"],
                 output_index=index, name=call.name, arguments=call.arguments)
            done = _call_item(exchange, i, call, call.arguments, "completed")
            emit("response.output_item.done", output_index=index, item=done)
            output.append(done)

        final = self._response(exchange, request, turn, output, final=True)
        emit("response.incomplete" if final["status"] == "incomplete" else "response.completed",
             response=final)
        return events


def _message_item(exchange: Exchange, content: str | None, status: str) -> dict[str, Any]:
    parts = [] if content is None else [
        {"type": "output_text", "text": content, "annotations": []}
    ]
    return {"type": "message", "id": exchange.ident("msg"), "status": status,
            "role": "assistant", "content": parts}


def _call_item(
    exchange: Exchange, i: int, call: RenderedCall, arguments: str, status: str
) -> dict[str, Any]:
    return {"type": "function_call", "id": f"{exchange.ident('fc')}_{i}", "call_id": call.id,
            "name": call.name, "arguments": arguments, "status": status}
