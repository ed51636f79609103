"""AgentScope 2.x's app hands chat runs to its `WakeupDispatcher` through its
message bus (in memory, and Redis with a real ``redis-server``): the run's
``invoke_agent`` is a child of the span current where the run was submitted.

The app is AgentScope's own (`create_app`, served by uvicorn, driven over its
HTTP API; see `agentscope_app`), on a scripted OpenAI-compatible model. What
goes through the bus: a human-in-the-loop resume posted to ``POST /chat``
(the endpoint enqueues it; a new message is run in the request itself), and
a run trigger pushed by another component (what the channel gateway and the
team inbox do with `enqueue_run_trigger`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re

import pytest
from agentscope.app._bus_ops import enqueue_run_trigger
from agentscope.app.message_bus import InMemoryMessageBus, MessageBusKeys, RedisMessageBus
from agentscope.app.storage import RedisStorage
from agentscope.message import UserMsg
from opentelemetry.trace import SpanKind

from opentelemetry import propagate
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    text,
    tool_calls,
)
from tests.runtimes import instrumented_with

from .agentscope_app import USER, AppClient, build_app, served, user_msg
from .support import HERE, http_server, redis_server

SCRIPT = {
    # Pauses for the user's confirmation of delete_file, then answers.
    "confirm": [tool_calls([ToolCall("delete_file", {"path": "/tmp/a"})]), text("Deleted it.")],
    "slow": [tool_calls([ToolCall("wait_a_while", {})]), text("Done.")],
    # Two turns of one session.
    "busy": [text("One."), text("Two.")],
}
DEFAULT = [text("Done.")]

FIRST_TREE = """
POST /chat/ {http.route=/chat/}
  fastapi.dependencies
  fastapi.endpoint
    invoke_agent helper {agents.runtime=agentscope, agents.agent.pending_reason=user_confirmation}
      react step
        chat gpt-4o-mini
  fastapi.serialization
"""
QUEUE = "agentscope:wakeups"
PROCESS = f"process {QUEUE} {{{{messaging.operation.type=process, messaging.operation.name=process, messaging.destination.name={QUEUE}, messaging.system={{system}}}}}}"
RESUME_TREE = f"""
POST /chat/ {{{{http.route=/chat/}}}}
  fastapi.dependencies
  fastapi.endpoint
    {PROCESS}
      invoke_agent helper {{{{agents.agent.resumed_with=user_confirmation, agents.agent.finish_reason=completed}}}}
        react step
          execute_tool delete_file
        react step
          chat gpt-4o-mini
  fastapi.serialization
"""
RUN_TREE = f"""
{{root}}
  {PROCESS}
    invoke_agent helper {{{{agents.runtime=agentscope}}}}
      react step
        chat gpt-4o-mini
"""


def _instrumented(provider):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return instrumented_with(AgentScopeInstrumentor, provider)


@pytest.fixture
def model():
    with ScriptedOpenAIServer(SCRIPT, default=DEFAULT) as server:
        yield server


@pytest.fixture
def redis():
    with redis_server() as (port, process):
        yield port, process


@contextlib.asynccontextmanager
async def _app(provider, model, redis_port: int, bus, tmp_path):
    """The app in this process (FastAPI's request spans on `provider`), and a
    client with a credential and an agent."""
    app = build_app(RedisStorage(host="127.0.0.1", port=redis_port), bus,
                    str(tmp_path / "workspaces"), provider)
    async with served(app) as url, AppClient(url) as client:
        await client.setup(model.base_url)
        yield app, client


async def _settled(app, *sessions: str) -> None:
    """Until the app's runs of `sessions` are over (they persist after the
    reply ends), so stopping the app does not cancel them."""
    registry = app.state.agentscope.state.chat_run_registry
    for session in sessions:
        run = registry.get(session)
        if run is not None:
            await asyncio.wait_for(asyncio.shield(run), 20)


def _processes_ok(spans) -> None:
    """Every run's process span ended without an error (a run cancelled by
    the app's shutdown would end in one)."""
    processes = [s for s in spans if s.name == f"process {QUEUE}"]
    assert processes
    assert all(s.kind is SpanKind.CONSUMER and "error.type" not in s.attributes
               for s in processes)


