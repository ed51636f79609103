"""Assertions the stress tests share; nothing here imports a runtime."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from opentelemetry.instrumentation.agents.testing import SpanNode, build_trees, render

# Values that differ between two runs of the same script: ids, timestamps.
VOLATILE_KEYS = frozenset({
    "id", "created_at", "finished_at", "session_id", "reply_id", "timestamp",
    "run_id", "agent_id", "time", "created", "base_url",
})
_SECONDS = re.compile(r"\b\d+(\.\d+)?s\b")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_HEX_ID = re.compile(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12}\b")


def normalize(value: Any, _path: frozenset[int] = frozenset()) -> Any:
    """`value` as plain data without what legitimately differs between two runs.

    Pydantic models are dumped; ids and timestamps (as keys, or inside text)
    are dropped or masked; a container that holds itself becomes "<cycle>".
    Everything else, the content above all, stays.
    """
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        value = dump(mode="json")
    elif callable(getattr(value, "to_dict", None)):
        value = value.to_dict()
    if isinstance(value, (dict, list, tuple)):
        if id(value) in _path:
            return "<cycle>"
        path = _path | {id(value)}
        if isinstance(value, dict):
            return {str(k): normalize(v, path) for k, v in value.items()
                    if k not in VOLATILE_KEYS}
        return [normalize(v, path) for v in value]
    if isinstance(value, str):
        return _SECONDS.sub("<n>s", _HEX_ID.sub("<id>", _TIME.sub("<time>", value)))
    return value


def by_trace(spans: Iterable[ReadableSpan]) -> dict[int, list[ReadableSpan]]:
    grouped: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        grouped.setdefault(span.context.trace_id, []).append(span)
    return grouped


def isolated_trees(spans: Sequence[ReadableSpan], count: int) -> list[SpanNode]:
    """`count` traces, each one tree with an ``invoke_agent`` root; returns the roots.

    A span that landed in another invocation's trace would make that trace
    hold two roots or a tree of the wrong shape (checked by the caller); a
    span whose parent is lost would be a second root.
    """
    grouped = by_trace(spans)
    assert len(grouped) == count, f"expected {count} traces, found {len(grouped)}"
    roots = []
    for members in grouped.values():
        trees = build_trees(members)
        assert len(trees) == 1, "a trace with several roots:\n" + render(trees)
        assert trees[0].name.startswith("invoke_agent"), render(trees)
        roots.append(trees[0])
    assert sum(len(list(root.walk())) for root in roots) == len(spans)
    roots.sort(key=lambda node: node.span.start_time or 0)
    return roots


def assert_overlapped(trees: Sequence[SpanNode]) -> None:
    starts = [tree.span.start_time for tree in trees]
    ends = [tree.span.end_time for tree in trees]
    assert max(starts) < min(ends), "the invocations did overlap"


def assert_one_trace(tree: SpanNode) -> None:
    trace_id = tree.span.context.trace_id
    assert all(node.span.context.trace_id == trace_id for node in tree.walk())


def assert_all_ended_once(detector: Any) -> None:
    """Every span started was ended, and ended once."""
    detector.assert_all_ended()
    assert detector.started == detector.ended, (detector.started, detector.ended)


def errors(spans: Iterable[ReadableSpan]) -> dict[str, str]:
    """Span name -> error.type of every span that ended in error."""
    found = {}
    for span in spans:
        if span.status.status_code is StatusCode.ERROR:
            found[span.name] = span.attributes.get("error.type")
    return found


def warnings_from_us(caplog: Any) -> list[Any]:
    return [r for r in caplog.records
            if r.name.startswith("opentelemetry.instrumentation.agents")
            and r.levelname == "WARNING"]


class Gate:
    """Holds tool calls until released, and counts how many are waiting.

    Lets a test act (say, `uninstrument()`) while a known number of
    invocations are inside a tool call, from threads or asyncio tasks.
    """

    def __init__(self) -> None:
        self._entered = 0
        self._cond = threading.Condition()
        self.released = threading.Event()

    def enter(self) -> None:
        with self._cond:
            self._entered += 1
            self._cond.notify_all()

    def wait_sync(self) -> None:
        self.enter()
        assert self.released.wait(20), "the gate was never opened"

    async def wait_async(self) -> None:
        import asyncio

        self.enter()
        for _ in range(4000):
            if self.released.is_set():
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the gate was never opened")

    def wait_for_entered(self, count: int, timeout: float = 20) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self._entered >= count, timeout), \
                f"{self._entered} of {count} calls reached the gate"

    def release(self) -> None:
        self.released.set()


def run_in_threads(target: Callable[[Any], Any], items: Sequence[Any],
                   timeout: float = 60) -> dict[Any, Any]:
    """`target(item)` for every item, each on its own thread, started together.

    Returns item -> result; an exception in any thread fails the caller.
    """
    barrier = threading.Barrier(len(items))
    results: dict[Any, Any] = {}
    failures: list[BaseException] = []

    def work(item: Any) -> None:
        try:
            barrier.wait(timeout)
            results[item] = target(item)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    if failures:
        raise failures[0]
    return results


def outcome(call: Callable[[], Any], known: Sequence[BaseException] = ()) -> dict[str, Any]:
    """What the host sees of `call()`: its result, or the exception it raised.

    `known` are exception objects the script raised itself: whether the host
    caught that very object (not a copy, not a wrapper) is part of the outcome.
    """
    try:
        result = call()
    except BaseException as exc:  # noqa: BLE001 - the outcome under test
        return _raised(exc, known)
    return {"returned": normalize(result)}


async def async_outcome(call: Callable[[], Any],
                        known: Sequence[BaseException] = ()) -> dict[str, Any]:
    """`outcome` of a coroutine function."""
    try:
        result = await call()
    except BaseException as exc:  # noqa: BLE001 - the outcome under test
        return _raised(exc, known)
    return {"returned": normalize(result)}


def _raised(exc: BaseException, known: Sequence[BaseException]) -> dict[str, Any]:
    return {"raised": type(exc).__qualname__, "message": normalize(str(exc)),
            "the script's own object": any(exc is k for k in known)}


STATUS_LIMIT = 1024


def assert_exportable(spans: Sequence[ReadableSpan], limit: int) -> None:
    """The spans survive OTLP encoding whole, and no string in them is over `limit`.

    An exporter drops an attribute it cannot encode as UTF-8 (a lone
    surrogate) and fails a whole batch over such a status description.
    """
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    encode_spans(spans).SerializeToString()
    for span in spans:
        span.name.encode("utf-8")
        assert len(span.name) <= limit, span.name[:100]
        description = span.status.description or ""
        description.encode("utf-8")
        assert len(description) <= STATUS_LIMIT
        for key, value in (span.attributes or {}).items():
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, str):
                    item.encode("utf-8")
                    assert len(item) <= limit, (span.name, key, len(item))
