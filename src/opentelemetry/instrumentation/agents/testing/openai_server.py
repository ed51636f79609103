"""A scripted, OpenAI-compatible chat-completions server for offline tests.

Agents that talk to an LLM through the ``openai`` client (or any other
OpenAI-compatible client) can be run in CI against this server instead of a
real provider. Every response comes from a script written by the test, so the
agent's behaviour, and the telemetry it produces, is reproducible.

Usage::

    from openai import OpenAI
    from opentelemetry.instrumentation.agents.testing.openai_server import (
        ScriptedOpenAIServer, ToolCall, text, tool_calls,
    )

    script = [
        tool_calls([ToolCall("get_weather", {"city": "Paris"})]),
        text("It is sunny in Paris ({conv})."),
    ]
    with ScriptedOpenAIServer(script) as server:
        client = OpenAI(api_key="test", base_url=server.base_url)
        ...  # run the agent; the first user message contains "[conv:abc]"
        assert len(server.requests_for("abc")) == 2

How a request is matched to a response:

* The *conversation* is the first match of ``conversation_pattern`` (by
  default ``[conv:<id>]``) in the text of the request's messages, in message
  order. Requests without a marker belong to the default conversation.
* The *turn* is the number of assistant messages already in the request
  (see `turn_index`). Both are derived from the request alone, never from
  arrival order or a counter, so any number of conversations can run
  concurrently against one server, and a retried request gets the same
  response as the original.

Served endpoints: ``POST /v1/chat/completions`` (JSON, or server-sent events
when the request has ``"stream": true``), ``GET /v1/models`` and
``GET /v1/models/{id}``. Everything else gets a 404 in OpenAI's error shape.
"""

from __future__ import annotations

import json
import math
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = [
    "DEFAULT_CONVERSATION_PATTERN",
    "Responder",
    "ScriptedOpenAIServer",
    "ToolCall",
    "Turn",
    "error",
    "text",
    "tool_calls",
    "turn_index",
]

DEFAULT_CONVERSATION_PATTERN = r"\[conv:([A-Za-z0-9_-]+)\]"
"""Default marker: ``[conv:<id>]`` anywhere in a message's text."""

# Stands in for the conversation id in ids and placeholders when a request
# carries no marker.
_DEFAULT_LABEL = "default"
_DEFAULT_USAGE = (10, 5)
# Agent transcripts can be large, but a body beyond this is a client bug and
# reading it into memory would only hide it.
_MAX_BODY_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ToolCall:
    """One function call in an assistant turn.

    Args:
        name: Function name.
        arguments: A mapping (serialised as JSON) or a ready-made JSON string;
            a string is sent verbatim, which lets a test send malformed
            arguments on purpose.
        id: Tool call id; by default ``call_<conversation>_<turn>_<i>``.

    ``{conv}`` and ``{turn}`` placeholders in the id and in string arguments
    are replaced like in turn content.
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Turn:
    """One scripted response. Build it with `text`, `tool_calls` or `error`.

    ``content`` may contain ``{conv}`` and ``{turn}`` placeholders, replaced
    by the conversation id and the turn index, so a test can check that every
    response reached the conversation it was scripted for.

    ``delay`` is slept before responding and ``chunk_delay`` between streamed
    chunks; both let a test force interleavings or measurable latencies.
    """

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: tuple[int, int] | None = _DEFAULT_USAGE
    finish_reason: str = "stop"
    delay: float = 0.0
    chunk_delay: float = 0.0
    status: int = 200
    error_message: str | None = None
    error_type: str | None = None
    error_code: str | None = None

    def __post_init__(self) -> None:
        # Fail when the script is written, not in a server thread mid-test.
        if self.delay < 0 or self.chunk_delay < 0:
            raise ValueError("delay and chunk_delay must be >= 0")
        if self.status != 200 and not 400 <= self.status <= 599:
            raise ValueError(f"status must be 200 or an HTTP error (400-599), got {self.status}")
        if self.usage is not None and (len(self.usage) != 2 or min(self.usage) < 0):
            raise ValueError("usage must be (prompt_tokens, completion_tokens), both >= 0")
        if not all(isinstance(call, ToolCall) for call in self.tool_calls):
            raise TypeError("tool_calls must contain ToolCall instances")

    @property
    def is_error(self) -> bool:
        """Whether this turn answers with an HTTP error instead of a completion."""
        return self.status != 200

    def with_delay(self, seconds: float) -> Turn:
        """Return a copy of this turn that waits ``seconds`` before responding."""
        return replace(self, delay=seconds)


Responder = Callable[[str | None, Mapping[str, Any]], Turn | None]
"""``(conversation_id, request_json) -> Turn | None``.

