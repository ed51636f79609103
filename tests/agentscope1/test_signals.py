"""Production signals on real AgentScope 1.x agents (scripted model)."""

from __future__ import annotations

import asyncio

import pytest
from agentscope.tool import ToolResponse
from opentelemetry.trace import StatusCode

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope1_model import (
    ScriptedChatModel,
    call_tools,
    conversation,
    say,
)
from tests.signals_support import (
    assert_loop,
    assert_no_loop,
    cascade_of,
    input_links,
    signals_of,
)

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


# -- cascades -------------------------------------------------------------------
def _pair(first_turn):
    import agentscope.pipeline  # noqa: F401 - the pipelines patched where AgentScope binds them

    alice = make_agent(ScriptedChatModel([first_turn]), name="alice")
    bob = make_agent(ScriptedChatModel([say("Alice gave me nothing.")]), name="bob")
    return alice, bob


PAIR = """
invoke_workflow {kind} {{agents.workflow.type={kind}}}
  invoke_agent alice
    react step
      chat scripted-model
  invoke_agent bob
    react step
      chat scripted-model
"""


async def test_a_sequential_pipeline_whose_first_member_answers_empty_is_degraded(signals):
    import agentscope.pipeline as pipelines

    alice, bob = _pair(say(" "))
    await pipelines.sequential_pipeline([alice, bob], user("go"))

    spans = signals.exporter.get_finished_spans()
    tree = assert_tree(spans, PAIR.format(kind="sequential_pipeline"), ordered=True)
    assert input_links(spans) == [("alice", []), ("bob", ["alice"])]
    assert cascade_of(tree.span) == (("alice",), True)
    assert tree.find("invoke_agent alice")[0].attributes["agents.agent.empty_output"] is True


async def test_a_sequential_pipeline_whose_first_member_fails(signals):
    import agentscope.pipeline as pipelines

    from opentelemetry.instrumentation.agents.testing.agentscope1_model import fail

    alice, bob = _pair(fail(RuntimeError("model down")))
    with pytest.raises(RuntimeError, match="model down"):
        await pipelines.sequential_pipeline([alice, bob], user("go"))

    spans = signals.exporter.get_finished_spans()
    tree = assert_tree(spans, """
        invoke_workflow sequential_pipeline
          invoke_agent alice
            react step
              chat scripted-model
    """)
    assert cascade_of(tree.span) == (("alice",), None)
    assert tree.span.status.status_code is StatusCode.ERROR


async def test_a_fanout_pipeline_links_nothing_and_names_the_failed_member(signals):
    import agentscope.pipeline as pipelines

    alice, bob = _pair(say(""))
    await pipelines.fanout_pipeline([alice, bob], user("go"))

    spans = signals.exporter.get_finished_spans()
    tree = assert_tree(spans, PAIR.format(kind="fanout_pipeline"))
    assert input_links(spans) == [("alice", []), ("bob", [])]
    assert cascade_of(tree.span) == (("alice",), None)


async def test_a_msghub_reply_after_an_empty_one_is_degraded(signals):
    """In a hub every reply is broadcast to the others: bob's reply builds on
    alice's empty one."""
    from agentscope.pipeline import MsgHub

    alice, bob = _pair(say(""))
    async with MsgHub([alice, bob], announcement=user("stand-up"), name="standup"):
        await alice()
        await bob()

    spans = signals.exporter.get_finished_spans()
    tree = assert_tree(spans, PAIR.replace("invoke_workflow {kind}", "invoke_workflow standup")
                       .format(kind="MsgHub"), ordered=True)
    assert input_links(spans) == [("alice", []), ("bob", ["alice"])]
    assert cascade_of(tree.span) == (("alice",), True)
