"""Overlapping replies on one AgentScope 2.x agent instance.

AgentScope keeps per-reply state on the agent (`agent.state`), so overlapping
replies on one instance disturb each other: a reply may see another reply's
last message and stop early, or run a tool call another reply asked for.
That is AgentScope's behaviour and not ours to fix; what we guarantee is that
each reply's trace holds exactly the calls its own task made. The tests check
that against ground truth recorded by the model and the tools themselves.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from opentelemetry.instrumentation.agents.testing import assert_isolated, build_trees
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    conversation,
    current_conversation,
    say,
)

from .support import make_agent, user

RUNS = 16


def _conversation_of(tree) -> str:
    """The conversation whose task made this trace's model calls.

    The scripted model names each response `resp-<conversation>-<n>` after
    the task that called it, so chat spans say which task they ran in.
    """
    keys = {node.attributes["gen_ai.response.id"].split("-")[1]
            for node in tree.walk() if node.name.startswith("chat ")}
    assert len(keys) == 1, f"one trace holds model calls of several tasks: {keys}"
    return keys.pop()


async def test_overlapping_single_round_replies_are_isolated(instrumented, exporter, detector):
    keys = [f"c{i}" for i in range(RUNS)]
    # Every model call waits long enough that all replies are in flight at once.
    script = {key: [say("answer {conv}", delay=0.05)] for key in keys}
    agent = make_agent(ScriptedChatModel(script))

    async def run(key):
        with conversation(key):
            return await agent.reply(user(f"question {key}"))

    replies = await asyncio.gather(*(run(key) for key in keys))

    assert sorted(r.get_text_content() for r in replies) == sorted(f"answer {k}" for k in keys)
    trees = assert_isolated(exporter.get_finished_spans(), """
        invoke_agent helper {agents.react.rounds=1, gen_ai.usage.input_tokens=10}
          react step {gen_ai.react.round=1, gen_ai.react.finish_reason=stop}
            chat scripted-model {gen_ai.usage.input_tokens=10}
    """, RUNS)
    detector.assert_all_ended()
    assert sorted(_conversation_of(t) for t in trees) == sorted(keys)
    starts = [t.span.start_time for t in trees]
    ends = [t.span.end_time for t in trees]
    assert max(starts) < min(ends), "the replies did overlap"


async def test_overlapping_tool_replies_hold_only_their_own_calls(instrumented, exporter,
                                                                  detector):
    keys = [f"c{i}" for i in range(RUNS)]
    barrier = asyncio.Barrier(RUNS)
    ran: dict[str, list[str]] = defaultdict(list)

    async def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        ran[current_conversation()].append(key)
        # The first tool call of every reply is in flight at the same moment.
        if len(ran[current_conversation()]) == 1:
            await asyncio.wait_for(barrier.wait(), 10)
        return f"value for {key}"

    def script(key: str, index: int):
        if index == 0:
            return call_tools(("lookup", {"key": key}), usage=(3, 1))
        return say("answer {conv}", usage=(5, 2))

    model = ScriptedChatModel(script)
    agent = make_agent(model, [lookup])

    async def run(key):
        with conversation(key):
            return await agent.reply(user(f"question {key}"))

    await asyncio.gather(*(run(key) for key in keys))

    spans = exporter.get_finished_spans()
    detector.assert_all_ended()
    trees = build_trees(spans)
    assert len(trees) == RUNS
    assert len({t.span.context.trace_id for t in trees}) == RUNS
    by_conversation = {_conversation_of(t): t for t in trees}
    assert sorted(by_conversation) == sorted(keys)
    for key, tree in by_conversation.items():
        assert tree.name == "invoke_agent helper"
        # Exactly the calls this task made, and nothing else.
        chats = tree.find("chat scripted-model")
        tools = tree.find("execute_tool lookup")
        assert len(chats) == model.calls[key]
        assert len(tools) == len(ran[key])
        steps = [c for c in tree.children]
        assert all(s.name == "react step" for s in steps)
        assert [s.attributes["gen_ai.react.round"] for s in steps] == list(
            range(1, len(steps) + 1))
        assert tree.attributes["agents.react.rounds"] == len(steps)
        for step in steps:
            assert all(c.name in ("chat scripted-model", "execute_tool lookup")
                       for c in step.children)
        assert tree.attributes["gen_ai.usage.input_tokens"] == sum(
            c.attributes["gen_ai.usage.input_tokens"] for c in chats)
        assert all(s.span.context.trace_id == tree.span.context.trace_id
                   for s in tree.walk())


async def test_overlapping_streamed_replies_are_isolated(instrumented, exporter, detector):
    keys = [f"s{i}" for i in range(8)]
    script = {key: [say("streamed answer {conv}", delay=0.02 + 0.005 * (i % 3))]
              for i, key in enumerate(keys)}
    agent = make_agent(ScriptedChatModel(script, stream=True, chunk_size=3))

    async def run(key):
        with conversation(key):
            return [event async for event in agent.reply_stream(user(key))]

    await asyncio.gather(*(run(k) for k in keys))

    trees = assert_isolated(exporter.get_finished_spans(), """
        invoke_agent helper
          react step
            chat scripted-model {gen_ai.request.stream=true}
    """, len(keys))
    detector.assert_all_ended()
    assert sorted(_conversation_of(t) for t in trees) == sorted(keys)
