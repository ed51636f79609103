"""An MCP server (FastMCP from `mcp` 1.x, MCPServer from 2.x) for the cross-process demo and tests.

    python mcp_weather.py stdio
    python mcp_weather.py http PORT

Instrumented with `MCPInstrumentor`; its tool opens a span of its own, which
must land under the caller's tool call. Cities with special meanings:
``crash`` kills the server mid-call, ``slow`` answers after 3 s, ``stall``
after 30 s (longer than any caller waits), ``fail`` raises inside the tool.
"""

from __future__ import annotations

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from telemetry import export_from_environment

from opentelemetry import trace
from opentelemetry.instrumentation.agents.mcp import MCPInstrumentor

export_from_environment("mcp-weather")
MCPInstrumentor().instrument()

from mcp.types import ToolAnnotations  # noqa: E402

transport = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
try:
    # mcp 2.x renamed FastMCP to MCPServer and moved host/port to run().
    from mcp.server.mcpserver import MCPServer
except ImportError:
    from mcp.server.fastmcp import FastMCP

    server = FastMCP("weather", host="127.0.0.1", port=port, log_level="WARNING")
    run_options: dict = {}
else:
    server = MCPServer("weather", log_level="WARNING")
    run_options = {} if transport == "stdio" else {"host": "127.0.0.1", "port": port}
tracer = trace.get_tracer("mcp-weather")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def get_weather(city: str) -> str:
    """Report the weather.

    Args:
        city: The city to report on.
    """
    with tracer.start_as_current_span("lookup weather"):
        if city == "crash":
            os._exit(3)
        if city == "slow":
            print("get_weather: slow call started", file=sys.stderr, flush=True)
            await asyncio.sleep(3)
        if city == "stall":
            await asyncio.sleep(30)
        if city == "fail":
            raise ValueError(f"no weather for {city}")
        return f"sunny in {city}"


server.run("stdio" if transport == "stdio" else "streamable-http", **run_options)
