"""The shared converter: every provider format the runtimes hand a model, read as-is."""

from __future__ import annotations

import copy
from types import SimpleNamespace

from opentelemetry.instrumentation.agents import _genai_messages as M

from .support import assert_messages, assert_parts


def test_openai_chat_request_with_tools_and_media():
    request = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
        {"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,aGk="}},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            {"type": "file", "file": {"file_id": "file-1"}}]},
        {"role": "assistant", "content": None, "reasoning_content": "Let me look.",
         "tool_calls": [{"id": "c1", "type": "function",
                         "function": {"name": "lookup", "arguments": '{"q": "cat"}'}},
                        {"id": "c2", "type": "function",
                         "function": {"name": "raw", "arguments": "not json"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
        {"role": "system", "content": "A reminder in the middle stays in the history."},
    ]
    before = copy.deepcopy(request)

    inputs, system = M.openai_request(request)

    assert request == before  # read, never changed
    assert system == [{"type": "text", "content": "Be brief."},
                      {"type": "text", "content": "Use metric units."}]
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool", "system"]
    assert inputs[0]["parts"] == [
        {"type": "text", "content": "What is in this picture?"},
        {"type": "uri", "uri": "https://example.com/cat.png", "modality": "image"},
        {"type": "blob", "content": "aGk=", "modality": "image", "mime_type": "image/png"},
        {"type": "blob", "content": "UklGRg==", "modality": "audio", "mime_type": "audio/wav"},
        {"type": "file", "file_id": "file-1"}]
    assert inputs[1]["parts"] == [
        {"type": "reasoning", "content": "Let me look."},
        {"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {"q": "cat"}},
        {"type": "tool_call", "id": "c2", "name": "raw", "arguments": "not json"}]
    assert inputs[2]["parts"] == [{"type": "tool_call_response", "id": "c1",
                                   "response": "a cat"}]
    for message in inputs:
        assert_parts(message["parts"])


def test_openai_response_objects():
    response = SimpleNamespace(choices=[SimpleNamespace(
        finish_reason="tool_calls",
        message=SimpleNamespace(role="assistant", content="Checking.", tool_calls=[
            SimpleNamespace(id="c1", function=SimpleNamespace(name="f", arguments="{}"))]))])
    (out,) = M.openai_response(response)
    assert out == {"role": "assistant", "finish_reason": "tool_calls", "parts": [
        {"type": "text", "content": "Checking."},
        {"type": "tool_call", "id": "c1", "name": "f", "arguments": {}}]}


def test_anthropic_messages_and_response():
    inputs, system = M.openai_request([
        {"role": "user", "content": [{"type": "text", "text": "hi"},
                                     {"type": "image", "source": {
                                         "type": "base64", "media_type": "image/jpeg",
                                         "data": "AAA"}}]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm"},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                      "content": [{"type": "text", "text": "42"}]}]},
    ], system="You are terse.")
    assert system == [{"type": "text", "content": "You are terse."}]
    assert inputs == [
        {"role": "user", "parts": [
            {"type": "text", "content": "hi"},
            {"type": "blob", "content": "AAA", "modality": "image", "mime_type": "image/jpeg"}]},
        {"role": "assistant", "parts": [
            {"type": "reasoning", "content": "hmm"},
            {"type": "tool_call", "id": "t1", "name": "f", "arguments": {"x": 1}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "t1",
                                    "response": "42"}]}]
    response = SimpleNamespace(stop_reason="end_turn", content=[
        SimpleNamespace(type="text", text="done")])
    assert M.openai_response(response) == [
        {"role": "assistant", "finish_reason": "end_turn",
         "parts": [{"type": "text", "content": "done"}]}]


def test_responses_api_request_and_response():
    inputs, system = M.openai_request([
        {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "function_call", "call_id": "f1", "name": "g", "arguments": '{"a":1}'},
        {"type": "function_call_output", "call_id": "f1", "output": "ok"},
    ], system="Instructions.")
    assert system == [{"type": "text", "content": "Instructions."}]
    assert inputs == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "f1", "name": "g",
                                         "arguments": {"a": 1}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "f1",
                                    "response": "ok"}]}]
    response = SimpleNamespace(output=[
        SimpleNamespace(type="reasoning", summary=[SimpleNamespace(text="think")]),
        SimpleNamespace(type="message", content=[SimpleNamespace(type="output_text",
                                                                 text="answer")]),
    ])
    assert M.openai_response(response) == [
        {"role": "assistant", "finish_reason": "stop",
         "parts": [{"type": "reasoning", "content": "think"},
                   {"type": "text", "content": "answer"}]}]


def test_gemini_and_dashscope_shapes():
    inputs, _ = M.openai_request([
        {"role": "user", "content": [{"text": "hello"}, {"image": "https://x/y.png"}]},
        {"role": "model", "parts": [{"function_call": {"id": "g1", "name": "f",
                                                       "args": {"k": "v"}}}]},
        {"role": "user", "parts": [{"function_response": {"id": "g1", "name": "f",
                                                          "response": {"r": 1}}}]},
    ])
    assert inputs == [
        {"role": "user", "parts": [{"type": "text", "content": "hello"},
                                   {"type": "uri", "uri": "https://x/y.png",
                                    "modality": "image"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "g1", "name": "f",
                                         "arguments": {"k": "v"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "g1",
                                    "response": {"r": 1}}]}]


def test_anything_unknown_becomes_a_generic_part():
    class Strange:
        pass

    inputs, system = M.openai_request([
        {"role": "user", "content": [{"type": "hologram", "data": "..."}, Strange(), 42]},
        "not a message at all",
    ])
    assert system is None
    assert inputs[0]["parts"] == [{"type": "hologram"}, {"type": "Strange"}, {"type": "int"}]
    assert_messages(inputs)
    assert M.openai_request(None) == (None, None)
    assert M.openai_response(object()) is None


def test_text_messages():
    assert M.text_message("user", None) is None
    assert M.text_message("assistant", "hi", "stop") == [
        {"role": "assistant", "finish_reason": "stop",
         "parts": [{"type": "text", "content": "hi"}]}]
    assert M.text_message("user", 12) == [{"role": "user",
                                           "parts": [{"type": "text", "content": "12"}]}]


def test_a_message_no_converter_can_read_costs_only_its_content(caplog):
    from opentelemetry.instrumentation.agents.hermes import _messages as hermes
    from opentelemetry.instrumentation.agents.praisonai import _messages as praisonai

    class Exploding(dict):
        def get(self, *args):
            raise RuntimeError("a message that cannot be read")

    broken = [Exploding(role="user")]
    with caplog.at_level("WARNING", logger="opentelemetry.instrumentation.agents"):
        assert hermes.request({"messages": broken}) == (None, None)
        assert praisonai.request(broken) == (None, None)
        assert praisonai.response(Exploding()) is None
    assert any("converting content" in r.getMessage() for r in caplog.records)
