"""Overlapping calls on one AgentScope 1.x agent instance.

AgentScope 1.x keeps per-call state on the agent: one memory shared by every
call, and a per-instance re-entrancy guard (``_hook_running_<method>``) that
makes overlapping calls skip the instance's hooks while another call is
inside the same method. Neither is ours to fix; what we guarantee is that
each call's trace holds exactly the rounds, model calls and tool calls its
own task made. The scripted model picks its answers by the calling task's
conversation (not by the shared memory) and records how many calls each
conversation made: the ground truth each trace is checked against.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from agentscope.tool import ToolResponse

from opentelemetry.instrumentation.agents.testing import assert_isolated, build_trees
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    conversation,
    current_conversation,
    say,
)

from .support import make_agent, text_result, user

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


def _check_against_ground_truth(tree, key, model, ran):
    assert tree.name == "invoke_agent helper"
    steps = list(tree.children)
    assert all(s.name == "react step" for s in steps)
    # One round per model call this task made, numbered 1..n.
    assert len(steps) == model.calls[key]
    assert [s.attributes["gen_ai.react.round"] for s in steps] == list(range(1, len(steps) + 1))
    assert tree.attributes["agents.react.rounds"] == len(steps)
    for step in steps:
        assert len(step.find("chat scripted-model")) == 1
    # Exactly the tool calls this task ran, each in the round that asked for it.
    tools = [n for n in tree.walk() if n.name.startswith("execute_tool")]
    assert len(tools) == len(ran[key])
    for step in steps[:-1]:
        (chat,) = step.find("chat scripted-model")
        (tool,) = step.find("execute_tool lookup")
        assert chat.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
        round_index = chat.attributes["gen_ai.response.id"].split("-")[2]
        assert tool.attributes["gen_ai.tool.call.id"] == f"call-{key}-{round_index}-0"
    assert steps[-1].attributes["gen_ai.react.finish_reason"] == "stop"
    assert all(n.span.context.trace_id == tree.span.context.trace_id for n in tree.walk())


async def test_sixteen_overlapping_calls_give_isolated_trees(instrumented, exporter, detector):
    keys = [f"c{i}" for i in range(RUNS)]
    barrier = asyncio.Barrier(RUNS)
    ran: dict[str, list[str]] = defaultdict(list)
    hook_runs: list[str] = []

    async def lookup(key: str) -> ToolResponse:
        """Look a key up.

        Args:
            key (`str`): The key.
        """
        ran[current_conversation()].append(key)
        # The first tool call of every call is in flight at the same moment.
        if len(ran[current_conversation()]) == 1:
            await asyncio.wait_for(barrier.wait(), 10)
        return text_result(f"value for {key}")

    def script(key: str, index: int):
        if index < 2:
            # A delay inside the model call: every call is inside
            # `_reasoning` at once, which is where AgentScope's guard bites.
            return call_tools(("lookup", {"key": f"{key}-{index}"}), usage=(3, 1), delay=0.01)
        return say("answer {conv}", usage=(5, 2), delay=0.01)

    model = ScriptedChatModel(script)
    agent = make_agent(model, [lookup])
    # An application hook of its own, to see how often AgentScope runs hooks.
    agent.register_instance_hook("pre_reasoning", "app-hook",
                                 lambda _agent, kwargs: hook_runs.append("ran"))

    async def run(key):
        with conversation(key):
            return await agent(user(f"question {key}"))

    replies = await asyncio.gather(*(run(key) for key in keys))

    assert sorted(r.get_text_content() for r in replies) == sorted(f"answer {k}" for k in keys)
    trees = assert_isolated(exporter.get_finished_spans(), """
        invoke_agent helper {agents.react.rounds=3, gen_ai.usage.input_tokens=11}
          react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls}
            chat scripted-model {gen_ai.usage.input_tokens=3}
            execute_tool lookup
          react step {gen_ai.react.round=2, gen_ai.react.finish_reason=tool_calls}
            chat scripted-model {gen_ai.usage.input_tokens=3}
            execute_tool lookup
          react step {gen_ai.react.round=3, gen_ai.react.finish_reason=stop}
            chat scripted-model {gen_ai.usage.input_tokens=5}
    """, RUNS, ordered=True)
    detector.assert_all_ended()
    by_conversation = {_conversation_of(t): t for t in trees}
    assert sorted(by_conversation) == sorted(keys)
    for key, tree in by_conversation.items():
        _check_against_ground_truth(tree, key, model, ran)
    starts = [t.span.start_time for t in trees]
    ends = [t.span.end_time for t in trees]
    assert max(starts) < min(ends), "the calls did overlap"
    # AgentScope's guard really skipped hooks for overlapping calls, yet every
    # trace above has all its rounds: they do not depend on the hooks.
    assert len(hook_runs) < 3 * RUNS


async def test_overlapping_calls_with_different_round_counts(instrumented, exporter, detector):
    keys = [f"c{i}" for i in range(RUNS)]
    ran: dict[str, list[str]] = defaultdict(list)

    async def lookup(key: str) -> ToolResponse:
        """Look a key up.

        Args:
            key (`str`): The key.
        """
        ran[current_conversation()].append(key)
        await asyncio.sleep(0.002)
        return text_result(f"value for {key}")

    def script(key: str, index: int):
        # Conversation i makes i % 4 tool rounds, then answers; the delays
        # differ so the rounds of different calls interleave.
        tool_rounds = int(key[1:]) % 4
        delay = 0.002 * (1 + int(key[1:]) % 3)
        if index < tool_rounds:
            return call_tools(("lookup", {"key": f"{key}-{index}"}), delay=delay)
        return say("answer {conv}", delay=delay)

    model = ScriptedChatModel(script, stream=True, chunk_size=3)
    agent = make_agent(model, [lookup])

    async def run(key):
        with conversation(key):
            return await agent(user(f"question {key}"))

    await asyncio.gather(*(run(key) for key in keys))

    spans = exporter.get_finished_spans()
    detector.assert_all_ended()
    trees = build_trees(spans)
    assert len(trees) == RUNS
    assert len({t.span.context.trace_id for t in trees}) == RUNS
    by_conversation = {_conversation_of(t): t for t in trees}
    assert sorted(by_conversation) == sorted(keys)
    for key, tree in by_conversation.items():
        assert model.calls[key] == int(key[1:]) % 4 + 1
        _check_against_ground_truth(tree, key, model, ran)
