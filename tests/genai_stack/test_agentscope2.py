"""AgentScope 2.x's OpenAI and Anthropic model classes beside the provider
instrumentations: one chat span per request, tokens counted once."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    text,
)
from tests.agentscope2.support import make_agent, user

from .support import (
    ORDERS,
    OURS,
    PROVIDERS,
    chat_spans,
    official_anthropic,
    scopes,
    server_tokens,
    token_sums,
)

SCRIPT = [text("It is sunny in Paris.", usage=(30, 4))]


def _ours():
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return AgentScopeInstrumentor


async def _reply_openai(stream: bool):
    from agentscope.credential import OpenAICredential
    from agentscope.model import OpenAIChatModel

    with ScriptedOpenAIServer(SCRIPT) as server:
        model = OpenAIChatModel(
            credential=OpenAICredential(api_key="test", base_url=server.base_url),
            model="gpt-4o-mini", stream=stream, max_retries=0)
        await make_agent(model).reply(user())
        return len(server.requests)


async def _reply_anthropic(stream: bool):
    from agentscope.credential import AnthropicCredential
    from agentscope.formatter import AnthropicChatFormatter
    from agentscope.model import AnthropicChatModel

    with ScriptedOpenAIServer(SCRIPT) as server:
        model = AnthropicChatModel(
            credential=AnthropicCredential(api_key="sk-scripted",
                                           base_url=server.anthropic_base_url),
            model="claude-sonnet-4-5", stream=stream, max_retries=0,
            formatter=AnthropicChatFormatter())
        await make_agent(model).reply(user())
        return len(server.requests)


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
async def test_official_openai_alone(stream, stack, exporter, metric_reader):
    factory, scope = PROVIDERS["genai-openai"]
    stack(None, [factory()])
    assert await _reply_openai(stream) == 1
    assert scopes(chat_spans(exporter)) == [scope]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
@pytest.mark.parametrize("name", PROVIDERS)
async def test_openai_model_one_chat_span(name, stream, order, stack, exporter, metric_reader):
    factory, _ = PROVIDERS[name]
    stack(_ours(), [factory()], ours_first=ORDERS[order])
    assert await _reply_openai(stream) == 1
    assert scopes(chat_spans(exporter)) == [OURS]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)


@pytest.mark.parametrize("with_us", [False, True])
@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
async def test_anthropic_model(stream, with_us, stack, exporter, metric_reader):
    stack(_ours() if with_us else None, [official_anthropic()])
    assert await _reply_anthropic(stream) == 1
    scope = OURS if with_us else "opentelemetry.instrumentation.genai.anthropic"
    assert scopes(chat_spans(exporter)) == [scope]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)
