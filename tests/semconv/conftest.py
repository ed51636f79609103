"""GenAI semantic-convention coverage: usage details, request parameters,
server, streaming latency, tool definitions and the details event, per runtime.

One module per runtime (an environment without that runtime does not collect
it; that is not a skip) plus the runtime-independent ones. Every test gets a
tracer, a meter and a logger provider, each read back in memory; settings
are read when a runtime is instrumented, so tests set the environment first.
"""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents import _content, _settings
from tests.by_runtime import ignored_modules, prepare_runtimes

prepare_runtimes()
collect_ignore = ignored_modules()


@pytest.fixture(autouse=True)
def clean_content_settings(monkeypatch):
    for name in (_settings.CAPTURE_ENV, _settings.STABILITY_ENV, _settings.MAX_LENGTH_ENV,
                 _settings.EMIT_EVENT_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_settings, "_warned", set())
    yield
    _content.set_content_hook(None)


@pytest.fixture
def capture(monkeypatch):
    """`capture(mode)`: the content mode, with the experimental opt-in unless `mode` is
    ``"true"``."""
    def set_env(mode: str = "SPAN_ONLY", **extra: str) -> None:
        monkeypatch.setenv(_settings.CAPTURE_ENV, mode)
        if mode.lower() != "true":
            monkeypatch.setenv(_settings.STABILITY_ENV, _settings.EXPERIMENTAL_OPT_IN)
        for name, value in extra.items():
            monkeypatch.setenv(name, value)

    return set_env


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
def log_exporter():
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

    return InMemoryLogRecordExporter()


@pytest.fixture
def logger_provider(log_exporter):
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def instrument(provider, meter_provider, logger_provider):
    """`instrument(Instrumentor)`: instrumented with all three providers for the test."""
    active = []

    def start(instrumentor_class, **kwargs):
        kwargs.setdefault("tracer_provider", provider)
        kwargs.setdefault("meter_provider", meter_provider)
        kwargs.setdefault("logger_provider", logger_provider)
        instrumentor = instrumentor_class()
        instrumentor.instrument(**kwargs)
        active.append(instrumentor)
        return instrumentor

    yield start
    for instrumentor in active:
        instrumentor.uninstrument()
