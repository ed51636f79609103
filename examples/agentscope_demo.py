"""A real AgentScope 2.x agent, traced, offline.

The agent, its ReAct loop, its toolkit and the weather tool are AgentScope's
own; only the model is scripted, so the run needs no network and no API key.

Run it either way:

    python examples/agentscope_demo.py
        instruments explicitly and prints the span tree

    opentelemetry-instrument --traces_exporter console --metrics_exporter none \
        --logs_exporter none python examples/agentscope_demo.py
        lets the entry point instrument it and prints every span as JSON
"""

from __future__ import annotations

import asyncio

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry import trace
from opentelemetry.instrumentation.agents import AgentsInstrumentor
from opentelemetry.instrumentation.agents.testing import build_trees, render

SHOWN = ("gen_ai.react.round", "gen_ai.react.finish_reason", "gen_ai.tool.call.id",
         "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
         "agents.react.rounds", "error.type")


def get_weather(city: str) -> str:
    """Report the current weather in a city.

    Args:
        city: The city to report on.
    """
    return f"It is 21 degrees and sunny in {city}."


async def ask(question: str) -> str:
    # Imported here so that, under opentelemetry-instrument, AgentScope is
    # imported after the instrumentation is in place, as in most apps.
    from agentscope.agent import Agent, ReActConfig
    from agentscope.message import UserMsg
    from agentscope.permission import PermissionBehavior, PermissionDecision
    from agentscope.tool import FunctionTool, Toolkit

    from opentelemetry.instrumentation.agents.testing.agentscope.model import (
        ScriptedChatModel,
        call_tools,
        say,
    )

    model = ScriptedChatModel([
        call_tools(("get_weather", {"city": "Lisbon"}), usage=(112, 18)),
        say("It is 21 degrees and sunny in Lisbon: a fine day for a walk.", usage=(161, 24)),
    ], model="scripted-gpt")
    weather = FunctionTool(get_weather, permission=PermissionDecision(
        behavior=PermissionBehavior.ALLOW, message="read-only tool"))
    agent = Agent(name="weather-assistant", system_prompt="You answer weather questions.",
                  model=model, toolkit=Toolkit(tools=[weather]),
                  react_config=ReActConfig(max_iters=5))
    reply = await agent.reply(UserMsg(name="user", content=question))
    return reply.get_text_content()


def main() -> None:
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        # opentelemetry-instrument configured the SDK and instrumented us.
        print(asyncio.run(ask("What is the weather in Lisbon?")))
        return
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    AgentsInstrumentor().instrument(tracer_provider=provider)

    answer = asyncio.run(ask("What is the weather in Lisbon?"))

    print(f"agent answered: {answer}\n")
    print("span tree:")
    for tree in build_trees(exporter.get_finished_spans()):
        print(render(tree, SHOWN))


if __name__ == "__main__":
    main()
