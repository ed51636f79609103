"""Production signals on real AgentScope 2.x agents (scripted model)."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.trace import StatusCode

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope_model import (
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

from .support import make_agent, user


@pytest.fixture
def signals(provider, exporter):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    with signals_of(AgentScopeInstrumentor, provider, exporter) as found:
        yield found


def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: The key.
    """
    return "not found"


async def test_overlapping_replies_on_one_agent_carry_the_count(signals):
    seen = []

    def script(key, index):
        # Called inside each reply's model call: both replies are in flight
        # once the second asks (the first waits on its scripted delay).
        seen.append(signals.total("agents.invocations.active"))
        return say(f"answer {key}", delay=0.05)

    agent = make_agent(ScriptedChatModel(script))

    async def run(key):
        with conversation(key):
            return await agent.reply(user(f"question {key}"))

    await asyncio.gather(run("a"), run("b"))
    overlapped = signals.agents()
    assert [s.attributes.get("agents.agent.concurrent_invocations") for s in overlapped] == [1, 1]
    assert seen == [1, 2]
    assert signals.total("agents.invocations.active") == 0
    (point,) = signals.points("agents.invocations.active")
    assert dict(point.attributes) == {"gen_ai.agent.name": "helper",
                                      "agents.runtime": "agentscope"}

    signals.exporter.clear()
    await run("c")
    (lone,) = signals.agents()
    assert "agents.agent.concurrent_invocations" not in lone.attributes


async def test_the_same_tool_call_four_times_is_a_loop(signals):
    same = call_tools(("lookup", {"key": "k"}))
    agent = make_agent(ScriptedChatModel([same, same, same, same, say("done")]), [lookup])
    reply = await agent.reply(user("Find k."))
    assert reply.get_text_content() == "done"
    assert_loop(signals, rounds=5, tool="lookup", trip_round=3, agent="helper")


async def test_distinct_arguments_are_no_loop(signals):
    script = [call_tools(("lookup", {"key": f"k{i}"})) for i in range(4)] + [say("done")]
    agent = make_agent(ScriptedChatModel(script), [lookup])
    reply = await agent.reply(user("Find k."))
    assert reply.get_text_content() == "done"
    assert len(signals.spans("react step")) == 5
    assert_no_loop(signals)


async def test_an_empty_answer_is_flagged_an_answer_is_not(signals):
    model = ScriptedChatModel({"empty": [say(" ")], "full": [say("hello")]})
    agent = make_agent(model)
    for key in ("empty", "full"):
        with conversation(key):
            await agent.reply(user("Say something."))
    empty, full = signals.agents()
    assert empty.attributes.get("agents.agent.empty_output") is True
    assert "agents.agent.empty_output" not in full.attributes


async def test_a_confirmation_wait_is_measured_on_the_continuation(signals):
    import time

    from agentscope.event import ConfirmResult, RequireUserConfirmEvent, UserConfirmResultEvent

    from .test_hitl import _confirming_agent, _until

    model = ScriptedChatModel([call_tools(("delete_file", {"path": "/tmp/a"})),
                               say("Deleted it.")])
    agent = _confirming_agent(model)
    started = time.perf_counter()
    pause = await _until(agent, user("delete /tmp/a"), RequireUserConfirmEvent)
    paused_by = time.perf_counter()  # the pause was noted before its stream ended
    await asyncio.sleep(0.2)  # the human thinks
    resumed_from = time.perf_counter()
    await agent.reply(UserConfirmResultEvent(reply_id=pause.reply_id, confirm_results=[
        ConfirmResult(confirmed=True, tool_call=pause.tool_calls[0])]))
    waited_at_most = time.perf_counter() - started

    paused, continued = sorted(signals.agents(), key=lambda s: s.start_time)
    assert "agents.hitl.wait.duration" not in paused.attributes
    wait = continued.attributes["agents.hitl.wait.duration"]
    assert resumed_from - paused_by <= wait <= waited_at_most
    (point,) = signals.points("agents.hitl.wait.duration")
    assert dict(point.attributes) == {"gen_ai.agent.name": "helper",
                                      "agents.agent.pending_reason": "user_confirmation"}
    assert point.count == 1 and point.sum == wait


