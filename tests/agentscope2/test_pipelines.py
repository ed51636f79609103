"""AgentScope 2.x pipelines and teams: TeamPipeline (members in parallel),
GoalPipeline, and many overlapping team runs on the same instances."""

from __future__ import annotations

import asyncio
import gc
import json

from agentscope.pipeline import GoalPipeline, TeamPipeline
from agentscope.pipeline._team_pipeline import TeamMember

from opentelemetry.instrumentation.agents.testing import (
    assert_isolated,
    assert_tree,
)
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    conversation,
    say,
)

from .support import make_agent, user


def _assign(member: str, prompt: str) -> tuple[str, dict]:
    return ("TeamAssign", {"member": member, "prompt": prompt})


def _team(barrier: asyncio.Barrier | None = None, script=None) -> TeamPipeline:
    async def meet(who: str) -> str:
        """Wait until the other member is here too.

        Args:
            who: The other member.
        """
        if barrier is not None:
            # Both members inside their tool at once, or this times out:
            # the members really run in parallel.
            await asyncio.wait_for(barrier.wait(), 5)
        return f"met {who}"

    leader = make_agent(ScriptedChatModel(script or [
        call_tools(_assign("alice", "meet bob"), _assign("bob", "meet alice")),
        say("Both met.")]), name="leader")
    alice = make_agent(ScriptedChatModel(lambda key, i: [
        call_tools(("meet", {"who": "bob"})), say(f"alice done {key}")][i]), [meet],
        name="alice")
    bob = make_agent(ScriptedChatModel(lambda key, i: [
        call_tools(("meet", {"who": "alice"})), say(f"bob done {key}")][i]), [meet],
        name="bob")
    return TeamPipeline(leader, [TeamMember(agent=alice, description="Alice."),
                                 TeamMember(agent=bob, description="Bob.")])


MEMBER = """
  invoke_agent {name} {{gen_ai.agent.name={name}, agents.agent.finish_reason=completed}}
    react step {{gen_ai.react.round=1}}
      chat scripted-model
      execute_tool meet {{gen_ai.agent.name={name}}}
    react step {{gen_ai.react.round=2}}
      chat scripted-model
"""

TEAM_RUN = """
invoke_workflow TeamPipeline {gen_ai.workflow.name=TeamPipeline, agents.workflow.type=TeamPipeline}
  invoke_agent leader {gen_ai.agent.name=leader, agents.agent.finish_reason=external_execution}
    react step {gen_ai.react.round=1}
      chat scripted-model
""" + MEMBER.format(name="alice") + MEMBER.format(name="bob") + """
  invoke_agent leader {gen_ai.agent.name=leader, agents.agent.finish_reason=completed}
    react step {gen_ai.react.round=1}
      execute_tool TeamAssign {gen_ai.agent.name=leader} *2
    react step {gen_ai.react.round=2}
      chat scripted-model
"""


async def _drain(stream) -> list:
    return [event async for event in stream]


async def test_team_pipeline_members_in_parallel(instrumented, exporter, detector):
    team = _team(asyncio.Barrier(2))

    await _drain(team.reply_stream(user("have alice and bob meet")))

    tree = assert_tree(exporter.get_finished_spans(), TEAM_RUN)
    assert tree.span.attributes["agents.workflow.members"] == ("leader", "alice", "bob")
    assert tree.span.attributes["gen_ai.operation.name"] == "invoke_workflow"
    first_leader = next(c for c in tree.children if c.span.name == "invoke_agent leader")
    pending = json.loads(first_leader.span.attributes["agents.agent.pending_tool_calls"])
    assert [p["name"] for p in pending] == ["TeamAssign", "TeamAssign"]
    # The leader's two spans are one logical reply.
    leaders = [c.span for c in tree.children if c.span.name == "invoke_agent leader"]
    assert leaders[0].attributes["agents.agent.reply_id"] == \
        leaders[1].attributes["agents.agent.reply_id"]
    # Members overlap in time (they waited for each other at the barrier).
    alice, bob = (next(c.span for c in tree.children if c.span.name == f"invoke_agent {n}")
                  for n in ("alice", "bob"))
    # The continuation runs on both members' results (input_from, given at
    # its start) and continues the first leader span's reply.
    links = {link.context.span_id: link.attributes.get("agents.link.type", "reply")
             for link in leaders[1].links}
    assert links == {alice.context.span_id: "input_from", bob.context.span_id: "input_from",
                     leaders[0].context.span_id: "reply"}
    assert [link.context.span_id for link in alice.links] == [leaders[0].context.span_id]
    assert alice.start_time < bob.end_time and bob.start_time < alice.end_time
    detector.assert_all_ended()


