"""What an HTTP client instrumentation does, reduced to the part under test.

`traced_http` wraps `httpx.Client.send` (which the ``openai`` client uses for
every request) to open a span per model request in the current context, like
opentelemetry-instrumentation-httpx would. Nothing of Hermes is replaced: the
span lands wherever the context of the thread sending the request says.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import wrapt
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.trace import SpanKind

_CONV = re.compile(r"\[conv:([A-Za-z0-9_-]+)\]")


def _conversation(request: httpx.Request) -> str | None:
    try:
        body = json.loads(request.content)
    except ValueError:
        return None
    for message in body.get("messages") or ():
        match = _CONV.search(str(message.get("content") or ""))
        if match:
            return match.group(1)
    return None


@contextmanager
def traced_http(provider: Any) -> Iterator[list[str]]:
    """Trace model requests; yields the names of the threads that sent them."""
    tracer = provider.get_tracer("test.http")
    threads: list[str] = []

    def send(wrapped, instance, args, kwargs):
        request = args[0] if args else kwargs["request"]
        if request.method != "POST" or not request.url.path.endswith("/chat/completions"):
            return wrapped(*args, **kwargs)  # Hermes's server probes are not model calls
        threads.append(threading.current_thread().name)
        attributes = {"test.conversation": _conversation(request) or ""}
        with tracer.start_as_current_span(f"POST {request.url.path}", kind=SpanKind.CLIENT,
                                          attributes=attributes):
            return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper(httpx.Client, "send", send)
    try:
        yield threads
    finally:
        unwrap(httpx.Client, "send")
