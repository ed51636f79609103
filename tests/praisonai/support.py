"""Real PraisonAI agents against a scripted model server, for the tests."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    Turn,
    text,
    tool_calls,
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


# The turns of `turns_in_threads` / `turns_in_tasks`, for a server that tells
# conversations apart; delays keep every turn's model calls in flight together.
LOOKUP_SCRIPT = [tool_calls([ToolCall("lookup", {"key": "{conv}"})], delay=0.05),
                 text("answer {conv}", delay=0.02)]


def assert_overlapped(trees: Sequence[Any]) -> None:
    """The agent spans of `trees` (one per turn) were all open at one moment."""
    starts = [tree.span.start_time for tree in trees]
    ends = [tree.span.end_time for tree in trees]
    assert max(starts) < min(ends), "the turns did overlap"


def turns_in_threads(make_agent: Callable[[Callable], Any], keys: Sequence[str],
                     **chat_options: Any) -> dict[str, str]:
    """One `chat` turn per key on one agent, `make_agent(lookup)`, each on a thread of
    its own: all start together and all are in their `lookup` tool call at the same
    moment. Returns each key's answer."""
    runs = len(keys)
    start = threading.Barrier(runs, timeout=20)
    # Each sync chat runs its loop (and its tools' executor) on its own thread.
    in_tool = threading.Barrier(runs, timeout=20)

    def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        in_tool.wait()
        return f"value for {key}"

    agent = make_agent(lookup)
    answers: dict[str, str] = {}

    def run(key: str) -> None:
        start.wait()
        answers[key] = agent.chat(f"Look up {key}. [conv:{key}]", **chat_options)

    threads = [threading.Thread(target=run, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


async def turns_in_tasks(make_agent: Callable[[Callable], Any], keys: Sequence[str],
                         **chat_options: Any) -> list[str]:
    """One `achat` turn per key on one agent, `make_agent(lookup)`, as concurrent
    tasks all in their `lookup` tool call at the same moment. Returns the answers
    in the order of `keys`."""
    in_tool = asyncio.Barrier(len(keys))

    async def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        await asyncio.wait_for(in_tool.wait(), 20)
        return f"value for {key}"

    agent = make_agent(lookup)
    return await asyncio.gather(*(agent.achat(f"Look up {key}. [conv:{key}]", **chat_options)
                                  for key in keys))


def hierarchical_answer(conversation: str | None, prompt: str) -> Turn:
    """A hierarchical team's scripted answers: the workers' (`researcher`, `writer`)
    fixed texts; the manager, whose `prompt` lists the tasks and their status,
    runs the first task not completed, then stops."""
    if conversation in ("researcher", "writer"):
        return text({"researcher": "Lima: sunny.", "writer": "Lima is sunny today."}[conversation])
    statuses = re.findall(r"'task_id': (\d+), 'name': '(\w+)'.*?'status': '([\w ]+)'", prompt)
    if not statuses:  # the synthetic manager_task PraisonAI runs first
        return text("Plan: research, then write.")
    for task_id, name, status in statuses:
        if status != "completed":
            worker = "researcher" if name == "research" else "writer"
            return text(json.dumps({"task_id": int(task_id), "agent_name": worker,
                                    "action": "execute"}))
    return text(json.dumps({"task_id": 0, "agent_name": "", "action": "stop"}))


# One tool round, then the answer: the span tree of the lifecycle and drift tests.
TOOL_ROUND_TREE = """
invoke_agent helper
  react step
    chat gpt-4o-mini
    execute_tool get_weather
  react step
    chat gpt-4o-mini
"""
