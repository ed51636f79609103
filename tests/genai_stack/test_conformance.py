"""Our spans and metrics beside util-genai's, for the same inputs.

For each operation opentelemetry-util-genai has (inference, invoke_agent
local and remote, execute_tool, invoke_workflow, embeddings, retrieval) its
`TelemetryHandler` and ours are driven with the same values, each into
providers of its own, and what they emit is compared: span names and kinds,
span attribute keys (ours must hold every key of theirs; what we add beyond
them is listed below, exactly), metric names, units, bucket boundaries and the
attribute keys of every data point. A util-genai release that changes the
shape fails here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from opentelemetry import context as otel_context
from opentelemetry.instrumentation.agents import attributes as A

# What our spans carry beyond util-genai's, by span name; each key documented
# in docs/span-model.md (the `agents.*` ones) or deprecated and kept one release.
RUNTIME = {A.RUNTIME}
AGENT_EXTENSIONS = {A.RUNTIME, A.AGENT_ROUNDS, A.AGENT_MAX_ITERATIONS_REACHED}
DEPRECATED_CHAT = {A.USAGE_CACHE_CREATION_INPUT_TOKENS}  # for gen_ai.usage.cache_write.*
DEPRECATED_RETRIEVAL = {A.REQUEST_TOP_K}  # for gen_ai.retrieval.top_k
# Spans only we emit (the ReAct extension's round).
OUR_SPANS = {A.STEP_SPAN_NAME}
@dataclass
class Emitted:
    spans: dict[str, tuple[Any, frozenset[str]]] = field(default_factory=dict)
    metrics: dict[str, tuple[str, tuple[float, ...] | None, set[frozenset[str]]]] = \
        field(default_factory=dict)


def _run(drive: Callable[[Any], None], make_handler: Callable[..., Any]) -> Emitted:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[reader])
    try:
        drive(make_handler(tracer_provider, meter_provider))
        emitted = Emitted()
        for span in exporter.get_finished_spans():
            assert span.name not in emitted.spans, f"{span.name} twice"
            emitted.spans[span.name] = (span.kind, frozenset(span.attributes or ()))
        data = reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    points = metric.data.data_points
                    bounds = {tuple(getattr(p, "explicit_bounds", None) or ()) or None
                              for p in points}
                    assert len(bounds) == 1, metric.name
                    emitted.metrics[metric.name] = (
                        metric.unit, bounds.pop(),
                        {frozenset(p.attributes or ()) for p in points})
        return emitted
    finally:
        tracer_provider.shutdown()
        meter_provider.shutdown()


def _theirs(tracer_provider, meter_provider):
    from opentelemetry.util.genai.handler import TelemetryHandler

    return TelemetryHandler(tracer_provider=tracer_provider, meter_provider=meter_provider)


def _ours(tracer_provider, meter_provider):
    from opentelemetry.instrumentation.agents._handler import TelemetryHandler

    return TelemetryHandler("conformance", tracer_provider, meter_provider)


class _attached:
    def __init__(self, ctx):
        self.ctx = ctx

    def __enter__(self):
        self.token = otel_context.attach(self.ctx)

    def __exit__(self, *exc):
        otel_context.detach(self.token)


def _messages():
    from opentelemetry.util.genai.types import InputMessage, OutputMessage, TextPart

    return ([InputMessage(role="user", parts=[TextPart(content="hi")])],
            [OutputMessage(role="assistant", parts=[TextPart(content="hello")],
                           finish_reason="stop")])


OUR_INPUT = [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
OUR_OUTPUT = [{"role": "assistant", "parts": [{"type": "text", "content": "hello"}],
               "finish_reason": "stop"}]
SYSTEM = [{"type": "text", "content": "be brief"}]
REQUEST = {A.REQUEST_TEMPERATURE: 0.2, A.REQUEST_TOP_P: 0.9, A.REQUEST_TOP_K: 5,
           A.REQUEST_MAX_TOKENS: 64, A.REQUEST_SEED: 7, A.REQUEST_STOP_SEQUENCES: ["END"],
           A.REQUEST_FREQUENCY_PENALTY: 0.1, A.REQUEST_PRESENCE_PENALTY: 0.1,
           A.REQUEST_CHOICE_COUNT: 2, A.OUTPUT_TYPE: "json"}
FAILURE = ValueError("boom")


# -- the operations, driven the same way through either handler ---------------
def theirs_inference(handler, fail=False, content=False):
    from opentelemetry.util.genai.types import TextPart

    inv = handler.inference("openai", request_model="gpt-4o-mini",
                            server_address="api.example.test", server_port=443)
    inv.temperature, inv.top_p, inv.top_k, inv.max_tokens, inv.seed = 0.2, 0.9, 5, 64, 7
    inv.stop_sequences, inv.frequency_penalty, inv.presence_penalty = ["END"], 0.1, 0.1
    inv.request_choice_count, inv.output_type = 2, "json"
    if content:
        inv.input_messages, inv.output_messages = _messages()
        inv.system_instruction = [TextPart(content="be brief")]
    inv.record_stream_chunk()
    inv.record_stream_chunk()
    if fail:
        inv.fail(FAILURE)
        return
    inv.response_model_name, inv.response_id, inv.finish_reasons = "gpt-4o-mini-2024", "r1", \
        ["stop"]
    inv.input_tokens, inv.output_tokens = 60, 5
    inv.cache_read_input_tokens, inv.cache_write_input_tokens, inv.thinking_tokens = 8, 4, 2
    inv.stop()


def ours_inference(handler, fail=False, content=False):
    inv = handler.start_chat(request_model="gpt-4o-mini", provider="openai", stream=True,
                             server_address="api.example.test", server_port=443,
                             request=dict(REQUEST),
                             input_messages=OUR_INPUT if content else None,
                             system_instructions=SYSTEM if content else None)
    handler.chat_chunk(inv)
    handler.chat_chunk(inv)
    if fail:
        handler.finish_chat(inv, error=FAILURE)
        return
    handler.finish_chat(inv, response_model="gpt-4o-mini-2024", response_id="r1",
                        finish_reasons=["stop"], input_tokens=60, output_tokens=5,
                        usage_details=(8, 4, 2), output_messages=OUR_OUTPUT if content else None)


def theirs_local_agent(handler, fail=False, content=False):
    agent = handler.invoke_local_agent(request_model="gpt-4o-mini", agent_name="helper",
                                       conversation_id="conv-1")
    agent.agent_description = "answers"
    if content:
        agent.input_messages, agent.output_messages = _messages()
    if fail:
        agent.fail(FAILURE)
        return
    agent.input_tokens, agent.output_tokens = 60, 5
    agent.stop()


def ours_local_agent(handler, fail=False, content=False):
    frame = handler.start_agent(object(), "helper", conversation_id="conv-1",
                                description="answers", request_model="gpt-4o-mini",
                                input_value=OUR_INPUT if content else None)
    if fail:
        handler.finish_agent(frame, error=FAILURE)
        return
    frame.input_tokens, frame.output_tokens = 60, 5  # what its model calls summed
    handler.finish_agent(frame, output_value=OUR_OUTPUT if content else None)


def theirs_remote_agent(handler, fail=False, content=False):
    agent = handler.invoke_remote_agent("a2a", request_model="gpt-4o-mini",
                                        server_address="agents.example.test", server_port=8443,
                                        agent_name="remote")
    agent.agent_id, agent.agent_description = "remote-1", "far away"
    agent.fail(FAILURE) if fail else agent.stop()


def ours_remote_agent(handler, fail=False, content=False):
    inv = handler.start_remote_agent("remote", address="agents.example.test", port=8443,
                                     agent_id="remote-1", description="far away",
                                     provider="a2a", request_model="gpt-4o-mini")
    handler.finish_remote_agent(inv, error=FAILURE if fail else None)


def theirs_tool(handler, fail=False, content=False):
    with handler.invoke_local_agent(agent_name="helper"):
        tool = handler.tool("lookup", tool_type="function", agent_name="helper")
        tool.tool_call_id, tool.tool_description = "call-1", "looks things up"
        if content:
            tool.arguments, tool.tool_result = {"q": "x"}, "found"
        tool.fail(FAILURE) if fail else tool.stop()


def ours_tool(handler, fail=False, content=False):
    frame = handler.start_agent(object(), "helper")
    with _attached(frame.context):
        inv = handler.start_tool("lookup", call_id="call-1", description="looks things up",
                                 arguments={"q": "x"})
        handler.finish_tool(inv, result="found", error=FAILURE if fail else None)
    handler.finish_agent(frame)


def theirs_workflow(handler, fail=False, content=False):
    flow = handler.workflow("team", conversation_id="conv-1")
    flow.fail(FAILURE) if fail else flow.stop()


def ours_workflow(handler, fail=False, content=False):
    inv = handler.start_workflow("team", conversation_id="conv-1")
    handler.finish_workflow(inv, error=FAILURE if fail else None)


def theirs_embeddings(handler, fail=False, content=False):
    inv = handler.embedding("openai", request_model="text-embedding-3-small",
                            server_address="api.example.test", server_port=443)
    inv.dimension_count = 1536
    if fail:
        inv.fail(FAILURE)
        return
    inv.response_model_name, inv.input_tokens = "text-embedding-3-small-v1", 24
    inv.stop()


def ours_embeddings(handler, fail=False, content=False):
    inv = handler.start_embeddings(request_model="text-embedding-3-small", provider="openai",
                                   dimensions=1536, server_address="api.example.test",
                                   server_port=443)
    if fail:
        handler.finish_embeddings(inv, error=FAILURE)
        return
    handler.finish_embeddings(inv, input_tokens=24, response_model="text-embedding-3-small-v1")


def theirs_retrieval(handler, fail=False, content=False):
    from opentelemetry.util.genai.types import RetrievalDocument

    inv = handler.retrieval(data_source_id="kb", provider="chroma",
                            request_model="text-embedding-3-small",
                            server_address="db.example.test", server_port=8000)
    inv.top_k = 3
    if content:
        inv.query_text = "what"
        inv.documents = [RetrievalDocument(id="d1", score=0.9)]
    inv.fail(FAILURE) if fail else inv.stop()


def ours_retrieval(handler, fail=False, content=False):
    inv = handler.start_retrieval("kb", top_k=3, query="what", provider="chroma",
                                  request_model="text-embedding-3-small",
                                  server_address="db.example.test", server_port=8000)
    if fail:
        handler.finish_retrieval(inv, error=FAILURE)
        return
    handler.finish_retrieval(inv, documents_count=1, documents=[{"id": "d1", "score": 0.9}])


# Attributes our data points carry beyond util-genai's: it records the chunk
# timings as the chunks arrive, before the response names its model or the call
# fails; we record them when the call ends, with the model and error type.
METRIC_EXTENSIONS = {A.METRIC_TIME_TO_FIRST_CHUNK: frozenset({A.RESPONSE_MODEL, A.ERROR_TYPE}),
                     A.METRIC_TIME_PER_OUTPUT_CHUNK: frozenset({A.RESPONSE_MODEL,
                                                               A.ERROR_TYPE})}

# operation -> (theirs, ours, {span name: our extra keys}, {metric: our extra point keys})
OPERATIONS = {
    "inference": (theirs_inference, ours_inference, {"chat gpt-4o-mini": DEPRECATED_CHAT}, {}),
    "invoke_agent local": (theirs_local_agent, ours_local_agent,
                           {"invoke_agent helper": AGENT_EXTENSIONS}, {}),
    "invoke_agent remote": (theirs_remote_agent, ours_remote_agent,
                            {"invoke_agent remote": RUNTIME}, {}),
    "execute_tool": (theirs_tool, ours_tool, {"execute_tool lookup": set(),
                                              "invoke_agent helper": AGENT_EXTENSIONS}, {}),
    "invoke_workflow": (theirs_workflow, ours_workflow, {"invoke_workflow team": RUNTIME}, {}),
    "embeddings": (theirs_embeddings, ours_embeddings,
                   {"embeddings text-embedding-3-small": set()}, {}),
    "retrieval": (theirs_retrieval, ours_retrieval,
                  {"retrieval kb": DEPRECATED_RETRIEVAL | {A.RETRIEVAL_DOCUMENTS_COUNT}}, {}),
}
# Our metrics beyond util-genai's, by operation (deprecated ones kept one release,
# and the production signal of in-flight invocations).
OUR_EXTRA_METRICS = {
    "invoke_agent local": {A.METRIC_AGENT_DURATION, A.METRIC_INVOCATIONS_ACTIVE},
    "execute_tool": {A.METRIC_AGENT_DURATION, A.METRIC_INVOCATIONS_ACTIVE,
                     A.METRIC_TOOL_DURATION},
}


def _compare(theirs: Emitted, ours: Emitted, extensions: dict[str, set[str]],
             extra_metrics: set[str]) -> None:
    assert set(ours.spans) - OUR_SPANS == set(theirs.spans)
    for name, (kind, keys) in theirs.spans.items():
        our_kind, our_keys = ours.spans[name]
        assert our_kind == kind, name
        assert keys - our_keys == set(), f"{name}: keys util-genai sets and we do not"
        assert our_keys - keys == extensions.get(name, set()), f"{name}: our extra keys"
    assert set(ours.metrics) - set(theirs.metrics) == extra_metrics
    for name, (unit, bounds, point_keys) in theirs.metrics.items():
        assert name in ours.metrics, f"metric {name} missing"
        our_unit, our_bounds, our_point_keys = ours.metrics[name]
        assert (our_unit, our_bounds) == (unit, bounds), name
        extra = METRIC_EXTENSIONS.get(name, frozenset())
        assert {keys - extra for keys in our_point_keys} == point_keys, \
            f"{name}: data point attribute keys"


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("outcome", ["ok", "failed"])
def test_same_shape_as_util_genai(operation, outcome):
    theirs_drive, ours_drive, extensions, _ = OPERATIONS[operation]
    fail = outcome == "failed"
    theirs = _run(lambda h: theirs_drive(h, fail=fail), _theirs)
    ours = _run(lambda h: ours_drive(h, fail=fail), _ours)
    assert theirs.spans, "util-genai emitted nothing: the comparison would be empty"
    _compare(theirs, ours, _failed(extensions, fail), OUR_EXTRA_METRICS.get(operation, set()))


@pytest.mark.parametrize("operation", ["inference", "invoke_agent local", "execute_tool",
                                       "retrieval"])
def test_same_content_keys_as_util_genai(operation, monkeypatch):
    """With content on spans (SPAN_ONLY, read the same way by both), the same
    content attributes."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    theirs_drive, ours_drive, extensions, _ = OPERATIONS[operation]
    theirs = _run(lambda h: theirs_drive(h, content=True), _theirs)
    ours = _run(lambda h: ours_drive(h, content=True), _ours)
    _compare(theirs, ours, extensions, OUR_EXTRA_METRICS.get(operation, set()))


