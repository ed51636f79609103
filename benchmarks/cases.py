"""One benchmark case per runtime: a real agent, a scripted model, one tool.

Each case gives `invoke(n, beside)`: run n invocations (calling `beside()`
after each, so work can be measured in the same conditions), and the
instrumentor class that traces it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

Beside = Callable[[], None] | None


@dataclass
class Case:
    name: str
    invoke: Callable[[int, Beside], None]
    instrumentor: Any
    close: Callable[[], None] = lambda: None


def agentscope(rounds: int = 2, tools_per_round: int = 1, shared: bool = True,
               history: int | None = None) -> Case:
    """`history`: every invocation starts with this many earlier messages in
    the agent's context (the same ones each time), and AgentScope's context
    compression is off for the agent: it would summarise a long history away
    (and count its tokens each round), which is not what is measured."""
    from agentscope.agent import Agent, ReActConfig
    from agentscope.message import AssistantMsg, UserMsg
    from agentscope.permission import PermissionBehavior, PermissionDecision
    from agentscope.tool import FunctionTool, Toolkit

    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
    from opentelemetry.instrumentation.agents.testing.agentscope.model import (
        ScriptedChatModel,
        call_tools,
        say,
    )

    def lookup(key: str) -> str:
        """Look up a key.

        Args:
            key: The key.
        """
        return key

    turns = [call_tools(*[("lookup", {"key": f"k{i}"}) for i in range(tools_per_round)])
             for _ in range(rounds - 1)] + [say("done")]
    allow = PermissionDecision(behavior=PermissionBehavior.ALLOW, message="ok")
    earlier = [UserMsg(name="user", content=f"Question {i}: what is the weather in city "
                       f"number {i} today?") if i % 2 == 0 else
               AssistantMsg(name="bench", content=f"In city {i} it is sunny, 21 degrees, "
                            "with a light wind from the west; no rain is expected.")
               for i in range(history or 0)]

    async def no_compression(*args: Any, **kwargs: Any) -> None:
        return None

    def make_agent() -> Any:
        model = ScriptedChatModel(lambda key, index: turns[index % len(turns)])
        agent = Agent(name="bench", system_prompt="s", model=model,
                      toolkit=Toolkit(tools=[FunctionTool(lookup, permission=allow)]),
                      react_config=ReActConfig(max_iters=rounds + 1))
        if history is not None:
            agent.compress_context = no_compression
        return agent

    agent = make_agent()
    message = UserMsg(name="user", content="go")
    loop = asyncio.new_event_loop()

    async def run(n: int, beside: Beside) -> None:
        nonlocal agent
        for _ in range(n):
            if shared:
                # A fresh state per call keeps the context (and the work) constant.
                agent.state = type(agent.state)()
            else:
                agent = make_agent()
            if earlier:
                agent.state.context = list(earlier)
            await agent.reply(message)
            if beside is not None:
                beside()

    name = f"AgentScope 2.x ({rounds} rounds, {tools_per_round} tool/round)"
    if history is not None:
        name = f"AgentScope 2.x, {history} history messages"
    return Case(name,
                lambda n, beside=None: loop.run_until_complete(run(n, beside)),
                AgentScopeInstrumentor(), loop.close)


def _scripted_server(turns: list) -> Any:
    from opentelemetry.instrumentation.agents.testing.openai_server import (
        ScriptedOpenAIServer,
    )

    def respond(conv: str | None, request: Any) -> Any:
        from opentelemetry.instrumentation.agents.testing.openai_server import turn_index

        return turns[turn_index(request, since_last_user=True) % len(turns)]

    return ScriptedOpenAIServer(respond).start()


def praisonai() -> Case:
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor
    from opentelemetry.instrumentation.agents.testing.openai_server import (
        ScriptedOpenAIServer,
        ToolCall,
        text,
        tool_calls,
        turn_index,
    )

    # A new key each invocation: PraisonAI's loop detection remembers tool
    # calls across turns and stops an agent repeating identical ones.
    keys = itertools.count()

    def respond(conv: str | None, request: Any) -> Any:
        if turn_index(request, since_last_user=True) == 0:
            return tool_calls([ToolCall("lookup", {"key": f"k{next(keys)}"})])
        return text("done")

    server = ScriptedOpenAIServer(respond).start()
    os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-bench"
    os.environ.pop("OPENAI_API_BASE", None)
    from praisonaiagents import Agent

    def lookup(key: str) -> str:
        """Look up a key."""
        return key

    agent = Agent(name="bench", instructions="s", tools=[lookup], model="gpt-4o-mini",
                  retry=False)

    def run(n: int, beside: Beside = None) -> None:
        for _ in range(n):
            agent.chat_history.clear()
            agent.chat("go")
            if beside is not None:
                beside()

    return Case("PraisonAI Agents (2 rounds, 1 tool)", run, PraisonAIInstrumentor(),
                server.stop)


def hermes() -> Case:
    sys.path.insert(0, str(EXAMPLES))
    import hermes_demo

    hermes_demo.isolate_hermes()
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor
    from opentelemetry.instrumentation.agents.testing.openai_server import (
        ToolCall,
        text,
        tool_calls,
    )

    server = _scripted_server([tool_calls([ToolCall("get_weather", {"city": "x"})]),
                               text("done")])
    from run_agent import AIAgent
    from tools.registry import registry

    registry.register(name="get_weather", toolset="bench", schema={
        "name": "get_weather", "description": "weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}, handler=hermes_demo.get_weather)
    agent = AIAgent(base_url=server.base_url, api_key="sk-bench", model="scripted-gpt",
                    provider="custom", enabled_toolsets=["bench"], max_iterations=5,
                    tool_delay=0.0, quiet_mode=True, skip_context_files=True,
                    skip_memory=True)

    def run(n: int, beside: Beside = None) -> None:
        for _ in range(n):
            agent.run_conversation("go", conversation_history=[])
            if beside is not None:
                beside()

    return Case("Hermes Agent (2 rounds, 1 tool)", run, HermesAgentInstrumentor(),
                server.stop)


def agentscope1(shared: bool = True) -> Case:
    """AgentScope 1.x: a ReActAgent, two rounds and one tool (memory table only)."""
    from agentscope.agent import ReActAgent
    from agentscope.formatter import OpenAIChatFormatter
    from agentscope.message import Msg, TextBlock
    from agentscope.tool import Toolkit, ToolResponse

    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
    from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
        ScriptedChatModel,
        call_tools,
        say,
    )

    def lookup(key: str) -> ToolResponse:
        """Look up a key.

        Args:
            key (`str`): The key.
        """
        return ToolResponse(content=[TextBlock(type="text", text=key)])

    turns = [call_tools(("lookup", {"key": "k"})), say("done")]

    def make_agent() -> Any:
        toolkit = Toolkit()
        toolkit.register_tool_function(lookup)
        model = ScriptedChatModel(lambda key, index: turns[index % len(turns)])
        agent = ReActAgent(name="bench", sys_prompt="s", model=model,
                           formatter=OpenAIChatFormatter(), toolkit=toolkit, max_iters=3)
        agent.set_console_output_enabled(False)
        return agent

    agent = make_agent()
    loop = asyncio.new_event_loop()

    async def run(n: int, beside: Beside) -> None:
        nonlocal agent
        for _ in range(n):
            if shared:
                # An empty memory per call keeps the context (and the work) constant.
                await agent.memory.clear()
            else:
                agent = make_agent()
            await agent(Msg("user", "go", "user"))
            if beside is not None:
                beside()

    return Case("AgentScope 1.x (2 rounds, 1 tool/round)",
                lambda n, beside=None: loop.run_until_complete(run(n, beside)),
                AgentScopeInstrumentor(), loop.close)
