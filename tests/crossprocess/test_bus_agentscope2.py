"""AgentScope 2.x's app hands a chat run to a worker through its message bus
(in memory, and Redis with a real ``redis-server``): the worker's
``invoke_agent`` is a child of the span current where the run was submitted.

The submitting side is `enqueue_run_trigger` (what ``POST /chat`` does for a
human-in-the-loop resume, and the channel and inbox paths for a message);
the worker side is the app's `WakeupDispatcher` (see `bus_app`).
"""

from __future__ import annotations

import asyncio

import pytest
from agentscope.app._bus_ops import enqueue_run_trigger
from agentscope.app.message_bus import InMemoryMessageBus, MessageBusKeys, RedisMessageBus
from agentscope.message import UserMsg
from opentelemetry.trace import SpanKind
from redis.exceptions import ConnectionError as RedisConnectionError

from opentelemetry.instrumentation.agents.testing import assert_tree
from tests.runtimes import instrumented_with

from .bus_app import Worker
from .support import HERE, redis_server, worker_process

SUBMIT = "POST /chat"

RUN_TREE = f"""
{SUBMIT}
  invoke_agent helper {{agents.runtime=agentscope}}
    react step
      chat scripted-model
"""


def _instrumented(provider):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return instrumented_with(AgentScopeInstrumentor, provider)


async def _submit(bus, provider, session_id: str, text: str = "hello") -> None:
    """Submit a run the way the app does, inside a request span."""
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(SUBMIT, kind=SpanKind.SERVER):
        await enqueue_run_trigger(bus, user_id="u1", session_id=session_id, agent_id="helper",
                                  kind="message", inputs=UserMsg(name="user", content=text))


async def _finished(worker: Worker, timeout: float = 20.0):
    return await asyncio.wait_for(worker.runs.finished.get(), timeout)


async def test_in_memory_bus_run_joins_the_submitting_trace(provider, exporter, detector):
    with _instrumented(provider):
        async with InMemoryMessageBus() as bus, Worker(bus) as worker:
            # The dispatcher was started outside any span: only the trigger
            # can bring the submitter's context to the run.
            await _submit(bus, provider, "s1")
            assert await _finished(worker) == ("s1", None)

    spans = exporter.get_finished_spans()
    tree = assert_tree(spans, RUN_TREE)
    assert tree.span.kind is SpanKind.SERVER
    detector.assert_all_ended()


async def test_runs_of_two_submissions_keep_their_own_traces(provider, exporter, detector):
    with _instrumented(provider):
        async with InMemoryMessageBus() as bus, Worker(bus) as worker:
            tracer = provider.get_tracer("test")
            # Both triggers are queued before the dispatcher drains: one
            # drain, two entries, each run under its own submitter.
            with tracer.start_as_current_span("first"):
                await bus.queue_push(*_trigger("s1"))
            with tracer.start_as_current_span("second"):
                await bus.queue_push(*_trigger("s2"))
            await bus.publish(MessageBusKeys.wakeup_signal(), {})
            done = {await _finished(worker), await _finished(worker)}
    assert done == {("s1", None), ("s2", None)}

    spans = exporter.get_finished_spans()
    by_name = {s.name: s for s in spans if s.name in ("first", "second")}
    agents = [s for s in spans if s.name == "invoke_agent helper"]
    assert len(agents) == 2
    assert {a.parent.span_id for a in agents} == {
        by_name["first"].context.span_id, by_name["second"].context.span_id}
    for root in by_name.values():
        assert_tree([s for s in spans if s.context.trace_id == root.context.trace_id],
                    RUN_TREE.replace(SUBMIT, root.name))
    detector.assert_all_ended()


async def test_malformed_entries_between_do_not_shift_contexts(provider, exporter, detector):
    """The dispatcher skips a malformed entry without dispatching it: the
    entries after it still run in their own submitter's context."""
    with _instrumented(provider):
        async with InMemoryMessageBus() as bus, Worker(bus) as worker:
            tracer = provider.get_tracer("test")
            with tracer.start_as_current_span("first"):
                await bus.queue_push(*_trigger("s1"))
            with tracer.start_as_current_span("malformed"):
                key, payload = _trigger("s9")
                del payload["user_id"]
                await bus.queue_push(key, payload)
            with tracer.start_as_current_span("second"):
                await bus.queue_push(*_trigger("s2"))
            await bus.publish(MessageBusKeys.wakeup_signal(), {})
            done = {await _finished(worker), await _finished(worker)}
    assert done == {("s1", None), ("s2", None)}

    spans = exporter.get_finished_spans()
    roots = {s.name: s for s in spans if s.parent is None}
    assert set(roots) == {"first", "malformed", "second"}
    for name in ("first", "second"):
        assert_tree([s for s in spans if s.context.trace_id == roots[name].context.trace_id],
                    RUN_TREE.replace(SUBMIT, name))
    assert_tree([s for s in spans if s.context.trace_id == roots["malformed"].context.trace_id],
                "malformed")
    detector.assert_all_ended()


