"""A real Hermes Agent, traced, offline.

The agent, its conversation loop, its tool registry and the weather tool are
Hermes's own; only the model is scripted: a local OpenAI-compatible server
(`ScriptedOpenAIServer`) that this script starts on 127.0.0.1, so the run
needs no network and no API key. Hermes keeps its state under
``$HERMES_HOME``; the script points it (and ``HOME``) at a temporary directory
so your own ``~/.hermes`` is never touched.

Run it either way:

    python examples/hermes_demo.py
        instruments explicitly and prints the span tree

    opentelemetry-instrument --traces_exporter console --metrics_exporter none \
        --logs_exporter none python examples/hermes_demo.py
        lets the entry point instrument it and prints every span as JSON
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry import trace
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

# Keeps Hermes fast offline: no environment or context-length probes, and
# no retries with back-off if the (scripted) model fails.
HERMES_CONFIG = """\
model:
  context_length: 131072
agent:
  environment_probe: false
  api_max_retries: 1
"""


def isolate_hermes() -> str:
    """Point Hermes at a throw-away home; must run before Hermes is imported."""
    home = tempfile.mkdtemp(prefix="hermes-demo-")
    hermes_home = os.path.join(home, ".hermes")
    os.makedirs(hermes_home)
    with open(os.path.join(hermes_home, "config.yaml"), "w", encoding="utf-8") as f:
        f.write(HERMES_CONFIG)
    os.environ["HOME"] = home
    os.environ["HERMES_HOME"] = hermes_home
    return home


def get_weather(args: dict, **_context) -> str:
    return json.dumps({"city": args["city"], "forecast": "21 degrees and sunny"})


def ask(question: str) -> str:
    # Imported here, after isolate_hermes(), and (under opentelemetry-instrument)
    # after the instrumentation is in place, as in most apps.
    from run_agent import AIAgent
    from tools.registry import registry

    registry.register(
        name="get_weather", toolset="demo", handler=get_weather,
        schema={"name": "get_weather", "description": "Report the current weather in a city.",
                "parameters": {"type": "object", "required": ["city"],
                               "properties": {"city": {"type": "string"}}}})
    model = ScriptedOpenAIServer([
        tool_calls([ToolCall("get_weather", {"city": "Lisbon"})], usage=(112, 18)),
        text("It is 21 degrees and sunny in Lisbon: a fine day for a walk.", usage=(161, 24)),
    ])
    with model:
        agent = AIAgent(base_url=model.base_url, api_key="not-needed", model="scripted-gpt",
                        provider="custom", enabled_toolsets=["demo"], max_iterations=5,
                        tool_delay=0.0, quiet_mode=True, skip_context_files=True,
                        skip_memory=True)
        return agent.chat(question)


def main() -> None:
    home = isolate_hermes()
    try:
        if isinstance(trace.get_tracer_provider(), TracerProvider):
            # opentelemetry-instrument configured the SDK and instrumented us.
            print(ask("What is the weather in Lisbon?"))
            return
        from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        HermesAgentInstrumentor().instrument(tracer_provider=provider)

        answer = ask("What is the weather in Lisbon?")

        print(f"agent answered: {answer}\n")
        print("span tree:")
        for tree in build_trees(exporter.get_finished_spans()):
            print(render(tree, SHOWN))
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
