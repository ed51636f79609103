"""Overhead of the instrumentation, measured side by side in one run.

For each runtime it times one invocation of a real agent (scripted model,
one tool) three ways, interleaved repetition by repetition:

- uninstrumented;
- instrumented, SDK with a SimpleSpanProcessor into a discarding exporter;
- instrumented, no SDK configured (the API's default no-op provider);

and, in the same run, the SDK's own cost of the very same spans: the spans
one instrumented invocation produced (names, kinds, nesting, attributes) are
replayed by hand with the SDK *beside* each uninstrumented invocation, so
they are paid in the same conditions (cold caches included) as in a real
run. The headline is

    (instrumented - uninstrumented) per span  /  bare SDK cost per span

A second table, in the same run: the overhead per invocation with message
content captured, for histories of 10, 100 and 1,000 messages (`history`).

Usage: python benchmarks/run.py [--reps N] [--quick] [--bytecodes] [--history-only] [--memory]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import wrapt
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry import trace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cases
import core


class DiscardingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def _sdk_provider(exporter: SpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _record(case: cases.Case) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    case.instrumentor.instrument(tracer_provider=_sdk_provider(exporter))
    try:
        case.invoke(1, None)
    finally:
        case.instrumentor.uninstrument()
    return list(exporter.get_finished_spans())


def _replayer(spans: list[ReadableSpan], provider: TracerProvider) -> Callable[[], None]:
    """Make the same spans by hand: same names, kinds, nesting and attributes."""
    tracer = provider.get_tracer("bare-sdk")
    children: dict[int | None, list[ReadableSpan]] = {}
    ids = {s.context.span_id for s in spans}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = span.parent.span_id if span.parent and span.parent.span_id in ids else None
        children.setdefault(parent, []).append(span)
    plan = [(s.name, s.kind, dict(s.attributes or {}), s.context.span_id) for s in spans]
    by_id = {span_id: (name, kind, attrs) for name, kind, attrs, span_id in plan}

    def emit(span_id: int, ctx: Any) -> None:
        name, kind, attrs = by_id[span_id]
        span = tracer.start_span(name, context=ctx, kind=kind, attributes=attrs)
        inner = trace.set_span_in_context(span, ctx)
        for child in children.get(span_id, ()):
            emit(child.context.span_id, inner)
        span.end()

    def replay() -> None:
        for root in children.get(None, ()):
            emit(root.context.span_id, None)

    return replay


def _patched_wrappers(case: cases.Case) -> dict[Any, Callable[..., Any]]:
    """Our wrapper functions, by code object, as installed right now."""
    wrappers = {}
    for owner, attribute in case.instrumentor._patcher.patched():
        installed = owner.__dict__.get(attribute) if isinstance(owner, type) else \
            getattr(owner, attribute, None)
        wrapper = getattr(installed, "_self_wrapper", None)
        if wrapper is not None and hasattr(wrapper, "__code__"):
            wrappers[wrapper.__code__] = wrapper
    return wrappers


def _invoke_hooked(case: cases.Case, hook: Any, set_here: Callable[[Any], None],
                   set_new_threads: Callable[[Any], None],
                   beside: Callable[[], None] | None = None) -> None:
    """One invocation with `hook` as profile or trace function on every thread.

    Runtimes run tools and requests on threads of their own.
    """
    set_new_threads(hook)
    set_here(hook)
    try:
        case.invoke(1, beside)
    finally:
        set_here(None)
        set_new_threads(None)


def _wrapped_calls(case: cases.Case) -> dict[Any, int]:
    """How many times one invocation enters each of our wrappers (no SDK)."""
    case.instrumentor.instrument()
    try:
        wrappers = _patched_wrappers(case)
        counts = dict.fromkeys(wrappers, 0)

        def profile(frame: Any, event: str, arg: Any) -> None:
            if event == "call" and frame.f_code in counts:
                counts[frame.f_code] += 1

        _invoke_hooked(case, profile, sys.setprofile, threading.setprofile)
        return counts
    finally:
        case.instrumentor.uninstrument()


def _bytecodes(case: cases.Case, beside: Callable[[], None] | None = None) -> int:
    """Python bytecode instructions one invocation executes, in every thread.

    A count, not a time: the same on every run and every machine, so it shows
    what the instrumentation adds without any noise (though not what the
    work done in C costs).
    """
    case.invoke(3, beside)
    executed = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal executed
        frame.f_trace_opcodes = True
        if event == "opcode":
            executed += 1
        return tracer

    _invoke_hooked(case, tracer, sys.settrace, threading.settrace, beside)
    return executed


def _bytecodes_added(case: cases.Case, sdk: TracerProvider,
                     replay: Callable[[], None]) -> tuple[int, int]:
    """(bytecodes the instrumentation adds, bytecodes the bare SDK replay adds)."""
    plain = _bytecodes(case)
    bare = _bytecodes(case, replay) - plain
    case.instrumentor.instrument(tracer_provider=sdk)
    try:
        ours = _bytecodes(case) - plain
    finally:
        case.instrumentor.uninstrument()
    return ours, bare


def _per_call(call: Callable[[], Any], n: int = 20000) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            call()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def wrapper_cost(case: cases.Case, counts: dict[Any, int]) -> float | None:
    """Microseconds one wrapped call costs with no SDK configured.

    Each of our installed wrappers is put, through the same wrapt proxy,
    around a method that does nothing, and timed against that method called
    directly; the figure is the mean over one invocation's wrapped calls. This
    isolates the few hundred nanoseconds a wrapped call costs, which the
    end-to-end difference cannot resolve beside a millisecond invocation.
    """
    case.instrumentor.instrument()  # no SDK: the wrappers take their fast path
    try:
        wrappers = _patched_wrappers(case)
        def target(self: Any, *args: Any, **kwargs: Any) -> None:
            return None

        class Plain:
            method = target

        plain = Plain()
        total = weight = 0.0
        for code, wrapper in wrappers.items():
            calls = counts.get(code, 0)
            if not calls:
                continue

            class Wrapped:
                method = wrapt.FunctionWrapper(target, wrapper)

            wrapped = Wrapped()
            try:
                wrapped.method("x")
            except Exception:  # noqa: BLE001 - a wrapper that needs real arguments
                continue
            # The direct call timed right beside each wrapper: a slow spell
            # of the machine then lands on both.
            base = _per_call(lambda: plain.method("x"))
            total += (_per_call(lambda w=wrapped: w.method("x")) - base) * calls
            weight += calls
        return total / weight * 1e6 if weight else None
    finally:
        case.instrumentor.uninstrument()


def _timed(case: cases.Case, inner: int, warm: int,
           beside: Callable[[], None] | None = None) -> float:
    # Warm-up first: patching or unpatching a class resets what the
    # interpreter has specialized for it, and the first invocations after a
    # switch pay for that whichever the condition.
    case.invoke(warm, beside)
    gc.collect()
    gc.disable()
    try:
        start = CLOCK()
        case.invoke(inner, beside)
        return (CLOCK() - start) / inner
    finally:
        gc.enable()


# CPU time of the whole process (every thread, the loopback model server's
# included): what the instrumentation adds is CPU work, and CPU time leaves
# out the waits (thread hand-offs, socket wake-ups) that make wall time noisy.
CLOCK = time.process_time

# "control" is the uninstrumented run timed a second time: its difference to
# "plain" is the noise floor of every other difference in the row.
CONDITIONS = ("plain", "control", "bare", "sdk", "nosdk")


def measure(case: cases.Case, reps: int, inner: int, warm: int) -> dict[str, Any]:
    """Medians of per-repetition differences, the conditions interleaved.

    Each repetition times every condition once, in a rotating order, and the
    differences are taken within the repetition: slow drift of the machine
    (frequency, other processes) cancels instead of landing in one condition.
    """
    spans = _record(case)
    counts = _wrapped_calls(case)
    sdk = _sdk_provider(DiscardingExporter())
    replay = _replayer(spans, sdk)
    samples: dict[str, list[float]] = {name: [] for name in CONDITIONS}
    for rep in range(reps):
        shift = rep % len(CONDITIONS)
        for name in CONDITIONS[shift:] + CONDITIONS[:shift]:
            if name in ("plain", "control"):
                samples[name].append(_timed(case, inner, warm))
            elif name == "bare":
                samples[name].append(_timed(case, inner, warm, replay))
            else:
                case.instrumentor.instrument(tracer_provider=sdk if name == "sdk" else None)
                try:
                    samples[name].append(_timed(case, inner, warm))
                finally:
                    case.instrumentor.uninstrument()

    def diff(name: str) -> tuple[float, float]:
        """Median paired difference to "plain", and its standard error (from the IQR)."""
        deltas = sorted(a - b for a, b in zip(samples[name], samples["plain"], strict=True))
        quartiles = statistics.quantiles(deltas, n=4)
        error = 1.253 * (quartiles[2] - quartiles[0]) / 1.349 / len(deltas) ** 0.5
        return statistics.median(deltas), error

    n = len(spans)
    wrapped = sum(counts.values())
    (sdk_diff, sdk_error), (bare_diff, bare_error) = diff("sdk"), diff("bare")
    plain = statistics.median(samples["plain"])
    ours_bc, bare_bc = _bytecodes_added(case, sdk, replay)
    # A ratio of differences lost in the noise would be a random number.
    resolved = bare_diff > 3 * bare_error and sdk_diff > 3 * sdk_error
    return {"case": case.name, "spans": n, "wrapped": wrapped,
            "plain": plain * 1e6, "sdk": (plain + sdk_diff) * 1e6,
            "nosdk": (plain + diff("nosdk")[0]) * 1e6, "noise": diff("control")[0] * 1e6,
            "error": max(sdk_error, bare_error) / n * 1e6,
            "overhead": sdk_diff / n * 1e6, "bare": bare_diff / n * 1e6,
            "ratio": sdk_diff / bare_diff if resolved else None,
            "hot": _per_call(replay, 500) / n * 1e6,
            "ours_bc": ours_bc / n, "bare_bc": bare_bc / n,
            "nosdk_call": wrapper_cost(case, counts)}


def table(rows: Sequence[dict[str, Any]]) -> str:
    lines = ["| case | spans | wrapped calls | uninstrumented µs | SDK µs | no SDK µs "
             "| control µs | overhead/span µs | bare SDK/span µs | **time ratio** "
             "| bytecodes/span ours : bare | **bytecode ratio** "
             "| bare SDK/span, hot loop µs | no SDK µs/wrapped call |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        call = "n/a" if r["nosdk_call"] is None else f"{r['nosdk_call']:.2f}"
        ratio = "below noise" if r["ratio"] is None else f"**{r['ratio']:.2f}**"
        lines.append(f"| {r['case']} | {r['spans']} | {r['wrapped']} | {r['plain']:.0f} "
                     f"| {r['sdk']:.0f} | {r['nosdk']:.0f} | {r['noise']:+.0f} "
                     f"| {r['overhead']:.1f} ± {r['error']:.1f} "
                     f"| {r['bare']:.1f} ± {r['error']:.1f} | {ratio} "
                     f"| {r['ours_bc']:.0f} : {r['bare_bc']:.0f} "
                     f"| **{r['ours_bc'] / r['bare_bc']:.2f}** "
                     f"| {r['hot']:.1f} | {call} |")
    return "\n".join(lines)


@contextmanager
def _content_capture(on: bool) -> Iterator[None]:
    """Message content captured (read when instrumenting) or not, for a block."""
    from opentelemetry.instrumentation.agents._content import CAPTURE_ENV

    before = os.environ.pop(CAPTURE_ENV, None)
    if on:
        os.environ[CAPTURE_ENV] = "true"
    try:
        yield
    finally:
        os.environ.pop(CAPTURE_ENV, None)
        if before is not None:
            os.environ[CAPTURE_ENV] = before


HISTORY_SIZES = (10, 100, 1000)
HISTORY_CONDITIONS = ("plain", "off", "on")


def history(reps: int, sizes: Sequence[int] = HISTORY_SIZES, inner: int = 20,
            warm: int = 10) -> str:
    """Overhead per invocation with content captured, by length of history.

    The headline invocation (2 rounds, 1 tool) of AgentScope 2.x agents whose
    context holds 10, 100 and 1,000 earlier messages (compression off), timed
    uninstrumented, instrumented with content off and with content on (SDK
    into a discarding exporter), all of them interleaved in every repetition
    so the sizes are compared side by side in one run. The ratios are each
    size's overhead against the 10-message one; the bytecode columns count
    the same thing without noise (the JSON encoding, in C, is not in them).
    """
    from opentelemetry.instrumentation.agents._content import DEFAULT_MAX_LENGTH

    sdk = _sdk_provider(DiscardingExporter())
    runs = {n: cases.agentscope(2, 1, history=n) for n in sizes}
    recorded: dict[int, int] = {}
    bytecodes: dict[tuple[int, str], int] = {}
    for n, case in runs.items():
        with _content_capture(True):
            chats = [s for s in _record(case) if s.name.startswith("chat")]
        recorded[n] = max(len(str((s.attributes or {}).get("gen_ai.input.messages", "")))
                          for s in chats)
        plain = _bytecodes(case)
        for name in HISTORY_CONDITIONS[1:]:
            with _content_capture(name == "on"):
                case.instrumentor.instrument(tracer_provider=sdk)
            try:
                bytecodes[n, name] = _bytecodes(case) - plain
            finally:
                case.instrumentor.uninstrument()
    plan = [(n, name) for n in sizes for name in HISTORY_CONDITIONS]
    samples: dict[tuple[int, str], list[float]] = {key: [] for key in plan}
    for rep in range(reps):
        shift = rep % len(plan)
        for n, name in plan[shift:] + plan[:shift]:
            case = runs[n]
            if name == "plain":
                samples[n, name].append(_timed(case, inner, warm))
                continue
            with _content_capture(name == "on"):
                case.instrumentor.instrument(tracer_provider=sdk)
            try:
                samples[n, name].append(_timed(case, inner, warm))
            finally:
                case.instrumentor.uninstrument()
    for case in runs.values():
        case.close()

    def diff(n: int, name: str) -> tuple[float, float]:
        deltas = sorted(a - b for a, b in zip(samples[n, name], samples[n, "plain"],
                                              strict=True))
        quartiles = statistics.quantiles(deltas, n=4)
        error = 1.253 * (quartiles[2] - quartiles[0]) / 1.349 / len(deltas) ** 0.5
        return statistics.median(deltas) * 1e6, error * 1e6

    base, base_bc = diff(sizes[0], "on")[0], bytecodes[sizes[0], "on"]
    lines = [f"AgentScope 2.x, 2 rounds and 1 tool, content captured (limit "
             f"{DEFAULT_MAX_LENGTH}), medians of {reps} interleaved repetitions\n",
             "| history messages | uninstrumented µs | overhead, content off µs "
             "| overhead, content on µs | **overhead on / at " f"{sizes[0]}** "
             "| bytecodes added, off : on | **bytecodes on / at " f"{sizes[0]}** "
             "| chat input recorded, chars |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        off, off_error = diff(n, "off")
        on, on_error = diff(n, "on")
        plain = statistics.median(samples[n, "plain"]) * 1e6
        lines.append(f"| {n} | {plain:.0f} | {off:.0f} ± {off_error:.0f} "
                     f"| {on:.0f} ± {on_error:.0f} | **{on / base:.2f}** "
                     f"| {bytecodes[n, 'off']} : {bytecodes[n, 'on']} "
                     f"| **{bytecodes[n, 'on'] / base_bc:.2f}** | {recorded[n]} |")
    return "\n".join(lines)


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _registered() -> int | None:
    """Agents holding our hooks right now (AgentScope 1.x); None where none are used."""
    from opentelemetry.instrumentation.agents.agentscope.v1 import agent as _v1

    return len(_v1.REGISTRY) if _v1.REGISTRY is not None else None


def memory(counts: Sequence[int] = (1000, 20000)) -> str:
    """What many invocations of the installed AgentScope leave behind.

    Each configuration runs in a fresh case, uninstrumented and then
    instrumented (SDK with a discarding exporter). Python's count of
    allocated memory blocks is the precise leak signal (RSS also holds what
    the allocator keeps for reuse); frames and hook registrations are ours.
    """
    from importlib.metadata import version

    from opentelemetry.instrumentation.agents import _invocations

    major = int(version("agentscope").split(".")[0])
    factory = cases.agentscope if major >= 2 else cases.agentscope1
    lines = [f"AgentScope {version('agentscope')}, 2 rounds and 1 tool per invocation\n",
             "| agents | instrumented | invocations | RSS MiB | Python blocks growth since "
             f"{counts[0]} | live invocation frames | agents holding our hooks |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for shared in (True, False):
        for instrumented in (False, True):
            case = factory(shared=shared)
            if instrumented:
                case.instrumentor.instrument(
                    tracer_provider=_sdk_provider(DiscardingExporter()))
            done, base = 0, None
            for target in counts:
                case.invoke(target - done, None)
                done = target
                gc.collect()
                blocks = sys.getallocatedblocks()
                base = blocks if base is None else base
                frames = sum(isinstance(o, _invocations._Invocation) for o in gc.get_objects())
                registered = _registered() if major < 2 and instrumented else None
                lines.append(
                    f"| {'one shared' if shared else 'a new one per invocation'} "
                    f"| {'yes' if instrumented else 'no'} | {target} "
                    f"| {_rss_kib() / 1024:.1f} | {blocks - base:+d} | {frames} "
                    f"| {'-' if registered is None else registered} |")
            if instrumented:
                case.instrumentor.uninstrument()
            case.close()
    return "\n".join(lines)


def headline_bytecodes() -> str:
    """The headline case's bytecode counts alone: the count `measure` takes."""
    case = cases.agentscope(2, 1)
    try:
        spans = _record(case)
        sdk = _sdk_provider(DiscardingExporter())
        ours, bare = _bytecodes_added(case, sdk, _replayer(spans, sdk))
    finally:
        case.close()
    n = len(spans)
    return (f"{case.name}: bytecodes/span ours : bare {ours / n:.0f} : {bare / n:.0f}, "
            f"bytecode ratio **{ours / bare:.2f}** ({ours} : {bare} over {n} spans)")


