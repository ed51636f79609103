"""A real two-agent PraisonAI team, traced, offline.

The team, its agents, their tool loop and the weather tool are PraisonAI's
own; only the model is scripted: a local OpenAI-compatible server answers on
127.0.0.1, so the run needs no network and no API key.

    python examples/praisonai_team_demo.py
        instruments explicitly and prints the span tree

    opentelemetry-instrument --traces_exporter console --metrics_exporter none \
        --logs_exporter none python examples/praisonai_team_demo.py
        lets the SDK print every span as JSON
"""

from __future__ import annotations

import os
import tempfile

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry import trace
from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor
from opentelemetry.instrumentation.agents.testing import build_trees, render
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    text,
    tool_calls,
)

SHOWN = ("gen_ai.react.round", "gen_ai.react.finish_reason", "gen_ai.tool.call.id",
         "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
         "agents.react.rounds", "error.type")

# One script per task; the marker in each task's description selects it.
SCRIPTS = {
    "research": [
        tool_calls([ToolCall("get_weather", {"city": "Lisbon"})], usage=(112, 18)),
        text("Lisbon: 21 degrees, sunny.", usage=(161, 12)),
    ],
    "write": [
        text("It is 21 degrees and sunny in Lisbon: a fine day for a walk.", usage=(95, 17)),
    ],
}


def get_weather(city: str) -> str:
    """Report the current weather in a city.

    Args:
        city: The city to report on.
    """
    return f"It is 21 degrees and sunny in {city}."


def run_team() -> str:
    # Imported here so that PraisonAI is imported after the instrumentation
    # is in place, as in most apps.
    from praisonaiagents import Agent, AgentTeam, Task

    researcher = Agent(name="researcher", instructions="You look up the weather.",
                       tools=[get_weather], model="gpt-4o-mini")
    writer = Agent(name="writer", instructions="You write one friendly sentence.",
                   model="gpt-4o-mini")
    team = AgentTeam(name="weather-desk", agents=[researcher, writer], tasks=[
        Task(name="research", description="[conv:research] Find today's weather in Lisbon.",
             expected_output="the weather", agent=researcher),
        Task(name="write", description="[conv:write] Write one sentence about it.",
             expected_output="one sentence", agent=writer),
    ])
    return team.start()


def _offline_environment(base_url: str) -> None:
    # PraisonAI's OpenAI-native path reads its endpoint from the environment
    # (`Agent(base_url=...)` would select its LiteLLM path instead).
    os.environ.pop("OPENAI_API_BASE", None)
    os.environ["OPENAI_BASE_URL"] = base_url
    os.environ["OPENAI_API_KEY"] = "sk-scripted"
    os.environ["OPENAI_MAX_RETRIES"] = "0"
    os.environ["PRAISONAI_TELEMETRY_DISABLED"] = "true"
    # PraisonAI may keep sessions and caches under $HOME; keep them out of yours.
    os.environ["HOME"] = tempfile.mkdtemp(prefix="praisonai-demo-home-")


def main() -> None:
    with ScriptedOpenAIServer(SCRIPTS) as server:
        _offline_environment(server.base_url)
        if isinstance(trace.get_tracer_provider(), TracerProvider):
            # opentelemetry-instrument configured the SDK (and, through the
            # entry point, may have instrumented PraisonAI already).
            instrumentor = PraisonAIInstrumentor()
            if not instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.instrument()
            print(run_team())
            return
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        PraisonAIInstrumentor().instrument(tracer_provider=provider)

        answer = run_team()

    print(f"team answered: {answer}\n")
    print("span tree:")
    for tree in build_trees(exporter.get_finished_spans()):
        print(render(tree, SHOWN))


if __name__ == "__main__":
    main()
