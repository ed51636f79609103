"""Metrics tests: an SDK meter provider read by an in-memory reader.

Each runtime's tests live in their own module; an environment without that
runtime (or with the other AgentScope line) does not collect it. That is not
a skip: those tests do not apply there.
"""

from __future__ import annotations

import pytest

from tests.by_runtime import ignored_modules, prepare_runtimes

prepare_runtimes()
collect_ignore = ignored_modules()


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
def instrument(provider, meter_provider):
    """`instrument(Instrumentor, **kwargs)`: instrumented for the test, with both
    providers unless the kwargs say otherwise; uninstrumented afterwards."""
    active = []

    def start(instrumentor_class, **kwargs):
        kwargs.setdefault("tracer_provider", provider)
        kwargs.setdefault("meter_provider", meter_provider)
        instrumentor = instrumentor_class()
        instrumentor.instrument(**kwargs)
        active.append(instrumentor)
        return instrumentor

    yield start
    for instrumentor in active:
        instrumentor.uninstrument()
