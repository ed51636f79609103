"""The generator proxies: context per step, one end however the stream stops."""

from __future__ import annotations

import asyncio
import gc

import pytest

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.agents._streams import trace_async_stream, trace_sync_stream

KEY = otel_context.create_key("test-marker")


class Observer:
    def __init__(self):
        self.context = otel_context.set_value(KEY, "ours")
        self.items = []
        self.ends = []

    def on_item(self, item):
        self.items.append(item)

    def on_end(self, error, closed_early):
        self.ends.append((error, closed_early))


def _marker():
    return otel_context.get_value(KEY)


async def _numbers(n, seen):
    for i in range(n):
        seen.append(_marker())
        yield i


async def test_async_exhausted_runs_in_context_only_during_steps():
    seen, obs = [], Observer()
    outside = []
    async for item in trace_async_stream(_numbers(3, seen), lambda: obs):
        outside.append(_marker())
        assert item is not None
    assert seen == ["ours"] * 3  # the source ran inside our context
    assert outside == [None] * 3  # the consumer never did
    assert obs.items == [0, 1, 2]
    assert obs.ends == [(None, False)]


async def test_async_exception_passes_through_unchanged():
    boom = KeyError("x")

    async def failing():
        yield 1
        raise boom

    obs = Observer()
    with pytest.raises(KeyError) as caught:
        async for _ in trace_async_stream(failing(), lambda: obs):
            pass
    assert caught.value is boom
    assert obs.ends == [(boom, False)]


async def test_async_break_and_aclose_end_once_and_close_source():
    closed = []

    async def source():
        try:
            for i in range(10):
                yield i
        finally:
            closed.append(_marker())

    obs = Observer()
    stream = trace_async_stream(source(), lambda: obs)
    async for _ in stream:
        break
    await stream.aclose()
    await stream.aclose()
    assert obs.ends == [(None, True)]
    assert closed == ["ours"]  # the source was closed, inside our context


async def test_async_cancellation_mid_step_ends_with_error():
    started = asyncio.Event()

    async def slow():
        yield 1
        started.set()
        await asyncio.sleep(10)
        yield 2

    obs = Observer()

    async def consume():
        async for _ in trace_async_stream(slow(), lambda: obs):
            pass

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(obs.ends) == 1
    assert isinstance(obs.ends[0][0], asyncio.CancelledError)


async def test_async_garbage_collected_stream_ends():
    obs = Observer()
    stream = trace_async_stream(_numbers(5, []), lambda: obs)
    assert await stream.__anext__() == 0
    del stream
    gc.collect()
    for _ in range(5):  # the loop's finalizer closes it in a task of its own
        await asyncio.sleep(0)
    assert obs.ends == [(None, True)]


async def test_async_never_started_calls_nothing():
    calls = []
    stream = trace_async_stream(_numbers(1, []), lambda: calls.append(1))
    del stream
    gc.collect()
    assert calls == []


async def test_async_send_and_throw_are_forwarded():
    received = []

    async def echo():
        value = yield "ready"
        while True:
            try:
                value = yield f"got {value}"
            except ValueError as exc:
                received.append(exc)
                value = yield "recovered"

    obs = Observer()
    stream = trace_async_stream(echo(), lambda: obs)
    assert await stream.__anext__() == "ready"
    assert await stream.asend("a") == "got a"
    err = ValueError("thrown")
    assert await stream.athrow(err) == "recovered"
    assert received == [err]
    await stream.aclose()
    assert obs.ends == [(None, True)]


async def test_async_begin_returning_none_forwards_only():
    out = [i async for i in trace_async_stream(_numbers(3, []), lambda: None)]
    assert out == [0, 1, 2]


async def test_async_failing_observer_does_not_break_stream(caplog):
    class Broken(Observer):
        def on_item(self, item):
            raise RuntimeError("our bug")

        def on_end(self, error, closed_early):
            raise RuntimeError("our other bug")

    out = [i async for i in trace_async_stream(_numbers(3, []), Broken)]
    assert out == [0, 1, 2]
    assert "unaffected" in caplog.text


def test_sync_stream_variants():
    seen = []

    def gen():
        for i in range(3):
            seen.append(_marker())
            yield i
        return "result"

    obs = Observer()
    stream = trace_sync_stream(gen(), lambda: obs)
    assert list(stream) == [0, 1, 2]
    assert seen == ["ours"] * 3
    assert obs.ends == [(None, False)]

    def wrapper():
        return (yield from trace_sync_stream(gen(), Observer))

    collected = []
    inner = wrapper()
    try:
        while True:
            collected.append(next(inner))
    except StopIteration as stop:
        assert stop.value == "result"  # the source's return value passes through

    obs2 = Observer()
    stream = trace_sync_stream(gen(), lambda: obs2)
    next(stream)
    stream.close()
    assert obs2.ends == [(None, True)]

    obs3 = Observer()
    stream = trace_sync_stream(gen(), lambda: obs3)
    next(stream)
    del stream
    gc.collect()
    assert obs3.ends == [(None, True)]


def test_span_context_is_not_left_attached():
    tracer = trace.NoOpTracerProvider().get_tracer("t")
    before = otel_context.get_current()
    with tracer.start_as_current_span("x"):
        pass
    obs = Observer()
    list(trace_sync_stream(iter([1, 2]), lambda: obs))
    assert otel_context.get_current() == before
