"""The semantic-conventions coverage table (docs/coverage.md), kept true by real runs.

One module per runtime drives representative runs of that runtime (real
runtime, scripted model) and compares every key they emit with the table's
column for it; an environment without that runtime does not collect its
module (that is not a skip: the other environment of `make test` runs it).
`test_table.py`, runtime-independent, checks the table itself against the
installed semantic conventions and our attribute constants.
"""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents import _content, _settings
from tests.by_runtime import ignored_modules, prepare_runtimes

prepare_runtimes()
collect_ignore = ignored_modules()


@pytest.fixture(autouse=True)
def content_and_events(monkeypatch):
    """Content on spans and on the details event: every key there is to see."""
    monkeypatch.setenv(_settings.CAPTURE_ENV, "SPAN_AND_EVENT")
    monkeypatch.setenv(_settings.STABILITY_ENV, _settings.EXPERIMENTAL_OPT_IN)
    monkeypatch.delenv(_settings.MAX_LENGTH_ENV, raising=False)
    monkeypatch.delenv(_settings.EMIT_EVENT_ENV, raising=False)
    monkeypatch.setattr(_settings, "_warned", set())
    yield
    _content.set_content_hook(None)


@pytest.fixture
def collector(provider, exporter):
    """Instrument with in-memory tracer, meter and logger providers; read back
    every key the runs emitted (`Collector`)."""
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from .support import Collector

    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    logs = InMemoryLogRecordExporter()
    loggers = LoggerProvider()
    loggers.add_log_record_processor(SimpleLogRecordProcessor(logs))
    collector = Collector(provider, meters, loggers, exporter, reader, logs)
    yield collector
    collector.uninstrument()
    meters.shutdown()
    loggers.shutdown()
