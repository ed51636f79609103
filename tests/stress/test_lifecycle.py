"""`instrument()` / `uninstrument()` racing each other, and racing live invocations.

For every runtime installed here (see `drivers`): eight threads instrumenting
and uninstrumenting at once leave the runtime either fully patched (each
patch point wrapped exactly once) or fully restored (every original back),
and the flag `BaseInstrumentor` keeps agrees with which; `uninstrument()`
while invocations are inside a tool call lets them finish with their usual
answers and leaves no span open.
"""

from __future__ import annotations

import random
import sys
import threading
from typing import Any

import pytest

from opentelemetry.instrumentation.agents._patching import is_ours
from opentelemetry.instrumentation.agents.testing import assert_isolated

from .checks import Gate, assert_all_ended_once, assert_overlapped
from .drivers import SPANS_PER_RUN, Driver, answers, installed

THREADS = 8
TRIALS = 25
CALLS_PER_THREAD = 6


@pytest.fixture(params=installed(), ids=str)
def driver(request) -> Driver:
    return request.param


def _current(point: tuple[Any, str]) -> Any:
    owner, attribute = point
    return vars(owner).get(attribute)


def _patch_points(driver: Driver, provider: Any, run: Any) -> list[tuple[Any, str]]:
    """Where instrumenting patches, once everything a run touches is imported."""
    instrumentor = driver.instrumentor_class()()
    instrumentor.instrument(tracer_provider=provider)
    try:
        run(["probe"])  # some patches wait for a first invocation (AgentScope 1.x models)
        points = instrumentor._patcher.patched()
    finally:
        instrumentor.uninstrument()
    assert points
    return points


def _state(driver: Driver, points, originals) -> str:
    """"patched", "restored", or a description of the inconsistency."""
    wrapped = [is_ours(_current(p)) for p in points]
    if all(wrapped):
        doubled = [p for p in points if is_ours(getattr(_current(p), "__wrapped__", None))]
        if doubled:
            return f"wrapped twice: {doubled}"
        if any(_current(p).__wrapped__ is not originals[p] for p in points):
            return "a wrapper around something other than the original"
        return "patched"
    if not any(wrapped):
        if any(_current(p) is not originals[p] for p in points):
            return "an original was not restored"
        return "restored"
    return f"half patched: {sum(wrapped)} of {len(points)}"


def test_instrument_and_uninstrument_from_eight_threads(driver, provider, exporter, detector):
    instrumentor = driver.instrumentor_class()()
    with driver.session() as run:
        run(["warm-up"])  # uninstrumented: imports all the runtime's modules
        restored_live = driver.live_state()
        points = _patch_points(driver, provider, run)
        originals = {p: _current(p) for p in points}
        instrumentor.instrument(tracer_provider=provider)
        patched_live = driver.live_state()
        instrumentor.uninstrument()

        rng = random.Random(6)
        switch = sys.getswitchinterval()
        # Switch threads as often as possible: the races need interleavings.
        sys.setswitchinterval(1e-6)
        try:
            for _ in range(TRIALS):
                plans = [[rng.random() < 0.5 for _ in range(CALLS_PER_THREAD)]
                         for _ in range(THREADS)]
                barrier = threading.Barrier(THREADS)
                failures: list[BaseException] = []

                def churn(plan: list[bool], barrier=barrier, failures=failures) -> None:
                    try:
                        barrier.wait(10)
                        for on in plan:
                            if on:
                                instrumentor.instrument(tracer_provider=provider)
                            else:
                                instrumentor.uninstrument()
                    except BaseException as exc:  # noqa: BLE001 - reported below
                        failures.append(exc)

                threads = [threading.Thread(target=churn, args=(plan,)) for plan in plans]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(30)
                assert not failures, failures
                state = _state(driver, points, originals)
                if instrumentor.is_instrumented_by_opentelemetry:
                    assert state == "patched"
                    assert driver.live_state() == patched_live
                else:
                    assert state == "restored"
                    assert driver.live_state() == restored_live
        finally:
            sys.setswitchinterval(switch)
            if instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.uninstrument()

        assert _state(driver, points, originals) == "restored"
        assert driver.live_state() == restored_live
        # Whatever the churn left behind, one instrument() traces as usual.
        exporter.clear()
        instrumentor.instrument(tracer_provider=provider)
        try:
            assert run(["after"]) == answers(["after"])
        finally:
            instrumentor.uninstrument()
    assert_isolated(exporter.get_finished_spans(), driver.tree, 1)
    assert_all_ended_once(detector)


def test_uninstrument_while_invocations_are_in_flight(driver, provider, exporter, detector):
    keys = [f"k{i}" for i in range(8)]
    gate = Gate()
    results: dict[str, Any] = {}
    failures: list[BaseException] = []
    instrumentor = driver.instrumentor_class()()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with driver.session(gate) as run:
            def drive() -> None:
                try:
                    results.update(run(keys))
                except BaseException as exc:  # noqa: BLE001 - reported below
                    failures.append(exc)

            worker = threading.Thread(target=drive)
            worker.start()
            try:
                gate.wait_for_entered(len(keys))
                # Every invocation is inside its tool call of round 1.
                instrumentor.uninstrument()
            finally:
                gate.release()
                worker.join(60)
            assert not worker.is_alive()
            live_after = driver.live_state()
            # The same agents, untraced from now on.
            assert run(["later"]) == answers(["later"])
    finally:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()

    assert not failures, failures
    assert results == answers(keys)
    assert_all_ended_once(detector)
    spans = exporter.get_finished_spans()
    # What started before uninstrument() ended normally; round 2 ran untraced.
    trees = assert_isolated(spans, driver.first_round, len(keys))
    assert len(spans) == len(keys) * (SPANS_PER_RUN - 2)
    assert_overlapped(trees)
    if driver.live_state():
        # Nothing instrumenting added to live objects survives uninstrument().
        with driver.session() as run:
            assert driver.live_state() == live_after


def test_the_umbrella_instrumentor_from_eight_threads(provider):
    """`AgentsInstrumentor` racing itself leaves every runtime in step with it."""
    from opentelemetry.instrumentation.agents import AgentsInstrumentor

    umbrella = AgentsInstrumentor()
    runtimes = [driver.instrumentor_class()() for driver in installed()]
    rng = random.Random(7)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(TRIALS):
            barrier = threading.Barrier(THREADS)
            failures: list[BaseException] = []
            plans = [[rng.random() < 0.5 for _ in range(CALLS_PER_THREAD)]
                     for _ in range(THREADS)]

            def churn(plan: list[bool], barrier=barrier, failures=failures) -> None:
                try:
                    barrier.wait(10)
                    for on in plan:
                        if on:
                            umbrella.instrument(tracer_provider=provider)
                        else:
                            umbrella.uninstrument()
                except BaseException as exc:  # noqa: BLE001 - reported below
                    failures.append(exc)

            threads = [threading.Thread(target=churn, args=(plan,)) for plan in plans]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert not failures, failures
            on = umbrella.is_instrumented_by_opentelemetry
            assert [r.is_instrumented_by_opentelemetry for r in runtimes] == [on] * len(runtimes)
    finally:
        sys.setswitchinterval(switch)
        if umbrella.is_instrumented_by_opentelemetry:
            umbrella.uninstrument()
    assert not any(r.is_instrumented_by_opentelemetry for r in runtimes)
