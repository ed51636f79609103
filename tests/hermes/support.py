"""Building real Hermes agents and tools for the tests.

Imported by test modules only, after conftest.py has prepared HERMES_HOME.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from run_agent import AIAgent
from tools.registry import registry

TOOLSET = "otel_test"
MODEL = "fake-model"
CONV = re.compile(r"\[conv:([A-Za-z0-9_-]+)\]")


def make_agent(base_url: str, *, max_iterations: int = 10, streaming: bool = True,
               toolsets: tuple[str, ...] = (TOOLSET,), platform: str | None = None) -> AIAgent:
    """A quiet, offline agent restricted to `toolsets` (by default: our test tools)."""
    agent = AIAgent(base_url=base_url, api_key="sk-test", model=MODEL, provider="custom",
                    enabled_toolsets=list(toolsets), max_iterations=max_iterations,
                    tool_delay=0.0, quiet_mode=True, skip_context_files=True, skip_memory=True,
                    platform=platform)
    if not streaming:
        # Hermes's own switch to the non-streaming path (it sets it itself when
        # a provider cannot stream); there is no public option for it.
        agent._disable_streaming = True
    return agent


def _schema(name: str, properties: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "description": f"The {name} test tool.",
            "parameters": {"type": "object",
                           "properties": {k: {"type": t} for k, t in properties.items()},
                           "required": list(properties)}}


@contextmanager
def tools(**handlers: tuple[Callable[..., Any], dict[str, str]]) -> Iterator[None]:
    """Register real Hermes tools ``name=(handler(args) -> result, {arg: json type})``.

    An agent offers the tools registered when it was built: build it inside.
    """
    for name, (handler, properties) in handlers.items():
        registry.register(name=name, toolset=TOOLSET, schema=_schema(name, properties),
                          handler=lambda args, _h=handler, **_kw: _h(args))
    try:
        yield
    finally:
        for name in handlers:
            registry.deregister(name)


def add_numbers(args: dict[str, Any]) -> str:
    return json.dumps({"result": args["a"] + args["b"]})


def divide(args: dict[str, Any]) -> str:
    return json.dumps({"result": args["a"] / args["b"]})  # ZeroDivisionError for b=0


NUMBERS = {"a": "integer", "b": "integer"}


# One tool round, then the answer: the span tree of the lifecycle and drift tests.
TOOL_ROUND_TREE = """
invoke_agent hermes
  react step
    chat fake-model
    execute_tool add_numbers
  react step
    chat fake-model
"""
