"""A span exporter that fails or hangs never reaches the agent's call path.

Behind a `BatchSpanProcessor` (what applications use), exporting happens on
the processor's own thread. An exporter that raises on every batch, or one
that blocks for seconds, leaves the agents' answers unchanged and their
wall time about what it is with an exporter that does nothing.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from opentelemetry.instrumentation.agents.testing import OpenSpanDetector

from .checks import assert_all_ended_once
from .drivers import SPANS_PER_RUN, Driver, answers, installed

RUNS = 8
BLOCK_SECONDS = 5.0
"""How long the blocking exporter holds each batch; the agents' runs must take
far less, which they cannot if any of them waited for an export."""


@pytest.fixture(params=installed(), ids=str)
def driver(request) -> Driver:
    return request.param


class NoOpExporter(SpanExporter):
    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class RaisingExporter(NoOpExporter):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.calls += 1
        raise RuntimeError("the collector is down")


class BlockingExporter(NoOpExporter):
    """Holds every batch for `BLOCK_SECONDS` (or until released)."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()
        self.blocking = threading.Event()

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.blocking.set()
        self.released.wait(BLOCK_SECONDS)
        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.released.set()


@contextlib.contextmanager
def _instrumented(driver: Driver, exporter: SpanExporter,
                  detector: OpenSpanDetector) -> Iterator[Any]:
    provider = TracerProvider()
    provider.add_span_processor(detector)
    # Small batches, exported at once: the exporter is busy while the agents run.
    provider.add_span_processor(BatchSpanProcessor(
        exporter, schedule_delay_millis=1, max_export_batch_size=4))
    instrumentor = driver.instrumentor_class()()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with driver.session() as run:
            yield run
    finally:
        instrumentor.uninstrument()
        exporter.shutdown()  # a blocked exporter lets go, so shutdown is quick
        provider.shutdown()


def _timed(run: Any, keys: list[str]) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    results = run(keys)
    return results, time.perf_counter() - start


def test_an_exporter_that_blocks_does_not_slow_the_agents(driver):
    keys = [f"b{i}" for i in range(RUNS)]
    quiet, quiet_detector = NoOpExporter(), OpenSpanDetector()
    with _instrumented(driver, quiet, quiet_detector) as run:
        run(["warm-up"])
        expected, quiet_seconds = _timed(run, keys)
    assert expected == answers(keys)

    blocking, detector = BlockingExporter(), OpenSpanDetector()
    with _instrumented(driver, blocking, detector) as run:
        run(["warm-up"])
        assert blocking.blocking.wait(5), "the exporter was never called"
        results, seconds = _timed(run, keys)
        still_blocked = not blocking.released.is_set() and blocking.exported == 0
    assert results == expected
    # The exporter was stuck in its first batch for the whole run, and the
    # run took nowhere near one export's worth of time.
    assert still_blocked
    assert seconds < quiet_seconds + BLOCK_SECONDS / 2, (seconds, quiet_seconds)
    assert_all_ended_once(detector)
    assert detector.ended == (RUNS + 1) * SPANS_PER_RUN


def test_an_exporter_that_always_raises_changes_nothing(driver):
    keys = [f"r{i}" for i in range(RUNS)]
    raising, detector = RaisingExporter(), OpenSpanDetector()
    with _instrumented(driver, raising, detector) as run:
        results = run(keys)
        deadline = time.monotonic() + 5
        while raising.calls == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert results == answers(keys)
    assert raising.calls > 0, "the exporter was never called"
    assert_all_ended_once(detector)
    assert detector.ended == RUNS * SPANS_PER_RUN
