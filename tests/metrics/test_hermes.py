"""Metrics of real Hermes agents against the scripted model server."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    error,
    text,
    tool_calls,
)
from tests.hermes.conftest import server  # noqa: F401 - a fixture
from tests.hermes.support import MODEL, NUMBERS, add_numbers, make_agent, tools

from .support import assert_failed_call, assert_tool_round, collect, points

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "custom",
        "gen_ai.request.model": MODEL, "server.address": "127.0.0.1"}


def chat_attrs(srv, streaming: bool) -> dict:
    """What every model-call point carries (the server's port is the test's own)."""
    return {**CHAT, "server.port": srv.port, "gen_ai.request.stream": streaming}


@pytest.fixture(params=["tracing-sdk", "no-tracing-sdk"])
def instrumented(request, instrument):
    """Instrumented with the meter provider, and with or without a tracing SDK."""
    from opentelemetry.trace import NoOpTracerProvider

    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    if request.param == "no-tracing-sdk":
        return instrument(HermesAgentInstrumentor, tracer_provider=NoOpTracerProvider())
    return instrument(HermesAgentInstrumentor)


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
def test_tool_round(instrumented, metric_reader, server, streaming):  # noqa: F811
    srv = server([tool_calls([ToolCall("add_numbers", {"a": 2, "b": 3})], usage=(7, 3)),
                  text("The sum is 5.", usage=(11, 4))])
    with tools(add_numbers=(add_numbers, NUMBERS)):
        make_agent(srv.base_url, streaming=streaming).run_conversation("2+3? [conv:m]")

    assert_tool_round(
        collect(metric_reader), chat=chat_attrs(srv, streaming), response_model=MODEL, tokens=((7, 3), (11, 4)),
        agent={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "hermes",
               "agents.runtime": "hermes"},
        tool={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "add_numbers"})


def test_failed_model_call(instrumented, metric_reader, server):  # noqa: F811
    srv = server([error(500, "the model is down")])
    result = make_agent(srv.base_url).run_conversation("hi [conv:down]")

    assert result["failed"] is True
    metrics = collect(metric_reader)
    # One model call, one request: neither Hermes nor its client retries here.
    assert len(srv.requests) == 1
    assert_failed_call(metrics, chat={**CHAT, "server.port": srv.port}, error_type="openai.InternalServerError")
    (agent_point,) = points(metrics, "agents.invocation.duration")
    assert agent_point.attributes["error.type"] == "openai.InternalServerError"
