"""Production signals on real AgentScope 2.x agents (scripted model)."""

from __future__ import annotations

import asyncio

import pytest

from opentelemetry.instrumentation.agents.testing.agentscope_model import (
    ScriptedChatModel,
    call_tools,
    conversation,
    say,
)
from tests.signals_support import assert_loop, assert_no_loop, signals_of

from .support import make_agent, user


@pytest.fixture
def signals(provider, exporter):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    with signals_of(AgentScopeInstrumentor, provider, exporter) as found:
        yield found


def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: The key.
    """
    return "not found"


async def test_overlapping_replies_on_one_agent_carry_the_count(signals):
    seen = []

    def script(key, index):
        # Called inside each reply's model call: both replies are in flight
        # once the second asks (the first waits on its scripted delay).
        seen.append(signals.total("agents.invocations.active"))
        return say(f"answer {key}", delay=0.05)

    agent = make_agent(ScriptedChatModel(script))

    async def run(key):
        with conversation(key):
            return await agent.reply(user(f"question {key}"))

    await asyncio.gather(run("a"), run("b"))
    overlapped = signals.agents()
    assert [s.attributes.get("agents.agent.concurrent_invocations") for s in overlapped] == [1, 1]
    assert seen == [1, 2]
    assert signals.total("agents.invocations.active") == 0
    (point,) = signals.points("agents.invocations.active")
    assert dict(point.attributes) == {"gen_ai.agent.name": "helper",
                                      "agents.runtime": "agentscope"}

    signals.exporter.clear()
    await run("c")
    (lone,) = signals.agents()
    assert "agents.agent.concurrent_invocations" not in lone.attributes


async def test_the_same_tool_call_four_times_is_a_loop(signals):
    same = call_tools(("lookup", {"key": "k"}))
    agent = make_agent(ScriptedChatModel([same, same, same, same, say("done")]), [lookup])
    reply = await agent.reply(user("Find k."))
    assert reply.get_text_content() == "done"
    assert_loop(signals, rounds=5, tool="lookup", trip_round=3, agent="helper")


async def test_distinct_arguments_are_no_loop(signals):
    script = [call_tools(("lookup", {"key": f"k{i}"})) for i in range(4)] + [say("done")]
    agent = make_agent(ScriptedChatModel(script), [lookup])
    reply = await agent.reply(user("Find k."))
    assert reply.get_text_content() == "done"
    assert len(signals.spans("react step")) == 5
    assert_no_loop(signals)


async def test_an_empty_answer_is_flagged_an_answer_is_not(signals):
    model = ScriptedChatModel({"empty": [say(" ")], "full": [say("hello")]})
    agent = make_agent(model)
    for key in ("empty", "full"):
        with conversation(key):
            await agent.reply(user("Say something."))
    empty, full = signals.agents()
    assert empty.attributes.get("agents.agent.empty_output") is True
    assert "agents.agent.empty_output" not in full.attributes


async def test_a_confirmation_wait_is_measured_on_the_continuation(signals):
    import time

    from agentscope.event import ConfirmResult, RequireUserConfirmEvent, UserConfirmResultEvent

    from .test_hitl import _confirming_agent, _until

    model = ScriptedChatModel([call_tools(("delete_file", {"path": "/tmp/a"})),
                               say("Deleted it.")])
    agent = _confirming_agent(model)
    started = time.perf_counter()
    pause = await _until(agent, user("delete /tmp/a"), RequireUserConfirmEvent)
    paused_by = time.perf_counter()  # the pause was noted before its stream ended
    await asyncio.sleep(0.2)  # the human thinks
    resumed_from = time.perf_counter()
    await agent.reply(UserConfirmResultEvent(reply_id=pause.reply_id, confirm_results=[
        ConfirmResult(confirmed=True, tool_call=pause.tool_calls[0])]))
    waited_at_most = time.perf_counter() - started

    paused, continued = sorted(signals.agents(), key=lambda s: s.start_time)
    assert "agents.hitl.wait.duration" not in paused.attributes
    wait = continued.attributes["agents.hitl.wait.duration"]
    assert resumed_from - paused_by <= wait <= waited_at_most
    (point,) = signals.points("agents.hitl.wait.duration")
    assert dict(point.attributes) == {"gen_ai.agent.name": "helper",
                                      "agents.agent.pending_reason": "user_confirmation"}
    assert point.count == 1 and point.sum == wait
