"""AgentScope 1.x with hostile input, message content captured.

Tool arguments and results that are huge, cyclic, binary or not valid UTF-8;
agent and model names that are empty, blank, huge or not valid UTF-8;
messages with block types our converters do not know. Each case runs
uninstrumented, then instrumented: the host gets the same outcome and the
agent the same memory (we never change the runtime's objects), and every
span survives OTLP encoding with no string over the configured limit.
"""

from __future__ import annotations

from typing import Any

import pytest
from agentscope.message import Msg, TextBlock
from agentscope.tool import ToolResponse

from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    conversation,
    say,
)
from tests.agentscope1.support import make_agent, text_result, user

from .checks import assert_all_ended_once, assert_exportable, async_outcome, normalize

LIMIT = 1000
HUGE = 10_000_000


def _cyclic() -> dict[str, Any]:
    value: dict[str, Any] = {"name": "loop"}
    value["self"] = value
    return value


TOOL_RESULTS = {
    "10 MB of text": lambda: text_result("r" * HUGE),
    "a lone surrogate": lambda: text_result("bad \ud800 text"),
    "blocks of unknown kinds": lambda: ToolResponse(content=[
        TextBlock(type="text", text="ok"), {"type": "mystery", "payload": b"\x00\xff"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": "iVBORw0KGgo="}}]),
    "cyclic metadata": lambda: ToolResponse(content=[TextBlock(type="text", text="ok")],
                                            metadata=_cyclic()),
    "not a ToolResponse": lambda: {"just": "a dict"},
    "no content": lambda: ToolResponse(content=[]),
}
TOOL_ARGUMENTS = {
    "10 MB string": "a" * HUGE,
    "lone surrogate": "arg \udc80",
    "deeply nested": [[[[[[[[["deep"]]]]]]]]],
    "bytes-like text": "\x00\x01\x02",
}
NAMES = {
    "None": None,
    "empty": "",
    "blank": "   ",
    "huge": "n" * 100_000,
    "lone surrogate": "agent \udcff",
    "emoji": "agent \U0001f916",
}


def _script(first):
    def script(key: str, index: int):
        return first if index == 0 else say("done")
    return script


async def _run(agent, message) -> dict[str, Any]:
    result = await async_outcome(lambda: agent(message))
    return {**result, "memory": normalize(await agent.memory.get_memory())}


async def _compare(build, message_factory, instrument, capture, exporter, detector,
                   key: str = "default") -> dict[str, Any]:
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    async def run():
        with conversation(key):
            return await _run(build(), message_factory())

    plain = await run()
    capture(max_length=LIMIT)
    instrument(AgentScopeInstrumentor)
    traced = await run()

    assert traced == plain
    spans = exporter.get_finished_spans()
    assert spans
    assert_exportable(spans, LIMIT)
    assert_all_ended_once(detector)
    return plain


@pytest.mark.parametrize("name", list(TOOL_RESULTS))
async def test_tool_results(name, instrument, capture, exporter, detector):
    def build():
        async def work(text: str) -> ToolResponse:
            """Do some work.

            Args:
                text (`str`): The text.
            """
            return TOOL_RESULTS[name]()

        return make_agent(ScriptedChatModel(_script(call_tools(("work", {"text": "t"})))),
                          [work])

    await _compare(build, user, instrument, capture, exporter, detector)


@pytest.mark.parametrize("name", list(TOOL_ARGUMENTS))
async def test_tool_arguments(name, instrument, capture, exporter, detector):
    received: list[Any] = []

    def build():
        async def work(text: Any) -> ToolResponse:
            """Do some work.

            Args:
                text (`Any`): The text.
            """
            received.append(text)
            return text_result("worked")

        return make_agent(
            ScriptedChatModel(_script(call_tools(("work", {"text": TOOL_ARGUMENTS[name]})))),
            [work])

    await _compare(build, user, instrument, capture, exporter, detector)
    assert len(received) == 2 and received[0] == received[1] == TOOL_ARGUMENTS[name]


@pytest.mark.parametrize("name", list(NAMES))
async def test_agent_and_model_names(name, instrument, capture, exporter, detector):
    def build():
        return make_agent(ScriptedChatModel(_script(say("hello")), model=NAMES[name]),
                          name=NAMES[name])

    await _compare(build, user, instrument, capture, exporter, detector)


MESSAGES = {
    "blocks of every kind": lambda: Msg("user", [
        {"type": "text", "text": "look"},
        {"type": "image", "source": {"type": "url", "url": "http://127.0.0.1/x.png"}},
        {"type": "audio", "source": {"type": "base64", "media_type": "audio/wav",
                                     "data": "UklGRg=="}},
        {"type": "thinking", "thinking": "a thought"},
        {"type": "tool_use", "id": "t1", "name": "work", "input": {"text": "x"}},
        {"type": "tool_result", "id": "t1", "name": "work", "output": "y"},
    ], "user"),
    "a block of no known kind": lambda: Msg("user", [{"type": "mystery", "data": b"\x00"}],
                                            "user"),
    "a lone surrogate": lambda: Msg("user", "hi \ud83d", "user"),
    "10 MB of text": lambda: Msg("user", "m" * HUGE, "user"),
    "metadata that is cyclic": lambda: Msg("user", "hi", "user", metadata=_cyclic()),
    "a list of messages": lambda: [user("one"), user("two")],
    "None": lambda: None,
}


@pytest.mark.parametrize("name", list(MESSAGES))
async def test_input_messages(name, instrument, capture, exporter, detector):
    def build():
        return make_agent(ScriptedChatModel(_script(say("hello"))))

    await _compare(build, MESSAGES[name], instrument, capture, exporter, detector)


async def test_the_callers_message_is_left_as_it_was(instrument, capture, exporter, detector):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    capture(max_length=LIMIT)
    instrument(AgentScopeInstrumentor)
    message = MESSAGES["blocks of every kind"]()
    before = message.to_dict()
    await make_agent(ScriptedChatModel(_script(say("hello"))))(message)
    assert message.to_dict() == before
    assert_exportable(exporter.get_finished_spans(), LIMIT)
    assert_all_ended_once(detector)


async def test_ids_and_error_messages_that_are_not_valid_utf8(instrument, capture, exporter,
                                                              detector):
    """Response and tool-call ids name the conversation (one with a lone
    surrogate), and the model call fails with such a message."""
    failure = RuntimeError("the model said \udc80")

    def build():
        def script(key: str, index: int):
            if index == 0:
                return call_tools(("work", {"text": "t"}))
            raise failure

        async def work(text: str) -> ToolResponse:
            """Do some work.

            Args:
                text (`str`): The text.
            """
            return text_result("worked")

        return make_agent(ScriptedChatModel(script), [work])

    plain = await _compare(build, user, instrument, capture, exporter, detector,
                           key="key\ud800")
    assert plain["raised"] == "RuntimeError"
    assert {s.name for s in exporter.get_finished_spans()} == {
        "invoke_agent helper", "react step", "chat scripted-model", "execute_tool work"}
