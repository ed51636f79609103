"""HTTP plumbing: a threading server that tracks its connections, and the handler.

The handler only reads bodies, routes by path and writes replies (JSON or
server-sent events); what to answer is the application's business
(`ScriptedOpenAIServer`).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .exchange import Reply
from .protocol import openai_error_body

if TYPE_CHECKING:
    from .server import ScriptedOpenAIServer

# Agent transcripts can be large, but a body beyond this is a client bug and
# reading it into memory would only hide it.
MAX_BODY_BYTES = 32 * 1024 * 1024


class ClientGone(Exception):
    """The client closed the connection; there is nobody left to answer."""


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class HTTPServer(ThreadingHTTPServer):
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


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so clients can keep connections alive and streams are chunked,
    # as with the real API.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm and
    # the client's delayed ACK, every request on a kept-alive connection would
    # wait ~40 ms.
    disable_nagle_algorithm = True
    server_version = "ScriptedOpenAIServer/1"
    sys_version = ""
    server: HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # One line per request on stderr would bury test output.

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Protocol-level failures (bad request line, oversized headers) get
        # OpenAI's error shape too, instead of the stdlib's HTML page.
        self.close_connection = True
        reason = message or self.responses.get(code, ("Error",))[0]
        error_type = "invalid_request_error" if code < 500 else "server_error"
        try:
            self._send_json(code, openai_error_body(code, reason, error_type))
        except OSError:
            pass

    def _dispatch(self) -> None:
        app = self.server.app
        path = urlsplit(self.path).path.rstrip("/")
        protocol = app._protocol_for(path) if self.command == "POST" else None
        try:
            raw = self._read_body()
        except BadRequest as exc:
            self.close_connection = True
            app._record_error(str(exc))
            if protocol is not None:
                body = protocol.error_body(exc.status, str(exc), None)
            else:
                body = openai_error_body(exc.status, str(exc), "invalid_request_error")
            self._send_json(exc.status, body)
            return
        except (ClientGone, OSError):
            self.close_connection = True
            return

        try:
            if protocol is not None:
                self._send_reply(app._reply(protocol, raw))
            elif self.command == "GET" and path == "/v1/models":
                self._send_json(200, app._models_body())
            elif self.command == "GET" and path.startswith("/v1/models/"):
                model = unquote(path[len("/v1/models/") :])
                if model in app._models:
                    self._send_json(200, app._model_body(model))
                else:
                    body = openai_error_body(
                        404,
                        f"The model {model!r} does not exist",
                        "invalid_request_error",
                        "model_not_found",
                    )
                    self._send_json(404, body)
            else:
                served = ", ".join(f"POST {p}" for p in app._served_paths())
                body = openai_error_body(
                    404,
                    f"Unknown request URL: {self.command} {path}. This server serves "
                    f"{served} and GET /v1/models.",
                    "invalid_request_error",
                    "unknown_url",
                )
                self._send_json(404, body)
        except (ClientGone, OSError):
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
            raise BadRequest(400, f"Invalid Content-Length: {declared!r}") from None
        if length < 0:
            raise BadRequest(400, f"Invalid Content-Length: {declared!r}")
        if length > MAX_BODY_BYTES:
            raise BadRequest(413, f"Request body of {length} bytes is too large")
        body = self.rfile.read(length)
        if len(body) < length:
            raise ClientGone
        return body

    def _read_chunked_body(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise ClientGone
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest(400, "Malformed chunked request body") from None
            if size == 0:
                # Skip optional trailers up to the blank line ending the body.
                while self.rfile.readline(1024).strip():
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise BadRequest(413, "Request body is too large")
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise ClientGone
            body += chunk
            self.rfile.readline(1024)  # CRLF after each chunk

    def _send_reply(self, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        if reply.events is None:
            self._send_json(reply.status, reply.body or {}, reply.headers)
        else:
            self._send_events(reply, reply.headers)

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

    def _send_events(self, reply: Reply, headers: Mapping[str, str]) -> None:
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

        events: Sequence[tuple[str | None, Mapping[str, Any]]] = reply.events or ()
        if reply.first_chunk_delay:
            time.sleep(reply.first_chunk_delay)
        for i, (name, data) in enumerate(events):
            if reply.chunk_delay and i:
                time.sleep(reply.chunk_delay)
            head = b"event: %s\n" % name.encode() if name else b""
            write(head + b"data: " + json.dumps(data).encode() + b"\n\n")
        if reply.done_marker:
            write(b"data: [DONE]\n\n")
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
