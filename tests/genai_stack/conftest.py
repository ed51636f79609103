"""Beside the provider-level GenAI instrumentations (`make test` runs this
directory in `.venv-genai`, built from requirements-genai.txt).

An environment without opentelemetry-util-genai and the provider
instrumentations does not collect these tests (it is not a skip: they do not
apply there).
"""

from __future__ import annotations

from importlib import util

import pytest

from tests.by_runtime import ignored_modules, prepare_runtimes

_NEEDED = ("opentelemetry.util.genai.invocation", "opentelemetry.instrumentation.genai.openai",
           "opentelemetry.instrumentation.genai.anthropic",
           "opentelemetry.instrumentation.openai")


def _installed(name: str) -> bool:
    try:
        return util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


if all(_installed(name) for name in _NEEDED):
    prepare_runtimes()
    collect_ignore = ignored_modules()
else:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def metric_reader():
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    return InMemoryMetricReader()


@pytest.fixture
def meter_provider(metric_reader):
    from opentelemetry.sdk.metrics import MeterProvider

    provider = MeterProvider(metric_readers=[metric_reader])
    yield provider
    provider.shutdown()


@pytest.fixture
def stack(provider, meter_provider):
    """`stack(ours, theirs, ours_first)`: our instrumentor class and the provider
    instrumentations' (either may be None), instrumented in the given order
    with the test's providers; all undone after the test."""
    active = []

    def start(ours, theirs=(), *, ours_first=True):
        classes = [c for c in ([ours, *theirs] if ours_first else [*theirs, ours]) if c]
        for cls in classes:
            instrumentor = cls()
            instrumentor.instrument(tracer_provider=provider, meter_provider=meter_provider)
            active.append(instrumentor)

    yield start
    for instrumentor in reversed(active):
        instrumentor.uninstrument()