async def test_goal_pipeline(instrumented, exporter, detector):
    executor = make_agent(ScriptedChatModel([
        call_tools(("GenerateStructuredOutput", {"report": "wrote hello.py"})),
        call_tools(("GenerateStructuredOutput", {"report": "added tests"}))]),
        name="executor")
    verifier = make_agent(ScriptedChatModel([
        call_tools(("GenerateStructuredOutput", {"result": "fail", "message": "no tests"})),
        call_tools(("GenerateStructuredOutput", {"result": "pass", "message": "ok"}))]),
        name="verifier")

    await _drain(GoalPipeline(executor, verifier).reply_stream(user("write hello.py")))

    tree = assert_tree(exporter.get_finished_spans(), """
        invoke_workflow GoalPipeline {agents.workflow.type=GoalPipeline}
          invoke_agent executor
            react step
              chat scripted-model
              execute_tool GenerateStructuredOutput
          invoke_agent verifier
            react step
              chat scripted-model
              execute_tool GenerateStructuredOutput
          invoke_agent executor
            react step
              chat scripted-model
              execute_tool GenerateStructuredOutput
          invoke_agent verifier
            react step
              chat scripted-model
              execute_tool GenerateStructuredOutput
    """, ordered=True)
    assert tree.span.attributes["agents.workflow.members"] == ("executor", "verifier")
    detector.assert_all_ended()


async def test_pipeline_closed_early_ends_its_span(instrumented, exporter, detector):
    team = _team()
    stream = team.reply_stream(user("go"))
    async for _ in stream:
        break
    await stream.aclose()

    (workflow,) = [s for s in exporter.get_finished_spans()
                   if s.name == "invoke_workflow TeamPipeline"]
    assert workflow.parent is None
    # The leader's own stream, which AgentScope leaves suspended inside the
    # closed pipeline, ends when Python finalizes it (as without a pipeline).
    for _ in range(10):
        gc.collect()
        await asyncio.sleep(0)
    detector.assert_all_ended()


async def test_sixteen_overlapping_team_runs(instrumented, exporter, detector):
    # AgentScope keeps a team run's routing state on its agents (the leader's
    # reply id), so one TeamPipeline cannot serve overlapping runs, with or
    # without us; sixteen teams run at once in one event loop instead.
    runs = 16
    # Every member of every run waits for all the others inside its tool:
    # the runs really overlap, all 32 members at once.
    everyone = asyncio.Barrier(2 * runs)
    teams = [_team(everyone) for _ in range(runs)]

    async def run(team: TeamPipeline, key: str) -> None:
        with conversation(key):
            await _drain(team.reply_stream(user(f"meet {key}")))

    await asyncio.gather(*(run(team, f"run{n}") for n, team in enumerate(teams)))

    spans = exporter.get_finished_spans()
    trees = assert_isolated(spans, TEAM_RUN, count=runs)
    for tree in trees:
        # Each run's model calls answered that run's own conversation.
        keys = {span.attributes["gen_ai.response.id"].split("-")[1]
                for span in spans if span.context.trace_id == tree.span.context.trace_id
                and "gen_ai.response.id" in span.attributes}
        assert len(keys) == 1
    detector.assert_all_ended()
