"""Message content of real AgentScope 2.x agents (scripted model, real tools)."""

from __future__ import annotations

import logging

import pytest

from opentelemetry.instrumentation.agents import set_content_hook
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)
from tests.agentscope2.support import get_weather, make_agent, user

from .support import (
    REDACTED,
    assert_cut_in_shape,
    assert_hook_failure_logged_once,
    assert_messages,
    assert_no_content,
    assert_redacted,
    assert_shapes,
    assert_truncated,
    named,
    one,
    parsed,
    raising_hook,
    redact_texts,
    text_of,
)

SECRET = "weather in Lima, my password is hunter2?"


def _model(stream: bool = False) -> ScriptedChatModel:
    return ScriptedChatModel([call_tools(("get_weather", {"city": "Lima"}), usage=(7, 3)),
                              say("It is sunny in Lima.", usage=(11, 4))], stream=stream)


@pytest.fixture
def run(instrument, exporter):
    """Instrument (after the test set the environment), run one tool round, return the spans."""
    async def go(*, stream: bool = False, reply_stream: bool = False):
        from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

        instrument(AgentScopeInstrumentor)
        agent = make_agent(_model(stream), [get_weather])
        if reply_stream:
            async for _ in agent.reply_stream(user(SECRET)):
                pass
        else:
            result = await agent.reply(user(SECRET))
            assert result.get_text_content() == "It is sunny in Lima."
        return agent, exporter.get_finished_spans()

    return go


async def test_nothing_by_default(run):
    _, spans = await run()
    assert len(spans) == 6
    assert_no_content(spans)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed-model"])
async def test_captured_as_json_messages(run, capture, stream):
    capture("true")
    _, spans = await run(stream=stream)
    assert_shapes(spans)

    agent = one(spans, "invoke_agent")
    assert parsed(agent, "gen_ai.input.messages") == [
        {"role": "user", "name": "user", "parts": [{"type": "text", "content": SECRET}]}]
    assert parsed(agent, "gen_ai.output.messages") == [
        {"role": "assistant", "name": "helper", "finish_reason": "stop",
         "parts": [{"type": "text", "content": "It is sunny in Lima."}]}]

    first, second = named(spans, "chat")
    # The system prompt is the system instructions, not an input message.
    for chat in (first, second):
        assert parsed(chat, "gen_ai.system_instructions") == [
            {"type": "text", "content": "You help."}]
    inputs = parsed(first, "gen_ai.input.messages")
    assert inputs[0] == {"role": "user", "name": "user",
                         "parts": [{"type": "text", "content": SECRET}]}
    assert parsed(first, "gen_ai.output.messages") == [
        {"role": "assistant", "finish_reason": "tool_calls",
         "parts": [{"type": "tool_call", "id": "call-default-0-0", "name": "get_weather",
                    "arguments": {"city": "Lima"}}]}]
    # The second call sees the round: the tool call, then its result as a tool message.
    history = parsed(second, "gen_ai.input.messages")
    assert history[-2:] == [
        {"role": "assistant", "name": "helper",
         "parts": [{"type": "tool_call", "id": "call-default-0-0", "name": "get_weather",
                    "arguments": {"city": "Lima"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call-default-0-0",
                                    "response": "sunny in Lima"}]}]
    assert parsed(second, "gen_ai.output.messages") == [
        {"role": "assistant", "finish_reason": "stop",
         "parts": [{"type": "text", "content": "It is sunny in Lima."}]}]

    tool = one(spans, "execute_tool")
    assert parsed(tool, "gen_ai.tool.call.arguments") == {"city": "Lima"}
    assert tool.attributes["gen_ai.tool.call.result"] == "sunny in Lima"


@pytest.mark.parametrize("stream", [False, True], ids=["whole-model", "streamed-model"])
async def test_streamed_reply_output(run, capture, stream):
    capture("true")
    _, spans = await run(stream=stream, reply_stream=True)
    agent = one(spans, "invoke_agent")
    (output,) = parsed(agent, "gen_ai.output.messages")
    assert_messages([output], output=True)
    assert text_of(output) == "It is sunny in Lima."


async def test_truncated_at_the_limit(run, capture):
    capture("true", max_length=40)
    _, spans = await run()
    assert assert_truncated(spans, 40) >= 5


async def test_hook_redacts_and_drops(run, capture):
    capture("true")
    set_content_hook(redact_texts)
    _, spans = await run()
    assert_redacted(spans, "hunter2")
    chat = named(spans, "chat")[0]
    assert parsed(chat, "gen_ai.system_instructions") == [{"type": "text", "content": REDACTED}]


async def test_raising_hook_drops_content_and_never_breaks_the_call(run, capture, caplog,
                                                                     detector):
    capture("true")
    set_content_hook(raising_hook)
    with caplog.at_level(logging.WARNING):
        _, spans = await run()  # asserts the reply's answer
    assert len(spans) == 6
    assert_no_content(spans)
    assert_hook_failure_logged_once(caplog)
    detector.assert_all_ended()


async def test_runtime_messages_are_never_changed(run, capture):
    def vandal(kind, key, value):
        # Whatever a hook does to what it is given stays with us.
        if isinstance(value, list):
            value.clear()
        elif isinstance(value, dict):
            value.clear()
        return value

    untraced = make_agent(_model(), [get_weather])
    await untraced.reply(user(SECRET))
    capture("true")
    set_content_hook(vandal)
    traced, _ = await run()

    def shape(agent):
        return [(m.role, [(b.type, getattr(b, "text", None) or getattr(b, "input", None))
                          for b in m.content]) for m in agent.state.context]

    assert shape(traced) == shape(untraced)


async def test_long_history_is_cut_at_the_limit_and_converted_only_as_far_as_it_fits(
        instrument, exporter, capture, monkeypatch):
    """A 1,000-message context: the chat span's input is the cut text of the
    whole history, and only the messages that fit were converted."""
    from agentscope.message import AssistantMsg, UserMsg

    from opentelemetry.instrumentation.agents import _content, _settings
    from opentelemetry.instrumentation.agents.agentscope import (
        AgentScopeInstrumentor,
    )
    from opentelemetry.instrumentation.agents.agentscope.v2 import messages as converters

    capture("true")
    instrument(AgentScopeInstrumentor)
    converted = []
    convert_one = converters._history_item

    def counting(msg):
        converted.append(msg)
        return convert_one(msg)

    monkeypatch.setattr(converters, "_history_item", counting)
    agent = make_agent(ScriptedChatModel([say("Noted.")]))
    history = [UserMsg(name="user", content=f"question {i}") if i % 2 == 0
               else AssistantMsg(name="helper", content=f"answer {i}") for i in range(1000)]
    agent.state.context = list(history)

    result = await agent.reply(user("and now?"))

    assert result.get_text_content() == "Noted."
    chat = one(exporter.get_finished_spans(), "chat")
    text = chat.attributes["gen_ai.input.messages"]
    expected = converters.convert([*history, user("and now?")])
    assert text == _content.to_json(expected, _settings.DEFAULT_MAX_LENGTH)
    assert_cut_in_shape(text, _settings.DEFAULT_MAX_LENGTH)
    # About 70 characters a message: some 120 fit in 8,192, not 1,001.
    assert 50 < len(converted) < 200
    # The system prompt, then the oldest messages, in order: a prefix.
    assert converted[0].role == "system"
    assert [m.id for m in converted[1:]] == [m.id for m in history[:len(converted) - 1]]
