"""Our ReAct instance hooks on real AgentScope 1.x agents: one set per agent
while calls are in flight, none otherwise, nothing kept for dead agents."""

from __future__ import annotations

import asyncio
import gc
import weakref

from agentscope.tool import ToolResponse

from opentelemetry.instrumentation.agents import _safety
from opentelemetry.instrumentation.agents.agentscope.v1 import agent as _v1
from opentelemetry.instrumentation.agents.testing import assert_isolated, assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    conversation,
    say,
)

from .support import get_weather, make_agent, text_result, user

HOOK_TYPES = ("pre_reasoning", "post_reasoning", "pre_acting", "post_acting")
ALL_HOOK_TYPES = (*HOOK_TYPES, "pre_reply", "post_reply", "pre_observe", "post_observe",
                  "pre_print", "post_print")


def ours(agent) -> dict[str, int]:
    """How many hooks of ours each of the agent's instance-hook dicts holds."""
    return {t: sum(1 for name in getattr(agent, f"_instance_{t}_hooks") if name == _v1.HOOK_NAME)
            for t in ALL_HOOK_TYPES}


NONE = dict.fromkeys(ALL_HOOK_TYPES, 0)
ONE_EACH = {**NONE, **dict.fromkeys(HOOK_TYPES, 1)}

TREE = """
invoke_agent helper
  react step
    chat scripted-model
    execute_tool wait_here
  react step
    chat scripted-model
"""


def _blocking_tool(barrier, seen, agent_ref):
    async def wait_here(n: int) -> ToolResponse:
        """Wait until every call is here.

        Args:
            n (`int`): Anything.
        """
        await asyncio.wait_for(barrier.wait(), 10)
        agent = agent_ref()
        # Every call is in flight now: look at the agent's hook dicts.
        seen.append((ours(agent), _v1.REGISTRY.count(agent)))
        return text_result("ok")

    return wait_here


async def test_one_set_of_hooks_while_calls_overlap(instrumented, exporter, detector):
    calls = 8
    barrier = asyncio.Barrier(calls)
    seen: list = []
    holder: list = []
    model = ScriptedChatModel(lambda key, i: call_tools(("wait_here", {"n": i})) if i == 0
                              else say("done"))
    agent = make_agent(model, [_blocking_tool(barrier, seen, lambda: holder[0])])
    holder.append(agent)
    assert ours(agent) == NONE

    async def run(target, key):
        with conversation(key):
            return await target(user())

    await asyncio.gather(*(run(agent, f"c{i}") for i in range(calls)))

    assert seen == [(ONE_EACH, calls)] * calls
    assert ours(agent) == NONE
    assert _v1.REGISTRY.count(agent) == 0
    assert len(_v1.REGISTRY) == 0
    assert_isolated(exporter.get_finished_spans(), TREE, calls)
    detector.assert_all_ended()

    ref = weakref.ref(agent)
    holder.clear()
    del agent
    gc.collect()
    assert ref() is None, "our hooks or the registry kept the agent alive"
    assert len(_v1.REGISTRY) == 0


async def _traced_agent_still_counted():
    agent = make_agent(ScriptedChatModel([call_tools(("get_weather", {"city": "x"})),
                                          say("done")]), [get_weather])
    await agent(user())
    assert len(_v1.REGISTRY) == 0 and ours(agent) == NONE
    # As if an invocation never released it: the registry counts the agent.
    assert _v1.REGISTRY.acquire(agent)
    assert len(_v1.REGISTRY) == 1 and ours(agent) == ONE_EACH
    return weakref.ref(agent)


async def test_registry_keeps_nothing_for_a_dead_agent(instrumented):
    ref = await _traced_agent_still_counted()
    gc.collect()
    assert ref() is None, "our hooks or the registry kept the agent alive"
    assert len(_v1.REGISTRY) == 0


