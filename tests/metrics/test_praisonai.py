"""Metrics of real PraisonAI agents against the scripted model server."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    error,
    text,
    tool_calls,
)
from tests.praisonai.conftest import offline, serve  # noqa: F401 - fixtures
from tests.praisonai.support import MODEL, make_agent

from .support import assert_failed_call, assert_tool_round, collect

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL, "server.address": "127.0.0.1"}
TOOL_ROUND = [tool_calls([ToolCall("get_weather", {"city": "Lima"})], usage=(12, 3)),
              text("It is sunny in Lima ({conv}).", usage=(20, 7))]


@pytest.fixture(params=["tracing-sdk", "no-tracing-sdk"])
def instrumented(request, instrument):
    """Instrumented with the meter provider, and with or without a tracing SDK."""
    from opentelemetry.trace import NoOpTracerProvider

    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    if request.param == "no-tracing-sdk":
        return instrument(PraisonAIInstrumentor, tracer_provider=NoOpTracerProvider())
    return instrument(PraisonAIInstrumentor)


def test_tool_round_sync(instrumented, metric_reader, serve):  # noqa: F811
    server = serve(TOOL_ROUND)
    assert make_agent().chat("Weather in Lima? [conv:c1]") == "It is sunny in Lima (c1)."
    _assert_round(metric_reader, server)


async def test_tool_round_async(instrumented, metric_reader, serve):  # noqa: F811
    server = serve(TOOL_ROUND)
    assert await make_agent().achat("Weather in Lima? [conv:c1]") == "It is sunny in Lima (c1)."
    _assert_round(metric_reader, server)


def _assert_round(metric_reader, server):
    assert_tool_round(
        collect(metric_reader), chat={**CHAT, "server.port": server.port},
        response_model=MODEL, tokens=((12, 3), (20, 7)),
        agent={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper",
               "agents.runtime": "praisonai"},
        tool={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather"})


def test_failed_model_call(instrumented, metric_reader, serve):  # noqa: F811
    server = serve([error(500, "model down")])
    assert make_agent().chat("Go. [conv:c1]") is None  # PraisonAI answers None

    assert_failed_call(collect(metric_reader), chat={**CHAT, "server.port": server.port},
                       error_type="openai.InternalServerError")