# -- cascades -------------------------------------------------------------------
def _team(member_turn):
    from agentscope.pipeline import TeamPipeline
    from agentscope.pipeline._team_pipeline import TeamMember

    leader = make_agent(ScriptedChatModel([
        call_tools(("TeamAssign", {"member": "bob", "prompt": "look it up"})),
        say("Bob found nothing.")]), name="leader")
    bob = make_agent(ScriptedChatModel([member_turn]), name="bob")
    return TeamPipeline(leader, [TeamMember(agent=bob, description="Bob.")])


async def test_a_team_member_answering_empty_degrades_the_team(signals):
    async for _ in _team(say(" ")).reply_stream(user("find it")):
        pass

    tree = assert_tree(signals.exporter.get_finished_spans(), """
        invoke_workflow TeamPipeline
          invoke_agent leader {agents.agent.finish_reason=external_execution}
            react step
              chat scripted-model
          invoke_agent bob {agents.agent.finish_reason=completed, agents.agent.empty_output=true}
            react step
              chat scripted-model
          invoke_agent leader {agents.agent.finish_reason=completed}
            react step
              execute_tool TeamAssign
            react step
              chat scripted-model
    """, ordered=True)
    assert input_links(signals.exporter.get_finished_spans()) == [
        ("leader", []), ("bob", ["leader"]), ("leader", ["bob"])]
    assert cascade_of(tree.span) == (("bob",), True)


async def test_a_team_member_that_fails_is_named_and_nothing_ran_on_it(signals):
    from opentelemetry.instrumentation.agents.testing.agentscope.model import fail

    with pytest.raises(RuntimeError, match="model down"):
        async for _ in _team(fail(RuntimeError("model down"))).reply_stream(user("find it")):
            pass

    tree = assert_tree(signals.exporter.get_finished_spans(), """
        invoke_workflow TeamPipeline
          invoke_agent leader
            react step
              chat scripted-model
          invoke_agent bob
            react step
              chat scripted-model
    """, ordered=True)
    assert input_links(signals.exporter.get_finished_spans()) == [
        ("leader", []), ("bob", ["leader"])]
    assert cascade_of(tree.span) == (("bob",), None)
    bob = tree.find("invoke_agent bob")[0].span
    assert (tree.span.status.status_code, bob.status.status_code) == (StatusCode.ERROR,
                                                                      StatusCode.ERROR)


async def test_a_goal_pipeline_verifier_links_to_the_executor_that_recovered(signals):
    """The executor's first round answers nothing; AgentScope asks it again
    for its structured report within the same invocation, so it did not
    fail: the verifier runs on its report, and the workflow is clean."""
    from agentscope.pipeline import GoalPipeline

    executor = make_agent(ScriptedChatModel([
        say(""), call_tools(("GenerateStructuredOutput", {"report": "wrote hello.py"}))]),
        name="executor")
    verifier = make_agent(ScriptedChatModel([
        call_tools(("GenerateStructuredOutput", {"result": "pass", "message": "ok"}))]),
        name="verifier")
    async for _ in GoalPipeline(executor, verifier).reply_stream(user("write hello.py")):
        pass

    spans = signals.exporter.get_finished_spans()
    tree = assert_tree(spans, """
        invoke_workflow GoalPipeline
          invoke_agent executor
            react step
              chat scripted-model
            react step
              chat scripted-model
              execute_tool GenerateStructuredOutput
          invoke_agent verifier
            react step
              chat scripted-model
              execute_tool GenerateStructuredOutput
    """, ordered=True)
    assert all("agents.agent.empty_output" not in s.attributes for s in signals.agents())
    assert input_links(spans) == [("executor", []), ("verifier", ["executor"])]
    assert cascade_of(tree.span) == (None, None)
