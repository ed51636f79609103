"""One trace across three processes: an AgentScope agent, an MCP tool server
and a remote agent served over A2A.

    python examples/across_processes/demo.py --endpoint http://127.0.0.1:6006

The ``coordinator`` agent (this process) calls ``get_weather`` on an MCP
server (a subprocess over stdio) and asks ``forecaster``, an AgentScope
agent behind an a2a-sdk server (a subprocess on 127.0.0.1), through
`A2AAgent`. All three processes export OTLP/HTTP to ``--endpoint`` (Phoenix,
or any OTLP/HTTP collector) into the project ``--project``; the trace
context travels in the MCP request's ``params._meta`` and in the A2A
request's W3C headers, so the collector shows one trace. Offline: the
models are scripted. Prints the trace id and how many spans this process sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from telemetry import PROJECT_ENV, TRACES_ENV, export_to  # noqa: E402

from opentelemetry.instrumentation.agents import AgentsInstrumentor  # noqa: E402

QUESTION = "Weather in Paris today, and tomorrow?"
# a2a-sdk's own spans for its internal methods (on whenever an SDK is set)
# would bury the agents' trees; read when a2a is first imported.
os.environ.setdefault("OTEL_INSTRUMENTATION_A2A_SDK_ENABLED", "false")


def _server_env(traces_url: str, project: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    root = HERE.parents[1]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root / "src"), env.get("PYTHONPATH")]))
    env[TRACES_ENV] = traces_url
    env[PROJECT_ENV] = project
    env["OTEL_INSTRUMENTATION_A2A_SDK_ENABLED"] = "false"
    return env


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the A2A server exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise TimeoutError(f"the A2A server did not listen on 127.0.0.1:{port}")


async def ask(question: str, env: dict[str, str]) -> str:
    from a2a.types import AgentCapabilities, AgentCard, AgentInterface
    from agentscope.agent import A2AAgent, Agent, ReActConfig
    from agentscope.mcp import MCPClient, StdioMCPConfig
    from agentscope.message import UserMsg
    from agentscope.permission import PermissionBehavior, PermissionDecision
    from agentscope.tool import FunctionTool, Toolkit

    from opentelemetry.instrumentation.agents.testing.agentscope.model import (
        ScriptedChatModel,
        call_tools,
        say,
    )

    port = _free_port()
    a2a_server = subprocess.Popen([sys.executable, str(HERE / "a2a_forecaster.py"), str(port)],
                                  env=env, stdout=subprocess.DEVNULL)
    weather = MCPClient(name="weather", is_stateful=True, mcp_config=StdioMCPConfig(
        command=sys.executable, args=[str(HERE / "mcp_weather.py"), "stdio"], env=env))
    try:
        await _wait_for_port(port, a2a_server)
        await weather.connect()
        card = AgentCard(
            name="forecaster", description="Forecasts the weather.", version="1.0.0",
            supported_interfaces=[AgentInterface(url=f"http://127.0.0.1:{port}/",
                                                 protocol_binding="JSONRPC")],
            capabilities=AgentCapabilities(streaming=True),
            default_input_modes=["text/plain"], default_output_modes=["text/plain"])

        async with A2AAgent(agent_card=card) as forecaster:
            async def ask_forecaster(question: str) -> str:
                """Ask the remote forecaster agent.

                Args:
                    question: What to ask.
                """
                reply = await forecaster.reply(UserMsg(name="coordinator", content=question))
                return reply.get_text_content()

            model = ScriptedChatModel([
                call_tools(("mcp__weather__get_weather", {"city": "Paris"}),
                           ("ask_forecaster", {"question": "Tomorrow in Paris?"})),
                say("Sunny today; rain tomorrow."),
            ])
            allow = PermissionDecision(behavior=PermissionBehavior.ALLOW, message="demo")
            agent = Agent(name="coordinator", system_prompt="You coordinate.", model=model,
                          toolkit=Toolkit(tools=[FunctionTool(ask_forecaster, permission=allow)],
                                          mcps=[weather]),
                          react_config=ReActConfig(max_iters=3))
            reply = await agent.reply(UserMsg(name="user", content=question))
            return reply.get_text_content()
    finally:
        await weather.close()
        a2a_server.terminate()
        try:
            a2a_server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            a2a_server.kill()
            a2a_server.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default=os.environ.get("PHOENIX_COLLECTOR_ENDPOINT")
                        or "http://127.0.0.1:6006", help="OTLP/HTTP endpoint of the collector")
    parser.add_argument("--project", default="agents-across-processes",
                        help="Phoenix project to put the trace in")
    args = parser.parse_args(argv)
    traces_url = args.endpoint.rstrip("/")
    if not traces_url.endswith("/v1/traces"):
        traces_url += "/v1/traces"

    provider, roots = export_to(traces_url, "coordinator", args.project)
    AgentsInstrumentor().instrument(tracer_provider=provider)
    answer = asyncio.run(ask(QUESTION, _server_env(traces_url, args.project)))
    provider.shutdown()
    print(f"coordinator: {answer}")
    for name, trace_id in roots.roots:
        print(f"  trace {trace_id}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
