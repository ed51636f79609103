"""AgentScope 2.x's OpenAI model class beside openai-v2, which cannot step
aside: one chat span per request (openai-v2's, under our round), tokens counted
once, streamed and whole."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from tests.genai_stack.support import (
    EMBEDDING_TOKENS,
    embed_with_agentscope,
    embedding_spans,
    scopes,
    token_sums,
)
from tests.genai_stack.test_agentscope2 import SCRIPT, _reply_openai

from .support import ORDERS, agent_usage, assert_counted_once, openai_v2, server_tokens

TREE = """
invoke_agent helper
  react step
    chat gpt-4o-mini
"""


def _ours():
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return AgentScopeInstrumentor


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
async def test_openai_v2_alone(stream, stack, exporter, metric_reader):
    stack(None, [openai_v2()])
    assert await _reply_openai(stream) == 1
    assert_counted_once(exporter, metric_reader, 1, SCRIPT)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
async def test_we_defer_to_openai_v2(stream, order, stack, exporter, metric_reader, detector):
    stack(_ours(), [openai_v2()], ours_first=ORDERS[order])
    assert await _reply_openai(stream) == 1

    assert_counted_once(exporter, metric_reader, 1, SCRIPT)
    assert_tree(exporter.get_finished_spans(), TREE)
    tokens = server_tokens(SCRIPT)
    assert agent_usage(exporter) == (tokens["input"], tokens["output"])
    detector.assert_all_ended()


# openai-v2 traces embeddings with its own tracer (not util-genai's handler).
EMBEDDINGS_SCOPE = "opentelemetry.instrumentation.openai_v2"


async def test_openai_v2_alone_embeddings(stack, exporter, metric_reader):
    stack(None, [openai_v2()])
    assert await embed_with_agentscope(["a", "b"]) == 1
    assert scopes(embedding_spans(exporter)) == [EMBEDDINGS_SCOPE]
    assert token_sums(metric_reader) == {"input": EMBEDDING_TOKENS}


@pytest.mark.parametrize("order", ORDERS)
async def test_we_defer_embeddings_to_openai_v2(order, stack, exporter, metric_reader, provider):
    stack(_ours(), [openai_v2()], ours_first=ORDERS[order])
    with provider.get_tracer("app").start_as_current_span("request"):
        assert await embed_with_agentscope(["a", "b"]) == 1
    assert scopes(embedding_spans(exporter)) == [EMBEDDINGS_SCOPE]
    assert token_sums(metric_reader) == {"input": EMBEDDING_TOKENS}
    assert_tree(exporter.get_finished_spans(), """
request
  embeddings text-embedding-3-small
""")
