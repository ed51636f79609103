"""The nesting contract at the core, against util-genai's own TelemetryHandler
(what every official provider instrumentation is built on): inside our
model-call, embeddings and retrieval spans its invocations emit nothing, and
what they publish fills what our span lacks (ours wins)."""

from __future__ import annotations

import pytest

from opentelemetry import context as otel_context

from .support import OURS, token_sums

UTIL_SCOPE = "opentelemetry.util.genai.handler"


@pytest.fixture
def ours(provider, meter_provider):
    from opentelemetry.instrumentation.agents._handler import TelemetryHandler

    return TelemetryHandler("test", provider, meter_provider)


@pytest.fixture
def theirs(provider, meter_provider):
    from opentelemetry.util.genai.handler import TelemetryHandler

    return TelemetryHandler(tracer_provider=provider, meter_provider=meter_provider)


def _inner_inference(theirs):
    inner = theirs.inference("openai", request_model="gpt-4o-mini",
                             server_address="api.example.test", server_port=443)
    inner.response_id = "chatcmpl-inner"
    inner.response_model_name = "gpt-4o-mini-2024"
    inner.finish_reasons = ["stop"]
    inner.input_tokens, inner.output_tokens = 60, 5
    inner.cache_read_input_tokens = 8
    inner.temperature = 0.2
    inner.stop()


def test_inner_inference_alone_emits_its_span(theirs, exporter, metric_reader):
    _inner_inference(theirs)
    (span,) = exporter.get_finished_spans()
    assert span.name == "chat gpt-4o-mini"
    assert token_sums(metric_reader) == {"input": 60, "output": 5}


def test_inner_inference_folds_into_our_chat_span(ours, theirs, exporter, metric_reader):
    inv = ours.start_chat(request_model="gpt-4o-mini", provider="openai")
    token = otel_context.attach(inv.context)
    try:
        _inner_inference(theirs)
    finally:
        otel_context.detach(token)
    ours.finish_chat(inv, response_id="chatcmpl-ours")

    (span,) = exporter.get_finished_spans()
    assert span.instrumentation_scope.name == OURS
    attrs = dict(span.attributes)
    assert attrs["gen_ai.response.id"] == "chatcmpl-ours"  # ours wins
    assert attrs["gen_ai.response.model"] == "gpt-4o-mini-2024"
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (60, 5)
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 8
    assert (attrs["server.address"], attrs["server.port"]) == ("api.example.test", 443)
    assert attrs["gen_ai.request.temperature"] == 0.2
    assert token_sums(metric_reader) == {"input": 60, "output": 5}


def test_our_values_win_over_the_inner_ones(ours, theirs, exporter):
    inv = ours.start_chat(request_model="gpt-4o-mini", provider="openai")
    token = otel_context.attach(inv.context)
    try:
        _inner_inference(theirs)
    finally:
        otel_context.detach(token)
    ours.finish_chat(inv, response_model="m-ours", input_tokens=61, output_tokens=6)
    (span,) = exporter.get_finished_spans()
    assert span.attributes["gen_ai.response.model"] == "m-ours"
    assert span.attributes["gen_ai.usage.input_tokens"] == 61


def test_inner_embedding_folds_into_our_embeddings_span(ours, theirs, exporter,
                                                        metric_reader):
    inv = ours.start_embeddings(request_model="text-embedding-3-small", provider="openai")
    token = otel_context.attach(inv.context)
    try:
        inner = theirs.embedding("openai", request_model="text-embedding-3-small",
                                 server_address="api.example.test", server_port=443)
        inner.input_tokens = 9
        inner.dimension_count = 1536
        inner.stop()
    finally:
        otel_context.detach(token)
    ours.finish_embeddings(inv)

    (span,) = exporter.get_finished_spans()
    assert span.instrumentation_scope.name == OURS
    assert span.attributes["gen_ai.usage.input_tokens"] == 9
    assert span.attributes["gen_ai.embeddings.dimension.count"] == 1536
    assert span.attributes["server.address"] == "api.example.test"
    assert token_sums(metric_reader) == {"input": 9}


def test_inner_retrieval_folds_into_our_retrieval_span(ours, theirs, exporter):
    inv = ours.start_retrieval("kb")
    token = otel_context.attach(inv.context)
    try:
        inner = theirs.retrieval(data_source_id="kb", provider="qdrant",
                                 server_address="db.example.test", server_port=6333)
        inner.stop()
    finally:
        otel_context.detach(token)
    ours.finish_retrieval(inv, documents_count=2)

    (span,) = exporter.get_finished_spans()
    assert span.instrumentation_scope.name == OURS
    assert span.attributes["gen_ai.provider.name"] == "qdrant"
    assert span.attributes["server.address"] == "db.example.test"


def test_openllmetry_key_is_set_while_our_chat_span_is_current(ours):
    inv = ours.start_chat(request_model="gpt-4o-mini", provider="openai")
    assert otel_context.get_value("suppress_language_model_instrumentation", inv.context)
    ours.finish_chat(inv)


@pytest.mark.parametrize("capture", [False, True])
def test_inner_content_published_only_while_ours_captures(capture, provider, monkeypatch):
    from opentelemetry.util.genai.invocation import CLIENT_INFERENCE_CONTEXT_KEY

    from opentelemetry.instrumentation.agents._handler import TelemetryHandler

    if capture:
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    ours = TelemetryHandler("test", provider)
    inv = ours.start_chat(request_model="gpt-4o-mini", provider="openai")
    data = inv.context[CLIENT_INFERENCE_CONTEXT_KEY]
    assert data.capture_content is capture
    assert data.upload_completion is False
    ours.finish_chat(inv)
