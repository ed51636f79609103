"""A minimal AgentScope 1.x app with one tool: nothing about telemetry in it.

Talks to the OpenAI-compatible endpoint in ``OPENAI_BASE_URL`` (the
standalone scripted server, or a real provider's) with ``OPENAI_API_KEY``.
"""

import asyncio
import os

from agentscope.agent import ReActAgent
from agentscope.formatter import OpenAIChatFormatter
from agentscope.message import Msg, TextBlock
from agentscope.model import OpenAIChatModel
from agentscope.tool import Toolkit, ToolResponse


def get_weather(city: str) -> ToolResponse:
    """Report the current weather in a city.

    Args:
        city: The city to report on.
    """
    return ToolResponse(content=[TextBlock(type="text", text=f"21 degrees and sunny in {city}")])


async def main() -> None:
    toolkit = Toolkit()
    toolkit.register_tool_function(get_weather)
    model = OpenAIChatModel(os.environ.get("MODEL", "gpt-4o-mini"),
                            api_key=os.environ.get("OPENAI_API_KEY", "not-needed"),
                            stream=False,
                            client_kwargs={"base_url": os.environ.get("OPENAI_BASE_URL")})
    agent = ReActAgent(name="weather-assistant", sys_prompt="Answer with the weather tool.",
                       model=model, formatter=OpenAIChatFormatter(), toolkit=toolkit)
    reply = await agent(Msg("user", "What is the weather in Lisbon?", "user"))
    print(reply.get_text_content())


asyncio.run(main())
