"""What each process of the demo (and of tests/crossprocess) does first:
export its spans over OTLP/HTTP to one collector."""

from __future__ import annotations

import os
import threading

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from opentelemetry import trace

TRACES_ENV = "OTLP_TRACES_URL"
"""The collector's OTLP/HTTP traces URL, handed to the server subprocesses."""
PROJECT_ENV = "PHOENIX_PROJECT_NAME"
PROJECT_NAME_KEY = "openinference.project.name"  # how Phoenix picks a span's project


class RootSpans(SpanProcessor):
    """Records (name, trace id) of every root span this process ends."""

    def __init__(self) -> None:
        self.roots: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        if span.parent is None:
            with self._lock:
                self.roots.append((span.name, format(span.context.trace_id, "032x")))


def export_to(traces_url: str, service: str, project: str | None = None
              ) -> tuple[TracerProvider, RootSpans]:
    attributes = {SERVICE_NAME: service}
    if project:
        attributes[PROJECT_NAME_KEY] = project
    provider = TracerProvider(resource=Resource.create(attributes))
    # Simple, not batched: a span is at the collector before the response
    # that ends it leaves, and a server stopped by its caller loses nothing.
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=traces_url,
                                                                     timeout=5)))
    roots = RootSpans()
    provider.add_span_processor(roots)
    trace.set_tracer_provider(provider)
    return provider, roots


def export_from_environment(service: str) -> TracerProvider:
    """For a server subprocess: the collector and project its parent handed over."""
    provider, _ = export_to(os.environ[TRACES_ENV], service, os.environ.get(PROJECT_ENV))
    return provider
