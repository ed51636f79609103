"""The scripted server's OpenAI Responses endpoint, driven by the real `openai` client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    error,
    text,
    tool_calls,
)

from .support import FIRST_CHUNK_DELAY, assert_first_chunk_held_back

MODEL = "gpt-5-mini"


def client_for(server: ScriptedOpenAIServer) -> OpenAI:
    return OpenAI(api_key="test", base_url=server.base_url, max_retries=0)


def user(conv: str, content: str = "hello") -> dict[str, Any]:
    return {"role": "user", "content": f"[conv:{conv}] {content}"}


def answered(response: Any, result: str) -> list[dict[str, Any]]:
    """The model's output items followed by a result for each function call."""
    items: list[dict[str, Any]] = [item.model_dump(exclude_none=True) for item in response.output]
    items += [
        {"type": "function_call_output", "call_id": item.call_id, "output": result}
        for item in response.output
        if item.type == "function_call"
    ]
    return items


def test_text_response_with_usage_details() -> None:
    script = [text("Hello {conv} turn {turn}", usage=(40, 12), cache_read_tokens=32,
                   reasoning_tokens=8)]
    with ScriptedOpenAIServer(script) as server:
        response = client_for(server).responses.create(
            model=MODEL, input="[conv:r1] hi", instructions="be brief"
        )
        requests = server.requests_for("r1", api="responses")

    assert (response.id, response.status, response.model) == ("resp_r1_0", "completed", MODEL)
    assert response._request_id == "req_r1_0"
    assert response.output_text == "Hello r1 turn 0"
    assert response.instructions == "be brief"
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (40, 12, 52)
    assert usage.input_tokens_details.cached_tokens == 32
    assert usage.output_tokens_details.reasoning_tokens == 8
    assert len(requests) == 1


def test_usage_details_default_to_zero_as_the_api_sends_them() -> None:
    with ScriptedOpenAIServer([text("x")]) as server:
        usage = client_for(server).responses.create(model=MODEL, input=[user("z")]).usage
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0


def test_function_call_round_then_text() -> None:
    script = [
        tool_calls([ToolCall("get_weather", {"city": "{conv}"}), ToolCall("get_time", "{}")],
                   content="Checking."),
        text("Done for {conv}"),
    ]
    with ScriptedOpenAIServer(script) as server:
        client = client_for(server)
        first = client.responses.create(model=MODEL, input=[user("f1")])
        second = client.responses.create(model=MODEL, input=[user("f1"), *answered(first, "ok")])

    assert [item.type for item in first.output] == ["message", "function_call", "function_call"]
    calls = [(i.id, i.call_id, i.name, i.arguments) for i in first.output[1:]]
    assert calls == [
        ("fc_f1_0_0", "call_f1_0_0", "get_weather", '{"city":"f1"}'),
        ("fc_f1_0_1", "call_f1_0_1", "get_time", "{}"),
    ]
    assert (second.id, second.output_text) == ("resp_f1_1", "Done for f1")


def test_stream_events_and_final_response() -> None:
    script = [
        tool_calls([ToolCall("lookup", {"q": "otel"})], content="Let me see.",
                   usage=(30, 7), cache_read_tokens=10, reasoning_tokens=3),
        text("Found it for {conv}.", usage=(33, 5)),
    ]
    with ScriptedOpenAIServer(script) as server:
        client = client_for(server)
        with client.responses.stream(model=MODEL, input=[user("s1")]) as stream:
            kinds = [event.type for event in stream]
            first = stream.get_final_response()
        events = list(client.responses.create(
            model=MODEL, input=[user("s1"), *answered(first, "42")], stream=True
        ))

    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.function_call_arguments.delta" in kinds
    assert "response.output_text.delta" in kinds
    assert first.id == "resp_s1_0"
    assert first.output_text == "Let me see."
    call = first.output[1]
    assert (call.type, call.name, call.arguments) == ("function_call", "lookup", '{"q":"otel"}')
    assert first.usage.input_tokens_details.cached_tokens == 10
    assert first.usage.output_tokens_details.reasoning_tokens == 3
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == "Found it for s1."
    assert events[-1].response.usage.output_tokens == 5


def test_length_finish_is_an_incomplete_response() -> None:
    with ScriptedOpenAIServer([text("cut", finish_reason="length")]) as server:
        client = client_for(server)
        response = client.responses.create(model=MODEL, input=[user("l1")])
        events = list(client.responses.create(model=MODEL, input=[user("l1")], stream=True))
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert events[-1].type == "response.incomplete"


def test_previous_response_id_continues_the_conversation() -> None:
    script = [tool_calls([ToolCall("f", {})]), text("second turn of {conv}"),
              text("third turn of {conv}")]
    with ScriptedOpenAIServer(script) as server:
        client = client_for(server)
        first = client.responses.create(model=MODEL, input=[user("p1")])
        outputs = answered(first, "ok")[len(first.output):]
        second = client.responses.create(model=MODEL, previous_response_id=first.id,
                                         input=outputs)
        third = client.responses.create(model=MODEL, previous_response_id=second.id,
                                        input="and now?")
        with pytest.raises(openai.BadRequestError) as unknown:
            client.responses.create(model=MODEL, previous_response_id="resp_nope", input="x")

    assert (second.id, second.output_text) == ("resp_p1_1", "second turn of p1")
    assert (third.id, third.output_text) == ("resp_p1_2", "third turn of p1")
    assert unknown.value.code == "previous_response_not_found"


def test_errors_use_openai_error_shape() -> None:
    with ScriptedOpenAIServer({"e1": [error(429, "slow {conv}")]}) as server:
        with pytest.raises(openai.RateLimitError) as caught:
            client_for(server).responses.create(model=MODEL, input=[user("e1")])
    assert (caught.value.type, caught.value.code, caught.value.body["message"]) == (
        "requests", "rate_limit_exceeded", "slow e1")


def test_first_chunk_delay_comes_after_the_headers() -> None:
    with ScriptedOpenAIServer([text("late", first_chunk_delay=FIRST_CHUNK_DELAY)]) as server:
        client = client_for(server)
        started = time.perf_counter()
        stream = client.responses.create(model=MODEL, input=[user("d1")], stream=True)
        headers_at = time.perf_counter() - started
        first = next(iter(stream))
        first_at = time.perf_counter() - started
        stream.close()
    assert_first_chunk_held_back(headers_at, first_at)
    assert first.type == "response.created"


def test_concurrent_async_conversations_stay_apart() -> None:
    script = [tool_calls([ToolCall("echo", {"who": "{conv}"})], chunk_delay=0.002),
              text("bye {conv}", chunk_delay=0.002)]

    async def converse(client: AsyncOpenAI, conv: str) -> tuple[str, str]:
        async with client.responses.stream(model=MODEL, input=[user(conv)]) as stream:
            first = await stream.get_final_response()
        second = await client.responses.create(
            model=MODEL, input=[user(conv), *answered(first, "ok")]
        )
        return first.output[0].arguments, second.output_text

    async def main() -> tuple[list[tuple[str, str]], list[str]]:
        with ScriptedOpenAIServer(script) as server:
            client = AsyncOpenAI(api_key="t", base_url=server.base_url, max_retries=0)
            results = await asyncio.gather(*(converse(client, f"c{i}") for i in range(16)))
            await client.close()
            return list(results), server.errors

    results, errors = asyncio.run(main())
    assert results == [(f'{{"who":"c{i}"}}', f"bye c{i}") for i in range(16)]
    assert errors == []
