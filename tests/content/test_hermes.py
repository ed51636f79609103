"""Message content of real Hermes agents against the scripted model server."""

from __future__ import annotations

import json
import logging

import pytest

from opentelemetry.instrumentation.agents import set_content_hook
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)
from tests.hermes.conftest import server  # noqa: F401 - a fixture
from tests.hermes.support import NUMBERS, add_numbers, make_agent, tools

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

PROMPT = "What is 2+3? My password is hunter2. [conv:c]"
CALL = {"type": "tool_call", "id": "call_c_0_0", "name": "add_numbers",
        "arguments": {"a": 2, "b": 3}}


@pytest.fixture
def run(instrument, exporter, server):  # noqa: F811
    """Instrument (after the test set the environment), run one tool round, return the spans."""
    def go(*, streaming: bool = True, instrumented: bool = True):
        from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

        if instrumented:
            instrument(HermesAgentInstrumentor)
        srv = server([tool_calls([ToolCall("add_numbers", {"a": 2, "b": 3})]),
                      text("The sum is 5.")])
        with tools(add_numbers=(add_numbers, NUMBERS)):
            result = make_agent(srv.base_url, streaming=streaming).run_conversation(PROMPT)
        assert result["final_response"] == "The sum is 5."
        return result, exporter.get_finished_spans()

    return go


def test_nothing_by_default(run):
    _, spans = run()
    assert len(spans) == 6
    assert_no_content(spans)


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
def test_captured_as_json_messages(run, capture, streaming):
    capture("true")
    _, spans = run(streaming=streaming)
    assert_shapes(spans)

    agent = one(spans, "invoke_agent")
    assert parsed(agent, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    assert parsed(agent, "gen_ai.output.messages") == [
        {"role": "assistant", "finish_reason": "stop",
         "parts": [{"type": "text", "content": "The sum is 5."}]}]

    first, second = named(spans, "chat")
    for chat in (first, second):
        # Hermes's own system prompt, cut to the default limit (8192).
        instructions = chat.attributes["gen_ai.system_instructions"]
        assert instructions.startswith('[{"type":"text","content":"You are Hermes Agent')
        assert len(instructions) <= 8192
    user_message = {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}
    assert parsed(first, "gen_ai.input.messages") == [user_message]
    assert parsed(first, "gen_ai.output.messages") == [
        {"role": "assistant", "finish_reason": "tool_calls", "parts": [CALL]}]
    assert parsed(second, "gen_ai.input.messages") == [
        user_message,
        {"role": "assistant", "parts": [CALL]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_c_0_0",
                                    "response": '{"result": 5}'}]}]
    assert parsed(second, "gen_ai.output.messages") == [
        {"role": "assistant", "finish_reason": "stop",
         "parts": [{"type": "text", "content": "The sum is 5."}]}]

    tool = one(spans, "execute_tool")
    assert parsed(tool, "gen_ai.tool.call.arguments") == {"a": 2, "b": 3}
    assert json.loads(tool.attributes["gen_ai.tool.call.result"]) == {"result": 5}


def test_truncated_at_the_limit(run, capture):
    capture("true", max_length=40)
    _, spans = run()
    assert assert_truncated(spans, 40) >= 6


def test_hook_redacts_and_drops(run, capture):
    capture("true")
    set_content_hook(redact_texts)
    _, spans = run()
    assert_redacted(spans, "hunter2")


def test_raising_hook_drops_content_and_never_breaks_the_call(run, capture, caplog, detector):
    capture("true")
    set_content_hook(raising_hook)
    with caplog.at_level(logging.WARNING):
        _, spans = run()  # asserts the final answer
    assert len(spans) == 6
    assert_no_content(spans)
    assert_hook_failure_logged_once(caplog)
    detector.assert_all_ended()


def test_runtime_messages_are_never_changed(run, capture):
    def vandal(kind, key, value):
        if isinstance(value, (list, dict)):
            value.clear()  # the tool's arguments dict included: it is a copy
        return value

    untraced, _ = run(instrumented=False)
    capture("true")
    set_content_hook(vandal)
    traced, _ = run()  # the tool still added 2 and 3

    def history(result):
        return [{k: v for k, v in m.items() if k not in ("timestamp",)}
                for m in result["messages"]]

    assert history(traced) == history(untraced)



def test_long_history_is_cut_at_the_limit_and_converted_only_as_far_as_it_fits(
        instrument, exporter, server, capture, monkeypatch):  # noqa: F811
    """A 1,000-message conversation history (Hermes sends all of it every call):
    the chat span's input is the cut text of the whole request as sent, and
    only the messages that fit were converted."""
    from opentelemetry.instrumentation.agents import _content, _settings
    from opentelemetry.instrumentation.agents import _genai_messages as M
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    capture("true")
    instrument(HermesAgentInstrumentor)
    converted = []
    convert_one = M.openai_message

    def counting(msg):
        converted.append(msg)
        return convert_one(msg)

    srv = server(lambda conversation, request: text("Noted."))
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}"}
               for i in range(1000)]
    agent = make_agent(srv.base_url)
    monkeypatch.setattr(M, "openai_message", counting)
    result = agent.run_conversation("and now?", conversation_history=history)
    monkeypatch.undo()

    assert result["final_response"] == "Noted."
    chat = one(exporter.get_finished_spans(), "chat")
    value = chat.attributes["gen_ai.input.messages"]
    (sent,) = srv.requests
    assert len(sent["messages"]) == 1002  # the system prompt, the history, the question
    inputs, _ = M.openai_request(sent["messages"])
    assert value == _content.to_json(inputs, _settings.DEFAULT_MAX_LENGTH)
    assert_cut_in_shape(value, _settings.DEFAULT_MAX_LENGTH)
    # Some 140 messages of 60 characters fit in 8,192; not 1,001.
    assert 50 < len(converted) < 250