def _by_trace(spans, root):
    return [s for s in spans if s.context.trace_id == root.context.trace_id]


def _roots(spans, name):
    return sorted((s for s in spans if s.parent is None and s.name == name),
                  key=lambda s: s.start_time)


async def _confirm_flow(provider, model, redis_port: int, workdir) -> list[str]:
    """Chat, pause for the confirmation, confirm (the resume goes through the
    bus), wait for the end; the session's event types, in order."""
    async with _app(provider, model, redis_port, InMemoryMessageBus(), workdir) as (app, client):
        session = await client.session("s1")
        seen: list[str] = []
        async with client.events(session) as events:
            await client.chat(session, "delete /tmp/a [conv:confirm]")
            pause = await events.until("REQUIRE_USER_CONFIRM", seen)
            await client.confirm(session, pause)
            end = await events.until("REPLY_END", seen)
        await _settled(app, session)
    assert end["finished_reason"] == "completed"
    return seen


async def test_hitl_resume_runs_under_the_resume_request(provider, exporter, detector, model,
                                                         redis, tmp_path):
    """``POST /chat`` with the user's confirmation enqueues the resume; the
    dispatcher (started with the app, outside any request) runs it under
    that request's spans. The client sees the same events as uninstrumented."""
    bare = await _confirm_flow(provider, model, redis[0], tmp_path / "bare")
    exporter.clear()  # FastAPI's own spans of the bare run
    with _instrumented(provider):
        traced = await _confirm_flow(provider, model, redis[0], tmp_path / "traced")
    assert traced == bare
    assert "USER_CONFIRM_RESULT" in traced

    spans = exporter.get_finished_spans()
    first, resume = _roots(spans, "POST /chat/")
    assert_tree(_by_trace(spans, first), FIRST_TREE)
    tree = assert_tree(_by_trace(spans, resume), RESUME_TREE.format(system="agentscope"))
    assert tree.span.kind is SpanKind.SERVER
    process = tree.children[1].children[0].span
    assert process.kind is SpanKind.CONSUMER
    assert process.attributes["messaging.message.id"]
    _processes_ok(spans)
    detector.assert_all_ended()


def _trigger(session_id: str, agent_id: str):
    """A ``message`` run trigger, as `enqueue_run_trigger` pushes it."""
    return MessageBusKeys.wakeup_queue(), {
        "user_id": USER, "session_id": session_id, "agent_id": agent_id, "kind": "message",
        "input": user_msg("hello")}


async def _push_under(provider, bus, entries) -> None:
    """Each (span name, (key, payload)) pushed inside its span, then one signal:
    the dispatcher drains them all at once."""
    tracer = provider.get_tracer("test")
    for name, (key, payload) in entries:
        with tracer.start_as_current_span(name):
            await bus.queue_push(key, payload)
    await bus.publish(MessageBusKeys.wakeup_signal(), {})


async def test_runs_of_two_triggers_keep_their_own_traces(provider, exporter, detector, model,
                                                          redis, tmp_path):
    bus = InMemoryMessageBus()
    with _instrumented(provider):
        async with _app(provider, model, redis[0], bus, tmp_path) as (app, client):
            s1, s2 = await client.session("s1"), await client.session("s2")
            async with client.events(s1) as one, client.events(s2) as two:
                await _push_under(provider, bus, [("first", _trigger(s1, client.agent_id)),
                                                  ("second", _trigger(s2, client.agent_id))])
                await one.until("REPLY_END")
                await two.until("REPLY_END")
            await _settled(app, s1, s2)

    spans = exporter.get_finished_spans()
    for name in ("first", "second"):
        root, = _roots(spans, name)
        assert_tree(_by_trace(spans, root), RUN_TREE.format(root=name, system="agentscope"))
    _processes_ok(spans)
    detector.assert_all_ended()


