"""One Hermes agent instance driven by many threads (and asyncio tasks) at once.

Hermes keeps its per-turn bookkeeping on the agent, which overlapping turns
share; our telemetry must not. Every conversation carries a marker
(``[conv:<id>]``) that the scripted server echoes into its answers and tool
arguments, and distinct token counts, so each trace can be checked to hold
exactly what its own conversation did: its model calls (including the HTTP
requests Hermes sends from worker threads), its tool call, its usage.

The turns use Hermes's non-streaming model path: overlapping *streamed* turns
on one agent are not something Hermes supports. Its single-writer stream
fence (``AIAgent._claim_stream_writer``, hermes-agent #65991) lets only the
newest stream of an agent deliver, and the others fail with
``EmptyStreamError``, with or without this instrumentation. The streaming
path's context hand-off is covered in test_spans.py.
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

from .http_spans import traced_http
from .support import CONV, make_agent, tools

TREE = """
invoke_agent hermes {agents.react.rounds=2, agents.agent.finish_reason=completed}
  react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls}
    chat fake-model
      POST /v1/chat/completions
    execute_tool lookup
  react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop}
    chat fake-model
      POST /v1/chat/completions
"""


def _usage(conv: str, turn: int) -> tuple[int, int]:
    n = int(conv[1:])
    return (100 + n, 1 + n) if turn == 0 else (200 + n, 2 + n)


def _respond(conv, request):
    turn = turn_index(request)
    if turn == 0:
        return tool_calls([ToolCall("lookup", {"key": "{conv}"})], usage=_usage(conv, 0))
    return text("answer {conv}", usage=_usage(conv, 1))


@pytest.fixture
def capturing(provider, monkeypatch):
    """Instrumented with message content on: the markers are in the content."""
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    instrumentor = HermesAgentInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()


def _markers(text_value: str) -> set[str]:
    return set(CONV.findall(text_value))


def _check_trace(tree, ran: dict[str, list[str]]) -> str:
    """Every span of `tree` belongs to one conversation; returns its id."""
    (conv,) = _markers(tree.attributes["gen_ai.input.messages"])
    assert tree.attributes["gen_ai.output.messages"].count(f"answer {conv}") == 1
    chats = tree.find("chat fake-model")
    (tool,) = tree.find("execute_tool lookup")
    https = tree.find("POST /v1/chat/completions")
    for chat in chats:
        assert _markers(chat.attributes["gen_ai.input.messages"]) == {conv}
    assert f"answer {conv}" in chats[1].attributes["gen_ai.output.messages"]
    assert tool.attributes["gen_ai.tool.call.id"] == f"call_{conv}_0_0"
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"key": conv}
    assert ran[conv] == [conv], "the tool call this trace shows is the one this run made"
    assert [h.attributes["test.conversation"] for h in https] == [conv, conv]
    assert [(c.attributes["gen_ai.usage.input_tokens"], c.attributes["gen_ai.usage.output_tokens"])
            for c in chats] == [_usage(conv, 0), _usage(conv, 1)]
    # The agent span adds up its own model calls only.
    assert tree.attributes["gen_ai.usage.input_tokens"] == sum(
        c.attributes["gen_ai.usage.input_tokens"] for c in chats)
    assert tree.attributes["gen_ai.usage.output_tokens"] == sum(
        c.attributes["gen_ai.usage.output_tokens"] for c in chats)
    trace_id = tree.span.context.trace_id
    assert all(node.span.context.trace_id == trace_id for node in tree.walk())
    return conv


def _lookup_tool(runs: int):
    ran: dict[str, list[str]] = defaultdict(list)
    barrier = threading.Barrier(runs)

    def lookup(args):
        key = args["key"]
        ran[key].append(key)
        # Every conversation is inside its tool call at the same moment.
        barrier.wait(timeout=20)
        return json.dumps({"value": f"value of {key}"})

    return ran, lookup


def _check_all(exporter, detector, ran, convs, results):
    assert sorted(r["final_response"] for r in results) == sorted(f"answer {c}" for c in convs)
    trees = assert_isolated(exporter.get_finished_spans(), TREE, len(convs))
    detector.assert_all_ended()
    assert sorted(_check_trace(tree, ran) for tree in trees) == sorted(convs)
    starts = [t.span.start_time for t in trees]
    ends = [t.span.end_time for t in trees]
    assert max(starts) < min(ends), "the conversations did overlap"


def test_sixteen_threads_on_one_agent(capturing, exporter, detector, server, provider):
    runs = 16
    convs = [f"t{i}" for i in range(runs)]
    ran, lookup = _lookup_tool(runs)
    srv = server(_respond)
    start = threading.Barrier(runs)
    results, failures = [], []

    with tools(lookup=(lookup, {"key": "string"})), traced_http(provider):
        agent = make_agent(srv.base_url, max_iterations=50, streaming=False)

        def converse(conv):
            try:
                start.wait(timeout=20)
                results.append(agent.run_conversation(f"Look it up. [conv:{conv}]"))
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=converse, args=(c,)) for c in convs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert not failures and not srv.errors
    _check_all(exporter, detector, ran, convs, results)


async def test_eight_asyncio_to_thread_tasks_on_one_agent(capturing, exporter, detector, server,
                                                          provider):
    runs = 8
    convs = [f"a{i}" for i in range(runs)]
    ran, lookup = _lookup_tool(runs)
    srv = server(_respond)
    # to_thread uses the loop's default pool, which may have fewer than 8
    # workers on a small machine: the tool barrier needs all 8 at once.
    pool = ThreadPoolExecutor(max_workers=runs)
    asyncio.get_running_loop().set_default_executor(pool)

    with tools(lookup=(lookup, {"key": "string"})), traced_http(provider):
        agent = make_agent(srv.base_url, max_iterations=50, streaming=False)
        results = await asyncio.wait_for(asyncio.gather(*(
            asyncio.to_thread(agent.run_conversation, f"Look it up. [conv:{conv}]")
            for conv in convs)), 60)

    assert not srv.errors
    _check_all(exporter, detector, ran, convs, list(results))
