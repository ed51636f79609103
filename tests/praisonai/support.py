"""Real PraisonAI agents against a scripted model server, for the tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    Turn,
)

MODEL = "gpt-4o-mini"


class TurnServer(ScriptedOpenAIServer):
    """The scripted server, reading each request's conversation off its own prompt.

    PraisonAI keeps no per-turn history: overlapping turns on one Agent all
    append to its shared `chat_history`, so a request carries other turns'
    prompts and answers before its own. Its own prompt is the last user
    message, and the tool-loop messages after it are this turn's alone.
    """

    def __init__(self, script: Sequence[Turn] | Mapping[str, Sequence[Turn]]) -> None:
        super().__init__(script, marker="last")


def get_weather(city: str) -> str:
    """Report the weather in a city.

    Args:
        city: The city to report on.
    """
    return f"sunny in {city}"


def boom(city: str) -> str:
    """A tool that fails.

    Args:
        city: Ignored.
    """
    # ValueError: PraisonAI does not retry it, so no backoff slows the test.
    raise ValueError("tool exploded")


def make_agent(tools: Sequence[Callable] = (get_weather,), *, name: str = "helper",
               **options: Any):
    from praisonaiagents import Agent

    # retry=False: no agent-level backoff when a test makes the model fail.
    return Agent(name=name, instructions="You help.", tools=list(tools), model=MODEL,
                 retry=False, **options)


def conversation_of(tree) -> str:
    """The one conversation all model and tool calls of a trace belong to."""
    keys = set()
    for node in tree.walk():
        if node.name.startswith("chat "):
            keys.add(node.attributes["gen_ai.response.id"].split("-")[1])
        elif node.name.startswith("execute_tool "):
            keys.add(node.attributes["gen_ai.tool.call.id"].split("_")[1])
    assert len(keys) == 1, f"one trace holds calls of several conversations: {keys}"
    return keys.pop()
