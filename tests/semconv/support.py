"""Reading back what the semantic-convention tests check: metrics, events, spans."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

SCOPE = "opentelemetry.instrumentation.agents"
EVENT = "gen_ai.client.inference.operation.details"
TTFC = "gen_ai.response.time_to_first_chunk"
TTFC_METRIC = "gen_ai.client.operation.time_to_first_chunk"
TPOC_METRIC = "gen_ai.client.operation.time_per_output_chunk"
# The conventions' boundaries for both streaming histograms, written out here.
DURATION_BOUNDS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                   40.96, 81.92)

CACHE_READ = "gen_ai.usage.cache_read.input_tokens"
CACHE_CREATION = "gen_ai.usage.cache_creation.input_tokens"
REASONING = "gen_ai.usage.reasoning.output_tokens"

# What a details event repeats of its chat span's attributes, on every runtime.
CALL_ATTRIBUTES = ("gen_ai.operation.name", "gen_ai.request.model", "gen_ai.response.id",
                   "gen_ai.response.finish_reasons", "gen_ai.usage.input_tokens",
                   "gen_ai.usage.output_tokens")


def metrics(reader) -> dict[str, Any]:
    data = reader.get_metrics_data()
    found: dict[str, Any] = {}
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            if scope_metrics.scope.name == SCOPE:
                for metric in scope_metrics.metrics:
                    found[metric.name] = metric
    return found


def points(found: Mapping[str, Any], name: str) -> list[Any]:
    return list(found[name].data.data_points) if name in found else []


def events(log_exporter) -> list[Any]:
    """The details events, in the order they were emitted."""
    records = [data.log_record for data in log_exporter.get_finished_logs()]
    return [record for record in records if record.event_name == EVENT]


def by_name(spans, name: str) -> list[Any]:
    return [span for span in spans if span.name == name]


def assert_streaming_instruments(found: Mapping[str, Any]) -> None:
    from opentelemetry.sdk.metrics.export import Histogram

    for name in (TTFC_METRIC, TPOC_METRIC):
        metric = found[name]
        assert metric.unit == "s", name
        assert isinstance(metric.data, Histogram), name
        for point in metric.data.data_points:
            assert tuple(point.explicit_bounds) == DURATION_BOUNDS, name


def assert_first_chunk_after(span, delay: float) -> float:
    """The span's time to first chunk: at least the scripted delay, within the call."""
    value = span.attributes[TTFC]
    assert isinstance(value, float)
    duration = (span.end_time - span.start_time) / 1e9
    assert delay <= value <= duration + 1e-3, (value, delay, duration)
    return value


def json_attr(span, key: str) -> Any:
    return json.loads(span.attributes[key])


def assert_tool_round_events(log_exporter, chats: list[Any], mode: str, same: tuple[str, ...],
                             *, tool: str, answer: str) -> list[dict[str, Any]]:
    """The details events of a tool round (a call of `tool`, then `answer` with 5
    cache-read tokens): one per chat span, tied to it, no body (everything is in
    the attributes), with the span's `same` attributes and the content as
    structured values, which the span has too only in SPAN_AND_EVENT. Returns
    each event's attributes, for what a runtime checks beyond that."""
    found = events(log_exporter)
    assert len(found) == len(chats) == 2
    every = []
    for record, chat in zip(found, chats, strict=True):
        assert record.event_name == EVENT
        assert (record.trace_id, record.span_id) == (chat.context.trace_id,
                                                     chat.context.span_id)
        assert record.body is None
        attrs = dict(record.attributes)
        for key in same:
            assert attrs[key] == chat.attributes[key], key
        inputs = list(attrs["gen_ai.input.messages"])
        assert inputs[0]["role"] == "user"
        (output,) = attrs["gen_ai.output.messages"]
        assert output["role"] == "assistant"
        assert {d["name"] for d in attrs["gen_ai.tool.definitions"]} == {tool}
        assert ("gen_ai.input.messages" in chat.attributes) is (mode == "SPAN_AND_EVENT")
        every.append(attrs)
    first, second = every
    assert first["gen_ai.output.messages"][0]["parts"][-1]["type"] == "tool_call"
    assert second[CACHE_READ] == 5
    assert second["gen_ai.output.messages"][0]["parts"] == (
        {"type": "text", "content": answer},)
    return every
