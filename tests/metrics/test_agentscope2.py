"""Metrics of real AgentScope 2.x agents with a scripted model."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    fail,
    say,
)
from tests.agentscope2.support import get_weather, make_agent, user

from .support import assert_failed_call, assert_tool_round, collect, points

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "scripted-model"}


@pytest.fixture(params=["tracing-sdk", "no-tracing-sdk"])
def instrumented(request, instrument):
    """Instrumented with the meter provider, and with or without a tracing SDK."""
    from opentelemetry.trace import NoOpTracerProvider

    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    if request.param == "no-tracing-sdk":
        return instrument(AgentScopeInstrumentor, tracer_provider=NoOpTracerProvider())
    return instrument(AgentScopeInstrumentor)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_tool_round(instrumented, metric_reader, stream):
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Paris"}), usage=(7, 3)),
                               say("It is sunny.", usage=(11, 4))], stream=stream)
    await make_agent(model, [get_weather]).reply(user("weather in Paris?"))

    # The scripted model is no provider AgentScope knows: no gen_ai.provider.name.
    assert_tool_round(
        collect(metric_reader), chat={**CHAT, "gen_ai.request.stream": stream},
        response_model=None, tokens=((7, 3), (11, 4)),
        agent={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper",
               "agents.runtime": "agentscope"},
        tool={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather"})


async def test_failed_model_call(instrumented, metric_reader):
    agent = make_agent(ScriptedChatModel([fail(ConnectionError("model endpoint down"))]),
                       [get_weather])
    with pytest.raises(ConnectionError):
        await agent.reply(user())

    metrics = collect(metric_reader)
    assert_failed_call(metrics, chat=CHAT, error_type="ConnectionError")
    (agent_point,) = points(metrics, "agents.invocation.duration")
    assert agent_point.attributes["error.type"] == "ConnectionError"


async def test_tool_error_type(instrumented, metric_reader):
    def explode(city: str) -> str:
        """Fail.

        Args:
            city: Ignored.
        """
        raise ValueError("no weather today")

    model = ScriptedChatModel([call_tools(("explode", {"city": "Oslo"})), say("sorry")])
    await make_agent(model, [explode]).reply(user())

    (tool_point,) = points(collect(metric_reader), "agents.tool.duration")
    assert dict(tool_point.attributes) == {"gen_ai.operation.name": "execute_tool",
                                           "gen_ai.tool.name": "explode",
                                           "error.type": "ValueError"}
