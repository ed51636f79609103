"""Hermes Agent beside openai-v2, which cannot step aside: its chat-completions
requests run in a raw thread, where openai-v2's span must still land under our
round; one chat span per request (openai-v2's), tokens counted once."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from tests.genai_stack.support import OURS, chat_spans, scopes
from tests.genai_stack.test_hermes import SCRIPT, _run
from tests.hermes.conftest import server  # noqa: F401 - fixture
from tests.hermes.support import TOOL_ROUND_TREE

from .support import ORDERS, agent_usage, assert_counted_once, openai_v2, server_tokens


def _ours():
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    return HermesAgentInstrumentor


@pytest.mark.parametrize("streaming", [True, False])
def test_openai_v2_alone(streaming, stack, exporter, metric_reader, server):  # noqa: F811
    stack(None, [openai_v2()])
    srv = server(SCRIPT)
    assert _run(srv, streaming) == "The sum is 5."
    assert len(srv.requests) == 2
    assert_counted_once(exporter, metric_reader, 2, SCRIPT)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("streaming", [True, False])
def test_we_defer_to_openai_v2(streaming, order, stack, exporter, metric_reader, server,  # noqa: F811
                               detector):
    stack(_ours(), [openai_v2()], ours_first=ORDERS[order])
    srv = server(SCRIPT)
    assert _run(srv, streaming) == "The sum is 5."

    assert len(srv.requests) == 2
    assert_counted_once(exporter, metric_reader, 2, SCRIPT)
    assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    tokens = server_tokens(SCRIPT)
    assert agent_usage(exporter) == (tokens["input"], tokens["output"])
    detector.assert_all_ended()


def test_anthropic_messages_stay_ours(stack, exporter, server):  # noqa: F811
    """openai-v2 wraps only the OpenAI SDK: the Anthropic mode's calls keep our span."""
    stack(_ours(), [openai_v2()])
    srv = server(SCRIPT)
    assert _run(srv, False, "anthropic_messages") == "The sum is 5."
    assert len(srv.requests) == 2
    assert scopes(chat_spans(exporter)) == [OURS, OURS]
