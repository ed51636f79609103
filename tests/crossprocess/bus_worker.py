"""A worker process of AgentScope 2.x's app on the Redis message bus.

    python bus_worker.py REDIS_PORT

Instrumented with `AgentsInstrumentor`, exporting to the collector its
caller names (``OTLP_TRACES_URL``); prints ``ready`` once its dispatcher
listens, then runs every trigger it drains until terminated.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "across_processes"))
sys.path.insert(0, str(ROOT))

from telemetry import export_from_environment  # noqa: E402

from opentelemetry.instrumentation.agents import AgentsInstrumentor  # noqa: E402

export_from_environment("agentscope-worker")
AgentsInstrumentor().instrument()

from agentscope.app.message_bus import RedisMessageBus  # noqa: E402

from tests.crossprocess.bus_app import Worker  # noqa: E402


async def main(port: int) -> None:
    async with RedisMessageBus(host="127.0.0.1", port=port) as bus, Worker(bus):
        print("ready", flush=True)
        await asyncio.Event().wait()


asyncio.run(main(int(sys.argv[1])))