async def test_hook_registration_failing_part_way(instrumented, exporter, detector, caplog,
                                                  monkeypatch):
    agent = make_agent(ScriptedChatModel([call_tools(("get_weather", {"city": "x"})),
                                          say("fine")]), [get_weather])
    original = agent.register_instance_hook
    attempts: list[str] = []

    def flaky_register(hook_type, hook_name, hook):
        attempts.append(hook_type)
        if len(attempts) == 3:
            raise RuntimeError("hook table is locked")
        return original(hook_type, hook_name, hook)

    monkeypatch.setattr(agent, "register_instance_hook", flaky_register)
    # A fresh "already reported" set: the warning is ours to see, and later
    # tests still see their own first warning for the same place.
    monkeypatch.setattr(_safety, "_seen", set())

    result = await agent(user())

    assert result.get_text_content() == "fine"
    assert attempts == ["pre_reasoning", "post_reasoning", "pre_acting"]
    assert ours(agent) == NONE, "the two hooks added before the failure were removed"
    assert len(_v1.REGISTRY) == 0
    assert "installing agent hooks" in caplog.text
    # Rounds never depended on the hooks: the call is still traced in full.
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper
          react step {gen_ai.react.finish_reason=tool_calls}
            chat scripted-model
            execute_tool get_weather
          react step {gen_ai.react.finish_reason=stop}
            chat scripted-model
    """, ordered=True)
    detector.assert_all_ended()


async def test_hooks_ignore_other_agents_and_no_frame(instrumented, exporter, detector):
    other = make_agent(ScriptedChatModel([say("unused")]), name="other")
    grabbed: dict = {}
    holder: list = []

    async def poke(n: int) -> ToolResponse:
        """Call our hooks the wrong way.

        Args:
            n (`int`): Anything.
        """
        agent = holder[0]
        for hook_type in HOOK_TYPES:
            grabbed[hook_type] = getattr(agent, f"_instance_{hook_type}_hooks")[_v1.HOOK_NAME]
        # For an agent whose frame this is not: nothing happens.
        grabbed["pre_reasoning"](other, {"tool_choice": None})
        grabbed["pre_acting"](other, {"tool_call": {}})
        grabbed["post_reasoning"](other, {}, None)
        grabbed["post_acting"](other, {}, None)
        return text_result("poked")

    agent = make_agent(ScriptedChatModel([call_tools(("poke", {"n": 1})), say("done")]), [poke])
    holder.append(agent)
    await agent(user())
    # With no frame at all (outside any call): nothing happens either.
    grabbed["pre_reasoning"](agent, {"tool_choice": None})
    grabbed["pre_acting"](agent, {"tool_call": {}})
    grabbed["post_reasoning"](agent, {}, None)
    grabbed["post_acting"](agent, {}, None)

    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper {agents.react.rounds=2}
          react step {gen_ai.react.round=1}
            chat scripted-model
            execute_tool poke
          react step {gen_ai.react.round=2}
            chat scripted-model
    """, ordered=True)
    detector.assert_all_ended()


async def test_rounds_of_a_subclass_overriding_reasoning(instrumented, exporter, detector):
    # A subclass whose `_reasoning` does not reach ReActAgent's: only the
    # hooks see its rounds, and they open them.
    from agentscope.agent import ReActAgent
    from agentscope.message import Msg

    class Scripted(ReActAgent):
        async def _reasoning(self, tool_choice=None):
            res = await self.model([], tools=self.toolkit.get_json_schemas())
            msg = Msg(self.name, list(res.content), "assistant")
            await self.memory.add(msg)
            return msg

    from agentscope.formatter import OpenAIChatFormatter
    from agentscope.tool import Toolkit

    toolkit = Toolkit()
    toolkit.register_tool_function(get_weather)
    agent = Scripted(name="custom", sys_prompt="s", formatter=OpenAIChatFormatter(),
                     model=ScriptedChatModel([call_tools(("get_weather", {"city": "x"})),
                                              say("ok")]), toolkit=toolkit)
    agent.set_console_output_enabled(False)
    await agent(user())
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent custom {agents.react.rounds=2}
          react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls}
            chat scripted-model
            execute_tool get_weather
          react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop}
            chat scripted-model
    """, ordered=True)
    detector.assert_all_ended()
    assert ours(agent) == NONE
