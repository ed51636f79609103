"""What every server subprocess of these tests does first: export its spans
over OTLP/HTTP to the test's receiver (``OTLP_TRACES_URL``)."""

from __future__ import annotations

import os

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from opentelemetry import trace


def export_to_receiver(service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource({"service.name": service}))
    # Simple, not batched: a span is at the receiver before the response that
    # ends it leaves, and a server killed by the test loses nothing.
    provider.add_span_processor(SimpleSpanProcessor(
        OTLPSpanExporter(endpoint=os.environ["OTLP_TRACES_URL"], timeout=5)))
    trace.set_tracer_provider(provider)
    return provider
