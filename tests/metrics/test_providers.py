"""Which meter provider records, and that metrics need no tracing SDK."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from opentelemetry.trace import NoOpTracerProvider

from opentelemetry import context as otel_context
from opentelemetry.instrumentation.agents import AgentsInstrumentor
from opentelemetry.instrumentation.agents._handler import TelemetryHandler

from .support import assert_instruments, collect, point, points


class Owner:
    pass


def _one_round(handler: TelemetryHandler) -> None:
    """An agent invocation with one model call and one tool call, by hand."""
    frame = handler.start_agent(Owner(), "bot")
    assert frame is not None
    token = otel_context.attach(frame.context)
    try:
        handler.start_step(frame)
        chat = handler.start_chat(request_model="m1", provider="openai")
        handler.finish_chat(chat, response_model="m1-2025", input_tokens=30, output_tokens=5)
        tool = handler.start_tool("search")
        handler.finish_tool(tool, result="found")
        failed = handler.start_chat(request_model="m1", provider="openai")
        handler.finish_chat(failed, error=TimeoutError("slow"))
    finally:
        otel_context.detach(token)
    handler.finish_agent(frame)


def test_meter_provider_without_any_tracing_sdk(meter_provider, metric_reader):
    handler = TelemetryHandler("test", NoOpTracerProvider(), meter_provider)
    assert handler.enabled  # a metrics SDK alone is enough to record

    _one_round(handler)

    metrics = collect(metric_reader)
    assert_instruments(metrics)
    chat = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "m1"}
    ok = point(metrics, "gen_ai.client.operation.duration",
               {**chat, "gen_ai.response.model": "m1-2025"})
    assert ok.count == 1
    failed = point(metrics, "gen_ai.client.operation.duration",
                   {**chat, "error.type": "TimeoutError"})
    assert failed.count == 1
    tokens = {dict(p.attributes)["gen_ai.token.type"]: p.sum
              for p in points(metrics, "gen_ai.client.token.usage")}
    assert tokens == {"input": 30, "output": 5}
    (agent_point,) = points(metrics, "agents.invocation.duration")
    assert dict(agent_point.attributes) == {"gen_ai.operation.name": "invoke_agent",
                                            "gen_ai.agent.name": "bot",
                                            "agents.runtime": "test"}


def test_no_sdk_at_all_records_nothing():
    from opentelemetry.metrics import NoOpMeterProvider

    handler = TelemetryHandler("test", NoOpTracerProvider(), NoOpMeterProvider())
    assert not handler.enabled
    assert handler.start_agent(Owner(), "bot") is None


def test_agents_instrumentor_hands_the_meter_provider_to_every_runtime(meter_provider):
    instrumentor = AgentsInstrumentor()
    instrumentor.instrument(meter_provider=meter_provider, tracer_provider=NoOpTracerProvider())
    try:
        assert instrumentor._ours  # at least one runtime is installed here
        for runtime in instrumentor._ours:
            assert runtime.handler._meter_provider is meter_provider
            assert runtime.handler.enabled
    finally:
        instrumentor.uninstrument()


_GLOBAL_PROVIDER = textwrap.dedent("""
    from opentelemetry import context, metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from opentelemetry.instrumentation.agents._handler import TelemetryHandler

    # Instrumented first, with no provider and no SDK anywhere: nothing to do.
    handler = TelemetryHandler("test")
    assert not handler.enabled

    # Then the application sets a global meter provider (and no tracer provider).
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    assert handler.enabled

    class Owner:
        pass

    frame = handler.start_agent(Owner(), "bot")
    token = context.attach(frame.context)
    chat = handler.start_chat(request_model="m1", provider="openai")
    handler.finish_chat(chat, input_tokens=3, output_tokens=2)
    context.detach(token)
    handler.finish_agent(frame)

    names = sorted(m.name for rm in reader.get_metrics_data().resource_metrics
                   for sm in rm.scope_metrics for m in sm.metrics)
    print(",".join(names))
""")


def test_global_meter_provider_set_after_instrumenting():
    # In a child process: a global provider can be set once per process.
    out = subprocess.run([sys.executable, "-c", _GLOBAL_PROVIDER], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("agents.invocation.duration,agents.invocations.active,"
                                  "gen_ai.client.operation.duration,gen_ai.client.token.usage,"
                                  "gen_ai.invoke_agent.duration")


def test_tracing_alone_builds_no_measurements():
    """Without a metrics SDK, finishing a span records nothing anywhere."""
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    handler = TelemetryHandler("test", TracerProvider(), NoOpMeterProvider())
    recorded: list[tuple] = []

    class Recorder:
        def record(self, *args, **kwargs) -> None:
            recorded.append(args)

    handler._agent_duration = handler._tool_duration = Recorder()
    handler._operation_duration = handler._token_usage = Recorder()
    assert handler.enabled and not handler.metering

    _one_round(handler)

    assert recorded == []
