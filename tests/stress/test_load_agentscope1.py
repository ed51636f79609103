"""AgentScope 1.x under load: 64 overlapping calls on one agent, five times over,
and agents calling agents from tools, concurrently.

AgentScope 1.x shares one memory between overlapping calls on an instance and
skips the instance's hooks for all but one of them (its re-entrancy guard);
see tests/agentscope1/test_concurrency.py. Each call's trace must still hold
exactly the rounds, model calls and tool calls its own task made, checked
against what the scripted model and the tools recorded per conversation.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest
from agentscope.tool import ToolResponse

from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    conversation,
    current_conversation,
    say,
)
from tests.agentscope1.support import make_agent, text_result, user

from .checks import assert_all_ended_once, assert_one_trace, assert_overlapped, isolated_trees

RUNS = 64
REPETITIONS = 5


@pytest.fixture
def instrumented(instrument):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return instrument(AgentScopeInstrumentor)


def conversation_of(tree, model: str = "chat scripted-model") -> str:
    keys = {node.attributes["gen_ai.response.id"].split("-")[1]
            for node in tree.walk() if node.name == model}
    assert len(keys) == 1, f"one trace holds model calls of several tasks: {keys}"
    return keys.pop()


def check_against_ground_truth(tree, key: str, model: ScriptedChatModel,
                               ran: dict[str, list[str]]) -> int:
    """The trace of `key` holds exactly the calls its task made; returns its span count."""
    assert tree.name == "invoke_agent helper"
    assert_one_trace(tree)
    steps = list(tree.children)
    assert all(step.name == "react step" for step in steps)
    # One round per model call this task made, numbered 1..n.
    assert len(steps) == model.calls[key]
    assert [s.attributes["gen_ai.react.round"] for s in steps] == list(range(1, len(steps) + 1))
    assert tree.attributes["agents.react.rounds"] == len(steps)
    for step in steps:
        assert len(step.find("chat scripted-model")) == 1
        assert all(c.name in ("chat scripted-model", "execute_tool lookup")
                   for c in step.children)
    tools = tree.find("execute_tool lookup")
    assert len(tools) == len(ran[key])
    for step in steps[:-1]:
        (chat,) = step.find("chat scripted-model")
        (tool,) = step.find("execute_tool lookup")
        round_index = chat.attributes["gen_ai.response.id"].split("-")[2]
        assert tool.attributes["gen_ai.tool.call.id"] == f"call-{key}-{round_index}-0"
    assert steps[-1].attributes["gen_ai.react.finish_reason"] == "stop"
    return len(list(tree.walk()))


async def test_64_overlapping_calls_on_one_agent_five_times(instrumented, exporter, detector):
    for repetition in range(REPETITIONS):
        await _one_repetition(repetition, exporter, detector)


async def _one_repetition(repetition: int, exporter, detector) -> None:
    exporter.clear()
    keys = [f"r{repetition}x{i}" for i in range(RUNS)]
    ran: dict[str, list[str]] = defaultdict(list)

    async def lookup(key: str) -> ToolResponse:
        """Look a key up.

        Args:
            key (`str`): The key.
        """
        ran[current_conversation()].append(key)
        await asyncio.sleep(0)
        return text_result(f"value for {key}")

    def script(key: str, index: int):
        # Every call is inside its first model call at once.
        if index == 0:
            return call_tools(("lookup", {"key": key}), usage=(3, 1), delay=0.02)
        return say("answer {conv}", usage=(5, 2))

    model = ScriptedChatModel(script)
    agent = make_agent(model, [lookup])

    async def run(key: str, direct: bool) -> str:
        with conversation(key):
            # Both entry points: `agent(msg)` and `agent.reply(msg)`.
            reply = await (agent.reply(user(key)) if direct else agent(user(key)))
        return reply.get_text_content()

    replies = await asyncio.gather(*(run(key, i % 2 == 1) for i, key in enumerate(keys)))

    assert sorted(replies) == sorted(f"answer {key}" for key in keys)
    spans = exporter.get_finished_spans()
    trees = isolated_trees(spans, RUNS)
    assert_all_ended_once(detector)
    by_conversation = {conversation_of(tree): tree for tree in trees}
    assert sorted(by_conversation) == sorted(keys)
    total = sum(check_against_ground_truth(tree, key, model, ran)
                for key, tree in by_conversation.items())
    assert total == len(spans)
    assert_overlapped(trees)


async def test_agents_calling_agents_from_tools_concurrently(instrumented, exporter, detector):
    outer_runs = 16
    keys = [f"n{i}" for i in range(outer_runs)]
    barrier = asyncio.Barrier(outer_runs)
    asked: dict[str, list[str]] = defaultdict(list)

    inner_model = ScriptedChatModel(lambda key, index: say("inner answer {conv}", delay=0.005),
                                    model="inner-model")
    inner = make_agent(inner_model, name="inner")

    async def ask_inner(question: str) -> ToolResponse:
        """Ask the inner agent.

        Args:
            question (`str`): The question.
        """
        key = current_conversation()
        asked[key].append(question)
        if len(asked[key]) == 1:
            # Every outer call is inside this tool at the same moment.
            await asyncio.wait_for(barrier.wait(), 10)
        reply = await inner(user(question))
        return text_result(reply.get_text_content())

    def outer_script(key: str, index: int):
        if index == 0:
            return call_tools(("ask_inner", {"question": key}), delay=0.005)
        return say("outer answer {conv}")

    outer_model = ScriptedChatModel(outer_script)
    outer = make_agent(outer_model, [ask_inner], name="outer")

    async def run(key: str) -> None:
        with conversation(key):
            await outer(user(f"question {key}"))

    await asyncio.gather(*(run(key) for key in keys))

    spans = exporter.get_finished_spans()
    trees = isolated_trees(spans, outer_runs)
    assert_all_ended_once(detector)
    by_conversation = {conversation_of(tree): tree for tree in trees}
    assert sorted(by_conversation) == sorted(keys)
    for key, tree in by_conversation.items():
        assert tree.name == "invoke_agent outer"
        assert_one_trace(tree)
        tools = tree.find("execute_tool ask_inner")
        assert len(tools) == len(asked[key]) == 1
        for tool in tools:
            (inner_span,) = tool.children
            assert inner_span.name == "invoke_agent inner"
            (step,) = inner_span.children
            (chat,) = step.children
            assert chat.name == "chat inner-model"
            assert chat.attributes["gen_ai.response.id"].split("-")[1] == key
        assert len(tree.find("chat inner-model")) == inner_model.calls[key] == 1
        assert len(tree.find("chat scripted-model")) == outer_model.calls[key] == 2
    assert_overlapped(trees)
