"""Hermes Agent under load: 64 overlapping conversations on one agent, five times
over (half on threads, half through ``asyncio.to_thread``), and agents
calling agents from tools, concurrently.

Hermes is synchronous; its per-turn bookkeeping lives on the agent and is
shared by overlapping turns (see tests/hermes/test_concurrency.py, which also
says why these turns use the non-streaming model path). Every conversation
carries a marker the scripted server echoes into ids, answers and tool
arguments, and its own token counts, so each trace is checked to hold
exactly its own conversation.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest

from opentelemetry.instrumentation.agents.testing import assert_isolated
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
    turn_index,
)
from tests.hermes.support import CONV, make_agent, tools

from .checks import assert_all_ended_once, assert_one_trace, assert_overlapped, isolated_trees

RUNS = 64
REPETITIONS = 5

TREE = """
invoke_agent hermes {agents.react.rounds=2, agents.agent.finish_reason=completed}
  react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls}
    chat fake-model
    execute_tool lookup
  react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop}
    chat fake-model
"""


@pytest.fixture
def instrumented(instrument):
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    return instrument(HermesAgentInstrumentor)


@pytest.fixture
def capturing(instrument, capture):
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    capture()  # the conversation markers are in the content too
    return instrument(HermesAgentInstrumentor)


def _usage(conv: str, turn: int) -> tuple[int, int]:
    n = int(conv.split("x")[1])
    return (100 + n, 1 + n) if turn == 0 else (200 + n, 2 + n)


def _respond(conv, request):
    if turn_index(request) == 0:
        return tool_calls([ToolCall("lookup", {"key": "{conv}"})], usage=_usage(conv, 0))
    return text("answer {conv}", usage=_usage(conv, 1))


def _check_trace(tree, ran: dict[str, list[str]], srv) -> str:
    """Every span of `tree` belongs to one conversation; returns it.

    The ids the scripted server gives responses and tool calls name their
    conversation (``chatcmpl-<conv>-<turn>``, ``call_<conv>_<turn>_<i>``).
    """
    assert_one_trace(tree)
    chats = tree.find("chat fake-model")
    (tool,) = tree.find("execute_tool lookup")
    conv = chats[0].attributes["gen_ai.response.id"].split("-")[1]
    assert [c.attributes["gen_ai.response.id"] for c in chats] == [
        f"chatcmpl-{conv}-0", f"chatcmpl-{conv}-1"]
    assert tool.attributes["gen_ai.tool.call.id"] == f"call_{conv}_0_0"
    assert ran[conv] == [conv]
    assert len(srv.requests_for(conv)) == len(chats)
    assert [(c.attributes["gen_ai.usage.input_tokens"], c.attributes["gen_ai.usage.output_tokens"])
            for c in chats] == [_usage(conv, 0), _usage(conv, 1)]
    assert tree.attributes["gen_ai.usage.input_tokens"] == _usage(conv, 0)[0] + _usage(conv, 1)[0]
    return conv


def test_64_overlapping_conversations_on_one_agent_five_times(instrumented, exporter, detector,
                                                              server):
    srv = server(_respond)
    ran: dict[str, list[str]] = defaultdict(list)
    barrier: list[threading.Barrier] = []

    def lookup(args):
        key = args["key"]
        ran[key].append(key)
        # Every conversation is inside its tool call at the same moment.
        barrier[0].wait(timeout=30)
        return json.dumps({"value": f"value of {key}"})

    with tools(lookup=(lookup, {"key": "string"})):
        agent = make_agent(srv.base_url, max_iterations=100_000, streaming=False)

        def converse(conv: str) -> str:
            return agent.run_conversation(f"Look it up. [conv:{conv}]")["final_response"]

        async def via_to_thread(convs: list[str]) -> list[str]:
            # Enough workers for every conversation to wait at the barrier.
            with ThreadPoolExecutor(max_workers=len(convs)) as pool:
                asyncio.get_running_loop().set_default_executor(pool)
                return await asyncio.gather(*(asyncio.to_thread(converse, c) for c in convs))

        for repetition in range(REPETITIONS):
            exporter.clear()
            barrier[:] = [threading.Barrier(RUNS)]
            convs = [f"r{repetition}x{i}" for i in range(RUNS)]
            on_threads, on_tasks = convs[::2], convs[1::2]
            results: dict[str, str] = {}
            failures: list[BaseException] = []

            def on_thread(conv: str, results=results, failures=failures) -> None:
                try:
                    results[conv] = converse(conv)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    failures.append(exc)

            threads = [threading.Thread(target=on_thread, args=(c,)) for c in on_threads]
            for thread in threads:
                thread.start()
            results.update(zip(on_tasks, asyncio.run(via_to_thread(on_tasks)), strict=True))
            for thread in threads:
                thread.join(60)

            assert not failures and not srv.errors, (failures, srv.errors)
            assert results == {c: f"answer {c}" for c in convs}
            spans = exporter.get_finished_spans()
            trees = assert_isolated(spans, TREE, RUNS)
            assert len(spans) == RUNS * 6
            assert_all_ended_once(detector)
            assert sorted(_check_trace(tree, ran, srv) for tree in trees) == sorted(convs)
            assert_overlapped(trees)


def test_agents_calling_agents_from_tools_concurrently(capturing, exporter, detector,
                                                       server):
    outer_runs = 16
    convs = [f"o{i}" for i in range(outer_runs)]

    def respond(conv, request):
        if conv.startswith("in"):
            return text("inner answer {conv}")
        if turn_index(request) == 0:
            return tool_calls([ToolCall("ask_inner", {"question": "{conv}"})])
        return text("outer answer {conv}")

    srv = server(respond)
    barrier = threading.Barrier(outer_runs)
    asked: dict[str, list[str]] = defaultdict(list)
    inner_holder = []

    def ask_inner(args):
        question = args["question"]
        asked[question].append(question)
        barrier.wait(timeout=30)
        # One inner agent instance, called from every outer tool call at once.
        answer = inner_holder[0].run_conversation(f"Answer. [conv:in{question}]")
        return json.dumps({"answer": answer["final_response"]})

    with tools(ask_inner=(ask_inner, {"question": "string"})):
        outer = make_agent(srv.base_url, max_iterations=100_000, streaming=False)
        inner_holder.append(make_agent(srv.base_url, max_iterations=100_000, streaming=False))

        def converse(conv: str) -> str:
            return outer.run_conversation(f"Ask. [conv:{conv}]")["final_response"]

        from .checks import run_in_threads

        results = run_in_threads(converse, convs)

    assert not srv.errors, srv.errors
    assert results == {c: f"outer answer {c}" for c in convs}
    spans = exporter.get_finished_spans()
    trees = isolated_trees(spans, outer_runs)
    assert_all_ended_once(detector)
    seen = []
    for tree in trees:
        assert_one_trace(tree)
        (conv,) = set(CONV.findall(tree.attributes["gen_ai.input.messages"]))
        seen.append(conv)
        (tool,) = tree.find("execute_tool ask_inner")
        assert asked[conv] == [conv]
        # The inner invocation sits, whole, under the tool call that made it.
        (inner,) = tool.children
        assert inner.name == "invoke_agent hermes"
        assert CONV.findall(inner.attributes["gen_ai.input.messages"]) == [f"in{conv}"]
        (step,) = inner.children
        (chat,) = step.children
        assert chat.attributes["gen_ai.response.id"] == f"chatcmpl-in{conv}-0"
        outer_chats = [n for n in tree.walk() if n.name == "chat fake-model"
                       and n.attributes["gen_ai.response.id"].startswith(f"chatcmpl-{conv}-")]
        assert len(outer_chats) == 2
        assert len(list(tree.walk())) == 6 + 3
    assert sorted(seen) == sorted(convs)
    assert_overlapped(trees)
