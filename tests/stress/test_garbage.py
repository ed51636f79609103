"""An invocation's telemetry state is freed when the invocation returns.

Nothing of ours may form a reference cycle: cyclic garbage is only freed by
the garbage collector, so every invocation would keep its spans and state
alive until the next collection, and make collections come sooner. With the
collector switched off, the invocations run, and then no invocation state or
span of ours may be alive, nor turn up when the collector finally runs.
"""

from __future__ import annotations

import gc
from collections import Counter

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from .drivers import SPANS_PER_RUN, Driver, answers, installed

RUNS = 4
# Our modules, and the SDK's span classes (a span kept alive by a cycle of ours).
# Not the testing kit: its scripted models and servers belong to the runtime's
# side of the story (AgentScope keeps its models in cycles of its own).
WATCHED = ("opentelemetry.instrumentation.agents", "opentelemetry.sdk.trace")
NOT_WATCHED = "opentelemetry.instrumentation.agents.testing"


@pytest.fixture(params=installed(), ids=str)
def driver(request) -> Driver:
    return request.param


def _module(obj) -> str:
    module = type(obj).__dict__.get("__module__", "")
    return module if isinstance(module, str) else ""


def _watched(objects) -> Counter:
    return Counter(f"{_module(o)}.{type(o).__qualname__}" for o in objects
                   if _module(o).startswith(WATCHED)
                   and not _module(o).startswith(NOT_WATCHED))


def test_nothing_of_ours_waits_for_the_garbage_collector(driver):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = driver.instrumentor_class()()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with driver.session() as run:
            run(["warm-up"])  # first-call caches of the runtime and of ours
            exporter.clear()
            gc.collect()
            baseline = _watched(gc.get_objects())
            gc.disable()
            try:
                keys = [f"g{i}" for i in range(RUNS)]
                assert run(keys) == answers(keys)
                assert len(exporter.get_finished_spans()) == RUNS * SPANS_PER_RUN
                exporter.clear()  # the exporter's references to the spans go too
                alive = _watched(gc.get_objects()) - baseline
                gc.set_debug(gc.DEBUG_SAVEALL)
                gc.collect()
                in_cycles = _watched(gc.garbage)
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
                gc.enable()
    finally:
        instrumentor.uninstrument()
    assert not in_cycles, f"ours in reference cycles after {RUNS} runs: {dict(in_cycles)}"
    assert not alive, f"ours still alive after {RUNS} runs: {dict(alive)}"
