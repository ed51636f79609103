"""Scheduled runs (`praisonai.scheduler`): one trace per run, one span per attempt."""

from __future__ import annotations

import asyncio
import threading
import time

from opentelemetry import trace
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import text

MODEL = "gpt-4o-mini"
# Each scheduled run: the agent's invocation inside each attempt.
AGENT = """
    invoke_agent {name}
      react step
        chat gpt-4o-mini
"""


def _make_agent(name="helper"):
    from praisonaiagents import Agent

    return Agent(name=name, instructions="You help.", model=MODEL, retry=False)


def _held_then_fast(held: int):
    """A responder whose first `held` requests wait until `release` is set (so their
    attempts outlast any timeout), and an event to set once the run is over."""
    lock, seen, release = threading.Lock(), [], threading.Event()

    def responder(conversation, request):
        with lock:
            seen.append(conversation)
            n = len(seen)
        if n <= held:
            release.wait(60)
        return text(f"answer {n}")

    return responder, release


def _wait_for(predicate, what, limit=30.0):
    """Wait (bounded) for work the scheduler left running in the background."""
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def _ended(exporter, name, count):
    return lambda: sum(s.name == name for s in exporter.get_finished_spans()) >= count


def _run_tree(name, attempts):
    return f"invoke_workflow {name}\n" + "".join(
        f"  attempt {i}" + AGENT.format(name=name).replace("\n    ", "\n      ")
        for i in range(1, attempts + 1))


def _check_retried_run(spans, attempts=3):
    tree = assert_tree(spans, _run_tree("helper", attempts),
                       ordered=True)
    run = tree.attributes
    assert run["gen_ai.operation.name"] == "invoke_workflow"
    assert run["agents.workflow.type"] == "schedule"
    assert run["agents.schedule.expression"] == "hourly"
    assert run["agents.schedule.max_retries"] == 3
    assert run["agents.schedule.attempts"] == attempts
    assert run["agents.schedule.outcome"] == "success"
    assert run["agents.schedule.callback"] == "on_success"
    assert tree.span.status.status_code is trace.StatusCode.UNSET
    tries = tree.children
    assert [t.attributes["agents.schedule.attempt"] for t in tries] == [1, 2, 3]
    for failed, backoff in zip(tries[:-1], (0.1, 0.2), strict=True):
        assert failed.attributes["agents.retry.backoff"] == backoff
        assert failed.attributes["error.type"] in ("TimeoutError",)
        assert failed.span.status.status_code is trace.StatusCode.ERROR
    assert "agents.retry.backoff" not in tries[-1].attributes
    assert tries[-1].span.status.status_code is trace.StatusCode.UNSET
    events = [e for e in tree.span.events if e.name == "agents.retry.backoff"]
    assert [e.attributes["agents.retry.backoff"] for e in events] == [0.1, 0.2]
    # The backoff is the gap between a failed attempt's end and the next one's start.
    for before, after, backoff in zip(tries, tries[1:], (0.1, 0.2), strict=False):
        assert after.span.start_time - before.span.end_time >= backoff * 1e9 * 0.9
    return tree


def test_a_run_that_fails_twice_is_one_trace_with_three_attempts(
        instrumented_short_backoff, respond, exporter, detector, provider):
    from praisonai.scheduler import AgentScheduler

    responder, release = _held_then_fast(2)
    respond(responder)
    done = threading.Event()
    scheduler = AgentScheduler(_make_agent(), "Report. [conv:run]", timeout=3,
                               on_success=lambda result: done.set())
    # Started inside a span of the caller: the run must not land in its trace.
    with provider.get_tracer("test").start_as_current_span("caller"):
        assert scheduler.start("hourly", max_retries=3)
    try:
        assert done.wait(30)
    finally:
        scheduler.stop()
        release.set()
    # The two timed-out calls go on in the scheduler's pool until their answers come.
    _wait_for(_ended(exporter, "invoke_agent helper", 3), "the abandoned calls")
    caller = [s for s in exporter.get_finished_spans() if s.name == "caller"]
    tree = _check_retried_run([s for s in exporter.get_finished_spans() if s.name != "caller"])
    # A root of its own: the scheduler's thread carries nothing of the caller's context.
    assert tree.span.parent is None and not tree.span.links
    assert tree.span.context.trace_id != caller[0].context.trace_id
    detector.assert_all_ended()


