"""A small OTLP/HTTP trace receiver for tests that span several processes.

Every process under test exports to one receiver (``OTLPSpanExporter(
endpoint=receiver.traces_url)``, protobuf over HTTP on 127.0.0.1); the test
then reads back all their spans as SDK `ReadableSpan` objects, so
`assert_tree` checks one tree across process boundaries::

    with OTLPReceiver() as receiver:
        ...  # run the client here and a server in a subprocess, both exporting
        spans = receiver.wait_for(count=5)
        assert_tree(spans, expected)

Needs `opentelemetry-proto` (installed with the OTLP exporter).
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

_KINDS = {1: SpanKind.INTERNAL, 2: SpanKind.SERVER, 3: SpanKind.CLIENT,
          4: SpanKind.PRODUCER, 5: SpanKind.CONSUMER}
_STATUS = {0: StatusCode.UNSET, 1: StatusCode.OK, 2: StatusCode.ERROR}


def _value(any_value: Any) -> Any:
    field = any_value.WhichOneof("value")
    if field is None:
        return None
    value = getattr(any_value, field)
    if field == "array_value":
        return tuple(_value(item) for item in value.values)
    if field == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.values}
    return value


def _attributes(key_values: Sequence[Any]) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in key_values}


def _span(proto: Any, resource: Resource) -> ReadableSpan:
    trace_id = int.from_bytes(proto.trace_id, "big")
    context = SpanContext(trace_id, int.from_bytes(proto.span_id, "big"), is_remote=False,
                          trace_flags=TraceFlags(TraceFlags.SAMPLED))
    parent = None
    if proto.parent_span_id:
        parent = SpanContext(trace_id, int.from_bytes(proto.parent_span_id, "big"),
                             is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    status = Status(_STATUS.get(proto.status.code, StatusCode.UNSET),
                    proto.status.message or None)
    return ReadableSpan(
        name=proto.name, context=context, parent=parent, resource=resource,
        attributes=_attributes(proto.attributes), kind=_KINDS.get(proto.kind, SpanKind.INTERNAL),
        status=status, start_time=proto.start_time_unix_nano, end_time=proto.end_time_unix_nano)


def decode(body: bytes) -> list[ReadableSpan]:
    """The spans of one OTLP/HTTP protobuf export request."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = Resource(_attributes(resource_spans.resource.attributes))
        for scope_spans in resource_spans.scope_spans:
            spans.extend(_span(span, resource) for span in scope_spans.spans)
    return spans


class OTLPReceiver:
    """Collects the spans exported to ``traces_url`` by any number of processes."""

    def __init__(self) -> None:
        self._spans: list[ReadableSpan] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                try:
                    spans = decode(body) if self.path == "/v1/traces" else []
                except Exception:  # noqa: BLE001 - a bad body is the sender's problem
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver._changed:
                    receiver._spans.extend(spans)
                    receiver._changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="otlp-receiver")

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def traces_url(self) -> str:
        return f"{self.endpoint}/v1/traces"

    def start(self) -> OTLPReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OTLPReceiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def spans(self) -> list[ReadableSpan]:
        with self._changed:
            return list(self._spans)

    def clear(self) -> None:
        with self._changed:
            self._spans.clear()

    def wait_for(self, predicate: Callable[[list[ReadableSpan]], bool] | None = None, *,
                 count: int | None = None, timeout: float = 15.0) -> list[ReadableSpan]:
        """The spans received once `predicate` holds (or `count` have arrived).

        Raises AssertionError after `timeout` seconds, listing what did arrive.
        """
        if predicate is None:
            predicate = (lambda spans: len(spans) >= count) if count is not None \
                else (lambda spans: bool(spans))
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self._spans):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = sorted(span.name for span in self._spans)
                    raise AssertionError(f"timed out waiting for spans; received {names}")
                self._changed.wait(remaining)
            return list(self._spans)
