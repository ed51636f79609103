"""Reading the exported histograms back, and what one tool round must record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SCOPE = "opentelemetry.instrumentation.agents"

# The explicit bucket boundaries the GenAI semantic conventions give
# (docs/gen-ai/gen-ai-metrics.md), written out here rather than imported
# from the code under test.
TOKEN_BOUNDS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                16777216, 67108864)
DURATION_BOUNDS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                   40.96, 81.92)

# The current conventions' agent and workflow boundaries (util-genai 1.3b0's).
INVOKE_AGENT_BOUNDS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6)
INVOKE_WORKFLOW_BOUNDS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)

INSTRUMENTS = {
    "gen_ai.client.token.usage": ("{token}", TOKEN_BOUNDS),
    "gen_ai.client.operation.duration": ("s", DURATION_BOUNDS),
    # The current conventions' names, and our older ones (kept for one release).
    "gen_ai.invoke_agent.duration": ("s", INVOKE_AGENT_BOUNDS),
    "gen_ai.execute_tool.duration": ("s", DURATION_BOUNDS),
    "agents.invocation.duration": ("s", DURATION_BOUNDS),
    "agents.tool.duration": ("s", DURATION_BOUNDS),
}
WORKFLOW_INSTRUMENTS = {"gen_ai.invoke_workflow.duration": ("s", INVOKE_WORKFLOW_BOUNDS)}
# Streamed model calls only (the conventions: "SHOULD NOT be reported otherwise").
STREAM_INSTRUMENTS = {
    "gen_ai.client.operation.time_to_first_chunk": ("s", DURATION_BOUNDS),
    "gen_ai.client.operation.time_per_output_chunk": ("s", DURATION_BOUNDS),
}
ALL_INSTRUMENTS = {**INSTRUMENTS, **STREAM_INSTRUMENTS, **WORKFLOW_INSTRUMENTS}
# The UpDownCounter of agent invocations in flight (production signals).
ACTIVE = "agents.invocations.active"


def collect(reader) -> dict[str, Any]:
    """Our scope's metrics by name (each a `Metric` with histogram data)."""
    data = reader.get_metrics_data()
    found: dict[str, Any] = {}
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            if scope_metrics.scope.name != SCOPE:
                continue
            for metric in scope_metrics.metrics:
                assert metric.name not in found, f"{metric.name} exported twice"
                found[metric.name] = metric
    return found


def points(metrics: Mapping[str, Any], name: str) -> list[Any]:
    return list(metrics[name].data.data_points)


def point(metrics: Mapping[str, Any], name: str, attributes: Mapping[str, Any]) -> Any:
    """The one data point of `name` whose attributes are exactly `attributes`."""
    matching = [p for p in points(metrics, name) if dict(p.attributes) == dict(attributes)]
    assert len(matching) == 1, (
        f"{name}: no single point with {dict(attributes)}; have "
        f"{[dict(p.attributes) for p in points(metrics, name)]}")
    return matching[0]


def assert_instruments(metrics: Mapping[str, Any], names=tuple(INSTRUMENTS)) -> None:
    """Units, histogram type and the semantic conventions' bucket boundaries."""
    from opentelemetry.sdk.metrics.export import Histogram

    for name in names:
        unit, bounds = ALL_INSTRUMENTS[name]
        metric = metrics[name]
        assert metric.unit == unit, name
        assert isinstance(metric.data, Histogram), name
        for data_point in metric.data.data_points:
            assert tuple(data_point.explicit_bounds) == tuple(float(b) for b in bounds), name
            assert len(data_point.bucket_counts) == len(bounds) + 1
            assert sum(data_point.bucket_counts) == data_point.count


def assert_tool_round(metrics: Mapping[str, Any], *, chat: Mapping[str, Any],
                      response_model: str | None, agent: Mapping[str, Any],
                      tool: Mapping[str, Any], tokens: tuple[tuple[int, int], ...]) -> None:
    """One agent invocation: a model call asking for one tool, the tool, a final call.

    `chat`: the attributes every model-call point has (operation, provider,
    request model); `tokens`: (input, output) per model call, in order.
    """
    streamed = bool(chat.get("gen_ai.request.stream"))
    assert set(metrics) == set({**INSTRUMENTS, **STREAM_INSTRUMENTS} if streamed
                               else INSTRUMENTS) | {ACTIVE}
    assert_instruments(metrics, [name for name in metrics if name != ACTIVE])
    # The invocation was in flight (one point) and is no longer.
    (active,) = points(metrics, ACTIVE)
    assert active.value == 0
    chat_attrs = {k: v for k, v in chat.items() if k != "gen_ai.request.stream"}
    if response_model is not None:
        chat_attrs["gen_ai.response.model"] = response_model

    duration = point(metrics, "gen_ai.client.operation.duration", chat_attrs)
    assert duration.count == len(tokens)
    assert duration.sum > 0
    for index, token_type in enumerate(("input", "output")):
        usage = point(metrics, "gen_ai.client.token.usage",
                      {**chat_attrs, "gen_ai.token.type": token_type})
        values = [t[index] for t in tokens]
        assert (usage.count, usage.sum) == (len(values), sum(values)), token_type
        assert (usage.min, usage.max) == (min(values), max(values)), token_type

    (agent_point,) = points(metrics, "agents.invocation.duration")
    assert dict(agent_point.attributes) == dict(agent)
    assert agent_point.count == 1
    (tool_point,) = points(metrics, "agents.tool.duration")
    assert dict(tool_point.attributes) == dict(tool)
    assert tool_point.count == 1
    # The current conventions' metrics: the same durations, util-genai's attributes.
    (current_agent,) = points(metrics, "gen_ai.invoke_agent.duration")
    assert (current_agent.count, current_agent.sum) == (1, agent_point.sum)
    assert current_agent.attributes["gen_ai.agent.name"] == agent["gen_ai.agent.name"]
    assert "gen_ai.operation.name" not in current_agent.attributes
    (current_tool,) = points(metrics, "gen_ai.execute_tool.duration")
    assert (current_tool.count, current_tool.sum) == (1, tool_point.sum)
    assert dict(current_tool.attributes) == {"gen_ai.tool.name": tool["gen_ai.tool.name"],
                                             "gen_ai.tool.type": "function",
                                             "gen_ai.agent.name": agent["gen_ai.agent.name"]}
    if streamed:
        # One first chunk per streamed call, before the call ended.
        first = point(metrics, "gen_ai.client.operation.time_to_first_chunk", chat_attrs)
        assert first.count == len(tokens)
        assert 0 < first.sum <= duration.sum
    # An agent invocation lasts at least as long as its own model and tool calls.
    assert agent_point.sum >= duration.sum + tool_point.sum - 1e-6


def assert_failed_call(metrics: Mapping[str, Any], *, chat: Mapping[str, Any],
                       error_type: str, calls: int = 1) -> None:
    """A model call that failed: its duration carries error.type, and no tokens."""
    assert_instruments(metrics, [n for n in ALL_INSTRUMENTS if n in metrics])
    failed = point(metrics, "gen_ai.client.operation.duration",
                   {**chat, "error.type": error_type})
    assert failed.count == calls
    assert "gen_ai.client.token.usage" not in metrics or not [
        p for p in points(metrics, "gen_ai.client.token.usage")
        if "error.type" in p.attributes]
