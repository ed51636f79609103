"""The coverage table's PraisonAI Agents column against real PraisonAI runs on
the scripted server: the OpenAI-native path (tool rounds with usage details,
a failing tool, a failing model, structured output, the live display's
streamed calls, a streamed `start`), the LiteLLM path with request
parameters, a team, a memory search; content and details events on."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    error,
    text,
    tool_calls,
)
from tests.praisonai.support import MODEL, boom, get_weather, make_agent
from tests.runtimes import loopback_only  # noqa: F401 - autouse fixture

from .support import assert_column_matches


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """Keys and memory files of the test's own."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    # The file memory lives under `.praisonai/memory` of the working directory.
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def serve(monkeypatch):
    servers = []

    def start(script):
        server = ScriptedOpenAIServer(script, marker="last").start()
        servers.append(server)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        return server

    yield start
    for server in servers:
        server.stop()


def _tool_round_with_usage(serve) -> None:
    serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})], usage=(70, 3),
                      cache_read_tokens=40, cache_creation_tokens=20, reasoning_tokens=2),
           text("It is sunny in Lima.", usage=(90, 4), cache_read_tokens=60,
                reasoning_tokens=1)])
    make_agent().chat("Weather in Lima? [conv:u1]")


def _failing_tool_and_model(serve) -> None:
    from praisonaiagents.errors import ToolExecutionError

    serve([tool_calls([ToolCall("boom", {"city": "Lima"})]), text("Recovered.")])
    with pytest.raises(ToolExecutionError):
        make_agent([boom]).chat("Go. [conv:b1]")
    serve([error(500, "model down")])
    assert make_agent().chat("Go. [conv:d1]") is None  # PraisonAI answers None


def _structured_output(serve) -> None:
    from pydantic import BaseModel

    class Weather(BaseModel):
        city: str

    serve([text('{"city": "Lima"}')])
    make_agent(tools=()).chat("Weather? [conv:o1]", output_pydantic=Weather)


def _streamed(serve) -> None:
    serve([text("It is sunny in Lima today, and warm.", chunk_delay=0.001)])
    make_agent(output="verbose").chat("Weather? [conv:t1]")
    serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})]),
           text("It is sunny in Lima today.", chunk_delay=0.001)])
    assert "".join(make_agent().start("Weather in Lima? [conv:s1]", stream=True))


def _litellm_with_parameters(serve) -> None:
    from praisonaiagents import Agent

    server = serve([text("ok")])
    llm = {"model": "openai/scripted-model", "temperature": 0.2, "max_tokens": 64,
           "top_p": 0.9, "seed": 7, "presence_penalty": 0.1, "frequency_penalty": 0.2,
           "stop_phrases": ["END"]}
    Agent(name="helper", instructions="You help.", tools=[get_weather], llm=llm,
          base_url=server.base_url, api_key="sk-scripted", retry=False).chat("hi [conv:p1]")
    # Anthropic through LiteLLM: the cache-creation count chat completions lack.
    server = serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})],
                               cache_read_tokens=40, cache_creation_tokens=20),
                    text("It is sunny in Lima.")])
    Agent(name="helper", instructions="You help.", tools=[get_weather],
          llm="anthropic/claude-sonnet-4-5", base_url=server.anthropic_base_url,
          api_key="sk-scripted", retry=False).chat("Weather in Lima? [conv:a1]")


def _team(serve) -> None:
    from praisonaiagents import AgentTeam, Task

    serve({"research": [text("Lima: sunny.")], "write": [text("Lima is sunny today.")]})
    researcher = make_agent(name="researcher")
    writer = make_agent((), name="writer")
    AgentTeam(name="desk", agents=[researcher, writer], tasks=[
        Task(name="research", description="[conv:research] Find the weather in Lima.",
             expected_output="facts", agent=researcher),
        Task(name="write", description="[conv:write] Write one sentence about it.",
             expected_output="a sentence", agent=writer)]).start()


def _memory_search(serve) -> None:
    from praisonaiagents import Agent
    from praisonaiagents.config.feature_configs import MemoryConfig

    serve([text("Sunny. [conv:m1]")])
    agent = Agent(name="forecaster", instructions="You forecast.", model=MODEL, retry=False,
                  memory=MemoryConfig(backend="file", prefetch=True))
    agent._memory_instance.add_long_term("Lima is sunny all week.")
    agent.chat("Weather in Lima? [conv:m1]")


def test_the_praisonai_column_says_what_praisonai_emits(collector, serve):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    collector.instrument(PraisonAIInstrumentor)
    _tool_round_with_usage(serve)
    _failing_tool_and_model(serve)
    _structured_output(serve)
    _streamed(serve)
    _litellm_with_parameters(serve)
    _team(serve)
    _memory_search(serve)

    names = {span.name.split(" ")[0] for span in collector.spans()}
    assert names == {"invoke_agent", "react", "chat", "execute_tool", "invoke_workflow",
                     "retrieval"}
    assert_column_matches("PraisonAI Agents", collector)
