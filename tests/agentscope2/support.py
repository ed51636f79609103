"""Building real AgentScope 2.x agents for the tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agentscope.agent import Agent, ReActConfig
from agentscope.message import UserMsg
from agentscope.permission import PermissionBehavior, PermissionDecision
from agentscope.tool import FunctionTool, Toolkit

from opentelemetry.instrumentation.agents.testing.agentscope.model import ScriptedChatModel

ALLOW = PermissionDecision(behavior=PermissionBehavior.ALLOW, message="allowed in tests")


def tool(func: Callable, *, concurrent: bool = True) -> FunctionTool:
    return FunctionTool(func, permission=ALLOW, is_concurrency_safe=concurrent)


def make_agent(model: ScriptedChatModel, tools: Sequence[Callable] = (), *,
               name: str = "helper", max_iters: int = 10, concurrent: bool = True) -> Agent:
    toolkit = Toolkit(tools=[tool(f, concurrent=concurrent) for f in tools])
    return Agent(name=name, system_prompt="You help.", model=model, toolkit=toolkit,
                 react_config=ReActConfig(max_iters=max_iters))


def user(text: str = "hi") -> UserMsg:
    return UserMsg(name="user", content=text)


def get_weather(city: str) -> str:
    """Report the weather.

    Args:
        city: The city to report on.
    """
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """Report the time.

    Args:
        city: The city to report on.
    """
    return f"noon in {city}"


# One tool round, then the answer: the span tree of the lifecycle and drift tests.
TOOL_ROUND_TREE = """
invoke_agent helper
  react step
    chat scripted-model
    execute_tool get_weather
  react step
    chat scripted-model
"""