``conversation_id`` is ``None`` for requests without a marker. Returning
``None`` means "no more turns" and produces the same error as an exhausted
script.
"""


def text(
    content: str,
    *,
    usage: tuple[int, int] | None = _DEFAULT_USAGE,
    finish_reason: str = "stop",
    delay: float = 0.0,
    chunk_delay: float = 0.0,
) -> Turn:
    """A plain assistant message.

    Args:
        content: Message text; ``{conv}`` and ``{turn}`` are substituted.
        usage: ``(prompt_tokens, completion_tokens)``, or ``None`` to send no
            usage at all (to test code paths for providers that omit it).
        finish_reason: For example ``"length"`` to simulate truncation.
        delay: Seconds to wait before responding.
        chunk_delay: Seconds to wait between streamed chunks.
    """
    return Turn(
        content=content,
        usage=usage,
        finish_reason=finish_reason,
        delay=delay,
        chunk_delay=chunk_delay,
    )


def tool_calls(
    calls: Iterable[ToolCall],
    *,
    content: str | None = None,
    usage: tuple[int, int] | None = _DEFAULT_USAGE,
    finish_reason: str = "tool_calls",
    delay: float = 0.0,
    chunk_delay: float = 0.0,
) -> Turn:
    """An assistant message requesting one or more tool calls.

    Args:
        calls: The calls, in order; they are indexed as streamed.
        content: Optional text sent alongside the calls.
        usage, finish_reason, delay, chunk_delay: As for `text`.
    """
    calls = tuple(calls)
    if not calls:
        raise ValueError("tool_calls() needs at least one ToolCall")
    return Turn(
        content=content,
        tool_calls=calls,
        usage=usage,
        finish_reason=finish_reason,
        delay=delay,
        chunk_delay=chunk_delay,
    )


def error(
    status: int = 500,
    message: str = "Scripted error",
    *,
    error_type: str | None = None,
    code: str | None = None,
    delay: float = 0.0,
) -> Turn:
    """An HTTP error with an OpenAI-style ``{"error": {...}}`` body.

    Args:
        status: HTTP status, 400-599. The ``openai`` client maps it to its
            exception classes (429 -> ``RateLimitError``, 5xx ->
            ``InternalServerError``...) and retries 408, 409, 429 and 5xx
            unless built with ``max_retries=0``. A retry is the same request,
            so it gets this same turn again.
        message: ``error.message``; ``{conv}`` and ``{turn}`` are substituted.
        error_type: ``error.type``; by default what OpenAI uses for ``status``.
        code: ``error.code``; by default ``"rate_limit_exceeded"`` for 429.
        delay: Seconds to wait before responding.
    """
    if not 400 <= status <= 599:
        raise ValueError(f"error status must be 400-599, got {status}")
    return Turn(
        status=status,
        error_message=message,
        error_type=error_type or _default_error_type(status),
        error_code=code if code is not None else ("rate_limit_exceeded" if status == 429 else None),
        delay=delay,
    )


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
        messages = messages[_last_user_index(messages) + 1:]
    return sum(
        1
        for message in messages
        if isinstance(message, Mapping) and message.get("role") == "assistant"
    )


def _last_user_index(messages: list[Any]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, Mapping) and message.get("role") == "user":
            return index
    return -1


class ScriptedOpenAIServer:
    """An OpenAI-compatible HTTP server answering from scripts.

    Args:
        scripts: What to answer, in one of three forms:

            * ``{conversation_id: [turns]}``: one script per conversation;
              a marked request for any other conversation is an error.
            * ``[turns]``: the same script for every conversation, each
              following it independently (use ``{conv}`` to tell them apart).
            * a `Responder` ``(conversation_id, request_json) -> Turn | None``
              for full control. It is called from server threads, so it must
              be thread-safe.
        default: Script for requests without a conversation marker. Defaults
            to ``scripts`` when that is a list; otherwise such requests go to
            the responder, or are an error.
        conversation_pattern: Regex whose first group is the conversation id.
        marker: ``"first"`` (default): the first marker in the request names
            the conversation, and every assistant message counts toward the
            turn. ``"last"``: the marker in the last user message names it,
            and only assistant messages after that message count. Use
            ``"last"`` for agents that keep one history for every caller, so
            overlapping conversations see each other's prompts.
        models: Model ids listed by ``GET /v1/models``.
        response_model: ``model`` reported in responses; by default the
            request's ``model`` is echoed.
        host: Interface to bind (IPv4).
        port: Port to bind; 0 picks a free one.

    Use it as a context manager, or call `start` and `stop`. Problems that a
    script did not ask for (exhausted script, unknown conversation, malformed
    request, failing responder) are answered with an HTTP error and recorded in
    `errors`, because agents often swallow LLM errors.
    """

    def __init__(
        self,
        scripts: Mapping[str, Sequence[Turn]] | Sequence[Turn] | Responder | None = None,
        *,
        default: Sequence[Turn] | None = None,
        conversation_pattern: str | re.Pattern[str] = DEFAULT_CONVERSATION_PATTERN,
        marker: str = "first",
        models: Sequence[str] = ("gpt-4o-mini",),
        response_model: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._responder: Responder | None = None
        self._scripts: dict[str, tuple[Turn, ...]] | None = None
        self._shared: tuple[Turn, ...] | None = None
        if scripts is None:
            pass
        elif callable(scripts):
            self._responder = scripts
        elif isinstance(scripts, Mapping):
            self._scripts = {
                str(conv): _as_script(turns, f"scripts[{conv!r}]")
                for conv, turns in scripts.items()
            }
        else:
            self._shared = _as_script(scripts, "scripts")
        self._default = _as_script(default, "default") if default is not None else self._shared

        if marker not in ("first", "last"):
            raise ValueError("marker must be 'first' or 'last'")
        self._since_last_user = marker == "last"
        self._pattern = re.compile(conversation_pattern)
        if self._pattern.groups < 1:
            raise ValueError("conversation_pattern needs a capturing group for the conversation id")
        self._models = tuple(models)
        self._response_model = response_model
        self._host = host
        self._port = port
        # One timestamp per server keeps responses identical across replays.
        self._created = int(time.time())

        self._lock = threading.Lock()
        self._requests: list[tuple[str | None, dict[str, Any]]] = []
        self._errors: list[str] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> ScriptedOpenAIServer:
        """Bind and serve in a background thread. Returns ``self``."""
        if self._httpd is not None:
            raise RuntimeError("ScriptedOpenAIServer is already running")
        httpd = _HTTPServer((self._host, self._port), _Handler, app=self)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"ScriptedOpenAIServer:{httpd.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._httpd, self._thread = httpd, thread
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections, including streams in flight.

        Safe to call more than once.
        """
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        if self._httpd is None:
            raise RuntimeError("ScriptedOpenAIServer is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``, ready for ``OpenAI(base_url=...)``."""
        return f"http://{self._host}:{self.port}/v1"

    # -- inspection --------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Parsed bodies of all chat-completion requests, in arrival order.

        A snapshot: later requests do not appear in a list already returned.
        Arrival order across concurrent conversations is not deterministic;
        use `requests_for` to look at one conversation.
        """
        with self._lock:
            return [body for _, body in self._requests]

    def requests_for(self, conversation_id: str | None) -> list[dict[str, Any]]:
        """Request bodies of one conversation (``None``: requests without marker)."""
        with self._lock:
            return [body for conv, body in self._requests if conv == conversation_id]

    @property
    def errors(self) -> list[str]:
        """Messages of the errors the scripts did not ask for (snapshot)."""
        with self._lock:
            return list(self._errors)

    def conversation_id(self, request: Mapping[str, Any]) -> str | None:
        """The conversation a request belongs to, or ``None`` without a marker."""
        messages = request.get("messages")
        if not isinstance(messages, list):
            return None
        if self._since_last_user:
            last = _last_user_index(messages)
            messages = messages[last:last + 1] if last >= 0 else []
        for content in _message_texts(messages):
            match = self._pattern.search(content)
            if match:
                return match.group(1)
        return None

    # -- request handling (called from handler threads) --------------------

    def _reply_to_chat(self, raw: bytes) -> _Reply:
        try:
            request = json.loads(raw)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            return self._problem(400, f"Request body is not valid JSON: {exc}", "invalid_json")
        if not isinstance(request, dict):
            return self._problem(400, "Request body must be a JSON object", "invalid_request")

        conv = self.conversation_id(request)
        with self._lock:
            self._requests.append((conv, request))
        if not isinstance(request.get("messages"), list):
            return self._problem(400, "'messages' must be a list", "invalid_request", "messages")

        index = turn_index(request, since_last_user=self._since_last_user)
        if conv is None:
            where = f"turn {index} of a request without conversation marker"
        else:
            where = f"conversation {conv!r}, turn {index}"
        selected = self._select_turn(conv, index, request, where)
        if isinstance(selected, _Reply):
            return selected

        exchange = _Exchange(
            conv=conv or _DEFAULT_LABEL,
            index=index,
            model=self._response_model or str(request.get("model") or self._models[0]),
            created=self._created,
        )
        if selected.is_error:
            body = _error_body(
                exchange.fill(selected.error_message or "Scripted error"),
                selected.error_type or _default_error_type(selected.status),
                selected.error_code,
            )
            return _Reply(
                selected.status, body=body, delay=selected.delay, request_id=exchange.request_id
            )
        message = _render(selected, exchange)
        if request.get("stream") is True:
            options = request.get("stream_options")
            include_usage = isinstance(options, Mapping) and options.get("include_usage") is True
            return _Reply(
                200,
                events=_chunks(message, selected, exchange, include_usage),
                delay=selected.delay,
                chunk_delay=selected.chunk_delay,
                request_id=exchange.request_id,
            )
        return _Reply(
            200,
            body=_completion(message, selected, exchange),
            delay=selected.delay,
            request_id=exchange.request_id,
        )

    def _select_turn(
        self, conv: str | None, index: int, request: dict[str, Any], where: str
    ) -> Turn | _Reply:
        script: tuple[Turn, ...] | None
        if conv is None and self._default is not None:
            script = self._default
        elif self._responder is not None:
            try:
                turn = self._responder(conv, request)
            except Exception as exc:  # noqa: BLE001 - user code; any failure must become a reply
                return self._problem(
                    500, f"Responder raised {type(exc).__name__}: {exc} ({where})", "script_error"
                )
            if turn is None:
                return self._problem(
                    500, f"Responder has no response for {where}", "script_exhausted"
                )
            if not isinstance(turn, Turn):
                return self._problem(
                    500,
                    f"Responder returned {type(turn).__name__}, expected Turn ({where})",
                    "script_error",
                )
            return turn
        elif conv is None:
            return self._problem(
                500,
                "Request has no conversation marker matching "
                f"{self._pattern.pattern!r} and no default script is configured",
                "unknown_conversation",
            )
        elif self._shared is not None:
            script = self._shared
        elif self._scripts is not None and conv in self._scripts:
            script = self._scripts[conv]
        else:
            known = ", ".join(sorted(self._scripts or ())) or "none"
            return self._problem(
                500,
                f"No script for conversation {conv!r} (scripted: {known})",
                "unknown_conversation",
            )

        if index >= len(script):
            return self._problem(
                500,
                f"Script exhausted: {where} requested, but the script has only "
                f"{len(script)} turn(s) (turns count assistant messages in the request)",
                "script_exhausted",
            )
        return script[index]

    def _problem(self, status: int, message: str, code: str, param: str | None = None) -> _Reply:
        self._record_error(message)
        error_type = "invalid_request_error" if status < 500 else "server_error"
        return _Reply(
            status, body=_error_body(f"ScriptedOpenAIServer: {message}", error_type, code, param)
        )

    def _record_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    def _models_body(self) -> dict[str, Any]:
        return {"object": "list", "data": [self._model_body(model) for model in self._models]}

    def _model_body(self, model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": self._created, "owned_by": "scripted"}


# -- response construction -------------------------------------------------


@dataclass(frozen=True)
class _Exchange:
    """Identity of one response; everything in it derives from the request."""

    conv: str
    index: int
    model: str
    created: int

    @property
    def completion_id(self) -> str:
        return f"chatcmpl-{self.conv}-{self.index}"

    @property
    def request_id(self) -> str:
        return f"req_{self.conv}_{self.index}"

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
class _Message:
    content: str | None
    tool_calls: list[dict[str, Any]]


@dataclass(frozen=True)
class _Reply:
    """What the handler sends: a JSON body, or SSE events when ``events`` is set."""

    status: int
    body: dict[str, Any] | None = None
    events: list[dict[str, Any]] | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    request_id: str | None = None


def _render(turn: Turn, exchange: _Exchange) -> _Message:
    calls = []
    for i, call in enumerate(turn.tool_calls):
        if isinstance(call.arguments, str):
            arguments = exchange.fill(call.arguments)
        else:
            arguments = json.dumps(
                exchange.fill_json(call.arguments), ensure_ascii=False, separators=(",", ":")
            )
        call_id = (
            exchange.fill(call.id) if call.id else f"call_{exchange.conv}_{exchange.index}_{i}"
        )
        calls.append(
            {
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": arguments},
            }
        )
    content = exchange.fill(turn.content) if turn.content is not None else None
    return _Message(content=content, tool_calls=calls)


def _usage(turn: Turn) -> dict[str, int] | None:
    if turn.usage is None:
        return None
    prompt, completion = turn.usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(message: _Message, turn: Turn, exchange: _Exchange) -> dict[str, Any]:
    body: dict[str, Any] = {"role": "assistant", "content": message.content, "refusal": None}
    if message.tool_calls:
        body["tool_calls"] = message.tool_calls
    completion: dict[str, Any] = {
        "id": exchange.completion_id,
        "object": "chat.completion",
        "created": exchange.created,
        "model": exchange.model,
        "system_fingerprint": None,
        "choices": [
            {"index": 0, "message": body, "logprobs": None, "finish_reason": turn.finish_reason}
        ],
    }
    usage = _usage(turn)
    if usage is not None:
        completion["usage"] = usage
    return completion


def _chunks(
    message: _Message, turn: Turn, exchange: _Exchange, include_usage: bool
) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects OpenAI would stream for ``message``."""

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": exchange.completion_id,
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
        chunk(
            {
                "role": "assistant",
                "content": "" if message.content is not None else None,
                "refusal": None,
            }
        )
    ]
    chunks.extend(chunk({"content": piece}) for piece in _split_words(message.content or ""))
    for i, call in enumerate(message.tool_calls):
        function = call["function"]
        head = {
            "index": i,
            "id": call["id"],
            "type": "function",
            "function": {"name": function["name"], "arguments": ""},
        }
        chunks.append(chunk({"tool_calls": [head]}))
        chunks.extend(
            chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
            for piece in _split_even(function["arguments"], 3)
        )
    chunks.append(chunk({}, turn.finish_reason))

    usage = _usage(turn)
    if include_usage and usage is not None:
        final = chunk({})
        final["choices"] = []
        final["usage"] = usage
        chunks.append(final)
    return chunks


