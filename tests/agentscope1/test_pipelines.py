"""AgentScope 1.x pipelines and message hubs: sequential, fan-out (agents in
parallel) and MsgHub, with real ReActAgents and scripted models."""

from __future__ import annotations

import asyncio

# The functions through their module: a name imported before instrumenting
# is the original function, as it is in any application.
import agentscope.pipeline as pipelines
from agentscope.pipeline import FanoutPipeline, MsgHub, SequentialPipeline

from opentelemetry.instrumentation.agents.testing import assert_isolated, assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    conversation,
    say,
)

from .support import make_agent, text_result, user


def _pair(barrier: asyncio.Barrier | None = None):
    async def meet(who: str):
        """Wait for the other agent.

        Args:
            who (`str`): The other agent.
        """
        if barrier is not None:
            await asyncio.wait_for(barrier.wait(), 5)
        return text_result(f"met {who}")

    alice = make_agent(ScriptedChatModel(lambda key, i: [
        call_tools(("meet", {"who": "bob"})), say(f"alice {key}")][i % 2]), [meet], name="alice")
    bob = make_agent(ScriptedChatModel(lambda key, i: [
        call_tools(("meet", {"who": "alice"})), say(f"bob {key}")][i % 2]), [meet], name="bob")
    return alice, bob


AGENT = """
  invoke_agent {name} {{gen_ai.agent.name={name}}}
    react step {{gen_ai.react.round=1}}
      chat scripted-model
      execute_tool meet {{gen_ai.agent.name={name}}}
    react step {{gen_ai.react.round=2}}
      chat scripted-model
"""


def _expected(workflow: str, kind: str) -> str:
    return (f"invoke_workflow {workflow} {{gen_ai.workflow.name={workflow}, "
            f"agents.workflow.type={kind}}}" + AGENT.format(name="alice")
            + AGENT.format(name="bob"))


async def test_sequential_pipeline(instrumented, exporter, detector):
    alice, bob = _pair()

    out = await pipelines.sequential_pipeline([alice, bob], user("go"))

    assert out.get_text_content() == "bob default"
    tree = assert_tree(exporter.get_finished_spans(),
                       _expected("sequential_pipeline", "sequential_pipeline"), ordered=True)
    assert tree.span.attributes["agents.workflow.members"] == ("alice", "bob")
    detector.assert_all_ended()


async def test_fanout_pipeline_runs_agents_in_parallel(instrumented, exporter, detector):
    alice, bob = _pair(asyncio.Barrier(2))

    outs = await pipelines.fanout_pipeline([alice, bob], user("go"))

    assert [o.get_text_content() for o in outs] == ["alice default", "bob default"]
    assert_tree(exporter.get_finished_spans(), _expected("fanout_pipeline", "fanout_pipeline"))
    detector.assert_all_ended()


async def test_pipeline_classes(instrumented, exporter, detector):
    alice, bob = _pair()

    await SequentialPipeline([alice, bob])(user("go"))
    await FanoutPipeline([alice, bob], enable_gather=False)(user("go"))

    names = sorted(s.name for s in exporter.get_finished_spans() if s.parent is None)
    assert names == ["invoke_workflow fanout_pipeline", "invoke_workflow sequential_pipeline"]
    detector.assert_all_ended()


async def test_msghub(instrumented, exporter, detector):
    alice, bob = _pair()

    async with MsgHub([alice, bob], announcement=user("meet"), name="standup"):
        await alice()
        await bob()

    tree = assert_tree(exporter.get_finished_spans(), _expected("standup", "MsgHub"),
                       ordered=True)
    assert tree.span.attributes["agents.workflow.members"] == ("alice", "bob")
    detector.assert_all_ended()


async def test_msghub_body_that_raises(instrumented, exporter, detector):
    alice, bob = _pair()

    try:
        async with MsgHub([alice, bob], name="broken"):
            raise KeyError("boom")
    except KeyError:
        pass

    (span,) = exporter.get_finished_spans()
    assert span.name == "invoke_workflow broken"
    assert span.attributes["error.type"] == "KeyError"
    detector.assert_all_ended()


async def test_overlapping_fanouts_stay_isolated(instrumented, exporter, detector):
    runs = 16
    everyone = asyncio.Barrier(2 * runs)
    alice, bob = _pair(everyone)

    async def run(key: str) -> None:
        with conversation(key):
            await pipelines.fanout_pipeline([alice, bob], user(key))

    # The same two agent instances in every run, all runs at once.
    await asyncio.gather(*(run(f"run{n}") for n in range(runs)))

    assert_isolated(exporter.get_finished_spans(),
                    _expected("fanout_pipeline", "fanout_pipeline"), count=runs)
    detector.assert_all_ended()
