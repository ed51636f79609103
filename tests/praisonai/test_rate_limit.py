"""A `RateLimiter` shared by agents on 8 threads: each wait on the call that waited."""

from __future__ import annotations

import threading
import time

import pytest

from opentelemetry.instrumentation.agents.testing import assert_isolated
from opentelemetry.instrumentation.agents.testing.openai_server import text

from .support import MODEL

RUNS = 8
INTERVAL = 0.25  # requests_per_minute=240, burst 1: one call per 0.25 s
TREE = """
invoke_agent helper
  react step
    chat gpt-4o-mini
"""


@pytest.fixture
def metric_reader():
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    return InMemoryMetricReader()


@pytest.fixture
def metered(provider, metric_reader):
    """Instrumented with a tracer and a meter provider."""
    from opentelemetry.sdk.metrics import MeterProvider

    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    meter_provider = MeterProvider(metric_readers=[metric_reader])
    instrumentor = PraisonAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider, meter_provider=meter_provider)
    yield
    instrumentor.uninstrument()
    meter_provider.shutdown()


def test_a_limiter_shared_by_eight_threads_records_each_wait_where_it_happened(
        metered, respond, exporter, detector, metric_reader):
    from praisonaiagents import Agent, ExecutionConfig
    from praisonaiagents.llm.rate_limiter import RateLimiter

    respond(lambda conversation, request: text(f"answer {conversation}"))
    limiter = RateLimiter(requests_per_minute=240)
    slept: dict[str, float] = {}

    def sleep(seconds: float) -> None:
        # PraisonAI's injectable sleep (its own test seam): which thread slept, how long.
        name = threading.current_thread().name
        slept[name] = slept.get(name, 0.0) + seconds
        time.sleep(seconds)

    limiter._sleep = sleep
    agents = [Agent(name="helper", instructions="You help.", model=MODEL, retry=False,
                    execution=ExecutionConfig(rate_limiter=limiter)) for i in range(RUNS)]
    start = threading.Barrier(RUNS, timeout=20)

    def run(agent):
        start.wait()
        agent.chat(f"Hello. [conv:{agent.agent_id}]")

    # Each thread named after its agent's id, which its agent span carries.
    threads = [threading.Thread(target=run, args=(agent,), name=agent.agent_id)
               for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    trees = assert_isolated(exporter.get_finished_spans(), TREE, RUNS)
    waited = {tree.attributes["gen_ai.agent.id"]: tree.attributes.get("agents.rate_limit.wait")
              for tree in trees}
    # One burst token: at least seven of the eight calls had to wait.
    assert len(slept) >= RUNS - 1
    assert {name for name, wait in waited.items() if wait is not None} == set(slept)
    for name, seconds in slept.items():
        # The whole wait, sleeps included, and no more than seven calls' worth of tokens.
        assert seconds <= waited[name] <= (RUNS - 1) * INTERVAL + 1.0
    for tree in trees:  # on the invocation: PraisonAI waits before its first round
        for node in tree.walk():
            if node is not tree:
                assert "agents.rate_limit.wait" not in node.attributes
    points = [point for metric in _metrics(metric_reader, "agents.rate_limit.wait.duration")
              for point in metric.data.data_points]
    assert sum(point.count for point in points) == len(slept)
    detector.assert_all_ended()


def _metrics(reader, name):
    data = reader.get_metrics_data()
    return [metric for rm in data.resource_metrics for sm in rm.scope_metrics
            for metric in sm.metrics if metric.name == name]
