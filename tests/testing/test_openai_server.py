"""Tests for the scripted OpenAI-compatible server, driven by the real `openai` client."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    Turn,
    error,
    text,
    tool_calls,
    turn_index,
)

from .support import FIRST_CHUNK_DELAY, assert_first_chunk_held_back

MODEL = "gpt-4o-mini"


def client_for(server: ScriptedOpenAIServer) -> OpenAI:
    # Retries would hide which request produced an error.
    return OpenAI(api_key="test", base_url=server.base_url, max_retries=0)


def user(conv: str, content: str = "hello") -> dict[str, Any]:
    return {"role": "user", "content": f"[conv:{conv}] {content}"}


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def raw_request(
    server: ScriptedOpenAIServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def handler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "process_request_thread" in t.name]


def wait_until(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# -- JSON responses ------------------------------------------------------------


def test_text_turn_returns_a_complete_chat_completion() -> None:
    with ScriptedOpenAIServer([text("Hello from {conv}, turn {turn}", usage=(12, 3))]) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        completion = client_for(server).chat.completions.create(
            model="my-model", messages=[user("a1")]
        )

    assert completion.id == "chatcmpl-a1-0"
    assert completion.object == "chat.completion"
    assert completion.model == "my-model"
    assert isinstance(completion.created, int) and completion.created > 0
    assert completion._request_id == "req_a1_0"
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello from a1, turn 0"
    assert choice.message.tool_calls is None
    assert completion.usage is not None
    assert completion.usage.model_dump(
        include={"prompt_tokens", "completion_tokens", "total_tokens"}
    ) == {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "total_tokens": 15,
    }


def test_response_model_and_missing_usage() -> None:
    script = [text("hi", usage=None, finish_reason="length")]
    with ScriptedOpenAIServer(script, response_model="gpt-4o-2024-08-06") as server:
        completion = client_for(server).chat.completions.create(model=MODEL, messages=[user("m")])
    assert completion.model == "gpt-4o-2024-08-06"
    assert completion.usage is None
    assert completion.choices[0].finish_reason == "length"


def test_tool_call_turn() -> None:
    script = [
        tool_calls(
            [
                ToolCall("get_weather", {"city": "Paris", "tag": "{conv}"}),
                ToolCall("get_time", '{"tz": "UTC"}', id="custom_{conv}"),
            ],
            usage=(30, 7),
        )
    ]
    with ScriptedOpenAIServer(script) as server:
        completion = client_for(server).chat.completions.create(
            model=MODEL, messages=[user("t1")], tools=[]
        )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = [
        (call.id, call.type, call.function.name, call.function.arguments)
        for call in choice.message.tool_calls or []
    ]
    assert calls == [
        ("call_t1_0_0", "function", "get_weather", '{"city":"Paris","tag":"t1"}'),
        ("custom_t1", "function", "get_time", '{"tz": "UTC"}'),
    ]
    assert completion.usage is not None and completion.usage.total_tokens == 37


def test_identical_requests_get_identical_responses() -> None:
    # Retries and replays must not advance the script.
    with ScriptedOpenAIServer([text("one {conv}"), text("two {conv}")]) as server:
        client = client_for(server)
        first = client.chat.completions.create(model=MODEL, messages=[user("r")])
        again = client.chat.completions.create(model=MODEL, messages=[user("r")])
        second = client.chat.completions.create(
            model=MODEL,
            messages=[user("r"), {"role": "assistant", "content": "one r"}, user("r", "more")],
        )
    assert first.model_dump() == again.model_dump()
    assert (first.choices[0].message.content, second.choices[0].message.content) == (
        "one r",
        "two r",
    )
    assert second.id == "chatcmpl-r-1"


# -- streaming -------------------------------------------------------------------


def test_streaming_text_with_usage_chunk() -> None:
    content = "The quick brown fox jumps over {conv}."
    with ScriptedOpenAIServer([text(content, usage=(9, 8))]) as server:
        stream = client_for(server).chat.completions.create(
            model=MODEL,
            messages=[user("s1")],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)

    assert {chunk.id for chunk in chunks} == {"chatcmpl-s1-0"}
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert {chunk.model for chunk in chunks} == {MODEL}
    assert chunks[0].choices[0].delta.role == "assistant"

    *choice_chunks, usage_chunk = chunks
    deltas = [c.choices[0].delta.content for c in choice_chunks if c.choices[0].delta.content]
    assert len(deltas) == 7  # one per word: a real stream arrives in pieces
    assert "".join(deltas) == "The quick brown fox jumps over s1."
    assert [c.choices[0].finish_reason for c in choice_chunks] == [None] * (
        len(choice_chunks) - 1
    ) + ["stop"]
    assert all(c.usage is None for c in choice_chunks)

    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert (
        usage_chunk.usage.prompt_tokens,
        usage_chunk.usage.completion_tokens,
        usage_chunk.usage.total_tokens,
    ) == (9, 8, 17)


def test_streaming_tool_calls_reassemble() -> None:
    arguments = {"query": "weather in {conv}", "limit": 3}
    script = [
        tool_calls(
            [ToolCall("search", arguments), ToolCall("noop", {})],
            content="Let me check.",
        )
    ]
    with ScriptedOpenAIServer(script) as server:
        chunks = list(
            client_for(server).chat.completions.create(
                model=MODEL, messages=[user("s2")], stream=True
            )
        )

    # Without include_usage there is no usage chunk.
    assert all(chunk.choices and chunk.usage is None for chunk in chunks)
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert content == "Let me check."

    calls: dict[int, dict[str, Any]] = {}
    argument_pieces: dict[int, int] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            if delta.index not in calls:
                # The first delta of a call carries its identity...
                assert delta.id is not None and delta.function is not None
                calls[delta.index] = {"id": delta.id, "name": delta.function.name, "args": ""}
                argument_pieces[delta.index] = 0
            else:
                # ...later ones only argument fragments.
                assert delta.id is None
                assert delta.function is not None and delta.function.name is None
            if delta.function and delta.function.arguments:
                calls[delta.index]["args"] += delta.function.arguments
                argument_pieces[delta.index] += 1

    assert calls == {
        0: {
            "id": "call_s2_0_0",
            "name": "search",
            "args": compact({"query": "weather in s2", "limit": 3}),
        },
        1: {"id": "call_s2_0_1", "name": "noop", "args": "{}"},
    }
    assert argument_pieces[0] == 3
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)


def test_raw_sse_stream_ends_with_done_and_keeps_connection_usable() -> None:
    body = json.dumps(
        {"model": MODEL, "stream": True, "messages": [user("sse")]},
    ).encode()
    with ScriptedOpenAIServer([text("a b")]) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            conn.request("POST", "/v1/chat/completions", body=body)
            response = conn.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
            assert response.getheader("Transfer-Encoding") == "chunked"
            stream = response.read().decode()
            # The same keep-alive connection must still be in sync after a stream.
            conn.request("GET", "/v1/models")
            follow_up = conn.getresponse()
            assert follow_up.status == 200
            assert json.loads(follow_up.read())["data"][0]["id"] == MODEL
        finally:
            conn.close()

    events = [line for line in stream.split("\n\n") if line]
    assert all(event.startswith("data: ") for event in events)
    assert events[-1] == "data: [DONE]"
    payloads = [json.loads(event[len("data: ") :]) for event in events[:-1]]
    assert [p["choices"][0]["delta"] for p in payloads] == [
        {"role": "assistant", "content": "", "refusal": None},
        {"content": "a"},
        {"content": " b"},
        {},
    ]
    assert "usage" not in payloads[0]


async def test_async_client_streaming() -> None:
    with ScriptedOpenAIServer([text("async {conv} works")]) as server:
        client = AsyncOpenAI(api_key="test", base_url=server.base_url, max_retries=0)
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=[user("as")],
            stream=True,
            stream_options={"include_usage": True},
        )
        pieces = []
        usage = None
        async for chunk in stream:
            if chunk.choices:
                pieces.append(chunk.choices[0].delta.content or "")
            usage = chunk.usage or usage
        await client.close()
    assert "".join(pieces) == "async as works"
    assert usage is not None and usage.total_tokens == 15


# -- errors ------------------------------------------------------------------------


def test_error_turn_raises_internal_server_error() -> None:
    with ScriptedOpenAIServer([error(500, "boom in {conv}")]) as server:
        with pytest.raises(openai.InternalServerError) as caught:
            client_for(server).chat.completions.create(model=MODEL, messages=[user("e1")])
        # A scripted error is the script working, not a server problem.
        assert server.errors == []

    assert caught.value.status_code == 500
    assert caught.value.body == {
        "message": "boom in e1",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    assert caught.value.request_id == "req_e1_0"


def test_error_turn_on_stream_and_rate_limit() -> None:
    with ScriptedOpenAIServer([error(429, "slow down")]) as server:
        with pytest.raises(openai.RateLimitError) as caught:
            client_for(server).chat.completions.create(
                model=MODEL, messages=[user("e2")], stream=True
            )
    assert caught.value.status_code == 429
    assert (caught.value.type, caught.value.code) == ("requests", "rate_limit_exceeded")


def test_exhausted_script_is_a_clear_error() -> None:
    with ScriptedOpenAIServer({"x1": [text("only turn")]}) as server:
        client = client_for(server)
        messages = [user("x1")]
        first = client.chat.completions.create(model=MODEL, messages=messages)
        messages += [{"role": "assistant", "content": first.choices[0].message.content}]
        messages += [user("x1", "and then?")]
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model=MODEL, messages=messages)
        errors = server.errors

    assert caught.value.code == "script_exhausted"
    assert caught.value.body["message"] == (
        "ScriptedOpenAIServer: Script exhausted: conversation 'x1', turn 1 requested, "
        "but the script has only 1 turn(s) (turns count assistant messages in the request)"
    )
    assert errors == [caught.value.body["message"].removeprefix("ScriptedOpenAIServer: ")]


def test_unknown_conversation_and_missing_marker() -> None:
    with ScriptedOpenAIServer({"known": [text("hi")]}) as server:
        client = client_for(server)
        with pytest.raises(openai.InternalServerError) as unknown:
            client.chat.completions.create(model=MODEL, messages=[user("other")])
        with pytest.raises(openai.InternalServerError) as unmarked:
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "no marker"}]
            )
        assert len(server.errors) == 2
    assert unknown.value.code == unmarked.value.code == "unknown_conversation"
    assert "No script for conversation 'other' (scripted: known)" in unknown.value.message
    assert "no conversation marker" in unmarked.value.message


def test_default_script_serves_unmarked_requests() -> None:
    server = ScriptedOpenAIServer(
        {"c": [text("conversation {conv}")]}, default=[text("fallback {conv}")]
    )
    with server:
        client = client_for(server)
        plain = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "no marker"}]
        )
        marked = client.chat.completions.create(model=MODEL, messages=[user("c")])
        assert len(server.requests_for(None)) == 1
    assert (plain.id, plain.choices[0].message.content) == (
        "chatcmpl-default-0",
        "fallback default",
    )
    assert (marked.id, marked.choices[0].message.content) == ("chatcmpl-c-0", "conversation c")


def test_responder_callable() -> None:
    seen: list[tuple[str | None, int]] = []

    def respond(conv: str | None, request: Any) -> Turn | None:
        seen.append((conv, turn_index(request)))
        if conv == "fail":
            raise KeyError("nope")
        if conv == "done":
            return None
        return text(f"{conv} asked for model {request['model']}")

    with ScriptedOpenAIServer(respond) as server:
        client = client_for(server)
        reply = client.chat.completions.create(
            model="m1", messages=[{"role": "system", "content": "[conv:sys] be brief"}]
        )
        with pytest.raises(openai.InternalServerError) as failing:
            client.chat.completions.create(model=MODEL, messages=[user("fail")])
        with pytest.raises(openai.InternalServerError) as exhausted:
            client.chat.completions.create(model=MODEL, messages=[user("done")])

    assert reply.choices[0].message.content == "sys asked for model m1"
    assert seen == [("sys", 0), ("fail", 0), ("done", 0)]
    assert failing.value.code == "script_error"
    assert (
        "Responder raised KeyError: 'nope' (conversation 'fail', turn 0)" in failing.value.message
    )
    assert exhausted.value.code == "script_exhausted"


def test_marker_in_content_parts_and_custom_pattern() -> None:
    with ScriptedOpenAIServer(
        [text("for {conv}")], conversation_pattern=r"session=(\w+)"
    ) as server:
        completion = client_for(server).chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": [{"type": "text", "text": "hi session=s42"}]}],
        )
    assert completion.choices[0].message.content == "for s42"


def test_malformed_requests_get_400_and_server_keeps_serving() -> None:
    with ScriptedOpenAIServer([text("fine")]) as server:
        status, headers, body = raw_request(
            server,
            "POST",
            "/v1/chat/completions",
            b"{not json",
            {"Content-Type": "application/json"},
        )
        assert (status, headers["content-type"]) == (400, "application/json")
        problem = json.loads(body)["error"]
        assert (problem["type"], problem["code"]) == ("invalid_request_error", "invalid_json")

        status, _, body = raw_request(server, "POST", "/v1/chat/completions", b"[1, 2]")
        assert status == 400
        status, _, body = raw_request(
            server, "POST", "/v1/chat/completions", b'{"model": "m", "messages": "hi"}'
        )
        assert (status, json.loads(body)["error"]["param"]) == (400, "messages")
        assert len(server.errors) == 3

        completion = client_for(server).chat.completions.create(model=MODEL, messages=[user("ok")])
        assert completion.choices[0].message.content == "fine"


def test_unknown_paths_get_openai_shaped_404() -> None:
    with ScriptedOpenAIServer([text("x")]) as server:
        for method, path in [("GET", "/v1/embeddings"), ("POST", "/v1/completions"), ("DELETE", "/")]:
            status, _, body = raw_request(server, method, path, b"{}")
            assert status == 404
            problem = json.loads(body)["error"]
            assert problem["type"] == "invalid_request_error"
            assert problem["code"] == "unknown_url"
            assert path.rstrip("/") in problem["message"]
        with pytest.raises(openai.NotFoundError):
            client_for(server).embeddings.create(model="e", input="x")


def test_models_endpoint() -> None:
    with ScriptedOpenAIServer([text("x")], models=["model-a", "org/model-b"]) as server:
        client = client_for(server)
        assert [model.id for model in client.models.list()] == ["model-a", "org/model-b"]
        assert client.models.retrieve("model-a").owned_by == "scripted"
        with pytest.raises(openai.NotFoundError) as missing:
            client.models.retrieve("gpt-5")
        assert server.requests == []  # only chat requests are recorded
    assert missing.value.code == "model_not_found"


# -- recording and concurrency -----------------------------------------------------


def test_requests_are_recorded() -> None:
    with ScriptedOpenAIServer([text("one"), text("two")]) as server:
        client = client_for(server)
        client.chat.completions.create(model=MODEL, messages=[user("q1")], temperature=0.5)
        client.chat.completions.create(
            model=MODEL,
            messages=[user("q2"), {"role": "assistant", "content": "one"}, user("q2", "again")],
        )
        snapshot = server.requests
        client.chat.completions.create(model=MODEL, messages=[user("q1", "later")])

        assert len(snapshot) == 2
        assert snapshot[0] == {"model": MODEL, "messages": [user("q1")], "temperature": 0.5}
        assert [len(r["messages"]) for r in server.requests_for("q2")] == [3]
        assert [r["messages"][0]["content"] for r in server.requests_for("q1")] == [
            "[conv:q1] hello",
            "[conv:q1] later",
        ]
        assert len(server.requests) == 3


def test_sixteen_concurrent_conversations_are_deterministic() -> None:
    count = 16
    scripts = {
        f"c{i:02d}": [
            # Early conversations answer last, so completion order differs
            # from arrival order.
            tool_calls(
                [ToolCall("lookup", {"item": i, "conv": "{conv}"})], delay=(count - i) * 0.005
            ),
            tool_calls([ToolCall("lookup", {"item": i + 100})], usage=(i, 1)),
            text(f"answer {i} for {{conv}}", delay=(i % 4) * 0.01),
        ]
        for i in range(count)
    }
    barrier = threading.Barrier(count)

    with ScriptedOpenAIServer(scripts) as server:
        client = client_for(server)

        def converse(i: int) -> list[Any]:
            conv = f"c{i:02d}"
            messages: list[dict[str, Any]] = [
                {"role": "system", "content": "Be terse."},
                user(conv, f"task {i}"),
            ]
            replies = []
            for _ in range(3):
                barrier.wait(timeout=10)  # every conversation's turn in flight at once
                reply = client.chat.completions.create(model=MODEL, messages=messages)
                replies.append(reply)
                message = reply.choices[0].message
                messages.append(message.model_dump(exclude_none=True))
                for call in message.tool_calls or []:
                    messages.append(
                        {"role": "tool", "tool_call_id": call.id, "content": f"result {i}"}
                    )
            return replies

        with ThreadPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(converse, range(count)))
        errors = server.errors
        total_requests = len(server.requests)
        per_conversation = {
            f"c{i:02d}": [turn_index(r) for r in server.requests_for(f"c{i:02d}")]
            for i in range(count)
        }

    assert errors == []
    assert total_requests == 3 * count
    for i, replies in enumerate(results):
        conv = f"c{i:02d}"
        assert per_conversation[conv] == [0, 1, 2]
        assert [r.id for r in replies] == [f"chatcmpl-{conv}-{n}" for n in range(3)]
        first, second, last = (r.choices[0].message for r in replies)
        assert [(c.id, c.function.arguments) for c in first.tool_calls or []] == [
            (f"call_{conv}_0_0", compact({"item": i, "conv": conv}))
        ]
        assert [(c.id, c.function.arguments) for c in second.tool_calls or []] == [
            (f"call_{conv}_1_0", compact({"item": i + 100}))
        ]
        assert replies[1].usage is not None and replies[1].usage.prompt_tokens == i
        assert last.content == f"answer {i} for {conv}"
        assert replies[2].choices[0].finish_reason == "stop"


def test_delay_forces_interleaving() -> None:
    scripts = {"slow": [text("slow", delay=0.4)], "fast": [text("fast")]}
    finished: list[str] = []
    with ScriptedOpenAIServer(scripts) as server:
        client = client_for(server)

        def ask(conv: str) -> None:
            reply = client.chat.completions.create(model=MODEL, messages=[user(conv)])
            finished.append(reply.choices[0].message.content or "")

        slow = threading.Thread(target=ask, args=("slow",))
        slow.start()
        time.sleep(0.1)  # the slow request is certainly in flight first
        ask("fast")
        slow.join(timeout=5)
    assert finished == ["fast", "slow"]


# -- robustness --------------------------------------------------------------------


def test_client_disconnect_mid_stream_is_quiet(capfd: pytest.CaptureFixture[str]) -> None:
    long_text = " ".join(f"w{i}" for i in range(2000))
    # At 10 ms per chunk the stream would last 20 s unless the disconnect ends it.
    script = {"gone": [text(long_text, chunk_delay=0.01)], "after": [text("still here")]}
    with ScriptedOpenAIServer(script) as server:
        body = json.dumps({"model": MODEL, "stream": True, "messages": [user("gone")]}).encode()
        head = (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(head + body)
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 OK")
        assert wait_until(lambda: not handler_threads()), "stream kept writing after disconnect"

        reply = client_for(server).chat.completions.create(model=MODEL, messages=[user("after")])
        assert reply.choices[0].message.content == "still here"
        assert server.errors == []
    assert capfd.readouterr().err == ""


def test_stop_interrupts_streams_and_allows_restart() -> None:
    server = ScriptedOpenAIServer([text(" ".join(["x"] * 1000), chunk_delay=0.05)])
    server.start()
    client = client_for(server)
    stream = client.chat.completions.create(model=MODEL, messages=[user("st")], stream=True)
    first = next(iter(stream))
    assert first.id == "chatcmpl-st-0"

    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 10  # the stream had 50 s left to run
    with pytest.raises(Exception):  # noqa: B017 - the transport error type is the client's business
        for _ in stream:
            pass
    server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = server.base_url

    with server:  # a stopped server can start again, on a new port
        assert client_for(server).models.list().data[0].id == MODEL


def test_quiet_by_default(capfd: pytest.CaptureFixture[str]) -> None:
    with ScriptedOpenAIServer([text("x")]) as server:
        client_for(server).chat.completions.create(model=MODEL, messages=[user("quiet")])
        raw_request(server, "GET", "/nope")
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_invalid_scripts_fail_early() -> None:
    with pytest.raises(ValueError):
        text("x", delay=-1)
    with pytest.raises(ValueError):
        tool_calls([])
    with pytest.raises(ValueError):
        error(200)
    with pytest.raises(TypeError):
        ScriptedOpenAIServer(["not a turn"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        ScriptedOpenAIServer([text("x")], conversation_pattern=r"conv:\w+")
    with pytest.raises(RuntimeError):
        _ = ScriptedOpenAIServer([text("x")]).base_url
    assert text("x").with_delay(0.5).delay == 0.5


def test_marker_last_follows_the_latest_prompt_in_a_shared_history():
    # One history shared by two callers: conversation "a" asked first and got
    # an answer, then "b" asked. The request is b's, at b's first turn.
    scripts = {"a": [text("a0 {conv}"), text("a1 {conv}")],
               "b": [text("b0 {conv}"), text("b1 {conv}")]}
    with ScriptedOpenAIServer(scripts, marker="last") as server:
        client = openai.OpenAI(api_key="test", base_url=server.base_url, max_retries=0)
        history = [{"role": "user", "content": "[conv:a] hi"},
                   {"role": "assistant", "content": "a0 a"},
                   {"role": "user", "content": "[conv:b] hello"}]
        first = client.chat.completions.create(model="m", messages=history)
        assert first.choices[0].message.content == "b0 b"
        history += [{"role": "assistant", "content": "b0 b"},
                    {"role": "user", "content": "[conv:b] again"}]
        assert client.chat.completions.create(
            model="m", messages=history).choices[0].message.content == "b0 b"
    with ScriptedOpenAIServer(scripts) as server:  # the default reads the first marker
        client = openai.OpenAI(api_key="test", base_url=server.base_url, max_retries=0)
        reply = client.chat.completions.create(model="m", messages=history[:3])
        assert reply.choices[0].message.content == "a1 a"
    with pytest.raises(ValueError, match="marker"):
        ScriptedOpenAIServer(scripts, marker="middle")


def test_usage_details_in_chat_completions() -> None:
    script = {"u1": [text("x", usage=(50, 20), cache_read_tokens=40, reasoning_tokens=12)],
              "u2": [text("y")]}
    with ScriptedOpenAIServer(script) as server:
        client = client_for(server)
        reply = client.chat.completions.create(model=MODEL, messages=[user("u1")])
        chunks = list(client.chat.completions.create(
            model=MODEL, messages=[user("u1")], stream=True,
            stream_options={"include_usage": True},
        ))
        plain = client.chat.completions.create(model=MODEL, messages=[user("u2")])
    for usage in (reply.usage, chunks[-1].usage):
        assert (usage.prompt_tokens, usage.completion_tokens) == (50, 20)
        assert usage.prompt_tokens_details.cached_tokens == 40
        assert usage.completion_tokens_details.reasoning_tokens == 12
    # Details the turn does not set are not sent at all.
    assert plain.usage.prompt_tokens_details is None
    assert plain.usage.completion_tokens_details is None


def test_first_chunk_delay_comes_after_the_headers() -> None:
    with ScriptedOpenAIServer([text("late start", first_chunk_delay=FIRST_CHUNK_DELAY)]) as server:
        client = client_for(server)
        started = time.perf_counter()
        stream = client.chat.completions.create(model=MODEL, messages=[user("d1")], stream=True)
        headers_at = time.perf_counter() - started
        first = next(iter(stream))
        first_at = time.perf_counter() - started
        stream.close()
    assert_first_chunk_held_back(headers_at, first_at)
    assert first.choices[0].delta.role == "assistant"


def test_turn_rejects_negative_usage_details() -> None:
    with pytest.raises(ValueError):
        text("x", reasoning_tokens=-1)
    with pytest.raises(ValueError):
        text("x", first_chunk_delay=-0.1)