async def test_a_busy_sessions_requeued_trigger_keeps_its_submitter(provider, exporter, detector,
                                                                    model, redis, tmp_path):
    """Two triggers for one session in one drain: the second finds the first's
    run registered, and the dispatcher re-queues it (after a backoff, from a
    task of its own). Its run is still under its own submitter, not under
    the first run's process span."""
    bus = InMemoryMessageBus()
    with _instrumented(provider):
        async with _app(provider, model, redis[0], bus, tmp_path) as (app, client):
            session = await client.session("s1")
            key, one = _trigger(session, client.agent_id)
            two = {**one, "input": user_msg("again [conv:busy]")}
            one = {**one, "input": user_msg("hello [conv:busy]")}
            async with client.events(session) as events:
                await _push_under(provider, bus, [("first", (key, one)), ("second", (key, two))])
                await events.until("REPLY_END")
                await events.until("REPLY_END")
            await _settled(app, session)

    spans = exporter.get_finished_spans()
    for name in ("first", "second"):
        root, = _roots(spans, name)
        assert_tree(_by_trace(spans, root), RUN_TREE.format(root=name, system="agentscope"))
    _processes_ok(spans)
    detector.assert_all_ended()


async def test_malformed_trigger_between_does_not_shift_contexts(provider, exporter, detector,
                                                                 model, redis, tmp_path):
    """The dispatcher skips a malformed entry without dispatching it: the
    entries after it still run in their own submitter's context."""
    bus = InMemoryMessageBus()
    with _instrumented(provider):
        async with _app(provider, model, redis[0], bus, tmp_path) as (app, client):
            s1, s2 = await client.session("s1"), await client.session("s2")
            key, malformed = _trigger("s9", client.agent_id)
            del malformed["user_id"]
            async with client.events(s1) as one, client.events(s2) as two:
                await _push_under(provider, bus, [
                    ("first", _trigger(s1, client.agent_id)), ("malformed", (key, malformed)),
                    ("second", _trigger(s2, client.agent_id))])
                await one.until("REPLY_END")
                await two.until("REPLY_END")
            await _settled(app, s1, s2)

    spans = exporter.get_finished_spans()
    for name in ("first", "second"):
        root, = _roots(spans, name)
        assert_tree(_by_trace(spans, root), RUN_TREE.format(root=name, system="agentscope"))
    root, = _roots(spans, "malformed")
    assert_tree(_by_trace(spans, root), "malformed")
    _processes_ok(spans)
    detector.assert_all_ended()


async def test_trigger_without_a_span_is_a_trace_of_its_own(provider, exporter, detector, model,
                                                            redis, tmp_path):
    """No span current where the run is submitted: nothing is added to the
    trigger, and its process span is the root of a trace of its own."""
    bus = InMemoryMessageBus()
    with _instrumented(provider):
        async with _app(provider, model, redis[0], bus, tmp_path) as (app, client):
            session = await client.session("s1")
            async with client.events(session) as events:
                await enqueue_run_trigger(bus, user_id=USER, session_id=session,
                                          agent_id=client.agent_id, kind="message",
                                          inputs=UserMsg(name="user", content="hi"))
                await events.until("REPLY_END")
            await _settled(app, session)
    spans = exporter.get_finished_spans()
    root, = _roots(spans, f"process {QUEUE}")
    assert_tree(_by_trace(spans, root), f"""
        process {QUEUE}
          invoke_agent helper
            react step
              chat gpt-4o-mini
    """)
    _processes_ok(spans)
    detector.assert_all_ended()


# -- Redis, across processes ---------------------------------------------------

@contextlib.contextmanager
def _app_process(receiver, redis_port: int, tmp_path):
    """The app in a worker process on the Redis bus and storage; its URL."""
    with http_server("bus_worker.py", receiver.traces_url, str(redis_port),
                     str(tmp_path / "workspaces"), directory=HERE) as (port, _process):
        yield f"http://127.0.0.1:{port}"


