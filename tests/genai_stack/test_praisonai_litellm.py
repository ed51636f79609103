"""PraisonAI's LiteLLM path beside the OpenAI instrumentations. LiteLLM sends
an `openai/...` model's chat completions through the OpenAI SDK, where the
provider instrumentations wrap it; its Responses API calls (`litellm.responses`)
go over its own HTTP client, so no provider instrumentation sees them. Either
way: one chat span per request the server received, tokens counted once,
whatever the order."""

from __future__ import annotations

import pytest

from tests.praisonai.conftest import offline, serve  # noqa: F401 - fixtures
from tests.praisonai.test_litellm import TOOL_ROUND, litellm_agent, loopback_only  # noqa: F401
from tests.praisonai.test_litellm_responses import TOOL_ROUND as RESPONSES_ROUND
from tests.praisonai.test_litellm_responses import responses_agent

from .support import ORDERS, OURS, PROVIDERS, chat_spans, scopes, server_tokens, token_sums

ANSWER = "It is sunny in Lima (c1)."
PROMPT = "Weather in Lima? [conv:c1]"


def _ours():
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    return PraisonAIInstrumentor


def _chat(server, responses: bool) -> str:
    agent = responses_agent(server) if responses else litellm_agent(server)
    return agent.chat(PROMPT)


# path -> (PraisonAI's Responses API model?, script, spans a provider makes alone)
PATHS = {"chat-completions": (False, TOOL_ROUND, 2), "responses": (True, RESPONSES_ROUND, 0)}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", PROVIDERS)
def test_provider_alone_emits_its_own_spans(name, path, stack, exporter, metric_reader,
                                            serve):  # noqa: F811
    """Alone, the provider instrumentation traces LiteLLM's chat completions (so
    the test below can fail there), and sees nothing of its Responses calls."""
    factory, scope = PROVIDERS[name]
    responses, script, alone = PATHS[path]
    stack(None, [factory()])
    server = serve(script)
    assert _chat(server, responses) == ANSWER

    assert len(server.requests) == 2
    assert scopes(chat_spans(exporter)) == [scope] * alone
    assert token_sums(metric_reader) == (server_tokens(script) if alone else {})


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", PROVIDERS)
def test_one_chat_span_per_request(name, path, order, stack, exporter, metric_reader,
                                   serve):  # noqa: F811
    factory, _ = PROVIDERS[name]
    responses, script, _ = PATHS[path]
    stack(_ours(), [factory()], ours_first=ORDERS[order])
    server = serve(script)
    assert _chat(server, responses) == ANSWER

    chats = chat_spans(exporter)
    assert len(server.requests) == 2
    assert scopes(chats) == [OURS, OURS]
    assert token_sums(metric_reader) == server_tokens(script)
