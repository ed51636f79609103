"""A minimal PraisonAI Agents app with one tool: nothing about telemetry in it.

Talks to whatever OpenAI-compatible endpoint the environment names: set
``OPENAI_API_KEY`` for OpenAI, or ``OPENAI_BASE_URL`` for another server (the
standalone scripted server among them). Use ``OPENAI_BASE_URL``, not
``Agent(base_url=...)``: PraisonAI sends an agent with a ``base_url`` through
LiteLLM instead of the OpenAI client.
"""

import os

from praisonaiagents import Agent


def get_weather(city: str) -> str:
    """Report the current weather in a city."""
    return f"21 degrees and sunny in {city}"


agent = Agent(name="weather-assistant", instructions="Answer with the weather tool.",
              llm=os.environ.get("MODEL", "gpt-4o-mini"), tools=[get_weather])
print(agent.chat("What is the weather in Lisbon?"))
