"""The scripted server's Anthropic Messages endpoint, driven by the real `anthropic` client."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anthropic
import pytest
from anthropic import Anthropic, AsyncAnthropic

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    error,
    text,
    tool_calls,
)

from .support import FIRST_CHUNK_DELAY, assert_first_chunk_held_back

MODEL = "claude-sonnet-4-5"


def client_for(server: ScriptedOpenAIServer) -> Anthropic:
    return Anthropic(api_key="test", base_url=server.anthropic_base_url, max_retries=0)


def user(conv: str, content: str = "hello") -> dict[str, Any]:
    return {"role": "user", "content": f"[conv:{conv}] {content}"}


def tool_round(conv: str, reply: anthropic.types.Message, result: str) -> list[dict[str, Any]]:
    """The transcript after answering every tool_use block of ``reply``."""
    results = [
        {"type": "tool_result", "tool_use_id": block.id, "content": result}
        for block in reply.content
        if block.type == "tool_use"
    ]
    return [
        user(conv),
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in reply.content]},
        {"role": "user", "content": results},
    ]


def test_text_message_with_usage_and_cache_fields() -> None:
    script = [text("Hi from {conv}, turn {turn}", usage=(12, 4), cache_read_tokens=30,
                   cache_creation_tokens=7)]
    with ScriptedOpenAIServer(script) as server:
        reply = client_for(server).messages.create(
            model=MODEL, max_tokens=100, messages=[user("a1")]
        )
        requests = server.requests_for("a1", api="messages")

    assert reply.id == "msg_a1_0"
    assert reply._request_id == "req_a1_0"
    assert reply.model == MODEL
    assert [(b.type, b.text) for b in reply.content] == [("text", "Hi from a1, turn 0")]
    assert reply.stop_reason == "end_turn"
    usage = reply.usage
    assert (usage.input_tokens, usage.output_tokens) == (12, 4)
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (30, 7)
    assert len(requests) == 1 and requests[0]["max_tokens"] == 100


def test_tool_use_round_then_text() -> None:
    script = [
        tool_calls([ToolCall("get_weather", {"city": "Paris {conv}"}),
                    ToolCall("get_time", {"tz": "CET"}, id="fixed_{turn}")]),
        text("Sunny in {conv}"),
    ]
    with ScriptedOpenAIServer(script) as server:
        client = client_for(server)
        first = client.messages.create(model=MODEL, max_tokens=50, messages=[user("t1")])
        second = client.messages.create(
            model=MODEL, max_tokens=50, messages=tool_round("t1", first, "sunny")
        )

    assert first.stop_reason == "tool_use"
    calls = [(b.type, b.id, b.name, b.input) for b in first.content]
    assert calls == [
        ("tool_use", "toolu_t1_0_0", "get_weather", {"city": "Paris t1"}),
        ("tool_use", "fixed_0", "get_time", {"tz": "CET"}),
    ]
    assert second.id == "msg_t1_1"
    assert second.content[0].text == "Sunny in t1"


def test_stream_accumulates_to_the_same_message() -> None:
    script = [
        tool_calls([ToolCall("lookup", {"q": "otel", "n": 3})], content="Let me look.",
                   usage=(20, 9), cache_read_tokens=5),
        text("The answer for {conv} is here.", usage=(25, 6)),
    ]
    with ScriptedOpenAIServer(script) as server:
        client = client_for(server)
        with client.messages.stream(model=MODEL, max_tokens=50, messages=[user("s1")]) as stream:
            kinds = [event.type for event in stream]
            first = stream.get_final_message()
        with client.messages.stream(
            model=MODEL, max_tokens=50, messages=tool_round("s1", first, "found")
        ) as stream:
            pieces = list(stream.text_stream)
            second = stream.get_final_message()

    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "input_json" in kinds and "text" in kinds
    assert first.id == "msg_s1_0" and first.stop_reason == "tool_use"
    assert [(b.type, getattr(b, "text", None)) for b in first.content] == [
        ("text", "Let me look."), ("tool_use", None)
    ]
    assert first.content[1].input == {"q": "otel", "n": 3}
    assert (first.usage.input_tokens, first.usage.output_tokens) == (20, 9)
    assert first.usage.cache_read_input_tokens == 5
    assert len(pieces) > 1 and "".join(pieces) == "The answer for s1 is here."
    assert second.stop_reason == "end_turn" and second.usage.output_tokens == 6


def test_finish_reasons_map_to_stop_reasons() -> None:
    with ScriptedOpenAIServer([text("cut", finish_reason="length")]) as server:
        reply = client_for(server).messages.create(model=MODEL, max_tokens=1,
                                                   messages=[user("l1")])
    assert reply.stop_reason == "max_tokens"


def test_errors_use_anthropic_error_shape() -> None:
    with ScriptedOpenAIServer({"e1": [error(429, "slow down {conv}")],
                               "e2": [text("once")]}) as server:
        client = client_for(server)
        with pytest.raises(anthropic.RateLimitError) as limited:
            client.messages.create(model=MODEL, max_tokens=5, messages=[user("e1")])
        once = client.messages.create(model=MODEL, max_tokens=5, messages=[user("e2")])
        with pytest.raises(anthropic.InternalServerError) as exhausted:
            client.messages.create(model=MODEL, max_tokens=5, messages=[
                user("e2"), {"role": "assistant", "content": once.content[0].text},
                user("e2", "more?"),
            ])
        errors = server.errors

    assert limited.value.body == {"type": "error", "error": {"type": "rate_limit_error",
                                                             "message": "slow down e1"}}
    assert limited.value.request_id == "req_e1_0"
    assert exhausted.value.body["error"]["type"] == "api_error"
    assert "Script exhausted: conversation 'e2', turn 1" in exhausted.value.message
    assert len(errors) == 1 and errors[0].startswith("Script exhausted")


def test_marker_last_skips_tool_result_messages() -> None:
    # One shared history: the marker of the latest *prompt* names the
    # conversation; a user message of tool results is not a prompt.
    script = [tool_calls([ToolCall("f", {})]), text("done {conv}")]
    with ScriptedOpenAIServer(script, marker="last") as server:
        client = client_for(server)
        history = [user("old"), {"role": "assistant", "content": "earlier"}]
        first = client.messages.create(model=MODEL, max_tokens=5,
                                       messages=[*history, user("new")])
        messages = [*history, *tool_round("new", first, "ok")]
        second = client.messages.create(model=MODEL, max_tokens=5, messages=messages)
    assert first.content[0].id == "toolu_new_0_0"
    assert second.content[0].text == "done new"


def test_system_prompt_marker_names_the_conversation() -> None:
    with ScriptedOpenAIServer({"sys1": [text("from {conv}")]}) as server:
        reply = client_for(server).messages.create(
            model=MODEL, max_tokens=5, system=[{"type": "text", "text": "[conv:sys1] be brief"}],
            messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        )
    assert reply.content[0].text == "from sys1"


def test_first_chunk_delay_comes_after_the_headers() -> None:
    with ScriptedOpenAIServer([text("late start", first_chunk_delay=FIRST_CHUNK_DELAY)]) as server:
        client = client_for(server)
        started = time.perf_counter()
        with client.messages.with_streaming_response.create(
            model=MODEL, max_tokens=5, messages=[user("f1")], stream=True
        ) as response:
            headers_at = time.perf_counter() - started
            first_line = next(response.iter_lines())
            first_at = time.perf_counter() - started
    assert_first_chunk_held_back(headers_at, first_at)
    assert first_line == "event: message_start"


def test_concurrent_streamed_tool_rounds_stay_in_their_conversation() -> None:
    script = [tool_calls([ToolCall("echo", {"who": "{conv}"})], chunk_delay=0.002),
              text("bye {conv}", chunk_delay=0.002)]
    count = 16
    barrier = threading.Barrier(count)
    with ScriptedOpenAIServer(script) as server:
        client = client_for(server)

        def run(i: int) -> tuple[str, str]:
            conv = f"c{i}"
            barrier.wait()
            with client.messages.stream(model=MODEL, max_tokens=5,
                                        messages=[user(conv)]) as stream:
                first = stream.get_final_message()
            messages = tool_round(conv, first, "ok")
            with client.messages.stream(model=MODEL, max_tokens=5, messages=messages) as stream:
                second = stream.get_final_message()
            return first.content[0].input["who"], second.content[0].text

        with ThreadPoolExecutor(count) as pool:
            results = list(pool.map(run, range(count)))
        errors = server.errors

    assert results == [(f"c{i}", f"bye c{i}") for i in range(count)]
    assert errors == []


def test_async_client() -> None:
    async def main() -> list[str]:
        with ScriptedOpenAIServer([text("async {conv}")]) as server:
            client = AsyncAnthropic(api_key="t", base_url=server.anthropic_base_url,
                                    max_retries=0)
            replies = await asyncio.gather(*(
                client.messages.create(model=MODEL, max_tokens=5, messages=[user(f"x{i}")])
                for i in range(8)
            ))
            await client.close()
        return [reply.content[0].text for reply in replies]

    assert asyncio.run(main()) == [f"async x{i}" for i in range(8)]
