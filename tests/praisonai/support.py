"""Real PraisonAI agents against a scripted model server, for the tests."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.instrumentation.agents.testing.openai_server import (
    DEFAULT_CONVERSATION_PATTERN,
    ScriptedOpenAIServer,
    Turn,
)

_MARKER = re.compile(DEFAULT_CONVERSATION_PATTERN)
MODEL = "gpt-4o-mini"


def _last_user(request: Mapping[str, Any]) -> tuple[int, str]:
    messages = request.get("messages") or []
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, Mapping) and message.get("role") == "user":
            content = message.get("content")
            return index, content if isinstance(content, str) else ""
    return -1, ""


def own_turn(request: Mapping[str, Any]) -> int:
    """Assistant messages after the request's last user message.

    PraisonAI keeps no per-turn history: overlapping turns on one Agent all
    append to its shared `chat_history`, so a request carries other turns'
    prompts and answers before its own prompt. Its own prompt is last, and
    the tool loop's messages after it are this turn's alone.
    """
    start, _ = _last_user(request)
    messages = request.get("messages") or []
    return sum(1 for m in messages[start + 1:]
               if isinstance(m, Mapping) and m.get("role") == "assistant")


class TurnServer(ScriptedOpenAIServer):
    """A `ScriptedOpenAIServer` that reads the conversation off the last user message.

    The stock server takes the first `[conv:<id>]` marker of the request and
    counts every assistant message; with PraisonAI's shared history that is
    another turn's marker as soon as turns overlap. Here both come from the
    request's own prompt, so `{conv}` and the response ids name the turn
    that really asked.
    """

    def __init__(self, script: Sequence[Turn] | Mapping[str, Sequence[Turn]]) -> None:
        self._turns = script
        super().__init__(self._respond)

    def conversation_id(self, request: Mapping[str, Any]) -> str | None:
        match = _MARKER.search(_last_user(request)[1])
        return match.group(1) if match else None

    def _respond(self, conv: str | None, request: Mapping[str, Any]) -> Turn | None:
        script = self._turns.get(conv, ()) if isinstance(self._turns, Mapping) else self._turns
        index = own_turn(request)
        return script[index] if index < len(script) else None


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
