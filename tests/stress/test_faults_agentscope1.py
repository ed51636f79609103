"""AgentScope 1.x faults: the host sees what it sees uninstrumented.

Each scenario runs twice on fresh agents, first uninstrumented, then
instrumented, and both runs must give the host the same thing: the same
result (and the same agent memory), or the same exception, the very object
the script raised. Every span ends, once, and the span where it failed says
so. AgentScope 1.x answers a cancelled call (task cancelled, ``wait_for``
timing out, ``agent.interrupt()``) with an "interrupted" message instead of
raising.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agentscope.tool import ToolResponse

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    fail,
    say,
)
from tests.agentscope1.support import make_agent, text_result, user

from .checks import assert_all_ended_once, async_outcome, normalize


class Abort(BaseException):
    """Like KeyboardInterrupt: not an Exception."""


MODEL_ERROR = RuntimeError("the model is down")
TOOL_ERROR = ValueError("the tool broke")
ABORT = Abort("stop right there")
KNOWN = (MODEL_ERROR, TOOL_ERROR, ABORT)
SLOW = 5.0
CANCELLED = "asyncio.exceptions.CancelledError"


def _agent(script, *, stream: bool = False, tool_behaviour=None):
    entered = asyncio.Event()

    async def work(city: str) -> ToolResponse:
        """Do some work.

        Args:
            city (`str`): The city.
        """
        entered.set()
        if tool_behaviour is not None:
            return await tool_behaviour()
        return text_result(f"worked in {city}")

    return make_agent(ScriptedChatModel(script, stream=stream), [work]), entered


def _tool_script():
    return [call_tools(("work", {"city": "Lima"})), say("done")]


async def _raise(exc):
    raise exc


async def _sleep():
    await asyncio.sleep(SLOW)
    return text_result("too late")


async def _call(agent):
    return await async_outcome(lambda: agent(user()), KNOWN)


async def _stopped(agent, entered, how: str):
    """Start a call, stop it once inside the model call (or the tool), `how`."""
    task = asyncio.create_task(agent(user()))
    if entered is None:
        await asyncio.sleep(0.05)  # inside the model call, which takes SLOW
    else:
        await asyncio.wait_for(entered.wait(), 5)
    if how == "interrupt":
        await agent.interrupt()
    else:
        task.cancel()
    return await async_outcome(lambda: task, KNOWN)


async def model_raises():
    agent, _ = _agent([fail(MODEL_ERROR)])
    return agent, await _call(agent)


async def model_raises_base_exception():
    agent, _ = _agent([fail(ABORT)])
    return agent, await _call(agent)


async def tool_raises():
    agent, _ = _agent(_tool_script(), tool_behaviour=lambda: _raise(TOOL_ERROR))
    return agent, await _call(agent)


async def tool_raises_base_exception():
    agent, _ = _agent(_tool_script(), tool_behaviour=lambda: _raise(ABORT))
    return agent, await _call(agent)


async def tool_raises_cancelled_error():
    agent, _ = _agent(_tool_script(),
                      tool_behaviour=lambda: _raise(asyncio.CancelledError("from the tool")))
    return agent, await _call(agent)


async def task_cancelled_in_model_call():
    agent, _ = _agent([say("slow", delay=SLOW)])
    return agent, await _stopped(agent, None, "cancel")


async def streamed_model_call_cancelled():
    agent, _ = _agent([say("slow", delay=SLOW)], stream=True)
    return agent, await _stopped(agent, None, "cancel")


async def task_cancelled_in_tool_call():
    agent, entered = _agent(_tool_script(), tool_behaviour=_sleep)
    return agent, await _stopped(agent, entered, "cancel")


async def interrupted_in_model_call():
    agent, _ = _agent([say("slow", delay=SLOW)])
    return agent, await _stopped(agent, None, "interrupt")


async def interrupted_in_tool_call():
    agent, entered = _agent(_tool_script(), tool_behaviour=_sleep)
    return agent, await _stopped(agent, entered, "interrupt")


async def wait_for_times_out_in_model_call():
    agent, _ = _agent([say("slow", delay=SLOW)])
    return agent, await async_outcome(lambda: asyncio.wait_for(agent(user()), 0.05), KNOWN)


async def wait_for_times_out_in_tool_call():
    agent, _ = _agent(_tool_script(), tool_behaviour=_sleep)
    return agent, await async_outcome(lambda: asyncio.wait_for(agent(user()), 0.3), KNOWN)


FAILED = """
invoke_agent helper {status=ERROR, error.type=%(error)s}
  react step {status=ERROR, error.type=%(error)s, gen_ai.react.finish_reason=error}
    chat scripted-model {status=ERROR, error.type=%(error)s}
"""
TOOL_FAILED = """
invoke_agent helper {status=UNSET, agents.agent.finish_reason=completed}
  react step {status=UNSET, gen_ai.react.finish_reason=tool_calls}
    chat scripted-model {status=UNSET}
    execute_tool work {status=ERROR, error.type=ValueError}
  react step {status=UNSET, gen_ai.react.finish_reason=stop}
    chat scripted-model {status=UNSET}
"""
TOOL_ABORTED = """
invoke_agent helper {status=ERROR, error.type=%(error)s}
  react step {status=ERROR, error.type=%(error)s, gen_ai.react.finish_reason=tool_calls}
    chat scripted-model {status=UNSET}
    execute_tool work {status=ERROR, error.type=%(error)s}
