"""Building real AgentScope 1.x agents for the tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agentscope.agent import ReActAgent
from agentscope.formatter import OpenAIChatFormatter
from agentscope.message import Msg, TextBlock
from agentscope.tool import Toolkit, ToolResponse

from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import ScriptedChatModel


def make_agent(model: ScriptedChatModel, tools: Sequence[Callable] = (), *,
               name: str = "helper", max_iters: int = 10,
               parallel: bool = False) -> ReActAgent:
    toolkit = Toolkit()
    for func in tools:
        toolkit.register_tool_function(func)
    agent = ReActAgent(name=name, sys_prompt="You help.", model=model,
                       formatter=OpenAIChatFormatter(), toolkit=toolkit,
                       max_iters=max_iters, parallel_tool_calls=parallel)
    agent.set_console_output_enabled(False)
    return agent


def user(text: str = "hi") -> Msg:
    return Msg("user", text, "user")


def text_result(text: str) -> ToolResponse:
    return ToolResponse(content=[TextBlock(type="text", text=text)])


def get_weather(city: str) -> ToolResponse:
    """Report the weather.

    Args:
        city (`str`): The city to report on.
    """
    return text_result(f"sunny in {city}")


def get_time(city: str) -> ToolResponse:
    """Report the time.

    Args:
        city (`str`): The city to report on.
    """
    return text_result(f"noon in {city}")


# One tool round, then the answer: the span tree of the lifecycle and drift tests.
TOOL_ROUND_TREE = """
invoke_agent helper
  react step
    chat scripted-model
    execute_tool get_weather
  react step
    chat scripted-model
"""
