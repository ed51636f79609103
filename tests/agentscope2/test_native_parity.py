"""What AgentScope's own TracingMiddleware records, recorded by us instead.

The situations of AgentScope's `tests/tracing_test.py`, written against our
spans (the README maps each of its attributes to ours). Its HITL and
external-execution situations are in `test_hitl.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator

from agentscope.event import ToolResultTextDeltaEvent
from agentscope.tool import ToolChunk

from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)

from .support import get_weather, make_agent, user


def _named(spans, prefix):
    return [s for s in spans if s.name.startswith(prefix)]


async def test_every_span_of_a_reply_names_the_conversation(instrumented, exporter):
    agent = make_agent(ScriptedChatModel([call_tools(("get_weather", {"city": "Rome"})),
                                          say("Sunny.")]), [get_weather])

    await agent.reply(user("weather?"))

    spans = exporter.get_finished_spans()
    ours = [s for s in spans if s.name != "react step"]
    assert len(ours) == 4
    assert {s.attributes["gen_ai.conversation.id"] for s in ours} == {agent.state.session_id}


async def test_agent_span_input_and_output_messages(capturing, exporter):
    agent = make_agent(ScriptedChatModel([say("It is sunny.")]))

    await agent.reply(user("Weather in Wuhan?"))

    (span,) = _named(exporter.get_finished_spans(), "invoke_agent")
    inputs = json.loads(span.attributes["gen_ai.input.messages"])
    outputs = json.loads(span.attributes["gen_ai.output.messages"])
    assert inputs[-1]["role"] == "user"
    assert "Weather in Wuhan?" in json.dumps(inputs)
    assert outputs[0]["role"] == "assistant"
    assert "It is sunny." in json.dumps(outputs)


async def test_tool_span_name_and_id(instrumented, exporter):
    agent = make_agent(ScriptedChatModel([call_tools(("get_weather", {"city": "Nanjing"})),
                                          say("ok")]), [get_weather])

    await agent.reply(user("Weather in Nanjing?"))

    (span,) = _named(exporter.get_finished_spans(), "execute_tool")
    assert span.name == "execute_tool get_weather"
    assert span.attributes["gen_ai.tool.name"] == "get_weather"
    assert span.attributes["gen_ai.tool.call.id"] == "call-default-0-0"
    # AgentScope 2.0.10's tracer looks the description up on `Toolkit.tools`,
    # which that version does not have: it never records one, nor do we.


async def test_tool_arguments_and_result_under_capture(capturing, exporter):
    agent = make_agent(ScriptedChatModel([call_tools(("get_weather", {"city": "Nanjing"})),
                                          say("ok")]), [get_weather])

    await agent.reply(user("Weather in Nanjing?"))

    (span,) = _named(exporter.get_finished_spans(), "execute_tool")
    assert json.loads(span.attributes["gen_ai.tool.call.arguments"]) == {"city": "Nanjing"}
    assert "sunny in Nanjing" in span.attributes["gen_ai.tool.call.result"]


async def test_chat_span_model_usage_and_output(capturing, exporter):
    agent = make_agent(ScriptedChatModel([say("Hello from model.", usage=(12, 6))]))

    await agent.reply(user("Hello?"))

    (chat,) = _named(exporter.get_finished_spans(), "chat")
    assert chat.name == "chat scripted-model"
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    assert chat.attributes["gen_ai.request.model"] == "scripted-model"
    assert chat.attributes["gen_ai.usage.input_tokens"] == 12
    assert chat.attributes["gen_ai.usage.output_tokens"] == 6
    assert chat.attributes["gen_ai.response.id"] == "resp-default-0"
    assert chat.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    outputs = json.loads(chat.attributes["gen_ai.output.messages"])
    assert "Hello from model." in json.dumps(outputs)


async def test_plain_reply_carries_its_reply_id(instrumented, exporter):
    agent = make_agent(ScriptedChatModel([say("ok")]))

    msg = await agent.reply(user("Weather in Wuhan?"))

    (span,) = _named(exporter.get_finished_spans(), "invoke_agent")
    assert span.attributes["agents.agent.reply_id"] == msg.id == agent.state.reply_id


async def _close_from_another_task(stream) -> None:
    async def close() -> None:
        await stream.aclose()

    await asyncio.create_task(close())


async def test_reply_stream_closed_from_another_task(instrumented, exporter, detector, caplog):
    agent = make_agent(ScriptedChatModel([say("a long answer")]))
    stream = agent.reply_stream(user("hi"))

    with caplog.at_level(logging.ERROR, logger="opentelemetry.context"):
        await anext(stream)
        await _close_from_another_task(stream)

    assert not [r for r in caplog.records if r.name == "opentelemetry.context"]
    assert _named(exporter.get_finished_spans(), "invoke_agent")
    detector.assert_all_ended()


async def test_tool_stream_closed_from_another_task(instrumented, exporter, detector, caplog):
    release = asyncio.Event()

    async def watch(city: str) -> AsyncGenerator[ToolChunk, None]:
        """Watch the weather.

        Args:
            city: The city to watch.
        """
        yield ToolChunk(content=[{"type": "text", "text": f"watching {city}"}])
        await release.wait()  # suspended here when the consumer closes

    agent = make_agent(ScriptedChatModel([call_tools(("watch", {"city": "Hangzhou"})),
                                          say("done")]), [watch])
    stream = agent.reply_stream(user("watch Hangzhou"))

    with caplog.at_level(logging.ERROR, logger="opentelemetry.context"):
        async for event in stream:
            if isinstance(event, ToolResultTextDeltaEvent):
                break  # the tool is running, suspended at its yield
        await _close_from_another_task(stream)

    assert not [r for r in caplog.records if r.name == "opentelemetry.context"]
    (tool_span,) = _named(exporter.get_finished_spans(), "execute_tool")
    assert tool_span.name == "execute_tool watch"
    detector.assert_all_ended()