"""
INTERRUPTED_IN_MODEL = """
invoke_agent helper {status=ERROR, error.type=cancelled, agents.agent.finish_reason=interrupted}
  react step {status=UNSET, gen_ai.react.finish_reason=cancelled}
    chat scripted-model {status=ERROR, error.type=CANCELLED}
""".replace("CANCELLED", CANCELLED)
INTERRUPTED_IN_TOOL = """
invoke_agent helper {status=ERROR, error.type=cancelled, agents.agent.finish_reason=interrupted}
  react step {status=UNSET, gen_ai.react.finish_reason=cancelled}
    chat scripted-model {status=UNSET}
    execute_tool work {status=ERROR, error.type=%(error)s}
"""

SCENARIOS: dict[str, tuple[Any, str]] = {
    "model raises": (model_raises, FAILED % {"error": "RuntimeError"}),
    "model raises a BaseException": (
        model_raises_base_exception, FAILED % {"error": f"{__name__}.Abort"}),
    # The toolkit answers an Exception with an "Error: ..." result...
    "tool raises": (tool_raises, TOOL_FAILED),
    # ...and lets anything else through.
    "tool raises a BaseException": (
        tool_raises_base_exception, TOOL_ABORTED % {"error": f"{__name__}.Abort"}),
    # The toolkit answers a CancelledError with an "interrupted" result, and
    # AgentScope stops reading the tool's stream there without closing it.
    "tool raises CancelledError": (tool_raises_cancelled_error,
                                   INTERRUPTED_IN_TOOL % {"error": "cancelled"}),
    "task cancelled in the model call": (task_cancelled_in_model_call, INTERRUPTED_IN_MODEL),
    "task cancelled in a streamed model call": (
        streamed_model_call_cancelled,
        INTERRUPTED_IN_MODEL.replace("chat scripted-model {", "chat scripted-model "
                                     "{gen_ai.request.stream=true, ")),
    "task cancelled in a tool call": (task_cancelled_in_tool_call,
                                      INTERRUPTED_IN_TOOL % {"error": "cancelled"}),
    "interrupt() in the model call": (interrupted_in_model_call, INTERRUPTED_IN_MODEL),
    "interrupt() in a tool call": (interrupted_in_tool_call,
                                   INTERRUPTED_IN_TOOL % {"error": "cancelled"}),
    "wait_for times out in the model call": (wait_for_times_out_in_model_call,
                                             INTERRUPTED_IN_MODEL),
    "wait_for times out in a tool call": (wait_for_times_out_in_tool_call,
                                          INTERRUPTED_IN_TOOL % {"error": "cancelled"}),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_the_host_sees_what_it_sees_uninstrumented(name, instrument, exporter, detector):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    scenario, tree = SCENARIOS[name]
    plain_agent, plain = await scenario()
    instrument(AgentScopeInstrumentor)
    traced_agent, traced = await scenario()

    assert traced == plain
    assert normalize(await traced_agent.memory.get_memory()) == normalize(
        await plain_agent.memory.get_memory())
    if "raised" in plain:
        assert plain["the script's own object"]
    assert_tree(exporter.get_finished_spans(), tree)
    assert_all_ended_once(detector)


class _BusyStreamingModel(ScriptedChatModel):
    """Streams without pausing: the reader's own awaits are where it gets cancelled."""

    async def _stream(self, text, calls, response_id, usage, turn=None):
        from agentscope.message import TextBlock
        from agentscope.model import ChatResponse

        for end in range(2, len(text) + 2, 2):
            yield ChatResponse(content=[TextBlock(type="text", text=text[:end])],
                               id=response_id)


async def test_a_model_stream_left_unread_by_a_cancelled_call_ends_with_it(
        instrument, exporter, detector):
    """AgentScope stops reading the model's stream when the call is cancelled
    between two chunks (here, while a chunk waits in the message queue) and
    answers "interrupted"; the stream's chat span ends with the invocation,
    not whenever the stream is garbage-collected."""
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    async def cancelled_between_chunks():
        agent = make_agent(_BusyStreamingModel([say("an answer streamed two letters at a time")],
                                               stream=True))
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        agent.set_msg_queue_enabled(True, queue)
        task = asyncio.create_task(agent(user()))
        # Bounded: a release that queues fewer chunks must fail here, not hang.
        while queue.qsize() < 3 and not task.done():
            await asyncio.sleep(0)
        assert not task.done(), f"the reply ended with {queue.qsize()} messages queued"
        task.cancel()
        return agent, await async_outcome(lambda: task, KNOWN)

    plain_agent, plain = await cancelled_between_chunks()
    instrument(AgentScopeInstrumentor)
    traced_agent, traced = await cancelled_between_chunks()

    assert traced == plain and plain["returned"]["metadata"] == {"_is_interrupted": True}
    assert normalize(await traced_agent.memory.get_memory()) == normalize(
        await plain_agent.memory.get_memory())
    assert_all_ended_once(detector)
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper {status=ERROR, error.type=cancelled}
          react step {status=UNSET, gen_ai.react.finish_reason=cancelled}
            chat scripted-model {status=ERROR, error.type=cancelled}
    """)
