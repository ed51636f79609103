"""A minimal Hermes Agent app with one tool: nothing about telemetry in it.

Talks to the OpenAI-compatible endpoint in ``OPENAI_BASE_URL`` (the
standalone scripted server, or a real provider's) with ``provider="custom"``.
Hermes keeps its state in ``$HERMES_HOME`` (default ``~/.hermes``): point it
at a directory of its own when you try this.
"""

import json
import os

from run_agent import AIAgent
from tools.registry import registry


def get_weather(args: dict, **_context) -> str:
    return json.dumps({"city": args["city"], "forecast": "21 degrees and sunny"})


registry.register(
    name="get_weather", toolset="demo", handler=get_weather,
    schema={"name": "get_weather", "description": "Report the current weather in a city.",
            "parameters": {"type": "object", "required": ["city"],
                           "properties": {"city": {"type": "string"}}}})
agent = AIAgent(base_url=os.environ["OPENAI_BASE_URL"],
                api_key=os.environ.get("OPENAI_API_KEY", "not-needed"),
                model=os.environ.get("MODEL", "gpt-4o-mini"), provider="custom",
                enabled_toolsets=["demo"], max_iterations=5, quiet_mode=True,
                skip_context_files=True, skip_memory=True)
print(agent.chat("What is the weather in Lisbon?"))