async def test_redis_hitl_resume_across_processes(host_provider, receiver, detector, model,
                                                  redis, tmp_path):
    """This process posts the confirmation inside a CLIENT span (with
    ``traceparent``); the app process's resume is handed through Redis to its
    dispatcher, and the run lands under the request."""
    tracer = host_provider.get_tracer("test")
    with _instrumented(host_provider), _app_process(receiver, redis[0], tmp_path) as url:
        async with AppClient(url) as client:
            await client.setup(model.base_url)
            session = await client.session("s1")
            async with client.events(session) as events:
                await client.chat(session, "delete /tmp/a [conv:confirm]")
                pause = await events.until("REQUIRE_USER_CONFIRM")
                with tracer.start_as_current_span("confirm", kind=SpanKind.CLIENT):
                    headers: dict[str, str] = {}
                    propagate.inject(headers)
                    await client.confirm(session, pause, headers)
                await events.until("REPLY_END")
        # The process span ends last (the run persists its state after the reply).
        spans = receiver.wait_for(lambda got: any(s.name == f"process {QUEUE}" for s in got)
                                  and any(s.name == "confirm" for s in got))

    root, = _roots(spans, "confirm")
    resume = _by_trace(spans, root)
    tree = assert_tree(resume, "confirm\n" + "\n".join(
        "  " + line for line in RESUME_TREE.format(system="redis").strip().splitlines()))
    assert tree.span.resource.attributes["service.name"] != "agentscope-worker"
    assert {s.resource.attributes["service.name"] for s in resume if s is not root} == {
        "agentscope-worker"}
    _processes_ok(spans)
    detector.assert_all_ended()


async def test_redis_trigger_from_another_process(host_provider, receiver, detector, model,
                                                  redis, tmp_path):
    """This process pushes a run trigger on Redis (as a channel gateway or a
    team leader does); the app process's dispatcher runs it, under the span
    that pushed it."""
    tracer = host_provider.get_tracer("test")
    with _instrumented(host_provider), _app_process(receiver, redis[0], tmp_path) as url:
        async with AppClient(url) as client:
            await client.setup(model.base_url)
            session = await client.session("s1")
            async with client.events(session) as events, \
                    RedisMessageBus(host="127.0.0.1", port=redis[0]) as bus:
                with tracer.start_as_current_span("deliver", kind=SpanKind.PRODUCER):
                    await enqueue_run_trigger(bus, user_id=USER, session_id=session,
                                              agent_id=client.agent_id, kind="message",
                                              inputs=UserMsg(name="user", content="hello"))
                await events.until("REPLY_END")
        spans = receiver.wait_for(lambda got: any(s.name == f"process {QUEUE}" for s in got)
                                  and any(s.name == "deliver" for s in got))

    root, = _roots(spans, "deliver")
    tree = assert_tree(_by_trace(spans, root), RUN_TREE.format(root="deliver", system="redis"))
    assert tree.span.resource.attributes["service.name"] != "agentscope-worker"
    process = tree.children[0].span
    assert process.resource.attributes["service.name"] == "agentscope-worker"
    assert process.kind is SpanKind.CONSUMER
    # The Redis stream entry's id.
    assert re.fullmatch(r"\d+-\d+", process.attributes["messaging.message.id"])
    _processes_ok(spans)
    detector.assert_all_ended()


# -- Redis going away ----------------------------------------------------------

async def _run_while_redis_dies(provider, model, tmp_path):
    """A slow run triggered on the Redis bus; Redis is killed while its tool
    sleeps. Returns the type of what the run failed with (as ChatService
    logs it) and what submitting once more raises."""
    with redis_server() as (port, redis_process):
        app = build_app(RedisStorage(host="127.0.0.1", port=port),
                        RedisMessageBus(host="127.0.0.1", port=port),
                        str(tmp_path / "workspaces"), provider)
        async with served(app) as url, AppClient(url) as client:
            await client.setup(model.base_url)
            session = await client.session("s1")
            registry = app.state.agentscope.state.chat_run_registry
            async with RedisMessageBus(host="127.0.0.1", port=port) as bus:
                async with client.events(session) as events:
                    with provider.get_tracer("test").start_as_current_span("deliver"):
                        await enqueue_run_trigger(bus, user_id=USER, session_id=session,
                                                  agent_id=client.agent_id, kind="message",
                                                  inputs=UserMsg(name="user",
                                                                 content="wait [conv:slow]"))
                    # The round's last event; the tool starts its 1.5 s sleep next.
                    await events.until("MODEL_CALL_END")
                    await asyncio.sleep(0.4)
                run = registry.get(session)
                redis_process.kill()
                await asyncio.wait_for(asyncio.shield(run), 20)
                with pytest.raises(Exception) as raised:
                    await enqueue_run_trigger(bus, user_id=USER, session_id=session,
                                              agent_id=client.agent_id)
    return raised.type


