"""Message content of real PraisonAI agents against the scripted model server."""

from __future__ import annotations

import logging

import pytest

from opentelemetry.instrumentation.agents import set_content_hook
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)
from tests.praisonai.conftest import offline, serve  # noqa: F401 - fixtures
from tests.praisonai.support import make_agent

from .support import (
    assert_cut_in_shape,
    assert_hook_failure_logged_once,
    assert_no_content,
    assert_redacted,
    assert_shapes,
    assert_truncated,
    named,
    one,
    parsed,
    raising_hook,
    redact_texts,
)

PROMPT = "Weather in Lima? My password is hunter2. [conv:c1]"
ANSWER = "It is sunny in Lima (c1)."
CALL = {"type": "tool_call", "id": "call_c1_0_0", "name": "get_weather",
        "arguments": {"city": "Lima"}}


@pytest.fixture
def run(instrument, exporter, serve):  # noqa: F811
    """Instrument (after the test set the environment), run one tool round, return the spans."""
    async def go(entry: str = "chat", *, instrumented: bool = True):
        from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

        if instrumented:
            instrument(PraisonAIInstrumentor)
        serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})]),
               text("It is sunny in Lima ({conv}).")])
        agent = make_agent()
        if entry == "chat":
            answer = agent.chat(PROMPT)
        elif entry == "achat":
            answer = await agent.achat(PROMPT)
        else:
            answer = "".join(agent.start(PROMPT, stream=True))
        assert answer == ANSWER
        return agent, exporter.get_finished_spans()

    return go


async def test_nothing_by_default(run):
    _, spans = await run()
    assert len(spans) == 6
    assert_no_content(spans)


@pytest.mark.parametrize("entry", ["chat", "achat", "stream"])
async def test_captured_as_json_messages(run, capture, entry):
    capture("true")
    _, spans = await run(entry)
    assert_shapes(spans)

    agent = one(spans, "invoke_agent")
    assert parsed(agent, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    assert parsed(agent, "gen_ai.output.messages") == [
        {"role": "assistant", "finish_reason": "stop",
         "parts": [{"type": "text", "content": ANSWER}]}]

    first, second = named(spans, "chat")
    for chat in (first, second):
        (instructions,) = parsed(chat, "gen_ai.system_instructions")
        assert instructions["type"] == "text" and "You help." in instructions["content"]
    user_message = {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}
    assert parsed(first, "gen_ai.input.messages") == [user_message]
    assert parsed(first, "gen_ai.output.messages") == [
        {"role": "assistant", "finish_reason": "tool_calls", "parts": [CALL]}]
    history = parsed(second, "gen_ai.input.messages")
    assert history[:2] == [user_message, {"role": "assistant", "parts": [CALL]}]
    (result,) = history[2:]
    assert result["role"] == "tool"
    assert result["parts"][0]["id"] == "call_c1_0_0"
    assert "sunny in Lima" in result["parts"][0]["response"]
    assert parsed(second, "gen_ai.output.messages") == [
        {"role": "assistant", "finish_reason": "stop",
         "parts": [{"type": "text", "content": ANSWER}]}]

    tool = one(spans, "execute_tool")
    assert parsed(tool, "gen_ai.tool.call.arguments") == {"city": "Lima"}
    assert tool.attributes["gen_ai.tool.call.result"] == "sunny in Lima"


async def test_truncated_at_the_limit(run, capture):
    capture("true", max_length=40)
    _, spans = await run()
    assert assert_truncated(spans, 40) >= 6


async def test_hook_redacts_and_drops(run, capture):
    capture("true")
    set_content_hook(redact_texts)
    _, spans = await run()
    assert_redacted(spans, "hunter2")


async def test_raising_hook_drops_content_and_never_breaks_the_call(run, capture, caplog,
                                                                     detector):
    capture("true")
    set_content_hook(raising_hook)
    with caplog.at_level(logging.WARNING):
        _, spans = await run()  # asserts the answer
    assert len(spans) == 6
    assert_no_content(spans)
    assert_hook_failure_logged_once(caplog)
    detector.assert_all_ended()


async def test_runtime_messages_are_never_changed(run, capture):
    def vandal(kind, key, value):
        if isinstance(value, (list, dict)):
            value.clear()  # the tool's arguments dict included: it is a copy
        return value

    untraced, _ = await run(instrumented=False)
    capture("true")
    set_content_hook(vandal)
    traced, _ = await run()  # the tool still got its city

    assert traced.chat_history == untraced.chat_history


async def test_long_history_is_cut_at_the_limit_and_converted_only_as_far_as_it_fits(
        instrument, exporter, serve, capture, monkeypatch):  # noqa: F811
    """A 1,000-message chat history: the chat span's input is the cut text of
    the whole request as sent, and only the messages that fit were converted."""
    from opentelemetry.instrumentation.agents import _content, _settings
    from opentelemetry.instrumentation.agents import _genai_messages as M
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    capture("true")
    instrument(PraisonAIInstrumentor)
    converted = []
    convert_one = M.openai_message

    def counting(msg):
        converted.append(msg)
        return convert_one(msg)

    server = serve([text("Noted.")])
    agent = make_agent(tools=())
    agent.chat_history.extend(
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}"}
        for i in range(1000))
    monkeypatch.setattr(M, "openai_message", counting)
    answer = agent.chat("and now? [conv:long]")
    monkeypatch.undo()

    assert answer == "Noted."
    chat = one(exporter.get_finished_spans(), "chat")
    value = chat.attributes["gen_ai.input.messages"]
    (sent,) = server.requests
    assert len(sent["messages"]) >= 1001
    inputs, _ = M.openai_request(sent["messages"])
    assert value == _content.to_json(inputs, _settings.DEFAULT_MAX_LENGTH)
    assert_cut_in_shape(value, _settings.DEFAULT_MAX_LENGTH)
    assert 50 < len(converted) < 250
