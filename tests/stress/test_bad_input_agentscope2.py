"""AgentScope 2.x with hostile input, message content captured.

Tool arguments and results that JSON cannot encode, cyclic ones, bytes, 10 MB
strings, lone surrogates; agent and model names that are empty, blank, huge
or not valid UTF-8; messages with block types our converters do not know.
Each case runs uninstrumented, then instrumented: the host gets the same
outcome and the agent the same memory (we never change the runtime's
objects), and every span survives OTLP encoding with no string over the
configured content limit.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from agentscope.message import (
    Base64Source,
    DataBlock,
    HintBlock,
    Msg,
    TextBlock,
    ThinkingBlock,
    UserMsg,
)

from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)
from tests.agentscope2.support import make_agent, user

from .checks import assert_all_ended_once, assert_exportable, async_outcome, normalize

LIMIT = 1000
HUGE = 10_000_000


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


def _cyclic() -> dict[str, Any]:
    value: dict[str, Any] = {"name": "loop"}
    value["self"] = value
    return value


TOOL_RESULTS = {
    "bytes": lambda: b"\x00\xff binary",
    "cyclic": _cyclic,
    "10 MB string": lambda: "r" * HUGE,
    "lone surrogate": lambda: "bad \ud800 text",
    "unprintable object": Unprintable,
    "set": lambda: {1, 2, 3},
    "NaN": lambda: math.nan,
    "None": lambda: None,
}
TOOL_ARGUMENTS = {
    "10 MB string": "a" * HUGE,
    "lone surrogate": "arg \udc80",
    "deeply nested": [[[[[[[[["deep"]]]]]]]]],
    "empty": "",
}


def _script(first):
    def script(key: str, index: int):
        # AgentScope may call the model again (say, to compress a huge context).
        return first if index == 0 else say("done")
    return script


async def _run(agent, message) -> dict[str, Any]:
    result = await async_outcome(lambda: agent.reply(message))
    return {**result, "memory": normalize(agent.state.context)}


async def _compare(build, message_factory, instrument, capture, exporter, detector) -> dict:
    """Run `build()`'s agent on `message_factory()` uninstrumented, then instrumented."""
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    plain = await _run(build(), message_factory())
    capture(max_length=LIMIT)
    instrument(AgentScopeInstrumentor)
    traced = await _run(build(), message_factory())

    assert traced == plain
    spans = exporter.get_finished_spans()
    assert spans
    assert_exportable(spans, LIMIT)
    assert_all_ended_once(detector)
    return plain


@pytest.mark.parametrize("name", list(TOOL_RESULTS))
async def test_tool_results(name, instrument, capture, exporter, detector):
    def build():
        async def work(text: str) -> Any:
            """Do some work.

            Args:
                text: The text.
            """
            return TOOL_RESULTS[name]()

        return make_agent(ScriptedChatModel(_script(call_tools(("work", {"text": "t"})))),
                          [work])

    await _compare(build, user, instrument, capture, exporter, detector)
    (tool,) = [s for s in exporter.get_finished_spans() if s.name == "execute_tool work"]
    assert "gen_ai.tool.call.arguments" in tool.attributes


@pytest.mark.parametrize("name", list(TOOL_ARGUMENTS))
async def test_tool_arguments(name, instrument, capture, exporter, detector):
    received: list[Any] = []

    def build():
        async def work(text: Any) -> str:
            """Do some work.

            Args:
                text: The text.
            """
            received.append(text)
            return "worked"

        return make_agent(
            ScriptedChatModel(_script(call_tools(("work", {"text": TOOL_ARGUMENTS[name]})))),
            [work])

    await _compare(build, user, instrument, capture, exporter, detector)
    # The tool got exactly what the model sent, both times.
    assert len(received) == 2 and received[0] == received[1] == TOOL_ARGUMENTS[name]


NAMES = {
    "None": None,
    "empty": "",
    "blank": "   ",
    "huge": "n" * 100_000,
    "lone surrogate": "agent \udcff",
    "emoji": "agent \U0001f916",
}


@pytest.mark.parametrize("name", list(NAMES))
async def test_agent_names(name, instrument, capture, exporter, detector):
    def build():
        from agentscope.agent import Agent, ReActConfig
        from agentscope.tool import Toolkit

        return Agent(name=NAMES[name], system_prompt="You help.",
                     model=ScriptedChatModel(_script(say("hello"))), toolkit=Toolkit(),
                     react_config=ReActConfig(max_iters=3))

    await _compare(build, user, instrument, capture, exporter, detector)


@pytest.mark.parametrize("name", list(NAMES))
async def test_model_names(name, instrument, capture, exporter, detector):
    def build():
        return make_agent(ScriptedChatModel(_script(say("hello")), model=NAMES[name]))

    await _compare(build, user, instrument, capture, exporter, detector)


