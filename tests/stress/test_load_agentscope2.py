"""AgentScope 2.x under load: 64 overlapping replies on one agent, five times over,
and agents calling agents from tools, concurrently.

AgentScope keeps per-reply state on the agent, so overlapping replies on one
instance disturb each other (a reply may stop early, or run a tool call that
another reply asked for; see tests/agentscope2/test_concurrency.py). That is
AgentScope's behaviour; ours is that each reply's trace holds exactly what
its own task ran. The scripted model and the tools record, per conversation,
what each task really did: every trace is checked against that ground truth.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    conversation,
    current_conversation,
    say,
)
from tests.agentscope2.support import make_agent, user

from .checks import assert_all_ended_once, assert_one_trace, assert_overlapped, isolated_trees

RUNS = 64
REPETITIONS = 5


@pytest.fixture
def instrumented(instrument):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return instrument(AgentScopeInstrumentor)


def conversation_of(tree, model: str = "chat scripted-model") -> str:
    """The conversation whose task made this trace's model calls (`resp-<key>-<n>`)."""
    keys = {node.attributes["gen_ai.response.id"].split("-")[1]
            for node in tree.walk() if node.name == model}
    assert len(keys) == 1, f"one trace holds model calls of several tasks: {keys}"
    return keys.pop()


def check_against_ground_truth(tree, key: str, model: ScriptedChatModel,
                               ran: dict[str, list[str]], agent: str = "invoke_agent helper",
                               chat: str = "chat scripted-model",
                               tool: str = "execute_tool lookup") -> int:
    """The trace of `key` holds exactly the calls its task made; returns its span count."""
    assert tree.name == agent
    assert_one_trace(tree)
    steps = list(tree.children)
    assert steps and all(step.name == "react step" for step in steps)
    assert [s.attributes["gen_ai.react.round"] for s in steps] == list(range(1, len(steps) + 1))
    assert tree.attributes["agents.react.rounds"] == len(steps)
    chats = [n for n in tree.walk() if n.name == chat]
    tools = [n for n in tree.walk() if n.name == tool]
    # One round per model call this task made, each holding that call.
    assert len(chats) == model.calls[key] == len(steps)
    assert all(len(step.find(chat)) == 1 for step in steps)
    assert len(tools) == len(ran[key])
    # Model and tool calls sit directly in their round, nowhere else.
    assert all(child.name in (chat, tool) for step in steps for child in step.children)
    assert tree.attributes["gen_ai.usage.input_tokens"] == sum(
        c.attributes["gen_ai.usage.input_tokens"] for c in chats)
    return len(list(tree.walk()))


async def test_64_overlapping_replies_on_one_agent_five_times(instrumented, exporter,
                                                              detector):
    for repetition in range(REPETITIONS):
        await _one_repetition(repetition, exporter, detector)


async def _one_repetition(repetition: int, exporter, detector) -> None:
    exporter.clear()
    keys = [f"r{repetition}x{i}" for i in range(RUNS)]
    ran: dict[str, list[str]] = defaultdict(list)

    async def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        ran[current_conversation()].append(key)
        await asyncio.sleep(0)
        return f"value for {key}"

    def script(key: str, index: int):
        # The first model call of every reply waits a little, so all 64
        # replies are in flight at once.
        if index == 0:
            return call_tools(("lookup", {"key": key}), usage=(3, 1), delay=0.02)
        return say("answer {conv}", usage=(5, 2))

    model = ScriptedChatModel(script)
    agent = make_agent(model, [lookup])

    async def reply(key: str) -> None:
        with conversation(key):
            await agent.reply(user(f"question {key}"))

    async def stream(key: str) -> None:
        with conversation(key):
            async for _ in agent.reply_stream(user(f"question {key}")):
                pass

    # Half of the replies through `reply`, half through `reply_stream`.
    await asyncio.gather(*((reply if i % 2 else stream)(key) for i, key in enumerate(keys)))

    spans = exporter.get_finished_spans()
    trees = isolated_trees(spans, RUNS)
    assert_all_ended_once(detector)
    by_conversation = {conversation_of(tree): tree for tree in trees}
    assert sorted(by_conversation) == sorted(keys)
    total = sum(check_against_ground_truth(tree, key, model, ran)
                for key, tree in by_conversation.items())
    assert total == len(spans)
    assert sum(model.calls.values()) == len([s for s in spans if s.name.startswith("chat")])
    assert_overlapped(trees)


async def test_agents_calling_agents_from_tools_concurrently(instrumented, exporter, detector):
    outer_runs = 16
    keys = [f"n{i}" for i in range(outer_runs)]
    barrier = asyncio.Barrier(outer_runs)
    asked: dict[str, list[str]] = defaultdict(list)

    inner_model = ScriptedChatModel(lambda key, index: say("inner answer {conv}", usage=(7, 3),
                                                           delay=0.005),
                                    model="inner-model")
    inner = make_agent(inner_model, name="inner")

    async def ask_inner(question: str) -> str:
        """Ask the inner agent.

        Args:
            question: The question.
        """
        key = current_conversation()
        asked[key].append(question)
        if len(asked[key]) == 1:
            # Every outer reply is inside this tool at the same moment.
            await asyncio.wait_for(barrier.wait(), 10)
        reply = await inner.reply(user(question))
        return reply.get_text_content()

    def outer_script(key: str, index: int):
        if index == 0:
            return call_tools(("ask_inner", {"question": key}), delay=0.005)
        return say("outer answer {conv}")

    outer_model = ScriptedChatModel(outer_script)
    outer = make_agent(outer_model, [ask_inner], name="outer")

    async def run(key: str) -> None:
        with conversation(key):
            await outer.reply(user(f"question {key}"))

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
        assert len(tools) == len(asked[key]) >= 1
        # Each tool call holds the one inner invocation it made, whole.
        for tool in tools:
            (inner_span,) = tool.children
            assert inner_span.name == "invoke_agent inner"
            (step,) = inner_span.children
            (chat,) = step.children
            assert chat.name == "chat inner-model"
            assert chat.attributes["gen_ai.response.id"].split("-")[1] == key
        assert len(tree.find("invoke_agent inner")) == len(tools)
        assert len(tree.find("chat inner-model")) == inner_model.calls[key]
        assert len(tree.find("chat scripted-model")) == outer_model.calls[key]
    assert_overlapped(trees)
