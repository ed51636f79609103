"""What the production-signal tests of every runtime share: instrumenting with
a meter and a logger provider too, and reading signals off spans, metrics and
log records."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

SCOPE = "opentelemetry.instrumentation.agents"


class Signals:
    """The providers' readers for one test."""

    def __init__(self, exporter: Any) -> None:
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import (
            InMemoryLogRecordExporter,
            SimpleLogRecordProcessor,
        )
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        self.exporter = exporter
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.logs = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.logs))

    def spans(self, prefix: str) -> list[Any]:
        return [s for s in self.exporter.get_finished_spans() if s.name.startswith(prefix)]

    def agents(self) -> list[Any]:
        return self.spans("invoke_agent")

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found = []
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                if scope_metrics.scope.name != SCOPE:
                    continue
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found

    def total(self, name: str) -> int:
        return sum(p.value for p in self.points(name))

    def evaluations(self) -> list[Any]:
        return [r.log_record for r in self.logs.get_finished_logs()
                if r.log_record.event_name == "gen_ai.evaluation.result"]


_GLOBAL_LOGS: list[Any] = []


def _global_logs() -> Any:
    """The process's global logger provider (settable once), feeding the logs
    exporter of the test running now: `record_evaluation` is a public function,
    not a handler's, and uses the global provider."""
    if not _GLOBAL_LOGS:
        from opentelemetry._logs import set_logger_provider
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

        class Forward:
            exporter: Any = None

            def export(self, batch: Any) -> Any:
                return self.exporter.export(batch) if self.exporter is not None else None

            def shutdown(self) -> None:
                pass

        forward = Forward()
        provider = LoggerProvider()
        provider.add_log_record_processor(SimpleLogRecordProcessor(forward))
        set_logger_provider(provider)
        _GLOBAL_LOGS.append(forward)
    return _GLOBAL_LOGS[0]


@contextlib.contextmanager
def signals_of(instrumentor_class: type, provider: Any, exporter: Any) -> Iterator[Signals]:
    """The runtime instrumented with tracer, meter and logger providers for the block."""
    signals = Signals(exporter)
    forward = _global_logs()
    forward.exporter = signals.logs
    instrumentor = instrumentor_class()
    instrumentor.instrument(tracer_provider=provider, meter_provider=signals.meter_provider,
                            logger_provider=signals.logger_provider)
    try:
        yield signals
    finally:
        instrumentor.uninstrument()
        forward.exporter = None
        signals.meter_provider.shutdown()


def loop_events(step: Any) -> list[Any]:
    return [e for e in step.events if e.name == "agents.loop.detected"]


def assert_loop(signals: Signals, rounds: int, tool: str, trip_round: int, agent: str) -> None:
    """One invocation flagged, the event on round `trip_round` only, one loop counted."""
    (agent_span,) = signals.agents()
    assert agent_span.attributes.get("agents.loop.detected") is True
    steps = sorted(signals.spans("react step"), key=lambda s: s.attributes["gen_ai.react.round"])
    assert len(steps) == rounds
    flagged = [s.attributes["gen_ai.react.round"] for s in steps if loop_events(s)]
    assert flagged == [trip_round]
    (event,) = loop_events(steps[trip_round - 1])
    assert dict(event.attributes) == {"gen_ai.tool.name": tool, "agents.loop.repetitions": 3}
    (point,) = signals.points("agents.loops")
    assert point.value == 1
    assert point.attributes["gen_ai.tool.name"] == tool
    assert point.attributes["gen_ai.agent.name"] == agent


def assert_no_loop(signals: Signals) -> None:
    for span in signals.agents():
        assert "agents.loop.detected" not in span.attributes
    for step in signals.spans("react step"):
        assert loop_events(step) == []
    assert signals.points("agents.loops") == []


def input_links(spans: Any) -> list[tuple[str, list[str]]]:
    """Every `invoke_agent` span in start order: its agent's name and the names
    of the agents its `input_from` links point at (each link checked whole)."""
    by_id = {span.context.span_id: span for span in spans}
    agents = sorted((s for s in spans if s.name.startswith("invoke_agent")),
                    key=lambda s: s.start_time)
    found = []
    for span in agents:
        sources = []
        for link in span.links:
            if link.attributes.get("agents.link.type") != "input_from":
                continue
            source = by_id[link.context.span_id]
            name = source.attributes["gen_ai.agent.name"]
            assert source.name.startswith("invoke_agent")
            assert dict(link.attributes) == {"agents.link.type": "input_from",
                                             "gen_ai.agent.name": name}
            sources.append(name)
        found.append((span.attributes["gen_ai.agent.name"], sorted(sources)))
    return found


def cascade_of(workflow: Any) -> tuple[Any, Any]:
    """The workflow span's failed members and degraded flag (None when absent)."""
    attrs = workflow.attributes
    return attrs.get("agents.workflow.failed_members"), attrs.get("agents.workflow.degraded")