def _pin(cpu: int) -> None:
    """One CPU for the whole run: no migrations between the conditions."""
    if cpu == -2 or not hasattr(os, "sched_setaffinity"):
        return
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[cpu]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=31)
    parser.add_argument("--quick", action="store_true", help="the AgentScope headline only")
    parser.add_argument("--bytecodes", action="store_true",
                        help="only the headline's bytecode counts (a few seconds, no timing)")
    parser.add_argument("--history-only", action="store_true",
                        help="only the content-capture table by history length")
    parser.add_argument("--memory", action="store_true", help="also the memory table")
    parser.add_argument("--memory-only", action="store_true",
                        help="only the memory table (the AgentScope 1.x environment)")
    parser.add_argument("--cpu", type=int, default=-1,
                        help="pin to this CPU (default: the last one; -2: do not pin)")
    args = parser.parse_args()
    _pin(args.cpu)
    if args.memory_only:
        print(memory((1000, 5000)))  # AgentScope 1.x is four times slower per call
        return
    if args.history_only:
        print(history(args.reps))
        return
    if args.bytecodes:
        print(headline_bytecodes())
        return

    # (case, invocations per sample, warm-up invocations per sample)
    headline = [(cases.agentscope(2, 1), 20, 20)]
    growth = [(cases.agentscope(r, t), n, n) for r, t, n in
              ((1, 1, 20), (4, 1, 10), (16, 1, 3), (2, 8, 10))]
    http = [(cases.praisonai(), 5, 3), (cases.hermes(), 5, 3)]
    runs = headline if args.quick else headline + growth + http
    rows = []
    for case, inner, warm in runs:
        rows.append(measure(case, args.reps, inner, warm))
        case.close()
    print(f"medians of {args.reps} interleaved repetitions; python {sys.version.split()[0]}\n")
    print(table(rows))
    ours, bare, ratio = core.handler_alone(DiscardingExporter(), _replayer)
    print(f"\nCore handler alone, hot loop, headline span shape: {ours:.1f} µs/span "
          f"against {bare:.1f} µs/span for the bare SDK: ratio **{ratio:.2f}**")
    if not args.quick:
        print("\n" + history(args.reps))
    if args.memory:
        print("\n" + memory())


if __name__ == "__main__":
    main()
