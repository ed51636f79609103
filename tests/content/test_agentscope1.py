"""Message content of real AgentScope 1.x ReAct agents (scripted model, real tools)."""

from __future__ import annotations

import logging

import pytest

from opentelemetry.instrumentation.agents import set_content_hook
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    say,
)
from tests.agentscope1.support import get_weather, make_agent, user

from .support import (
    REDACTED,
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

SECRET = "weather in Lima, my password is hunter2?"
CALL = {"type": "tool_call", "id": "call-default-0-0", "name": "get_weather",
        "arguments": {"city": "Lima"}}


def _model(stream: bool = False) -> ScriptedChatModel:
    return ScriptedChatModel([call_tools(("get_weather", {"city": "Lima"}), usage=(7, 3)),
                              say("It is sunny in Lima.", usage=(11, 4))], stream=stream)


@pytest.fixture
def run(instrument, exporter):
    """Instrument (after the test set the environment), run one tool round, return the spans."""
    async def go(*, stream: bool = False):
        from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

        instrument(AgentScopeInstrumentor)
        agent = make_agent(_model(stream), [get_weather])
        result = await agent(user(SECRET))
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
    for chat in (first, second):
        assert parsed(chat, "gen_ai.system_instructions") == [
            {"type": "text", "content": "You help."}]
    user_message = {"role": "user", "name": "user",
                    "parts": [{"type": "text", "content": SECRET}]}
    assert parsed(first, "gen_ai.input.messages") == [user_message]
    assert parsed(first, "gen_ai.output.messages") == [
        {"role": "assistant", "finish_reason": "tool_calls", "parts": [CALL]}]
    assert parsed(second, "gen_ai.input.messages") == [
        user_message,
        {"role": "assistant", "name": "helper", "parts": [CALL]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call-default-0-0",
                                    "response": "sunny in Lima"}]}]
    assert parsed(second, "gen_ai.output.messages") == [
        {"role": "assistant", "finish_reason": "stop",
         "parts": [{"type": "text", "content": "It is sunny in Lima."}]}]

    tool = one(spans, "execute_tool")
    assert parsed(tool, "gen_ai.tool.call.arguments") == {"city": "Lima"}
    assert tool.attributes["gen_ai.tool.call.result"] == "sunny in Lima"


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
        if isinstance(value, (list, dict)):
            value.clear()  # the tool's arguments dict included: it is a copy
        return value

    untraced = make_agent(_model(), [get_weather])
    await untraced(user(SECRET))
    capture("true")
    set_content_hook(vandal)
    traced, _ = await run()  # the tool still got its city: "sunny in Lima"

    async def shape(agent):
        return [(m.role, m.content) for m in await agent.memory.get_memory()]

    assert await shape(traced) == await shape(untraced)


async def test_long_history_is_cut_at_the_limit_and_converted_only_as_far_as_it_fits(
        instrument, exporter, capture, monkeypatch):
    """A 1,000-message memory: the chat span's input is the cut text of the
    whole formatted prompt, and only the messages that fit were converted."""
    from agentscope.message import Msg

    from opentelemetry.instrumentation.agents import _content, _settings
    from opentelemetry.instrumentation.agents import _genai_messages as M
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    capture("true")
    instrument(AgentScopeInstrumentor)
    converted, prompts = [], []
    convert_one = M.openai_message
    lazy_request = M.lazy_openai_request

    def counting(msg):
        converted.append(msg)
        return convert_one(msg)

    def keeping(messages, system=None):
        prompts.append(messages)
        return lazy_request(messages, system)

    model = ScriptedChatModel([say("Noted.")])
    agent = make_agent(model)
    await agent.memory.add([Msg("user" if i % 2 == 0 else "helper", f"turn {i}",
                                "user" if i % 2 == 0 else "assistant") for i in range(1000)])
    monkeypatch.setattr(M, "openai_message", counting)
    monkeypatch.setattr(M, "lazy_openai_request", keeping)
    result = await agent(user("and now?"))
    monkeypatch.undo()

    assert result.get_text_content() == "Noted."
    chat = one(exporter.get_finished_spans(), "chat")
    value = chat.attributes["gen_ai.input.messages"]
    (prompt,) = prompts
    assert len(prompt) >= 1000
    inputs, _ = M.openai_request(prompt)
    assert value == _content.to_json(inputs, _settings.DEFAULT_MAX_LENGTH)
    assert_cut_in_shape(value, _settings.DEFAULT_MAX_LENGTH)
    assert 20 < len(converted) < 250
