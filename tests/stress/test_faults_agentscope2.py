"""AgentScope 2.x faults: the host sees what it sees uninstrumented.

Each scenario runs twice on fresh agents, first uninstrumented, then
instrumented, and both runs must give the host the same thing: the same
result (and the same agent memory), or the same exception, the very object
the script raised. Every span ends, once, and the span where it failed says
so.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    fail,
    say,
)
from tests.agentscope2.support import make_agent, user

from .checks import assert_all_ended_once, async_outcome, normalize


class Abort(BaseException):
    """Like KeyboardInterrupt: not an Exception."""


MODEL_ERROR = RuntimeError("the model is down")
TOOL_ERROR = ValueError("the tool broke")
ABORT = Abort("stop right there")
KNOWN = (MODEL_ERROR, TOOL_ERROR, ABORT)
SLOW = 5.0


def _agent(script, *, stream: bool = False, tool_behaviour=None):
    entered = asyncio.Event()

    async def work(city: str) -> str:
        """Do some work.

        Args:
            city: The city.
        """
        entered.set()
        if tool_behaviour is not None:
            return await tool_behaviour()
        return f"worked in {city}"

    agent = make_agent(ScriptedChatModel(script, stream=stream), [work])
    return agent, entered


def _tool_script():
    return [call_tools(("work", {"city": "Lima"})), say("done")]


async def _raise(exc):
    raise exc


async def _sleep():
    await asyncio.sleep(SLOW)
    return "too late"


async def _cancel_when(task: asyncio.Task, entered: asyncio.Event | None) -> None:
    if entered is None:
        await asyncio.sleep(0.05)  # inside the model call, which takes SLOW
    else:
        await asyncio.wait_for(entered.wait(), 5)
    task.cancel()


async def model_raises():
    agent, _ = _agent([fail(MODEL_ERROR)])
    return agent, await async_outcome(lambda: agent.reply(user()), KNOWN)


async def model_raises_base_exception():
    agent, _ = _agent([fail(ABORT)])
    return agent, await async_outcome(lambda: agent.reply(user()), KNOWN)


async def tool_raises():
    agent, _ = _agent(_tool_script(), tool_behaviour=lambda: _raise(TOOL_ERROR))
    return agent, await async_outcome(lambda: agent.reply(user()), KNOWN)


async def tool_raises_base_exception():
    agent, _ = _agent(_tool_script(), tool_behaviour=lambda: _raise(ABORT))
    return agent, await async_outcome(lambda: agent.reply(user()), KNOWN)


async def tool_raises_cancelled_error():
    agent, _ = _agent(_tool_script(),
                      tool_behaviour=lambda: _raise(asyncio.CancelledError("from the tool")))
    return agent, await async_outcome(lambda: agent.reply(user()), KNOWN)


async def task_cancelled_in_model_call():
    agent, _ = _agent([say("slow", delay=SLOW)])
    task = asyncio.create_task(agent.reply(user()))
    await _cancel_when(task, None)
    return agent, await async_outcome(lambda: task, KNOWN)


async def task_cancelled_in_tool_call():
    agent, entered = _agent(_tool_script(), tool_behaviour=_sleep)
    task = asyncio.create_task(agent.reply(user()))
    await _cancel_when(task, entered)
    return agent, await async_outcome(lambda: task, KNOWN)


async def stream_consumer_cancelled_in_model_call():
    agent, _ = _agent([say("slow", delay=SLOW)], stream=True)
    seen: list[str] = []

    async def consume():
        async for event in agent.reply_stream(user()):
            seen.append(type(event).__name__)

    task = asyncio.create_task(consume())
    await _cancel_when(task, None)
    result = await async_outcome(lambda: task, KNOWN)
    return agent, {**result, "events": seen}


async def wait_for_times_out_in_model_call():
    agent, _ = _agent([say("slow", delay=SLOW)])
    return agent, await async_outcome(lambda: asyncio.wait_for(agent.reply(user()), 0.05), KNOWN)


async def wait_for_times_out_in_tool_call():
    agent, _ = _agent(_tool_script(), tool_behaviour=_sleep)
    return agent, await async_outcome(lambda: asyncio.wait_for(agent.reply(user()), 0.3), KNOWN)


FAILED = """
invoke_agent helper {status=ERROR, error.type=%(error)s}
  react step {status=ERROR, error.type=%(error)s, gen_ai.react.finish_reason=error}
    chat scripted-model {status=ERROR, error.type=%(error)s}
