"""A PraisonAI agent (or a team of two) served with `launch()` (FastAPI, uvicorn).

    python praisonai_served.py agent|team|teams[-plain] PORT

Instrumented with `AgentsInstrumentor`, exporting to the collector its
caller names (``OTLP_TRACES_URL``); the model is the caller's scripted
OpenAI-compatible server (``OPENAI_BASE_URL``). The agent answers on
``POST /ask``, the team on ``POST /team``; ``teams``: two teams launched on
the same port from two threads at once (PraisonAI's thread-safety guide),
``research`` on ``POST /research`` and ``support`` on ``POST /support``;
``teams-collide``: both on ``/team`` (PraisonAI gives the later one
``/team_<6 hex>``). ``-plain``: FastAPI's own
telemetry (FastAPI 0.16x traces requests natively when an SDK is set) is
switched off, as with an older FastAPI, so only our continuation is at work.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "across_processes"))

from telemetry import export_from_environment  # noqa: E402

from opentelemetry.instrumentation.agents import AgentsInstrumentor  # noqa: E402

export_from_environment("praisonai-served")
AgentsInstrumentor().instrument()

from praisonaiagents import Agent, AgentTeam, Task  # noqa: E402

mode, port = sys.argv[1], int(sys.argv[2])
if mode.endswith("-plain"):
    import fastapi

    _init = fastapi.FastAPI.__init__

    def _init_without_tracing(self, *args, **kwargs):
        kwargs.setdefault("telemetry", {"tracing": False})
        _init(self, *args, **kwargs)

    fastapi.FastAPI.__init__ = _init_without_tracing
    mode = mode.removesuffix("-plain")


def get_weather(city: str) -> str:
    """Report the weather in a city.

    Args:
        city: The city to report on.
    """
    return f"sunny in {city}"


def launch_teams_concurrently(collide: bool) -> None:
    research = AgentTeam(name="research", agents=[
        Agent(name="researcher", instructions="You research.", tools=[get_weather],
              model="gpt-4o-mini", retry=False),
        Agent(name="reporter", instructions="You report.", model="gpt-4o-mini", retry=False)])
    support = AgentTeam(name="support", agents=[
        Agent(name="triager", instructions="You triage.", model="gpt-4o-mini", retry=False),
        Agent(name="resolver", instructions="You resolve.", model="gpt-4o-mini", retry=False)])
    together = threading.Barrier(2, timeout=30)

    def serve(team: AgentTeam, path: str) -> None:
        together.wait()
        team.launch(path=path, port=port, host="127.0.0.1")

    paths = ("/team", "/team") if collide else ("/research", "/support")
    for team, path in zip((research, support), paths, strict=True):
        threading.Thread(target=serve, args=(team, path), daemon=True).start()


if mode.startswith("teams"):
    launch_teams_concurrently(collide=mode == "teams-collide")
else:
    helper = Agent(name="helper", instructions="You help.", tools=[get_weather],
                   model="gpt-4o-mini", retry=False)
    if mode == "agent":
        helper.launch(path="/ask", port=port, host="127.0.0.1")
    else:
        writer = Agent(name="writer", instructions="You write.", model="gpt-4o-mini",
                       retry=False)
        team = AgentTeam(agents=[helper, writer], tasks=[
            Task(description="Find the weather.", agent=helper),
            Task(description="Write it up.", agent=writer)])
        team.launch(path="/team", port=port, host="127.0.0.1")

# `launch()` blocks only when it guesses it is the script's last call; do not
# depend on the guess.
threading.Event().wait()
