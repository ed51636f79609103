"""Streamed model responses: the chat span ends when the stream does.

PraisonAI reads an OpenAI `Stream` / `AsyncStream` to its end, in a live
display or in `start(stream=True)`; a consumer that stops early leaves it
half read. The proxies below hand out a traced iterator and pass everything
else through, so the stream's own API (`close`, `response`, `with`) still
works; what a span needs is read off each chunk as it goes by.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import wrapt

from .. import _usage
from .. import attributes as A
from .._safety import report
from .._streams import trace_async_stream, trace_sync_stream
from . import _messages

if TYPE_CHECKING:
    from .._handler import TelemetryHandler
    from ._call import Call, Watch


def outcome(call: Call, result: Any) -> Any:
    """End the span for what the call returned; a stream ends when it is read."""
    try:
        if result is None:
            # Only the stream processors return None: they caught an error.
            error = call.watch.error if call.watch is not None else None
            call.failed(error, None if error is not None else "model_error")
        elif hasattr(result, "choices"):
            call.completed(result)
        elif hasattr(result, "__aiter__") or hasattr(result, "__iter__"):
            return traced(result, call)
        else:
            call.handler.finish_chat(call.inv)
    except Exception:  # noqa: BLE001
        report("praisonai model call end")
        call.handler.finish_chat(call.inv)
    return result


def traced(stream: Any, call: Call) -> Any:
    """`stream` with its iteration traced for `call`."""
    observer = ChunkObserver(call)
    if hasattr(stream, "__aiter__"):
        return _AsyncStream(stream, observer)
    return _SyncStream(stream, observer)


class ChunkObserver:
    """Reads what a span needs off each chunk; the span ends with the stream."""

    __slots__ = ("call", "calls", "context", "finish", "model", "response_id", "text",
                 "usage")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.context = call.context
        self.response_id: str | None = None
        self.model: str | None = None
        self.finish: str | None = None
        self.usage: Any = None
        self.text: list[str] | None = [] if call.handler.capture_content else None
        # Tool-call deltas by index: [id, name, argument pieces] (content capture only).
        self.calls: dict[int, list[Any]] = {}
        if call.turn is not None:
            call.turn.open_chat = call.inv

    def on_item(self, chunk: Any) -> None:
        self.call.handler.chat_chunk(self.call.inv)
        if self.response_id is None:
            self.response_id = chunk.id
            self.model = chunk.model
        choices = chunk.choices
        if choices:
            choice = choices[0]
            if choice.finish_reason is not None:
                self.finish = choice.finish_reason
            if self.text is not None and choice.delta is not None:
                if choice.delta.content:
                    self.text.append(choice.delta.content)
                if choice.delta.tool_calls:
                    _messages.add_tool_call_deltas(self.calls, choice.delta.tool_calls)
        if chunk.usage is not None:
            self.usage = chunk.usage

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        call = self.call
        if call.inv.ended:
            return
        if error is not None:
            call.failed(error)
            return
        if self.finish is None:
            # Read only in part: the consumer stopped, or the stream was cut.
            call.failed(error_type="incomplete_stream")
            return
        finish = str(self.finish)
        usage = self.usage
        output = None
        if self.text is not None:
            output = _messages.streamed(self.text, self.calls, finish)
        call.succeeded(
            A.FINISH_TOOL_CALLS if finish == A.FINISH_TOOL_CALLS else A.FINISH_STOP,
            response_model=self.model, response_id=self.response_id, finish_reasons=[finish],
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
            usage_details=_usage.details(usage), output_messages=output)


class _WatchObserver:
    """Inside a stream processor: notes each chunk's arrival and the usage chunk;
    the processor's own wrapper ends the span."""

    __slots__ = ("context", "handler", "watch")

    def __init__(self, watch: Watch, handler: TelemetryHandler) -> None:
        self.watch = watch
        self.handler = handler
        self.context = watch.inv.context

    def on_item(self, chunk: Any) -> None:
        self.handler.chat_chunk(self.watch.inv)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.watch.usage = usage

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        pass


def watched(stream: Any, watch: Watch, handler: TelemetryHandler) -> Any:
    """The SDK stream a stream processor reads, with its chunks noted for `watch`."""
    try:
        observer = _WatchObserver(watch, handler)
        if hasattr(stream, "__aiter__"):
            return _WatchedAsync(stream, observer)
        if hasattr(stream, "__iter__"):
            return _WatchedSync(stream, observer)
    except Exception:  # noqa: BLE001
        report("praisonai stream processor chunks")
    return stream


class _WatchedSync(wrapt.ObjectProxy):
    def __init__(self, stream: Any, observer: _WatchObserver) -> None:
        super().__init__(stream)
        self._self_traced = trace_sync_stream(stream, lambda: observer)

    def __iter__(self):
        return self._self_traced

    def __next__(self):
        return next(self._self_traced)


class _WatchedAsync(wrapt.ObjectProxy):
    def __init__(self, stream: Any, observer: _WatchObserver) -> None:
        super().__init__(stream)
        self._self_traced = trace_async_stream(stream, lambda: observer)

    def __aiter__(self):
        return self._self_traced

    async def __anext__(self):
        return await self._self_traced.__anext__()


def _abandoned(observer: ChunkObserver) -> None:
    # A stream dropped before it was read at all never runs the traced
    # generator's `finally`; its span ends when the generator is collected.
    try:
        observer.on_end(None, True)
    except Exception:  # noqa: BLE001
        report("praisonai abandoned stream")


class _SyncStream(wrapt.ObjectProxy):
    """An OpenAI `Stream` whose iteration is traced; everything else passes through."""

    def __init__(self, stream: Any, observer: ChunkObserver) -> None:
        super().__init__(stream)
        traced = trace_sync_stream(stream, lambda: observer)
        # On the generator, not the proxy: `for c in create(...)` drops the
        # proxy at once and keeps only the iterator.
        weakref.finalize(traced, _abandoned, observer)
        self._self_traced = traced
        self._self_observer = observer

    def __iter__(self):
        return self._self_traced

    def __next__(self):
        return next(self._self_traced)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        self._self_traced.close()
        _abandoned(self._self_observer)
        self.__wrapped__.close()


class _AsyncStream(wrapt.ObjectProxy):
    """An OpenAI `AsyncStream` whose iteration is traced."""

    def __init__(self, stream: Any, observer: ChunkObserver) -> None:
        super().__init__(stream)
        traced = trace_async_stream(stream, lambda: observer)
        weakref.finalize(traced, _abandoned, observer)
        self._self_traced = traced
        self._self_observer = observer

    def __aiter__(self):
        return self._self_traced

    async def __anext__(self):
        return await self._self_traced.__anext__()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self._self_traced.aclose()
        _abandoned(self._self_observer)
        await self.__wrapped__.close()
