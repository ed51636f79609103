"""AgentScope 2.x's app, served by uvicorn, on the Redis message bus.

    python bus_worker.py REDIS_PORT WORKDIR HTTP_PORT

Instrumented with `AgentsInstrumentor`, exporting to the collector its
caller names (``OTLP_TRACES_URL``); FastAPI's own request telemetry uses
the same (global) provider. Its `WakeupDispatcher` runs every trigger on
the Redis bus, whichever process pushed it. Serves until terminated.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "across_processes"))
sys.path.insert(0, str(ROOT))

from telemetry import export_from_environment  # noqa: E402

from opentelemetry.instrumentation.agents import AgentsInstrumentor  # noqa: E402

export_from_environment("agentscope-worker")
AgentsInstrumentor().instrument()

import uvicorn  # noqa: E402
from agentscope.app.message_bus import RedisMessageBus  # noqa: E402
from agentscope.app.storage import RedisStorage  # noqa: E402

from tests.crossprocess.agentscope_app import build_app  # noqa: E402

redis_port, workdir, http_port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
app = build_app(RedisStorage(host="127.0.0.1", port=redis_port),
                RedisMessageBus(host="127.0.0.1", port=redis_port), workdir)
uvicorn.run(app, host="127.0.0.1", port=http_port, log_level="warning")
