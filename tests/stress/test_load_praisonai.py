"""PraisonAI Agents under load: 64 overlapping turns on one agent, five times over
(half `chat` on threads, half `achat` on one event loop, at once), and agents
calling agents from tools, concurrently.

PraisonAI runs overlapping turns on one Agent in parallel and shares its chat
history between them, so a request carries other turns' prompts; the
scripted server answers each request for the conversation named in its own,
last, prompt. The ids it gives responses and tool calls name that
conversation, so every trace is checked to hold exactly its own turn.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

import pytest

from opentelemetry.instrumentation.agents.testing import assert_isolated
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
    turn_index,
)
from tests.praisonai.support import conversation_of, make_agent

from .checks import assert_all_ended_once, assert_one_trace, assert_overlapped, isolated_trees

RUNS = 64
REPETITIONS = 5

pytestmark = pytest.mark.usefixtures("praisonai_offline")

TREE = """
invoke_agent helper {agents.react.rounds=2, gen_ai.usage.input_tokens=20, status=UNSET}
  react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls, status=UNSET}
    chat gpt-4o-mini {gen_ai.usage.input_tokens=10, status=UNSET}
    execute_tool lookup {status=UNSET}
  react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop, status=UNSET}
    chat gpt-4o-mini {gen_ai.usage.input_tokens=10, status=UNSET}
"""


@pytest.fixture
def instrumented(instrument):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    return instrument(PraisonAIInstrumentor)


def _respond(conv, request):
    if turn_index(request, since_last_user=True) == 0:
        return tool_calls([ToolCall("lookup", {"key": "{conv}"})])
    return text("answer {conv}")


def test_64_overlapping_turns_on_one_agent_five_times(instrumented, exporter, detector, server,
                                                      monkeypatch):
    srv = server(_respond, marker="last")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    ran: dict[str, list[str]] = defaultdict(list)
    in_tool: list[threading.Barrier] = []

    def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        ran[key].append(key)
        # Every turn is inside its tool call at the same moment.
        in_tool[0].wait(30)
        return f"value for {key}"

    for repetition in range(REPETITIONS):
        exporter.clear()
        in_tool[:] = [threading.Barrier(RUNS)]
        keys = [f"r{repetition}x{i}" for i in range(RUNS)]
        on_threads, on_tasks = keys[::2], keys[1::2]
        # A fresh agent each time: PraisonAI's shared history only grows.
        agent = make_agent([lookup])
        answers: dict[str, str] = {}
        failures: list[BaseException] = []

        def chat(key: str, agent=agent, answers=answers, failures=failures) -> None:
            try:
                answers[key] = agent.chat(f"Look up {key}. [conv:{key}]")
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        async def achat_all(agent=agent, on_tasks=on_tasks) -> list[str]:
            # A sync tool under `achat` runs in the loop's executor: enough
            # workers for all of them to wait at the barrier together.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=len(on_tasks)) as pool:
                asyncio.get_running_loop().set_default_executor(pool)
                return await asyncio.gather(*(agent.achat(f"Look up {key}. [conv:{key}]")
                                              for key in on_tasks))

        threads = [threading.Thread(target=chat, args=(key,)) for key in on_threads]
        for thread in threads:
            thread.start()
        answers.update(zip(on_tasks, asyncio.run(achat_all()), strict=True))
        for thread in threads:
            thread.join(60)

        assert not failures and not srv.errors, (failures, srv.errors)
        assert answers == {key: f"answer {key}" for key in keys}
        spans = exporter.get_finished_spans()
        trees = assert_isolated(spans, TREE, RUNS, ordered=True)
        assert len(spans) == RUNS * 6
        assert_all_ended_once(detector)
        by_conversation = {conversation_of(tree): tree for tree in trees}
        assert sorted(by_conversation) == sorted(keys)
        for key, tree in by_conversation.items():
            assert_one_trace(tree)
            assert ran[key] == [key]
            (tool,) = tree.find("execute_tool lookup")
            assert tool.attributes["gen_ai.tool.call.id"] == f"call_{key}_0_0"
        assert_overlapped(trees)


def test_agents_calling_agents_from_tools_concurrently(instrumented, exporter, detector, server,
                                                       monkeypatch):
    outer_runs = 16
    keys = [f"o{i}" for i in range(outer_runs)]

    def respond(conv, request):
        if conv.startswith("in"):
            return text("inner answer {conv}")
        if turn_index(request, since_last_user=True) == 0:
            return tool_calls([ToolCall("ask_inner", {"question": "{conv}"})])
        return text("outer answer {conv}")

    srv = server(respond, marker="last")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    barrier = threading.Barrier(outer_runs)
    asked: dict[str, list[str]] = defaultdict(list)
    inner = make_agent([], name="inner")

    def ask_inner(question: str) -> str:
        """Ask the inner agent.

        Args:
            question: The question.
        """
        asked[question].append(question)
        barrier.wait(30)
        # One inner agent instance, called from every outer tool call at once.
        return inner.chat(f"Answer. [conv:in{question}]")

    outer = make_agent([ask_inner], name="outer")

    from .checks import run_in_threads

    results = run_in_threads(lambda key: outer.chat(f"Ask. [conv:{key}]"), keys)

    assert not srv.errors, srv.errors
    assert results == {key: f"outer answer {key}" for key in keys}
    spans = exporter.get_finished_spans()
    trees = isolated_trees(spans, outer_runs)
    assert len(spans) == outer_runs * (6 + 3)
    assert_all_ended_once(detector)
    seen = []
    for tree in trees:
        assert tree.name == "invoke_agent outer"
        assert_one_trace(tree)
        (tool,) = tree.find("execute_tool ask_inner")
        key = tool.attributes["gen_ai.tool.call.id"].split("_")[1]
        seen.append(key)
        assert asked[key] == [key]
        outer_chats = [n for n in tree.walk() if n.name == "chat gpt-4o-mini"
                       and n.attributes["gen_ai.response.id"].startswith(f"chatcmpl-{key}-")]
        assert len(outer_chats) == 2
        # The inner invocation sits, whole, under the tool call that made it.
        (inner_span,) = tool.children
        assert inner_span.name == "invoke_agent inner"
        (step,) = inner_span.children
        (chat,) = step.children
        assert chat.attributes["gen_ai.response.id"] == f"chatcmpl-in{key}-0"
    assert sorted(seen) == sorted(keys)
    assert_overlapped(trees)
