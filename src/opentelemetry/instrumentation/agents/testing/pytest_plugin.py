"""pytest fixtures for asserting agent span trees.

Registered through the ``pytest11`` entry point, so installing the package is
enough. Fixtures:

- ``span_exporter``: an in-memory exporter collecting finished spans.
- ``open_span_detector``: an `OpenSpanDetector` on the same provider.
- ``agents_tracer_provider``: an SDK tracer provider feeding both.
- ``instrumented_agents``: every installed runtime instrumented against that
  provider for the test, uninstrumented afterwards; yields the provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from . import import_needing_sdk


@pytest.fixture
def span_exporter() -> Any:
    import_needing_sdk("opentelemetry.sdk")  # a clear message when it is missing
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    return InMemorySpanExporter()


@pytest.fixture
def open_span_detector() -> Any:
    return import_needing_sdk(".open_spans").OpenSpanDetector()


@pytest.fixture
def agents_tracer_provider(span_exporter: Any, open_span_detector: Any) -> Iterator[Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(open_span_detector)
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def instrumented_agents(agents_tracer_provider: Any) -> Iterator[Any]:
    from opentelemetry.instrumentation.agents import AgentsInstrumentor

    instrumentor = AgentsInstrumentor()
    instrumentor.instrument(tracer_provider=agents_tracer_provider)
    try:
        yield agents_tracer_provider
    finally:
        instrumentor.uninstrument()
