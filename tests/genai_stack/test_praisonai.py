"""PraisonAI's OpenAI path beside the OpenAI instrumentations: one chat span
per request the server received, tokens counted once, whatever the order."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)
from tests.praisonai.conftest import offline, serve  # noqa: F401 - fixtures
from tests.praisonai.support import make_agent

from .support import ORDERS, OURS, PROVIDERS, chat_spans, scopes, server_tokens, token_sums

SCRIPT = [tool_calls([ToolCall("get_weather", {"city": "Lima"})], usage=(12, 3)),
          text("It is sunny in Lima ({conv}).", usage=(20, 7))]


def _ours():
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    return PraisonAIInstrumentor


@pytest.mark.parametrize("name", PROVIDERS)
def test_provider_alone_emits_its_own_spans(name, stack, exporter, metric_reader, serve):  # noqa: F811
    """Without us, the provider instrumentation makes a span per request (so the
    tests below, where it makes none, can fail)."""
    factory, scope = PROVIDERS[name]
    stack(None, [factory()])
    server = serve(SCRIPT)
    assert make_agent().chat("Weather in Lima? [conv:c1]") == "It is sunny in Lima (c1)."

    assert len(server.requests) == 2
    assert scopes(chat_spans(exporter)) == [scope, scope]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", PROVIDERS)
def test_one_chat_span_per_request(name, order, stack, exporter, metric_reader, serve):  # noqa: F811
    factory, _ = PROVIDERS[name]
    stack(_ours(), [factory()], ours_first=ORDERS[order])
    server = serve(SCRIPT)
    assert make_agent().chat("Weather in Lima? [conv:c1]") == "It is sunny in Lima (c1)."

    chats = chat_spans(exporter)
    assert len(server.requests) == 2
    assert scopes(chats) == [OURS, OURS]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)
    assert [c.attributes["gen_ai.response.id"] for c in chats] == [
        "chatcmpl-c1-0", "chatcmpl-c1-1"]


async def test_async_path_with_every_openai_instrumentation(stack, exporter, metric_reader,
                                                            serve):  # noqa: F811
    stack(_ours(), [factory() for factory, _ in PROVIDERS.values()])
    server = serve(SCRIPT)
    assert await make_agent().achat("Weather in Lima? [conv:c1]") == "It is sunny in Lima (c1)."

    assert len(server.requests) == 2
    assert scopes(chat_spans(exporter)) == [OURS, OURS]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)
