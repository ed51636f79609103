"""Production signals on real AgentScope 1.x agents (scripted model)."""

from __future__ import annotations

import asyncio

import pytest
from agentscope.tool import ToolResponse

from opentelemetry.instrumentation.agents.testing.agentscope1_model import (
    ScriptedChatModel,
    call_tools,
    conversation,
    say,
)
from tests.signals_support import assert_loop, assert_no_loop, signals_of

from .support import make_agent, text_result, user


@pytest.fixture
def signals(provider, exporter):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    with signals_of(AgentScopeInstrumentor, provider, exporter) as found:
        yield found


def lookup(key: str) -> ToolResponse:
    """Look a key up.

    Args:
        key (`str`): The key.
    """
    return text_result("not found")


async def test_overlapping_calls_on_one_agent_carry_the_count(signals):
    seen = []

    def script(key, index):
        seen.append(signals.total("agents.invocations.active"))
        return say(f"answer {key}", delay=0.05)

    agent = make_agent(ScriptedChatModel(script))

    async def run(key):
        with conversation(key):
            return await agent(user(f"question {key}"))

    await asyncio.gather(run("a"), run("b"))
    overlapped = signals.agents()
    assert [s.attributes.get("agents.agent.concurrent_invocations") for s in overlapped] == [1, 1]
    assert seen == [1, 2]
    assert signals.total("agents.invocations.active") == 0

    signals.exporter.clear()
    await run("c")
    (lone,) = signals.agents()
    assert "agents.agent.concurrent_invocations" not in lone.attributes


async def test_the_same_tool_call_four_times_is_a_loop(signals):
    same = call_tools(("lookup", {"key": "k"}))
    agent = make_agent(ScriptedChatModel([same, same, same, same, say("done")]), [lookup])
    reply = await agent(user("Find k."))
    assert reply.get_text_content() == "done"
    assert_loop(signals, rounds=5, tool="lookup", trip_round=3, agent="helper")


async def test_distinct_arguments_are_no_loop(signals):
    script = [call_tools(("lookup", {"key": f"k{i}"})) for i in range(4)] + [say("done")]
    agent = make_agent(ScriptedChatModel(script), [lookup])
    reply = await agent(user("Find k."))
    assert reply.get_text_content() == "done"
    assert len(signals.spans("react step")) == 5
    assert_no_loop(signals)


async def test_an_empty_answer_is_flagged_an_answer_is_not(signals):
    agent = make_agent(ScriptedChatModel({"empty": [say(" ")], "full": [say("hello")]}))
    for key in ("empty", "full"):
        with conversation(key):
            await agent(user("Say something."))
    empty, full = signals.agents()
    assert empty.attributes.get("agents.agent.empty_output") is True
    assert "agents.agent.empty_output" not in full.attributes