def _odd_blocks() -> list[Msg]:
    return [
        UserMsg(name="user", content=[
            TextBlock(text="look at this"),
            DataBlock(source=Base64Source(data="AAEC/w==", media_type="application/x-unknown")),
        ]),
        Msg(name="helper", role="assistant", content=[
            HintBlock(hint=[TextBlock(text="a hint"), DataBlock(
                source=Base64Source(data="iVBORw0KGgo=", media_type="image/png"))]),
            TextBlock(text="an earlier answer"),
        ]),
    ]


def _foreign_block() -> Msg:
    # A block AgentScope's own validation would refuse, slipped in the way an
    # application's custom code might.
    message = UserMsg(name="user", content=[TextBlock(text="hi")])
    message.content.append({"type": "mystery", "payload": b"\x00"})  # type: ignore[arg-type]
    return message


def _surrogate_message() -> Msg:
    return UserMsg(name="user", content=[TextBlock(text="hi \ud83d")])


def _huge_message() -> Msg:
    return UserMsg(name="user", content=[TextBlock(text="m" * HUGE)])


MESSAGES = {
    "blocks of every kind": _odd_blocks,
    "a block of no known kind": _foreign_block,
    "a lone surrogate": _surrogate_message,
    "10 MB of text": _huge_message,
    "no content": lambda: UserMsg(name="user", content=[]),
    "a list of messages": lambda: [user("one"), user("two")],
    "None": lambda: None,
}


class _OddAnswers(ScriptedChatModel):
    """Answers with a thought, some binary data and a hint around its text."""

    async def _call_api(self, *args: Any, **kwargs: Any) -> Any:
        response = await super()._call_api(*args, **kwargs)
        response.content = [
            ThinkingBlock(thinking="thinking \udc80 hard"),
            DataBlock(source=Base64Source(data="AAEC/w==", media_type="application/x-unknown")),
            *response.content,
            HintBlock(hint="a hint from the model"),
        ]
        return response


async def test_model_answers_with_blocks_of_every_kind(instrument, capture, exporter, detector):
    def build():
        return make_agent(_OddAnswers(_script(say("hello"))))

    await _compare(build, user, instrument, capture, exporter, detector)


@pytest.mark.parametrize("name", list(MESSAGES))
async def test_input_messages(name, instrument, capture, exporter, detector):
    def build():
        return make_agent(ScriptedChatModel(_script(say("hello"))))

    await _compare(build, MESSAGES[name], instrument, capture, exporter, detector)


async def test_the_callers_message_is_left_as_it_was(instrument, capture, exporter, detector):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    capture(max_length=LIMIT)
    instrument(AgentScopeInstrumentor)
    messages = _odd_blocks()
    before = [message.model_dump() for message in messages]
    agent = make_agent(ScriptedChatModel(_script(say("hello"))))
    await agent.reply(messages)
    assert [message.model_dump() for message in messages] == before
    assert_exportable(exporter.get_finished_spans(), LIMIT)
    assert_all_ended_once(detector)


async def test_ids_and_error_messages_that_are_not_valid_utf8(instrument, capture, exporter,
                                                              detector):
    """The model's response and tool-call ids name the conversation (here, one
    with a lone surrogate), and the model call fails with such a message: the
    spans still encode (an exporter fails a whole batch over one bad status)."""
    from opentelemetry.instrumentation.agents.testing.agentscope.model import conversation

    failure = RuntimeError("the model said \udc80")

    def build():
        def script(key: str, index: int):
            if index == 0:
                return call_tools(("work", {"text": "t"}))
            raise failure

        async def work(text: str) -> str:
            """Do some work.

            Args:
                text: The text.
            """
            return "worked"

        return make_agent(ScriptedChatModel(script), [work])

    async def run(agent):
        with conversation("key\ud800"):
            return await _run(agent, user())

    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    plain = await run(build())
    capture(max_length=LIMIT)
    instrument(AgentScopeInstrumentor)
    traced = await run(build())

    assert traced == plain and plain["raised"] == "RuntimeError"
    spans = exporter.get_finished_spans()
    assert {s.name for s in spans} == {"invoke_agent helper", "react step",
                                       "chat scripted-model", "execute_tool work"}
    assert_exportable(spans, LIMIT)
    assert_all_ended_once(detector)


async def test_a_tool_whose_result_agentscope_cannot_handle(instrument, capture, exporter,
                                                            detector):
    """AgentScope fails on a tool result holding a lone surrogate (counting its
    tokens) and stops reading the tool's stream without closing it. The tool
    span still ends with its reply, and it did not fail: AgentScope did."""
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    async def work(text: str) -> str:
        """Do some work.

        Args:
            text: The text.
        """
        return "bad \ud800 text"

    capture(max_length=LIMIT)
    instrument(AgentScopeInstrumentor)
    agent = make_agent(ScriptedChatModel(_script(call_tools(("work", {"text": "t"})))), [work])
    result = await async_outcome(lambda: agent.reply(user()))

    assert result["raised"] == "ExceptionGroup"
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["execute_tool work"].status.is_ok
    assert spans["invoke_agent helper"].attributes["error.type"] == "ExceptionGroup"
    assert_all_ended_once(detector)