def _failed(extensions: dict[str, set[str]], fail: bool) -> dict[str, set[str]]:
    """A failed call reports no response: our deprecated usage and document
    counts are absent then too."""
    if not fail:
        return extensions
    return {name: keys - DEPRECATED_CHAT - {A.RETRIEVAL_DOCUMENTS_COUNT}
            for name, keys in extensions.items()}


def test_the_buckets_are_the_conventions():
    """The boundaries compared above, pinned once more against util-genai's own
    constants, so a change on their side names the instrument."""
    from opentelemetry.util.genai import _instruments as theirs

    from opentelemetry.instrumentation.agents._operations import _base as ours

    assert list(ours.DURATION_BUCKETS) == theirs._GEN_AI_CLIENT_OPERATION_DURATION_BUCKETS
    assert list(ours.TOKEN_BUCKETS) == theirs._GEN_AI_CLIENT_TOKEN_USAGE_BUCKETS
    assert list(ours.INVOKE_AGENT_BUCKETS) == theirs._GEN_AI_INVOKE_AGENT_DURATION_BUCKETS
    assert list(ours.INVOKE_WORKFLOW_BUCKETS) == theirs._GEN_AI_INVOKE_WORKFLOW_DURATION_BUCKETS
    assert (A.METRIC_INVOKE_AGENT_DURATION, A.METRIC_EXECUTE_TOOL_DURATION,
            A.METRIC_INVOKE_WORKFLOW_DURATION) == (
        theirs._GEN_AI_INVOKE_AGENT_DURATION, theirs._GEN_AI_EXECUTE_TOOL_DURATION,
        theirs._GEN_AI_INVOKE_WORKFLOW_DURATION)
