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

Usage: python benchmarks/run.py [--reps N] [--quick] [--memory]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry import trace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cases


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


def _wrapped_calls_per_invocation(case: cases.Case) -> int:
    """How many times one invocation enters one of our wrappers."""
    case.instrumentor.instrument()
    try:
        codes = set()
        for owner, attribute in case.instrumentor._patcher.patched():
            installed = owner.__dict__.get(attribute) if isinstance(owner, type) else \
                getattr(owner, attribute, None)
            wrapper = getattr(installed, "_self_wrapper", None)
            if wrapper is not None and hasattr(wrapper, "__code__"):
                codes.add(wrapper.__code__)
        count = 0

        def profile(frame: Any, event: str, arg: Any) -> None:
            nonlocal count
            if event == "call" and frame.f_code in codes:
                count += 1

        sys.setprofile(profile)
        try:
            case.invoke(1, None)
        finally:
            sys.setprofile(None)
        return count
    finally:
        case.instrumentor.uninstrument()


def _timed(case: cases.Case, inner: int, beside: Callable[[], None] | None = None) -> float:
    case.invoke(3, beside)  # warm-up
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        case.invoke(inner, beside)
        return (time.perf_counter() - start) / inner
    finally:
        gc.enable()


def measure(case: cases.Case, reps: int, inner: int) -> dict[str, Any]:
    spans = _record(case)
    wrapped = _wrapped_calls_per_invocation(case)
    sdk = _sdk_provider(DiscardingExporter())
    replay = _replayer(spans, sdk)
    samples: dict[str, list[float]] = {"plain": [], "sdk": [], "nosdk": [], "bare": []}
    for _ in range(reps):
        samples["plain"].append(_timed(case, inner))
        samples["bare"].append(_timed(case, inner, replay) - samples["plain"][-1])
        case.instrumentor.instrument(tracer_provider=sdk)
        samples["sdk"].append(_timed(case, inner))
        case.instrumentor.uninstrument()
        case.instrumentor.instrument()  # no SDK: the global no-op provider
        samples["nosdk"].append(_timed(case, inner))
        case.instrumentor.uninstrument()
    med = {k: statistics.median(v) for k, v in samples.items()}
    n = len(spans)
    overhead = (med["sdk"] - med["plain"]) / n
    bare = med["bare"] / n
    return {"case": case.name, "spans": n, "wrapped": wrapped,
            "plain": med["plain"] * 1e6, "sdk": med["sdk"] * 1e6, "nosdk": med["nosdk"] * 1e6,
            "overhead": overhead * 1e6, "bare": bare * 1e6, "ratio": overhead / bare,
            "nosdk_call": (med["nosdk"] - med["plain"]) / max(wrapped, 1) * 1e6}


def table(rows: Sequence[dict[str, Any]]) -> str:
    lines = ["| case | spans | wrapped calls | uninstrumented µs | SDK µs | no SDK µs "
             "| overhead/span µs | bare SDK/span µs | ratio | no SDK µs/wrapped call |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['spans']} | {r['wrapped']} | {r['plain']:.0f} "
                     f"| {r['sdk']:.0f} | {r['nosdk']:.0f} | {r['overhead']:.1f} "
                     f"| {r['bare']:.1f} | **{r['ratio']:.2f}** | {r['nosdk_call']:.2f} |")
    return "\n".join(lines)


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memory(counts: Sequence[int] = (1000, 20000)) -> str:
    """RSS and our live per-invocation objects after many AgentScope invocations."""
    from opentelemetry.instrumentation.agents import _invocations

    lines = ["| agents | invocations | RSS MiB | RSS growth since first 1k MiB "
             "| live invocation frames |", "|---|---|---|---|---|"]
    for shared in (False, True):
        case = cases.agentscope(shared=shared)
        case.instrumentor.instrument(tracer_provider=_sdk_provider(DiscardingExporter()))
        done, base = 0, None
        for target in counts:
            case.invoke(target - done, None)
            done = target
            gc.collect()
            rss = _rss_kib() / 1024
            base = rss if base is None else base
            frames = sum(isinstance(o, _invocations._Invocation) for o in gc.get_objects())
            lines.append(f"| {'one shared' if shared else 'new per invocation'} | {target} "
                         f"| {rss:.1f} | {rss - base:+.1f} | {frames} |")
        case.instrumentor.uninstrument()
        case.close()
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="the AgentScope headline only")
    parser.add_argument("--memory", action="store_true", help="also the memory table")
    args = parser.parse_args()

    headline = [(cases.agentscope(2, 1), 200)]
    growth = [(cases.agentscope(r, t), 200 if r < 16 else 40)
              for r, t in ((1, 1), (4, 1), (16, 1), (2, 8))]
    http = [(cases.praisonai(), 20), (cases.hermes(), 20)]
    runs = headline if args.quick else headline + growth + http
    rows = []
    for case, inner in runs:
        rows.append(measure(case, args.reps, inner))
        case.close()
    print(f"medians of {args.reps} interleaved repetitions; python {sys.version.split()[0]}\n")
    print(table(rows))
    if args.memory:
        print("\n" + memory())


if __name__ == "__main__":
    main()