def test_stop_during_a_backoff_ends_the_run_as_cancelled(instrumented, respond, exporter,
                                                        detector):
    from praisonai.scheduler import AgentScheduler

    responder, release = _held_then_fast(1)
    respond(responder)
    failed = threading.Event()
    scheduler = AgentScheduler(_make_agent(), "Report. [conv:run]", timeout=2,
                               on_failure=lambda reason: failed.set())
    assert scheduler.start("*/30m", max_retries=3)
    try:
        # PraisonAI's own backoff (about 30 s) has begun once attempt 1 has ended.
        _wait_for(_ended(exporter, "attempt 1", 1), "the first attempt to fail")
        stopper = threading.Thread(target=scheduler.stop)
        stopper.start()
        stopper.join(30)
        assert not stopper.is_alive()
    finally:
        release.set()
    _wait_for(_ended(exporter, "invoke_agent helper", 1), "the abandoned call")
    tree = assert_tree(exporter.get_finished_spans(), _run_tree("helper", 1))
    run = tree.attributes
    assert run["agents.schedule.outcome"] == "cancelled"
    assert run["agents.schedule.expression"] == "*/30m"
    assert run["agents.schedule.attempts"] == 1
    assert run["error.type"] == "cancelled"
    assert "agents.schedule.callback" not in run and not failed.is_set()
    (attempt,) = tree.children
    # The scheduler's own backoff policy: 30 s with 10 % jitter.
    assert 27.0 <= attempt.attributes["agents.retry.backoff"] <= 33.0
    assert attempt.attributes["error.type"] == "TimeoutError"
    detector.assert_all_ended()


def test_two_schedulers_at_once_give_two_isolated_runs(instrumented, respond, exporter,
                                                       detector):
    from praisonai.scheduler import AgentScheduler

    # Both agents' model calls in flight together before either is answered.
    together = threading.Barrier(2, timeout=30)

    def responder(conversation, request):
        together.wait()
        return text(f"answer {conversation}")

    respond(responder)
    done = {key: threading.Event() for key in ("alpha", "beta")}
    schedulers = [
        AgentScheduler(_make_agent(key), f"Report. [conv:{key}]",
                       on_success=lambda result, key=key: done[key].set())
        for key in done]
    try:
        for scheduler in schedulers:
            assert scheduler.start("hourly", max_retries=2)
        for event in done.values():
            assert event.wait(30)
    finally:
        for scheduler in schedulers:
            scheduler.stop()
    spans = exporter.get_finished_spans()
    by_name = {}
    for key in done:
        mine = [s for s in spans if key in s.name]
        trace_ids = {s.context.trace_id for s in spans if s.name == f"invoke_workflow {key}"}
        assert len(trace_ids) == 1
        by_name[key] = [s for s in spans if s.context.trace_id in trace_ids]
        assert_tree(by_name[key], _run_tree(key, 1), ordered=True)
        assert len(mine) == 2
    assert len(spans) == sum(len(v) for v in by_name.values())
    detector.assert_all_ended()


async def test_the_async_scheduler_retries_in_one_trace(instrumented_short_backoff, respond,
                                                         exporter, detector):
    from praisonai.scheduler import AsyncAgentScheduler

    responder, release = _held_then_fast(2)
    respond(responder)
    done = asyncio.Event()
    scheduler = AsyncAgentScheduler(_make_agent(), "Report. [conv:run]", timeout=3,
                                    on_success=lambda result: done.set())
    assert await scheduler.start("hourly", max_retries=3)
    try:
        await asyncio.wait_for(done.wait(), 30)
    finally:
        await scheduler.stop()
        release.set()
    _wait_for(_ended(exporter, "invoke_agent helper", 3), "the cancelled calls")
    tree = _check_retried_run(exporter.get_finished_spans())
    assert tree.span.parent is None
    detector.assert_all_ended()