async def test_redis_going_away_mid_run(provider, exporter, detector, model, tmp_path, caplog):
    """Publishing the run's next event fails: ChatService stops reading the
    agent's stream (logs and swallows the error); the agent's span ends then,
    marked closed early (the agent itself did not fail), the run's process
    span ends with the Redis error, and nothing stays open. The host sees the
    same as uninstrumented."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    bare = await _run_while_redis_dies(provider, model, tmp_path / "bare")
    bare_failures = _run_failures(caplog)
    caplog.clear()
    with _instrumented(provider):
        traced = await _run_while_redis_dies(provider, model, tmp_path / "traced")
    await asyncio.sleep(0.1)  # the abandoned reply stream is closed by the loop

    assert traced == bare == RedisConnectionError
    assert _run_failures(caplog) == bare_failures == [RedisConnectionError]
    spans = exporter.get_finished_spans()
    agent, = [s for s in spans if s.name == "invoke_agent helper"]
    assert_tree(_by_trace(spans, agent), f"""
        deliver {{status=UNSET}}
          process {QUEUE} {{messaging.system=redis, error.type=redis.exceptions.ConnectionError, status=ERROR}}
            invoke_agent helper {{agents.stream.closed_early=true, status=UNSET}}
              react step {{status=UNSET}}
                chat gpt-4o-mini {{status=UNSET}}
                execute_tool wait_a_while {{status=UNSET}}
    """)
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text


def _run_failures(caplog) -> list[type]:
    return [r.exc_info[0] for r in caplog.records
            if r.getMessage().startswith("ChatService.run failed") and r.exc_info]


async def test_redis_going_away_mid_run_in_the_app_process(host_provider, receiver, model,
                                                           tmp_path):
    """The same across processes: the app process's process span, exported
    after Redis is gone, ends with the Redis error; this process's next push
    raises Redis's ConnectionError."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    tracer = host_provider.get_tracer("test")
    with _instrumented(host_provider), redis_server() as (port, redis_process), \
            _app_process(receiver, port, tmp_path) as url:
        async with AppClient(url) as client, RedisMessageBus(host="127.0.0.1", port=port) as bus:
            await client.setup(model.base_url)
            session = await client.session("s1")
            async with client.events(session) as events:
                with tracer.start_as_current_span("deliver"):
                    await enqueue_run_trigger(bus, user_id=USER, session_id=session,
                                              agent_id=client.agent_id, kind="message",
                                              inputs=UserMsg(name="user",
                                                             content="wait [conv:slow]"))
                # The round's last event; the tool starts its 1.5 s sleep next.
                await events.until("MODEL_CALL_END")
                await asyncio.sleep(0.4)
            redis_process.kill()
            with pytest.raises(RedisConnectionError):
                await enqueue_run_trigger(bus, user_id=USER, session_id=session,
                                          agent_id=client.agent_id)
        spans = receiver.wait_for(lambda got: any(s.name == f"process {QUEUE}" for s in got)
                                  and any(s.name == "deliver" for s in got))

    root, = _roots(spans, "deliver")
    assert_tree(_by_trace(spans, root), f"""
        deliver
          process {QUEUE} {{messaging.system=redis, error.type=redis.exceptions.ConnectionError}}
            invoke_agent helper {{agents.stream.closed_early=true}}
              react step
                chat gpt-4o-mini
                execute_tool wait_a_while
    """)
