"""PraisonAI's OpenAI path beside openai-v2, which cannot step aside: the
model call's span is openai-v2's, under our round; our agent and step spans
stay, and the agent span sums the call's tokens."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)
from tests.praisonai.conftest import offline, serve  # noqa: F401 - fixtures
from tests.praisonai.support import make_agent

from .support import ORDERS, agent_usage, assert_counted_once, openai_v2, server_tokens

SCRIPT = [tool_calls([ToolCall("get_weather", {"city": "Lima"})], usage=(12, 3)),
          text("It is sunny in Lima ({conv}).", usage=(20, 7))]
TREE = """
invoke_agent helper
  react step {gen_ai.react.round=1}
    chat gpt-4o-mini
    execute_tool get_weather
  react step {gen_ai.react.round=2}
    chat gpt-4o-mini
"""


def _ours():
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    return PraisonAIInstrumentor


def test_openai_v2_alone_emits_its_own_spans(stack, exporter, metric_reader, serve):  # noqa: F811
    stack(None, [openai_v2()])
    server = serve(SCRIPT)
    assert make_agent().chat("Weather in Lima? [conv:c1]") == "It is sunny in Lima (c1)."
    assert len(server.requests) == 2
    assert_counted_once(exporter, metric_reader, 2, SCRIPT)


@pytest.mark.parametrize("order", ORDERS)
def test_we_defer_to_openai_v2(order, stack, exporter, metric_reader, serve, detector):  # noqa: F811
    stack(_ours(), [openai_v2()], ours_first=ORDERS[order])
    server = serve(SCRIPT)
    assert make_agent().chat("Weather in Lima? [conv:c1]") == "It is sunny in Lima (c1)."

    assert len(server.requests) == 2
    assert_counted_once(exporter, metric_reader, 2, SCRIPT)
    assert_tree(exporter.get_finished_spans(), TREE)
    tokens = server_tokens(SCRIPT)
    assert agent_usage(exporter) == (tokens["input"], tokens["output"])
    detector.assert_all_ended()


async def test_async_path(stack, exporter, metric_reader, serve):  # noqa: F811
    stack(_ours(), [openai_v2()])
    server = serve(SCRIPT)
    assert await make_agent().achat("Weather in Lima? [conv:c1]") == "It is sunny in Lima (c1)."
    assert len(server.requests) == 2
    assert_counted_once(exporter, metric_reader, 2, SCRIPT)
    assert_tree(exporter.get_finished_spans(), TREE)


def test_without_openai_v2_the_span_is_ours(stack, exporter, metric_reader, serve):  # noqa: F811
    """openai-v2 imported but not instrumented (or uninstrumented): nothing to defer to."""
    stack(_ours(), [openai_v2()])
    openai_v2()().uninstrument()
    server = serve(SCRIPT)
    assert make_agent().chat("Weather in Lima? [conv:c1]") == "It is sunny in Lima (c1)."
    assert len(server.requests) == 2
    from tests.genai_stack.support import OURS, chat_spans, scopes, token_sums

    assert scopes(chat_spans(exporter)) == [OURS, OURS]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)


@pytest.mark.parametrize("order", ORDERS)
def test_litellm_path_defers_too(order, stack, exporter, metric_reader, serve):  # noqa: F811
    """LiteLLM sends an `openai/...` model through the OpenAI SDK's chat
    completions, where openai-v2 makes its span."""
    from tests.praisonai.test_litellm import TOOL_ROUND, litellm_agent

    stack(_ours(), [openai_v2()], ours_first=ORDERS[order])
    server = serve(TOOL_ROUND)
    assert litellm_agent(server).chat("Weather in Lima? [conv:c1]") == "It is sunny in Lima (c1)."

    assert len(server.requests) == 2
    assert_counted_once(exporter, metric_reader, 2, TOOL_ROUND)
    assert_tree(exporter.get_finished_spans(), TREE.replace("gpt-4o-mini", "scripted-model"))
