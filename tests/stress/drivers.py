"""One scripted two-round agent run per runtime, for the runtime-independent themes.

Every driver runs the same story with real runtime objects, only the model
faked: round 1, the model asks for ``lookup(key=<conversation>)``; round 2,
it answers ``answer <conversation>``. That is six spans per run::

    invoke_agent ...
      react step
        chat ...
        execute_tool lookup
      react step
        chat ...

`installed()` lists the drivers of the runtimes this environment has; tests
parametrized over it run once per installed runtime (an absent runtime is not
a skipped test: it is not a parameter at all). Runtime modules are imported
only inside the drivers' methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from importlib import util
from typing import Any

from tests.runtimes import installed_major

from .checks import Gate, run_in_threads

Run = Callable[[Sequence[str]], dict[str, Any]]
"""`run(keys)`: one invocation per key, all at once; returns key -> answer text."""

SPANS_PER_RUN = 6


def answers(keys: Sequence[str]) -> dict[str, str]:
    return {key: f"answer {key}" for key in keys}


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Driver:
    name = ""
    agent_span = "invoke_agent helper"
    chat_span = ""

    @property
    def tree(self) -> str:
        """The six spans of one run."""
        return f"""
            {self.agent_span}
              react step
                {self.chat_span}
                execute_tool lookup
              react step
                {self.chat_span}
        """

    @property
    def first_round(self) -> str:
        """The spans of a run whose round 2 was not traced."""
        return f"""
            {self.agent_span}
              react step
                {self.chat_span}
                execute_tool lookup
        """

    def instrumentor_class(self) -> type:
        raise NotImplementedError

    def session(self, gate: Gate | None = None) -> contextlib.AbstractContextManager[Run]:
        """Set up what the runs need (server, tools); yields `run`."""
        raise NotImplementedError

    def live_state(self) -> dict[str, Any]:
        """What instrumenting changes besides the recorded patches (for restore checks)."""
        return {}

    def __repr__(self) -> str:
        return self.name


class AgentScope2(Driver):
    name = "agentscope2"
    chat_span = "chat scripted-model"

    def instrumentor_class(self) -> type:
        from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

        return AgentScopeInstrumentor

    @contextlib.contextmanager
    def session(self, gate: Gate | None = None) -> Iterator[Run]:
        from opentelemetry.instrumentation.agents.testing.agentscope.model import (
            ScriptedChatModel,
            call_tools,
            conversation,
            say,
        )
        from tests.agentscope2.support import make_agent, user

        async def lookup(key: str) -> str:
            """Look a key up.

            Args:
                key: The key.
            """
            if gate is not None:
                await gate.wait_async()
            return f"value for {key}"

        def script(key: str, index: int):
            if index == 0:
                return call_tools(("lookup", {"key": key}))
            return say("answer {conv}")

        async def one(key: str) -> str:
            # One agent per run: AgentScope mixes up overlapping replies of
            # one instance (see tests/agentscope2/test_concurrency.py).
            agent = make_agent(ScriptedChatModel(script), [lookup])
            with conversation(key):
                reply = await agent.reply(user(f"question {key}"))
            return reply.get_text_content()

        async def all_of(keys: Sequence[str]) -> list[str]:
            return await asyncio.gather(*(one(key) for key in keys))

        def run(keys: Sequence[str]) -> dict[str, Any]:
            return dict(zip(keys, asyncio.run(all_of(keys)), strict=True))

        yield run


class AgentScope1(Driver):
    name = "agentscope1"
    chat_span = "chat scripted-model"

    def instrumentor_class(self) -> type:
        from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

        return AgentScopeInstrumentor

    def live_state(self) -> dict[str, Any]:
        from opentelemetry.instrumentation.agents.agentscope.v1 import agent as _v1

        registry = _v1.REGISTRY
        return {"agents with our hooks": len(registry) if registry is not None else 0}

    @contextlib.contextmanager
    def session(self, gate: Gate | None = None) -> Iterator[Run]:
        from agentscope.tool import ToolResponse

        from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
            ScriptedChatModel,
            call_tools,
            conversation,
            say,
        )
        from tests.agentscope1.support import make_agent, text_result, user

        async def lookup(key: str) -> ToolResponse:
            """Look a key up.

            Args:
                key (`str`): The key.
            """
            if gate is not None:
                await gate.wait_async()
            return text_result(f"value for {key}")

        def script(key: str, index: int):
            if index == 0:
                return call_tools(("lookup", {"key": key}))
            return say("answer {conv}")

        async def one(key: str) -> str:
            agent = make_agent(ScriptedChatModel(script), [lookup])
            with conversation(key):
                reply = await agent(user(f"question {key}"))
            return reply.get_text_content()

        async def all_of(keys: Sequence[str]) -> list[str]:
            return await asyncio.gather(*(one(key) for key in keys))

        def run(keys: Sequence[str]) -> dict[str, Any]:
            return dict(zip(keys, asyncio.run(all_of(keys)), strict=True))

        yield run


def _script_respond(conv: str, request: dict[str, Any]):
    from opentelemetry.instrumentation.agents.testing.openai_server import (
        ToolCall,
        text,
        tool_calls,
        turn_index,
    )

    if turn_index(request, since_last_user=True) == 0:
        return tool_calls([ToolCall("lookup", {"key": "{conv}"})])
    return text("answer {conv}")


class Hermes(Driver):
    name = "hermes"
    agent_span = "invoke_agent hermes"
    chat_span = "chat fake-model"

    def instrumentor_class(self) -> type:
        from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

        return HermesAgentInstrumentor

    def live_state(self) -> dict[str, Any]:
        from agent import chat_completion_helpers

        return {"threading": type(chat_completion_helpers.threading).__name__}

    @contextlib.contextmanager
    def session(self, gate: Gate | None = None) -> Iterator[Run]:
        import json

        from opentelemetry.instrumentation.agents.testing.openai_server import (
            ScriptedOpenAIServer,
        )
        from tests.hermes.support import make_agent, tools

        def lookup(args: dict[str, Any]) -> str:
            if gate is not None:
                gate.wait_sync()
            return json.dumps({"value": f"value for {args['key']}"})

        with ScriptedOpenAIServer(_script_respond) as srv, \
                tools(lookup=(lookup, {"key": "string"})):
            # Non-streaming: Hermes itself lets only one stream per agent
            # deliver at a time (see tests/hermes/test_concurrency.py).
            agent = make_agent(srv.base_url, max_iterations=1000, streaming=False)

            def one(key: str) -> str:
                return agent.run_conversation(f"Look it up. [conv:{key}]")["final_response"]

            def run(keys: Sequence[str]) -> dict[str, Any]:
                return run_in_threads(one, keys)

            yield run
            assert not srv.errors, srv.errors


class PraisonAI(Driver):
    name = "praisonai"
    chat_span = "chat gpt-4o-mini"

    def instrumentor_class(self) -> type:
        from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

        return PraisonAIInstrumentor

    def live_state(self) -> dict[str, Any]:
        from praisonaiagents.lite import LiteAgent

        return {"LiteAgent.llm_fn": type(LiteAgent.__dict__.get("llm_fn")).__name__}

    @contextlib.contextmanager
    def session(self, gate: Gate | None = None) -> Iterator[Run]:
        from opentelemetry.instrumentation.agents.testing.openai_server import (
            ScriptedOpenAIServer,
        )
        from tests.praisonai.support import make_agent

        def lookup(key: str) -> str:
            """Look a key up.

            Args:
                key: The key.
            """
            if gate is not None:
                gate.wait_sync()
            return f"value for {key}"

        # PraisonAI shares one chat history between overlapping turns: each
        # request's own prompt is its last user message.
        with ScriptedOpenAIServer(_script_respond, marker="last") as srv, _environ(
                OPENAI_BASE_URL=srv.base_url, OPENAI_API_KEY="sk-scripted",
                OPENAI_MAX_RETRIES="0", PRAISONAI_TELEMETRY_DISABLED="true"):
            agent = make_agent([lookup])

            def one(key: str) -> str:
                return agent.chat(f"Look up {key}. [conv:{key}]")

            def run(keys: Sequence[str]) -> dict[str, Any]:
                return run_in_threads(one, keys)

            yield run
            assert not srv.errors, srv.errors


def installed() -> list[Driver]:
    drivers: list[Driver] = []
    major = installed_major("agentscope")
    if major == 2:
        drivers.append(AgentScope2())
    elif major == 1:
        drivers.append(AgentScope1())
    if installed_major("hermes-agent") is not None:
        drivers.append(Hermes())
    if util.find_spec("praisonaiagents") is not None:
        drivers.append(PraisonAI())
    return drivers
