"""AgentScope 2.x's OpenAI embedding model beside the OpenAI instrumentations:
one embeddings span per request (ours), its tokens counted once, whatever the
order; each instrumentation alone makes its own."""

from __future__ import annotations

import pytest

from .support import (
    EMBEDDING_TOKENS,
    ORDERS,
    OURS,
    PROVIDERS,
    embed_with_agentscope,
    embedding_spans,
    scopes,
    token_sums,
)


def _ours():
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return AgentScopeInstrumentor


@pytest.mark.parametrize("name", PROVIDERS)
async def test_provider_alone_emits_its_own_span(name, stack, exporter, metric_reader):
    factory, scope = PROVIDERS[name]
    stack(None, [factory()])
    assert await embed_with_agentscope(["a", "b"]) == 1
    assert scopes(embedding_spans(exporter)) == [scope]
    assert token_sums(metric_reader) == {"input": EMBEDDING_TOKENS}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", PROVIDERS)
async def test_one_embeddings_span_per_request(name, order, stack, exporter, metric_reader):
    factory, _ = PROVIDERS[name]
    stack(_ours(), [factory()], ours_first=ORDERS[order])
    assert await embed_with_agentscope(["a", "b"]) == 1
    (span,) = embedding_spans(exporter)
    assert span.instrumentation_scope.name == OURS
    assert token_sums(metric_reader) == {"input": EMBEDDING_TOKENS}
    assert span.attributes["gen_ai.usage.input_tokens"] == EMBEDDING_TOKENS
    if name == "genai-openai":
        # What only the inner instrumentation saw: the response's model and the server.
        assert span.attributes["gen_ai.response.model"] == "text-embedding-3-small"
        assert span.attributes["server.address"] == "127.0.0.1"
