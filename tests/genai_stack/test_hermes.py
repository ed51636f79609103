"""Hermes Agent beside the provider instrumentations: its model calls run in a
raw thread, so the nesting data must reach that thread. One chat span per
request, tokens counted once, for chat completions (streamed and not) and the
Anthropic Messages mode."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)
from tests.hermes.conftest import server  # noqa: F401 - fixture
from tests.hermes.support import add_numbers, make_agent, tools
from tests.hermes.test_model_modes import mode_agent

from .support import (
    ORDERS,
    OURS,
    PROVIDERS,
    chat_spans,
    forget_openllmetry_responses,
    official_anthropic,
    scopes,
    server_tokens,
    token_sums,
)

SCRIPT = [tool_calls([ToolCall("add_numbers", {"a": 2, "b": 3})], usage=(7, 3)),
          text("The sum is 5.", usage=(11, 4))]
ADD = {"add_numbers": (add_numbers, {"a": "integer", "b": "integer"})}


def _ours():
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    return HermesAgentInstrumentor


def _run(srv, streaming: bool, mode: str | None = None) -> str:
    with tools(**ADD):
        agent = (make_agent(srv.base_url, streaming=streaming) if mode is None
                 else mode_agent(srv, mode, streaming=streaming))
        return agent.chat("Add 2 and 3.")


@pytest.mark.parametrize("streaming", [True, False])
def test_official_openai_alone(streaming, stack, exporter, metric_reader, server):  # noqa: F811
    factory, scope = PROVIDERS["genai-openai"]
    stack(None, [factory()])
    srv = server(SCRIPT)
    assert _run(srv, streaming) == "The sum is 5."
    assert len(srv.requests) == 2
    assert scopes(chat_spans(exporter)) == [scope, scope]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("name", PROVIDERS)
def test_one_chat_span_per_request(name, streaming, order, stack, exporter, metric_reader,
                                   server):  # noqa: F811
    factory, _ = PROVIDERS[name]
    stack(_ours(), [factory()], ours_first=ORDERS[order])
    srv = server(SCRIPT)
    assert _run(srv, streaming) == "The sum is 5."
    assert len(srv.requests) == 2
    assert scopes(chat_spans(exporter)) == [OURS, OURS]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)


@pytest.mark.parametrize("with_us", [False, True])
def test_anthropic_messages(with_us, stack, exporter, metric_reader, server):  # noqa: F811
    stack(_ours() if with_us else None, [official_anthropic()])
    srv = server(SCRIPT)
    assert _run(srv, False, "anthropic_messages") == "The sum is 5."
    assert len(srv.requests) == 2
    scope = OURS if with_us else "opentelemetry.instrumentation.genai.anthropic"
    assert scopes(chat_spans(exporter)) == [scope, scope]
    assert token_sums(metric_reader) == server_tokens(SCRIPT)


@pytest.fixture(autouse=True)
def _fresh_openllmetry_responses():
    forget_openllmetry_responses()


# OpenLLMetry's Responses API wrappers honour only the generic
# suppress-instrumentation key and record no token metrics: we defer the span
# to them and keep our metrics (docs/genai-stack.md).
RESPONSES_SPAN_OWNER = {"genai-openai": OURS,
                        "openllmetry-openai": PROVIDERS["openllmetry-openai"][1]}


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("name", PROVIDERS)
def test_codex_responses_provider_alone(name, streaming, stack, exporter, metric_reader,
                                        server):  # noqa: F811
    """The Responses API through the OpenAI SDK: each provider traces it alone."""
    factory, scope = PROVIDERS[name]
    stack(None, [factory()])
    srv = server(SCRIPT)
    assert _run(srv, streaming, "codex_responses") == "The sum is 5."
    assert len(srv.requests) == 2
    assert scopes(chat_spans(exporter)) == [scope, scope]
    assert token_sums(metric_reader) == (server_tokens(SCRIPT) if name == "genai-openai"
                                         else {})


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("name", PROVIDERS)
def test_codex_responses_one_chat_span(name, streaming, order, stack, exporter, metric_reader,
                                       server):  # noqa: F811
    factory, _ = PROVIDERS[name]
    stack(_ours(), [factory()], ours_first=ORDERS[order])
    srv = server(SCRIPT)
    assert _run(srv, streaming, "codex_responses") == "The sum is 5."
    assert len(srv.requests) == 2
    chats = chat_spans(exporter)
    assert scopes(chats) == [RESPONSES_SPAN_OWNER[name]] * 2
    assert token_sums(metric_reader) == server_tokens(SCRIPT)
    if name == "genai-openai":
        # Published by the official instrumentation only; ours does not know it.
        assert [c.attributes.get("openai.api.type") for c in chats] == ["responses"] * 2
    else:
        (agent,) = [s for s in exporter.get_finished_spans() if s.name == "invoke_agent hermes"]
        # Under our rounds, one each.
        steps = {s.context.span_id for s in exporter.get_finished_spans()
                 if s.name == "react step" and s.parent.span_id == agent.context.span_id}
        assert len(steps) == 2 and {c.parent.span_id for c in chats} == steps
