"""Proxies that trace a generator without changing what its consumer sees.

The traced invocation's context is attached only while the wrapped generator
runs one step, and detached before the item goes to the consumer, so nothing
of ours is current across a ``yield``. ``on_end`` runs exactly once, however
the stream stops: exhausted, raised, closed early (``break``, ``aclose()``),
cancelled, or finalized by the garbage collector. Values sent or thrown into
the proxy are forwarded to the wrapped generator.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import Any, Protocol

from opentelemetry.context import Context

from ._context import attach as _attach
from ._context import detach as _detach
from ._safety import report


class StreamObserver(Protocol):
    """What a proxy reports to: the context to run in, each item, and the end."""

    context: Context

    def on_item(self, item: Any) -> None: ...

    def on_end(self, error: BaseException | None, closed_early: bool) -> None: ...


class EndingObserver:
    """An observer that only ends its invocation, `finish(inv, error=...)`,
    when the stream stops (a workflow run, a remote agent's reply)."""

    __slots__ = ("context", "finish", "inv")

    def __init__(self, finish: Callable[..., None], inv: Any) -> None:
        self.finish = finish
        self.inv = inv
        self.context = inv.context

    def on_item(self, item: Any) -> None:
        pass

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        self.finish(self.inv, error=error)


def _begin(begin: Callable[[], StreamObserver | None]) -> StreamObserver | None:
    try:
        return begin()
    except Exception:  # noqa: BLE001
        report("starting a stream")
        return None


async def trace_async_stream(source: AsyncIterator[Any],
                             begin: Callable[[], StreamObserver | None],
                             observe_items: bool = True) -> AsyncGenerator[Any, Any]:
    """Yield what `source` yields; `begin` runs when the consumer first asks.

    Starting lazily means a stream that is created but never iterated emits
    nothing, and the span's parent is the context of whoever iterates it.
    """
    observer = _begin(begin)
    if observer is None:  # not traced (suppressed, or our start failed): forward only
        async for item in _forward_async(source):
            yield item
        return
    ctx = observer.context
    on_item = observer.on_item if observe_items else None
    error: BaseException | None = None
    to_send: Any = None
    to_throw: BaseException | None = None
    closed_early = False
    try:
        while True:
            token = _attach(ctx)
            try:
                if to_throw is not None:
                    exc, to_throw = to_throw, None
                    item = await source.athrow(exc)  # type: ignore[attr-defined]
                elif to_send is not None:
                    item = await source.asend(to_send)  # type: ignore[attr-defined]
                else:
                    item = await source.__anext__()
            except StopAsyncIteration:
                return
            finally:
                _detach(token)
            if on_item is not None:
                try:
                    on_item(item)
                except Exception:  # noqa: BLE001
                    report("observing a stream item")
            try:
                to_send = yield item
            except GeneratorExit:
                raise  # closed early: handled below, not forwarded
            except BaseException as exc:  # noqa: BLE001 - forwarded, not swallowed
                to_throw = exc
    except GeneratorExit:
        closed_early = True
        await _aclose(source, ctx)
        raise
    except BaseException as exc:
        error = exc
        raise
    finally:
        try:  # `_end`, spelt out: on every stream's path
            observer.on_end(error, closed_early)
        except Exception:  # noqa: BLE001
            report("ending a stream")


async def _aclose(source: AsyncIterator[Any], ctx: Context) -> None:
    """Close `source` (the consumer closed our stream early) in its context."""
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        token = _attach(ctx)
        try:
            await aclose()
        finally:
            _detach(token)


async def _forward_async(source: AsyncIterator[Any]) -> AsyncGenerator[Any, Any]:
    to_send: Any = None
    to_throw: BaseException | None = None
    try:
        while True:
            try:
                if to_throw is not None:
                    exc, to_throw = to_throw, None
                    item = await source.athrow(exc)  # type: ignore[attr-defined]
                elif to_send is not None:
                    item = await source.asend(to_send)  # type: ignore[attr-defined]
                else:
                    item = await source.__anext__()
            except StopAsyncIteration:
                return
            try:
                to_send = yield item
            except GeneratorExit:
                raise
            except BaseException as exc:  # noqa: BLE001
                to_throw = exc
    except GeneratorExit:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()
        raise


def trace_sync_stream(
    source: Iterator[Any],
    begin: Callable[[], StreamObserver | None],
    observe_items: bool = True,
) -> Generator[Any, Any, Any]:
    """The synchronous twin of `trace_async_stream`; returns the source's value."""
    observer = _begin(begin)
    if observer is None:
        return (yield from source)
    ctx = observer.context
    on_item = observer.on_item if observe_items else None
    error: BaseException | None = None
    closed_early = False
    to_send: Any = None
    to_throw: BaseException | None = None
    try:
        while True:
            token = _attach(ctx)
            try:
                if to_throw is not None:
                    exc, to_throw = to_throw, None
                    item = source.throw(exc)  # type: ignore[attr-defined]
                elif to_send is not None:
                    item = source.send(to_send)  # type: ignore[attr-defined]
                else:
                    item = next(source)
            except StopIteration as stop:
                return stop.value
            finally:
                _detach(token)
            if on_item is not None:
                try:
                    on_item(item)
                except Exception:  # noqa: BLE001
                    report("observing a stream item")
            try:
                to_send = yield item
            except GeneratorExit:
                raise  # closed early: handled below, not forwarded
            except BaseException as exc:  # noqa: BLE001
                to_throw = exc
    except GeneratorExit:
        closed_early = True
        _close(source, ctx)
        raise
    except BaseException as exc:
        error = exc
        raise
    finally:
        try:  # `_end`, spelt out: on every stream's path
            observer.on_end(error, closed_early)
        except Exception:  # noqa: BLE001
            report("ending a stream")


def _close(source: Iterator[Any], ctx: Context) -> None:
    """Close `source` (the consumer closed our stream early) in its context."""
    close = getattr(source, "close", None)
    if close is not None:
        token = _attach(ctx)
        try:
            close()
        finally:
            _detach(token)