"""
TOOL_FAILED = """
invoke_agent helper {status=UNSET, agents.agent.finish_reason=completed}
  react step {status=UNSET, gen_ai.react.finish_reason=tool_calls}
    chat scripted-model {status=UNSET}
    execute_tool work {status=ERROR, error.type=%(error)s}
  react step {status=UNSET, gen_ai.react.finish_reason=stop}
    chat scripted-model {status=UNSET}
"""
INTERRUPTED_IN_MODEL = """
invoke_agent helper {status=ERROR, error.type=cancelled, agents.agent.finish_reason=interrupted}
  react step {status=UNSET, gen_ai.react.finish_reason=cancelled}
    chat scripted-model {status=ERROR, error.type=cancelled}
"""
INTERRUPTED_IN_TOOL = """
invoke_agent helper {status=ERROR, error.type=cancelled, agents.agent.finish_reason=interrupted}
  react step {status=UNSET, gen_ai.react.finish_reason=cancelled}
    chat scripted-model {status=UNSET}
    execute_tool work {status=ERROR, error.type=cancelled}
"""

SCENARIOS: dict[str, tuple[Any, str]] = {
    "model raises": (model_raises, FAILED % {"error": "RuntimeError"}),
    "model raises a BaseException": (
        model_raises_base_exception, FAILED % {"error": f"{__name__}.Abort"}),
    "tool raises": (tool_raises, TOOL_FAILED % {"error": "ValueError"}),
    "tool raises a BaseException": (
        tool_raises_base_exception, TOOL_FAILED % {"error": f"{__name__}.Abort"}),
    # AgentScope treats a CancelledError out of a tool as an interruption.
    "tool raises CancelledError": (tool_raises_cancelled_error, INTERRUPTED_IN_TOOL),
    # AgentScope answers a cancelled reply with an "interrupted" message.
    "task cancelled in the model call": (task_cancelled_in_model_call, INTERRUPTED_IN_MODEL),
    "task cancelled in a tool call": (task_cancelled_in_tool_call, INTERRUPTED_IN_TOOL),
    "stream consumer cancelled in the model call": (
        stream_consumer_cancelled_in_model_call,
        INTERRUPTED_IN_MODEL.replace("chat scripted-model {", "chat scripted-model "
                                     "{gen_ai.request.stream=true, ")),
    "wait_for times out in the model call": (wait_for_times_out_in_model_call,
                                             INTERRUPTED_IN_MODEL),
    "wait_for times out in a tool call": (wait_for_times_out_in_tool_call, INTERRUPTED_IN_TOOL),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_the_host_sees_what_it_sees_uninstrumented(name, instrument, exporter, detector):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    scenario, tree = SCENARIOS[name]
    plain_agent, plain = await scenario()
    instrument(AgentScopeInstrumentor)
    traced_agent, traced = await scenario()

    assert traced == plain
    assert normalize(traced_agent.state.context) == normalize(plain_agent.state.context)
    if "raised" in plain and plain["raised"] in ("RuntimeError", "Abort"):
        assert plain["the script's own object"]
    assert_tree(exporter.get_finished_spans(), tree)
    assert_all_ended_once(detector)


async def test_a_stream_closed_in_the_middle_ends_every_span(instrument, exporter, detector):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    async def closed_early():
        agent, _ = _agent([call_tools(("work", {"city": "Lima"})), say("a long answer")],
                          stream=True)
        seen = []
        stream = agent.reply_stream(user())
        async for event in stream:
            seen.append(type(event).__name__)
            if type(event).__name__ == "ToolResultEndEvent":
                break
        await stream.aclose()
        return agent, seen

    plain_agent, plain = await closed_early()
    instrument(AgentScopeInstrumentor)
    traced_agent, traced = await closed_early()

    assert traced == plain and "ToolResultEndEvent" in plain
    assert normalize(traced_agent.state.context) == normalize(plain_agent.state.context)
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper {status=UNSET, agents.stream.closed_early=true}
          react step {status=UNSET, gen_ai.react.finish_reason=tool_calls}
            chat scripted-model {status=UNSET}
            execute_tool work {status=UNSET}
    """)
    assert_all_ended_once(detector)
