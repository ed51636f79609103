"""`ScriptedOpenAIServer`: routes each request to its conversation's script.

Routing is the same for every protocol: the conversation comes from a marker
in the request's text, the turn from the number of model turns already in
its transcript; the protocol module says where those are in its shape.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .anthropic_messages import AnthropicMessages
from .chat_completions import ChatCompletions
from .exchange import Exchange, Reply
from .http import Handler, HTTPServer
from .protocol import Protocol
from .responses import Responses
from .turns import DEFAULT_CONVERSATION_PATTERN, Responder, Turn, as_script

# Stands in for the conversation id in ids and placeholders when a request
# carries no marker.
_DEFAULT_LABEL = "default"

_PROTOCOLS: tuple[Protocol, ...] = (ChatCompletions(), AnthropicMessages(), Responses())
_BY_PATH = {protocol.path: protocol for protocol in _PROTOCOLS}
_BY_NAME = {protocol.name: protocol for protocol in _PROTOCOLS}


class ScriptedOpenAIServer:
    """An HTTP server speaking OpenAI's and Anthropic's model APIs from scripts.

    Served: ``POST /v1/chat/completions``, ``POST /v1/messages`` (Anthropic),
    ``POST /v1/responses`` (OpenAI Responses), each as JSON or, when the
    request has ``"stream": true``, as that API's server-sent events; and
    ``GET /v1/models`` / ``GET /v1/models/{id}``.

    Args:
        scripts: What to answer, in one of three forms:

            * ``{conversation_id: [turns]}``: one script per conversation;
              a marked request for any other conversation is an error.
            * ``[turns]``: the same script for every conversation, each
              following it independently (use ``{conv}`` to tell them apart).
            * a `Responder` ``(conversation_id, request_json) -> Turn | None``
              for full control. It is called from server threads, so it must
              be thread-safe.

            Scripts are shared by all endpoints: a conversation's turn is
            the same whichever API asks for it.
        default: Script for requests without a conversation marker. Defaults
            to ``scripts`` when that is a list; otherwise such requests go to
            the responder, or are an error.
        conversation_pattern: Regex whose first group is the conversation id.
        marker: ``"first"`` (default): the first marker in the request names
            the conversation, and every earlier model turn counts toward the
            turn. ``"last"``: the marker in the last user prompt names it,
            and only model turns after that prompt count. Use ``"last"`` for
            agents that keep one history for every caller, so overlapping
            conversations see each other's prompts.
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
                str(conv): as_script(turns, f"scripts[{conv!r}]")
                for conv, turns in scripts.items()
            }
        else:
            self._shared = as_script(scripts, "scripts")
        self._default = as_script(default, "default") if default is not None else self._shared

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
        self._requests: list[tuple[str | None, str, dict[str, Any]]] = []
        self._errors: list[str] = []
        # Responses answered, by id: what a previous_response_id continues.
        self._answered: dict[str, tuple[str | None, int]] = {}
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> ScriptedOpenAIServer:
        """Bind and serve in a background thread. Returns ``self``."""
        if self._httpd is not None:
            raise RuntimeError("ScriptedOpenAIServer is already running")
        httpd = HTTPServer((self._host, self._port), Handler, app=self)
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
    def url(self) -> str:
        """``http://HOST:PORT``: the server's root."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``, ready for ``OpenAI(base_url=...)``."""
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """``http://HOST:PORT``, ready for ``Anthropic(base_url=...)`` (it adds ``/v1``)."""
        return self.url

    # -- inspection --------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Parsed bodies of all model requests (every API), in arrival order.

        A snapshot: later requests do not appear in a list already returned.
        Arrival order across concurrent conversations is not deterministic;
        use `requests_for` to look at one conversation.
        """
        with self._lock:
            return [body for _, _, body in self._requests]

    def requests_for(
        self, conversation_id: str | None, api: str | None = None
    ) -> list[dict[str, Any]]:
        """Request bodies of one conversation (``None``: requests without marker).

        ``api`` keeps only one endpoint's requests: ``"chat.completions"``,
        ``"messages"`` (Anthropic) or ``"responses"``.
        """
        if api is not None and api not in _BY_NAME:
            raise ValueError(f"api must be one of {sorted(_BY_NAME)}, got {api!r}")
        with self._lock:
            return [
                body
                for conv, name, body in self._requests
                if conv == conversation_id and (api is None or name == api)
            ]

    @property
    def errors(self) -> list[str]:
        """Messages of the errors the scripts did not ask for (snapshot)."""
        with self._lock:
            return list(self._errors)

    def conversation_id(
        self, request: Mapping[str, Any], api: str = "chat.completions"
    ) -> str | None:
        """The conversation a request to ``api`` names, or ``None`` without a marker."""
        for content in _BY_NAME[api].marker_texts(request, self._since_last_user):
            match = self._pattern.search(content)
            if match:
                return match.group(1)
        return None

    # -- request handling (called from handler threads) --------------------

    def _protocol_for(self, path: str) -> Protocol | None:
        return _BY_PATH.get(path)

    def _served_paths(self) -> list[str]:
        return [protocol.path for protocol in _PROTOCOLS]

    def _reply(self, protocol: Protocol, raw: bytes) -> Reply:
        try:
            request = json.loads(raw)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            return self._problem(
                protocol, 400, f"Request body is not valid JSON: {exc}", "invalid_json"
            )
        if not isinstance(request, dict):
            return self._problem(protocol, 400, "Request body must be a JSON object",
                                 "invalid_request")

        conv = self.conversation_id(request, protocol.name)
        index = protocol.turn_index(request, self._since_last_user)
        previous = protocol.continues(request)
        known = None
        if previous is not None:
            with self._lock:
                known = self._answered.get(previous)
        if known is not None:
            conv, index = self._continue(protocol, request, conv, index, known)
        with self._lock:
            self._requests.append((conv, protocol.name, request))
        if previous is not None and known is None:
            return self._problem(protocol, 400, f"Previous response with id {previous!r} not "
                                 "found", "previous_response_not_found", "previous_response_id")
        malformed = protocol.check(request)
        if malformed is not None:
            return self._problem(protocol, 400, malformed[0], "invalid_request", malformed[1])

        if conv is None:
            where = f"turn {index} of a request without conversation marker"
        else:
            where = f"conversation {conv!r}, turn {index}"
        selected = self._select_turn(protocol, conv, index, request, where)
        if isinstance(selected, Reply):
            return selected

        exchange = Exchange(
            conv=conv or _DEFAULT_LABEL,
            index=index,
            model=self._response_model or str(request.get("model") or self._models[0]),
            created=self._created,
        )
        headers = {protocol.request_id_header: exchange.request_id}
        if selected.is_error:
            body = protocol.error_body(
                selected.status,
                exchange.fill(selected.error_message or "Scripted error"),
                selected.error_type,
                selected.error_code,
            )
            return Reply(selected.status, body=body, delay=selected.delay, headers=headers)
        reply = protocol.respond(selected, exchange, request)
        reply.headers.update(headers)
        if protocol.continues is not Protocol.continues:
            with self._lock:
                self._answered[protocol.response_id(exchange)] = (conv, index)
        return reply

    def _continue(
        self,
        protocol: Protocol,
        request: Mapping[str, Any],
        conv: str | None,
        index: int,
        previous: tuple[str | None, int],
    ) -> tuple[str | None, int]:
        """Conversation and turn of a request continuing a stored response."""
        previous_conv, previous_index = previous
        if self._since_last_user and protocol.has_prompt(request):
            return conv if conv is not None else previous_conv, index
        # The stored transcript came first: its conversation wins, and its
        # turns (the previous response being the latest) come before ours.
        return (previous_conv if previous_conv is not None else conv,
                previous_index + 1 + index)

    def _select_turn(
        self,
        protocol: Protocol,
        conv: str | None,
        index: int,
        request: dict[str, Any],
        where: str,
    ) -> Turn | Reply:
        script: tuple[Turn, ...] | None
        if conv is None and self._default is not None:
            script = self._default
        elif self._responder is not None:
            return self._responder_turn(protocol, conv, request, where)
        elif conv is None:
            return self._problem(
                protocol,
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
                protocol,
                500,
                f"No script for conversation {conv!r} (scripted: {known})",
                "unknown_conversation",
            )

        if index >= len(script):
            return self._problem(
                protocol,
                500,
                f"Script exhausted: {where} requested, but the script has only "
                f"{len(script)} turn(s) (turns count assistant messages in the request)",
                "script_exhausted",
            )
        return script[index]

    def _responder_turn(
        self, protocol: Protocol, conv: str | None, request: dict[str, Any], where: str
    ) -> Turn | Reply:
        """The turn the user's responder gives, or the reply that says why there is none."""
        assert self._responder is not None
        try:
            turn = self._responder(conv, request)
        except Exception as exc:  # noqa: BLE001 - user code; any failure must become a reply
            return self._problem(
                protocol, 500, f"Responder raised {type(exc).__name__}: {exc} ({where})",
                "script_error",
            )
        if turn is None:
            return self._problem(
                protocol, 500, f"Responder has no response for {where}", "script_exhausted"
            )
        if not isinstance(turn, Turn):
            return self._problem(
                protocol,
                500,
                f"Responder returned {type(turn).__name__}, expected Turn ({where})",
                "script_error",
            )
        return turn

    def _problem(
        self, protocol: Protocol, status: int, message: str, code: str, param: str | None = None
    ) -> Reply:
        self._record_error(message)
        # No error type: each protocol's default for the status.
        body = protocol.error_body(status, f"ScriptedOpenAIServer: {message}", None, code, param)
        return Reply(status, body=body)

    def _record_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    def _models_body(self) -> dict[str, Any]:
        return {"object": "list", "data": [self._model_body(model) for model in self._models]}

    def _model_body(self, model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": self._created, "owned_by": "scripted"}
