"""AgentScope 1.x's OpenAI and Anthropic model classes beside the provider
instrumentations: one chat span per request the server received, tokens
counted once, whatever the order, and our span carries what they saw."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    text,
    tool_calls,
)
from opentelemetry.instrumentation.agents.testing.trees import assert_tree
from tests.genai_stack.support import (
    ORDERS,
    OURS,
    PROVIDERS,
    chat_spans,
    official_anthropic,
    scopes,
    server_tokens,
    token_sums,
)

SCRIPT = [tool_calls([ToolCall("get_weather", {"city": "Paris"})], usage=(12, 3)),
          text("It is sunny in Paris.", usage=(30, 4))]
STREAMS = {"streamed": True, "whole": False}
# AgentScope 1.0.21's OpenAI stream reader fails on the `delta.audio = None`
# of the installed openai client (its own bug, with or without any
# instrumentation): its OpenAI model is driven whole only.
OPENAI_STREAMS = {"whole": False}
ANTHROPIC_SCOPE = "opentelemetry.instrumentation.genai.anthropic"


def _ours():
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return AgentScopeInstrumentor


# Instrumentations on util-genai publish what they saw into our context data;
# OpenLLMetry's only steps aside.
PUBLISHES = {"genai-openai": True, "openllmetry-openai": False}


def _assert_whole_tree(exporter, model: str, published: bool) -> None:
    """The whole tree with us: one chat span per request, nothing from the
    provider instrumentation beside or under it; the response model (which
    AgentScope 1.x's ChatResponse does not keep) is on our chat spans exactly
    when the inner instrumentation published it."""
    spans = exporter.get_finished_spans()
    chat = f"chat {model} {{gen_ai.response.model={model}}}" if published else f"chat {model}"
    assert_tree(spans, f"""
invoke_agent helper
  react step
    {chat}
    execute_tool get_weather
  react step
    {chat}
""")
    assert all(("gen_ai.response.model" in s.attributes) is published
               for s in chat_spans(exporter))


async def _reply(model) -> None:
    from agentscope.agent import ReActAgent
    from agentscope.formatter import AnthropicChatFormatter, OpenAIChatFormatter
    from agentscope.model import AnthropicChatModel
    from agentscope.tool import Toolkit

    from tests.agentscope1.support import get_weather, user

    toolkit = Toolkit()
    toolkit.register_tool_function(get_weather)
    formatter = (AnthropicChatFormatter() if isinstance(model, AnthropicChatModel)
                 else OpenAIChatFormatter())
    agent = ReActAgent(name="helper", sys_prompt="You help.", model=model,
                       formatter=formatter, toolkit=toolkit)
    agent.set_console_output_enabled(False)
    await agent.reply(user("Weather in Paris?"))


async def _reply_openai(stream: bool) -> int:
    from agentscope.model import OpenAIChatModel

    with ScriptedOpenAIServer(SCRIPT) as server:
        await _reply(OpenAIChatModel(
            "gpt-4o-mini", api_key="test", stream=stream,
            client_kwargs={"base_url": server.base_url, "max_retries": 0}))
        return len(server.requests)


async def _reply_anthropic(stream: bool) -> int:
    from agentscope.model import AnthropicChatModel

    with ScriptedOpenAIServer(SCRIPT) as server:
        await _reply(AnthropicChatModel(
            "claude-sonnet-4-5", api_key="sk-scripted", stream=stream,
            client_kwargs={"base_url": server.anthropic_base_url, "max_retries": 0}))
        return len(server.requests)


@pytest.mark.parametrize("stream", OPENAI_STREAMS)
@pytest.mark.parametrize("name", PROVIDERS)
async def test_openai_provider_alone_emits_its_own_spans(name, stream, stack, exporter,
                                                        metric_reader):
    """Without us, the provider instrumentation makes a span per request (so the
    tests below, where it makes none, can fail)."""
    factory, scope = PROVIDERS[name]
    stack(None, [factory()])
    assert await _reply_openai(OPENAI_STREAMS[stream]) == 2
    assert scopes(chat_spans(exporter)) == [scope, scope]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("stream", OPENAI_STREAMS)
@pytest.mark.parametrize("name", PROVIDERS)
async def test_openai_model_one_chat_span(name, stream, order, stack, exporter,
                                          metric_reader):
    factory, _ = PROVIDERS[name]
    stack(_ours(), [factory()], ours_first=ORDERS[order])
    assert await _reply_openai(OPENAI_STREAMS[stream]) == 2
    assert scopes(chat_spans(exporter)) == [OURS, OURS]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)
    _assert_whole_tree(exporter, "gpt-4o-mini", PUBLISHES[name])


@pytest.mark.parametrize("stream", STREAMS)
async def test_anthropic_provider_alone_emits_its_own_spans(stream, stack, exporter,
                                                            metric_reader):
    stack(None, [official_anthropic()])
    assert await _reply_anthropic(STREAMS[stream]) == 2
    assert scopes(chat_spans(exporter)) == [ANTHROPIC_SCOPE, ANTHROPIC_SCOPE]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("stream", STREAMS)
async def test_anthropic_model_one_chat_span(stream, order, stack, exporter, metric_reader):
    stack(_ours(), [official_anthropic()], ours_first=ORDERS[order])
    assert await _reply_anthropic(STREAMS[stream]) == 2
    assert scopes(chat_spans(exporter)) == [OURS, OURS]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)
    _assert_whole_tree(exporter, "claude-sonnet-4-5", published=True)


@pytest.mark.parametrize("provider_name", ["openai", "anthropic"])
async def test_ours_alone_has_no_response_model(provider_name, stack, exporter, metric_reader):
    """Without a provider instrumentation our chat spans lack the response
    model, so the tests above see it only because the inner one published it."""
    stack(_ours())
    reply = _reply_openai(False) if provider_name == "openai" else _reply_anthropic(False)
    assert await reply == 2
    model = "gpt-4o-mini" if provider_name == "openai" else "claude-sonnet-4-5"
    _assert_whole_tree(exporter, model, published=False)
    assert token_sums(metric_reader) == server_tokens(SCRIPT)