def _trigger(session_id: str):
    return MessageBusKeys.wakeup_queue(), {
        "user_id": "u1", "session_id": session_id, "agent_id": "helper", "kind": "message",
        "input": UserMsg(name="user", content="hello").model_dump(mode="json")}


async def test_uninstrumented_submitter_leaves_the_payload_alone(provider, exporter):
    """No span current where the run is submitted: nothing is added, the run
    is a trace of its own."""
    with _instrumented(provider):
        async with InMemoryMessageBus() as bus, Worker(bus) as worker:
            await enqueue_run_trigger(bus, user_id="u1", session_id="s1", agent_id="helper",
                                      kind="message", inputs=UserMsg(name="user", content="hi"))
            assert await _finished(worker) == ("s1", None)
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper
          react step
            chat scripted-model
    """)


async def test_redis_bus_across_processes(host_provider, receiver, detector):
    """Submitted in this process, run by a worker process on the same Redis."""
    with _instrumented(host_provider), redis_server() as (port, _redis), \
            worker_process(HERE / "bus_worker.py", receiver.traces_url, str(port)):
        async with RedisMessageBus(host="127.0.0.1", port=port) as bus:
            await _submit(bus, host_provider, "s1")
        spans = receiver.wait_for(lambda got: any(s.name == "invoke_agent helper" for s in got)
                                  and any(s.name == SUBMIT for s in got))

    assert len({s.context.trace_id for s in spans}) == 1
    tree = assert_tree(spans, RUN_TREE)
    agent = tree.children[0].span
    assert tree.span.resource.attributes["service.name"] != "agentscope-worker"
    assert agent.resource.attributes["service.name"] == "agentscope-worker"
    detector.assert_all_ended()


# -- Redis going away --------------------------------------------------------

async def _run_while_redis_dies(provider):
    """A slow run on the Redis bus; Redis is killed while its tool sleeps.

    Returns what the run ended with (as the app's ChatService would see it)
    and what submitting once more raises.
    """
    with redis_server() as (port, redis):
        async with RedisMessageBus(host="127.0.0.1", port=port) as bus:
            worker = Worker(bus, slow_seconds=1.5)
            await worker.__aenter__()
            try:
                await _submit(bus, provider, "s1", "slow please")
                asyncio.get_running_loop().call_later(0.5, redis.kill)
                _session, failure = await _finished(worker)
                with pytest.raises(Exception) as raised:
                    await _submit(bus, provider, "s2")
                failure = type(failure)
            finally:
                try:
                    await worker.__aexit__(None, None, None)
                except Exception:  # noqa: BLE001
                    pass
    return failure, raised.type


async def test_redis_going_away_mid_run(provider, exporter, detector, caplog):
    """The app stops reading the agent's stream when publishing an event
    fails: the agent's span ends then, marked closed early (the agent itself
    did not fail), and nothing stays open."""
    bare = await _run_while_redis_dies(provider)
    with _instrumented(provider):
        traced = await _run_while_redis_dies(provider)
    await asyncio.sleep(0.1)  # the abandoned reply stream is closed by the loop

    # The run fails publishing its next event, the next submission fails to
    # push: the same exceptions as uninstrumented.
    assert traced == bare == (RedisConnectionError, RedisConnectionError)
    spans = exporter.get_finished_spans()
    agent, = [s for s in spans if s.name == "invoke_agent helper"]
    submit = next(s for s in spans if s.context.span_id == agent.parent.span_id)
    assert submit.name == SUBMIT
    assert_tree([s for s in spans if s.context.trace_id == agent.context.trace_id], f"""
        {SUBMIT} {{status=UNSET}}
          invoke_agent helper {{agents.stream.closed_early=true, status=UNSET}}
            react step {{status=UNSET}}
              chat scripted-model {{status=UNSET}}
              execute_tool wait_a_while {{status=UNSET}}
    """)
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text
