from __future__ import annotations

import pytest

from tests.runtimes import installed_major, instrumented_with

# This directory exercises the 2.x line; an environment built for another
# line does not collect it (it is not a skip: those tests do not apply there).
if installed_major("agentscope") != 2:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def instrumented(provider):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    with instrumented_with(AgentScopeInstrumentor, provider) as instrumentor:
        yield instrumentor


@pytest.fixture
def capturing(provider, monkeypatch):
    """Instrumented with message content captured (read when instrumenting)."""
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    with instrumented_with(AgentScopeInstrumentor, provider) as instrumentor:
        yield instrumentor


@pytest.fixture
def metric_reader():
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    return InMemoryMetricReader()


@pytest.fixture
def metered(provider, metric_reader):
    """Instrumented with a metrics SDK too."""
    from opentelemetry.sdk.metrics import MeterProvider

    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    meter_provider = MeterProvider(metric_readers=[metric_reader])
    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider, meter_provider=meter_provider)
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()
        meter_provider.shutdown()
