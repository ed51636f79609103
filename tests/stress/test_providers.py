"""A tracer or meter provider whose methods raise: the agents work, one warning.

The application may hand us a provider that is broken at any level: the
provider itself, the tracer or meter it returns, or the spans and
instruments those make. Instrumenting still succeeds, every agent answers as
usual, and our logger says so once (a warning with the traceback), not once
per call.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from opentelemetry.instrumentation.agents.testing import assert_isolated

from .checks import assert_all_ended_once, warnings_from_us
from .drivers import Driver, answers, installed

RUNS = 4


@pytest.fixture(params=installed(), ids=str)
def driver(request) -> Driver:
    return request.param


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("broken by the test")


class Broken:
    """Every method raises."""

    def __getattr__(self, name: str) -> Any:
        return _raise


class Returns:
    """Every method returns `value`."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self._value


BROKEN_TRACING = {
    "provider": Broken,
    "tracer": lambda: Returns(Broken()),
    "span": lambda: Returns(Returns(Broken())),
}

BROKEN_METRICS = {
    "provider": Broken,
    "meter": lambda: Returns(Broken()),
    "instrument": lambda: Returns(Returns(Broken())),
}


def _run_twice(driver: Driver, **instrument_kwargs: Any) -> None:
    instrumentor = driver.instrumentor_class()()
    instrumentor.instrument(**instrument_kwargs)
    try:
        with driver.session() as run:
            for batch in ("a", "b"):
                keys = [f"{batch}{i}" for i in range(RUNS)]
                assert run(keys) == answers(keys)
    finally:
        instrumentor.uninstrument()


@pytest.mark.parametrize("broken", list(BROKEN_TRACING))
def test_a_broken_tracer_provider(driver, broken, caplog):
    with caplog.at_level(logging.DEBUG, logger="opentelemetry.instrumentation.agents"):
        _run_twice(driver, tracer_provider=BROKEN_TRACING[broken]())
    records = warnings_from_us(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].exc_info is not None


@pytest.mark.parametrize("broken", list(BROKEN_METRICS))
def test_a_broken_meter_provider(driver, broken, provider, exporter, detector, caplog):
    with caplog.at_level(logging.DEBUG, logger="opentelemetry.instrumentation.agents"):
        _run_twice(driver, tracer_provider=provider, meter_provider=BROKEN_METRICS[broken]())
    records = warnings_from_us(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    # Tracing carries on unharmed.
    assert_isolated(exporter.get_finished_spans(), driver.tree, 2 * RUNS)
    assert_all_ended_once(detector)
