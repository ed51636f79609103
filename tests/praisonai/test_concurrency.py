"""One PraisonAI Agent driven by many threads, or many tasks on one loop, at once.

PraisonAI runs overlapping turns on one Agent in parallel and shares its
chat history between them (a request carries the other turns' prompts); the
scripted server therefore answers each request for the conversation named in
its own, last, prompt (see `TurnServer`). What we guarantee: one complete
trace per turn, holding exactly that turn's model and tool calls.
"""

from __future__ import annotations

from opentelemetry.instrumentation.agents.testing import assert_isolated

from .support import (
    LOOKUP_SCRIPT,
    assert_overlapped,
    conversation_of,
    make_agent,
    turns_in_tasks,
    turns_in_threads,
)

RUNS = 16


TREE = """
invoke_agent helper {agents.react.rounds=2, gen_ai.usage.input_tokens=20, status=UNSET}
  react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls, status=UNSET}
    chat gpt-4o-mini {gen_ai.usage.input_tokens=10, status=UNSET}
    execute_tool lookup {status=UNSET}
  react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop, status=UNSET}
    chat gpt-4o-mini {gen_ai.usage.input_tokens=10, status=UNSET}
"""


def _check_each_trace(trees, keys):
    by_conversation = {conversation_of(tree): tree for tree in trees}
    assert sorted(by_conversation) == sorted(keys)
    for key, tree in by_conversation.items():
        trace_id = tree.span.context.trace_id
        assert all(node.span.context.trace_id == trace_id for node in tree.walk())
        # The agent span carries its own prompt and answer, the tool span its
        # own arguments, the last model call its own answer.
        assert f"[conv:{key}]" in tree.attributes["gen_ai.input.messages"]
        assert f"answer {key}" in tree.attributes["gen_ai.output.messages"]
        (tool,) = tree.find("execute_tool lookup")
        assert f'"{key}"' in tool.attributes["gen_ai.tool.call.arguments"]
        assert tool.attributes["gen_ai.tool.call.result"] == f"value for {key}"
        last_chat = tree.children[1].children[0]
        assert f"answer {key}" in last_chat.attributes["gen_ai.output.messages"]
    assert_overlapped(trees)


def test_one_agent_in_many_threads(instrumented_with_content, serve, exporter, detector):
    serve(LOOKUP_SCRIPT)
    keys = [f"c{i}" for i in range(RUNS)]
    answers = turns_in_threads(lambda lookup: make_agent([lookup]), keys)

    assert answers == {key: f"answer {key}" for key in keys}
    trees = assert_isolated(exporter.get_finished_spans(), TREE, RUNS, ordered=True)
    detector.assert_all_ended()
    _check_each_trace(trees, keys)


async def test_one_agent_in_many_tasks(instrumented_with_content, serve, exporter, detector):
    serve(LOOKUP_SCRIPT)
    keys = [f"a{i}" for i in range(RUNS)]
    answers = await turns_in_tasks(lambda lookup: make_agent([lookup]), keys)

    assert answers == [f"answer {key}" for key in keys]
    trees = assert_isolated(exporter.get_finished_spans(), TREE, RUNS, ordered=True)
    detector.assert_all_ended()
    _check_each_trace(trees, keys)
