"""Overhead of the instrumentation, measured side by side in one run.

For AgentScope 2.x (in-process scripted model, so little noise) it times one
invocation three ways, interleaved repetition by repetition:

- uninstrumented,
- instrumented, SDK with a SimpleSpanProcessor into a discarding exporter,
- instrumented, no SDK configured (the API's default no-op provider),

and, in the same run, what the SDK itself spends creating and ending the same
spans with the same attributes by hand. The headline is

    (instrumented - uninstrumented) per span / bare SDK cost per span

Usage: python benchmarks/run.py [--reps N] [--inner N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor


class DiscardingExporter(SpanExporter):
    def __init__(self) -> None:
        self.count = 0

    def export(self, spans) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def _agentscope_case(rounds: int, tools_per_round: int):
    from agentscope.agent import Agent, ReActConfig
    from agentscope.message import UserMsg
    from agentscope.permission import PermissionBehavior, PermissionDecision
    from agentscope.tool import FunctionTool, Toolkit

    from opentelemetry.instrumentation.agents.testing.agentscope_model import (
        ScriptedChatModel,
        call_tools,
        say,
    )

    def lookup(key: str) -> str:
        """Look up a key.

        Args:
            key: The key.
        """
        return key

    turns = [call_tools(*[("lookup", {"key": f"k{i}"}) for i in range(tools_per_round)])
             for _ in range(rounds - 1)] + [say("done")]

    def script(key: str, index: int):
        return turns[index % len(turns)]

    model = ScriptedChatModel(script)
    allow = PermissionDecision(behavior=PermissionBehavior.ALLOW, message="ok")
    agent = Agent(name="bench", system_prompt="s", model=model,
                  toolkit=Toolkit(tools=[FunctionTool(lookup, permission=allow)]),
                  react_config=ReActConfig(max_iters=rounds + 1))
    message = UserMsg(name="user", content="go")

    async def invoke(n: int, beside: Callable[[], None] | None = None) -> None:
        for _ in range(n):
            # A fresh state per call keeps the context (and the work) constant.
            agent.state = type(agent.state)()
            await agent.reply(message)
            if beside is not None:
                beside()

    spans = 1 + rounds * 2 + (rounds - 1) * tools_per_round
    wrapped_calls = 1 + rounds * 2 + (rounds - 1) * tools_per_round * 2
    return invoke, spans, wrapped_calls


def _bare_sdk(provider: TracerProvider, rounds: int, tools_per_round: int):
    """The same spans, same attributes, same nesting, made by hand."""
    tracer = provider.get_tracer("bare")
    agent_attrs = {"gen_ai.operation.name": "invoke_agent", "agents.runtime": "agentscope",
                   "gen_ai.agent.name": "bench", "gen_ai.conversation.id": "x" * 32,
                   "gen_ai.request.model": "scripted-model", "agents.react.max_iterations": 5}

    def once() -> None:
        agent = tracer.start_span("invoke_agent bench", attributes=agent_attrs)
        actx = trace.set_span_in_context(agent)
        for r in range(1, rounds + 1):
            step = tracer.start_span("react step", context=actx, attributes={
                "gen_ai.operation.name": "react", "gen_ai.react.round": r})
            sctx = trace.set_span_in_context(step, actx)
            chat = tracer.start_span("chat scripted-model", context=sctx,
                                     kind=trace.SpanKind.CLIENT, attributes={
                                         "gen_ai.operation.name": "chat",
                                         "gen_ai.request.model": "scripted-model",
                                         "gen_ai.request.stream": False})
            token = otel_context.attach(trace.set_span_in_context(chat, sctx))
            otel_context.detach(token)
            chat.set_attribute("gen_ai.response.id", "resp-default-0")
            chat.set_attribute("gen_ai.response.finish_reasons", ["stop"])
            chat.set_attribute("gen_ai.usage.input_tokens", 10)
            chat.set_attribute("gen_ai.usage.output_tokens", 5)
            chat.end()
            if r < rounds:
                for i in range(tools_per_round):
                    tool = tracer.start_span("execute_tool lookup", context=sctx, attributes={
                        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup",
                        "gen_ai.tool.call.id": f"call-{i}", "gen_ai.tool.type": "function"})
                    tool.end()
            step.set_attribute("gen_ai.react.finish_reason", "stop")
            step.end()
        for key, value in (("agents.react.rounds", rounds), ("gen_ai.usage.input_tokens", 10),
                           ("gen_ai.usage.output_tokens", 5),
                           ("agents.agent.finish_reason", "completed"),
                           ("agents.react.max_iterations_reached", False)):
            agent.set_attribute(key, value)
        agent.end()

    return once


def _time_async(invoke: Callable, inner: int, beside: Callable[[], None] | None = None
                ) -> float:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(invoke(5, beside))  # warm-up
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        loop.run_until_complete(invoke(inner, beside))
        elapsed = time.perf_counter() - start
        gc.enable()
    finally:
        loop.close()
    return elapsed / inner


def _time_sync(fn: Callable[[], None], inner: int) -> float:
    for _ in range(5):
        fn()
    gc.collect()
    gc.disable()
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    elapsed = time.perf_counter() - start
    gc.enable()
    return elapsed / inner


def measure(rounds: int, tools: int, reps: int, inner: int) -> dict[str, float]:
    invoke, spans, wrapped = _agentscope_case(rounds, tools)
    exporter = DiscardingExporter()
    sdk = TracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    bare = _bare_sdk(sdk, rounds, tools)
    instrumentor = AgentScopeInstrumentor()
    samples: dict[str, list[float]] = {"plain": [], "sdk": [], "nosdk": [], "bare": [],
                                       "bare_hot": []}
    for _ in range(reps):
        samples["plain"].append(_time_async(invoke, inner))
        instrumentor.instrument(tracer_provider=sdk)
        samples["sdk"].append(_time_async(invoke, inner))
        instrumentor.uninstrument()
        instrumentor.instrument()  # no SDK: the global no-op provider
        samples["nosdk"].append(_time_async(invoke, inner))
        instrumentor.uninstrument()
        # The SDK's own cost, measured where it would be paid: beside each
        # uninstrumented invocation, so caches are as cold as in a real run.
        samples["bare"].append(_time_async(invoke, inner, bare) - samples["plain"][-1])
        samples["bare_hot"].append(_time_sync(bare, inner))
    med = {k: statistics.median(v) for k, v in samples.items()}
    per_span_overhead = (med["sdk"] - med["plain"]) / spans
    bare_per_span = med["bare"] / spans
    return {
        "rounds": rounds, "tools": tools, "spans": spans, "wrapped": wrapped,
        "plain_us": med["plain"] * 1e6, "sdk_us": med["sdk"] * 1e6,
        "nosdk_us": med["nosdk"] * 1e6,
        "overhead_per_span_us": per_span_overhead * 1e6,
        "bare_per_span_us": bare_per_span * 1e6,
        "bare_hot_per_span_us": med["bare_hot"] / spans * 1e6,
        "ratio": per_span_overhead / bare_per_span,
        "nosdk_per_call_us": (med["nosdk"] - med["plain"]) / wrapped * 1e6,
    }


def _table(rows: Sequence[dict[str, float]]) -> str:
    head = ("| rounds | tools/round | spans | uninstrumented µs | SDK µs | no SDK µs "
            "| overhead/span µs | bare SDK/span µs | ratio | no-SDK µs/wrapped call |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        lines.append(
            f"| {r['rounds']} | {r['tools']} | {r['spans']} | {r['plain_us']:.1f} "
            f"| {r['sdk_us']:.1f} | {r['nosdk_us']:.1f} | {r['overhead_per_span_us']:.2f} "
            f"| {r['bare_per_span_us']:.2f} | **{r['ratio']:.2f}** "
            f"| {r['nosdk_per_call_us']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--inner", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="headline case only")
    args = parser.parse_args()
    cases = [(2, 1)] if args.quick else [(2, 1), (1, 1), (4, 1), (16, 1), (2, 8)]
    rows = [measure(r, t, args.reps, args.inner) for r, t in cases]
    print("AgentScope 2.x, medians of interleaved repetitions "
          f"(reps={args.reps}, invocations per sample={args.inner})\n")
    print(_table(rows))


if __name__ == "__main__":
    main()