def _split_words(value: str) -> list[str]:
    # Token-like pieces: each word with its leading whitespace; joins back exactly.
    return re.findall(r"\s*\S+|\s+$", value)


def _split_even(value: str, parts: int) -> list[str]:
    if not value:
        return []
    size = max(1, math.ceil(len(value) / parts))
    return [value[i : i + size] for i in range(0, len(value), size)]


def _error_body(
    message: str, error_type: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def _default_error_type(status: int) -> str:
    if status == 429:
        return "requests"
    return "invalid_request_error" if status < 500 else "server_error"


def _as_script(turns: Sequence[Turn], what: str) -> tuple[Turn, ...]:
    if isinstance(turns, (str, bytes)) or not isinstance(turns, Iterable):
        raise TypeError(f"{what} must be a sequence of Turn")
    script = tuple(turns)
    for turn in script:
        if not isinstance(turn, Turn):
            raise TypeError(f"{what} must contain Turn objects, got {type(turn).__name__}")
    return script


def _message_texts(messages: list[Any]) -> Iterator[str]:
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        if isinstance(content, str):
            yield content
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    yield part["text"]


# -- HTTP plumbing -----------------------------------------------------------


class _ClientGone(Exception):
    """The client closed the connection; there is nobody left to answer."""


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many concurrent agents connect at once; the default backlog of 5 makes
    # the kernel drop SYNs, which clients see as one-second stalls.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        app: ScriptedOpenAIServer,
    ) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Unblock handler threads waiting on idle keep-alive or streaming sockets."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # Already closed by the peer or the handler.

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; disconnects are routine in
        # tests (cancelled streams, stop()), and anything else is a bug worth
        # surfacing through `errors` rather than noise on stderr.
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        self.app._record_error(f"Unhandled {type(exc).__name__} in server: {exc}")


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so clients can keep connections alive and streams are chunked,
    # as with the real API.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm and
    # the client's delayed ACK, every request on a kept-alive connection would
    # wait ~40 ms.
    disable_nagle_algorithm = True
    server_version = "ScriptedOpenAIServer/1"
    sys_version = ""
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # One line per request on stderr would bury test output.

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Protocol-level failures (bad request line, oversized headers) get
        # OpenAI's error shape too, instead of the stdlib's HTML page.
        self.close_connection = True
        reason = message or self.responses.get(code, ("Error",))[0]
        error_type = "invalid_request_error" if code < 500 else "server_error"
        try:
            self._send_json(code, _error_body(reason, error_type))
        except OSError:
            pass

    def _dispatch(self) -> None:
        app = self.server.app
        try:
            raw = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            app._record_error(str(exc))
            self._send_json(exc.status, _error_body(str(exc), "invalid_request_error"))
            return
        except (_ClientGone, OSError):
            self.close_connection = True
            return

        path = urlsplit(self.path).path.rstrip("/")
        try:
            if self.command == "POST" and path == "/v1/chat/completions":
                self._send_reply(app._reply_to_chat(raw))
            elif self.command == "GET" and path == "/v1/models":
                self._send_json(200, app._models_body())
            elif self.command == "GET" and path.startswith("/v1/models/"):
                model = unquote(path[len("/v1/models/") :])
                if model in app._models:
                    self._send_json(200, app._model_body(model))
                else:
                    body = _error_body(
                        f"The model {model!r} does not exist",
                        "invalid_request_error",
                        "model_not_found",
                    )
                    self._send_json(404, body)
            else:
                body = _error_body(
                    f"Unknown request URL: {self.command} {path}. This server serves "
                    "POST /v1/chat/completions and GET /v1/models.",
                    "invalid_request_error",
                    "unknown_url",
                )
                self._send_json(404, body)
        except (_ClientGone, OSError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked_body()
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b""
        try:
            length = int(declared)
        except ValueError:
            raise _BadRequest(400, f"Invalid Content-Length: {declared!r}") from None
        if length < 0:
            raise _BadRequest(400, f"Invalid Content-Length: {declared!r}")
        if length > _MAX_BODY_BYTES:
            raise _BadRequest(413, f"Request body of {length} bytes is too large")
        body = self.rfile.read(length)
        if len(body) < length:
            raise _ClientGone
        return body

    def _read_chunked_body(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise _ClientGone
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest(400, "Malformed chunked request body") from None
            if size == 0:
                # Skip optional trailers up to the blank line ending the body.
                while self.rfile.readline(1024).strip():
                    pass
                return bytes(body)
            if len(body) + size > _MAX_BODY_BYTES:
                raise _BadRequest(413, "Request body is too large")
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise _ClientGone
            body += chunk
            self.rfile.readline(1024)  # CRLF after each chunk

    def _send_reply(self, reply: _Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        headers = {"x-request-id": reply.request_id} if reply.request_id else {}
        if reply.events is None:
            self._send_json(reply.status, reply.body or {}, headers)
        else:
            self._send_events(reply.events, reply.chunk_delay, headers)

    def _send_json(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def _send_events(
        self, events: Sequence[Mapping[str, Any]], chunk_delay: float, headers: Mapping[str, str]
    ) -> None:
        # HTTP/1.0 clients cannot parse chunked encoding: delimit the stream by
        # closing the connection instead.
        chunked = self.request_version == "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        for name, value in headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()

        def write(data: bytes) -> None:
            if chunked:
                data = b"%X\r\n%s\r\n" % (len(data), data)
            self.wfile.write(data)

        for i, event in enumerate(events):
            if chunk_delay and i:
                time.sleep(chunk_delay)
            write(b"data: " + json.dumps(event).encode() + b"\n\n")
        write(b"data: [DONE]\n\n")
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
