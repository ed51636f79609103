"""Faults across the boundary, AgentScope 2.x side: an MCP server killed while
a tool call is in flight (stdio and streamable HTTP), a remote A2A agent
timing out or killed mid-call.

Each fault runs once uninstrumented and once instrumented: the host sees the
same outcome (the same reply and tool results, or the same exception type);
instrumented, the spans of the failed calls end in ERROR with an
``error.type`` and nothing stays open.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import version

from agentscope.agent import A2AAgent, Agent, ReActConfig
from agentscope.mcp import HttpMCPConfig, MCPClient, StdioMCPConfig
from agentscope.message import UserMsg
from agentscope.tool import Toolkit
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)
from tests.runtimes import instrumented_with

from .support import SERVERS, free_port, http_server, kill_on, server_env
from .test_a2a_agentscope2 import _card, _is_remote_call

TOOL = "mcp__weather__get_weather"


def _instrumented(provider):
    from opentelemetry.instrumentation.agents import AgentsInstrumentor

    return instrumented_with(AgentsInstrumentor, provider)


def _agent(client: MCPClient, city: str) -> Agent:
    model = ScriptedChatModel([call_tools((TOOL, {"city": city})), say("Done.")])
    return Agent(name="helper", system_prompt="You help.", model=model,
                 toolkit=Toolkit(mcps=[client]), react_config=ReActConfig(max_iters=3))


def _tool_results(agent: Agent) -> list:
    """What the agent's tool calls answered, as kept in its context (ports masked)."""
    results = []
    for msg in agent.state.context:
        content = msg.content if isinstance(msg.content, list) else []
        for block in content:
            if getattr(block, "type", None) == "tool_result":
                output = block.output if isinstance(block.output, list) else [block.output]
                texts = [re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT",
                                getattr(part, "text", str(part))) for part in output]
                results.append((block.name, str(block.state), texts))
    return results


async def _outcome(run):
    """(reply text or exception type, tool results) of one run."""
    agent_holder: list[Agent] = []
    try:
        reply = await run(agent_holder)
        outcome = reply.get_text_content()
    except Exception as exc:  # noqa: BLE001
        outcome = type(exc)
    return outcome, _tool_results(agent_holder[0]) if agent_holder else []


async def _bare_then_traced(provider, run):
    bare = await _outcome(run)
    with _instrumented(provider):
        traced = await _outcome(run)
    return bare, traced


def _failed_mcp_client(spans):
    clients = [s for s in spans if s.name == "tools/call get_weather" and s.kind is SpanKind.CLIENT]
    assert len(clients) == 1, [(s.name, s.kind) for s in spans]
    client = clients[0]
    tool = next(s for s in spans if s.name == f"execute_tool {TOOL}")
    assert client.parent.span_id == tool.context.span_id
    assert client.status.status_code is StatusCode.ERROR
    assert client.attributes["error.type"]
    return client, tool


async def test_mcp_stdio_server_dying_mid_call(host_provider, receiver, detector, caplog):
    async def run(holder):
        config = StdioMCPConfig(command=sys.executable,
                                args=[str(SERVERS / "mcp_weather.py"), "stdio"],
                                env=server_env(receiver.traces_url))
        client = MCPClient(name="weather", is_stateful=True, mcp_config=config)
        await client.connect()
        try:
            holder.append(agent := _agent(client, "crash"))  # the server exits in the tool
            return await agent.reply(UserMsg(name="user", content="weather?"))
        finally:
            await client.close()

    bare, traced = await _bare_then_traced(host_provider, run)

    assert traced == bare
    assert traced[0] == "Done."
    spans = receiver.wait_for(lambda got: any(s.name == "invoke_agent helper" for s in got))
    client, _tool = _failed_mcp_client(spans)
    assert client.attributes["network.transport"] == "pipe"
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text


async def test_mcp_http_server_killed_mid_call(host_provider, receiver, detector, caplog):
    async def run(holder):
        with http_server("mcp_weather.py", receiver.traces_url, "http") as (port, process):
            client = MCPClient(name="weather", is_stateful=True, execution_timeout=5,
                               mcp_config=HttpMCPConfig(url=f"http://127.0.0.1:{port}/mcp"))
            await client.connect()
            kill_on(process, "slow call started")  # the tool would sleep 3 s
            try:
                holder.append(agent := _agent(client, "slow"))
                return await agent.reply(UserMsg(name="user", content="weather?"))
            finally:
                try:
                    await client.close()
                except Exception:  # noqa: BLE001
                    pass

    bare, traced = await _bare_then_traced(host_provider, run)

    assert traced == bare
    if int(version("mcp").split(".")[0]) >= 2:
        # mcp 2.x notices the dropped connection (CONNECTION_CLOSED).
        message, code = "Connection closed", "-32000"
    else:
        # The mcp 1.x client does not notice the dead server on streamable
        # HTTP: the request waits out AgentScope's execution timeout (the
        # SDK's 408).
        message, code = ("Timed out while waiting for response to ClientRequest. "
                         "Waited 5.0 seconds."), "408"
    assert traced[1] == [(TOOL, "error", [f"Error occurred when calling MCP tool: {message}"])]
    spans = receiver.wait_for(lambda got: any(s.name == "invoke_agent helper" for s in got))
    client, tool = _failed_mcp_client(spans)
    assert client.attributes["network.transport"] == "tcp"
    assert client.attributes["error.type"] == code
    assert tool.status.status_code is StatusCode.ERROR
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text


# -- remote A2A agents -------------------------------------------------------

async def _ask_remote(port: int, text: str, timeout: float | None = None):
    import httpx
    from a2a.client import ClientConfig, ClientFactory

    card = _card(port)
    client = None
    if timeout is not None:
        client = ClientFactory(ClientConfig(
            streaming=True, httpx_client=httpx.AsyncClient(timeout=timeout),
            supported_protocol_bindings=["JSONRPC"])).create(card)
    async with A2AAgent(agent_card=card, client=client) as remote:
        return await remote.reply(UserMsg(name="user", content=text))


def _failed_remote_call(spans):
    clients = [s for s in spans if _is_remote_call(s)]
    assert len(clients) == 1, [(s.name, s.kind) for s in spans]
    client = clients[0]
    assert client.status.status_code is StatusCode.ERROR
    assert client.attributes["error.type"]
    return client


async def test_remote_agent_timing_out_as_uninstrumented(host_provider, receiver, detector,
                                                         caplog):
    async def run(holder):
        with http_server("a2a_forecaster.py", receiver.traces_url) as (port, _process):
            return await _ask_remote(port, "slow forecast", timeout=1.0)  # it takes 5 s

    bare, traced = await _bare_then_traced(host_provider, run)

    assert traced == bare
    assert isinstance(traced[0], type) and issubclass(traced[0], Exception)
    spans = receiver.wait_for(lambda got: any(_is_remote_call(s) for s in got))
    client = _failed_remote_call(spans)
    assert client.attributes["error.type"].endswith(traced[0].__qualname__)
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text


async def test_remote_agent_killed_mid_call(host_provider, receiver, detector, caplog):
    async def run(holder):
        with http_server("a2a_forecaster.py", receiver.traces_url) as (port, process):
            kill_on(process, "slow call started")  # "slow" would take 5 s
            return await _ask_remote(port, "slow forecast")

    bare, traced = await _bare_then_traced(host_provider, run)

    assert traced == bare
    assert isinstance(traced[0], type) and issubclass(traced[0], Exception)
    spans = receiver.wait_for(lambda got: any(_is_remote_call(s) for s in got))
    client = _failed_remote_call(spans)
    assert client.attributes["error.type"].endswith(traced[0].__qualname__)
    # The server died before its agent finished: none of its spans ended.
    assert not [s for s in spans if s.resource.attributes.get("service.name") == "a2a-forecaster"
                and s.context.trace_id == client.context.trace_id]
    detector.assert_all_ended()
    assert "opentelemetry-instrumentation-agents failed" not in caplog.text


async def test_remote_agent_unreachable_as_uninstrumented(host_provider, receiver, detector):
    port = free_port()

    async def run(holder):
        return await _ask_remote(port, "weather?")

    bare, traced = await _bare_then_traced(host_provider, run)

    assert traced == bare
    spans = receiver.wait_for(lambda got: any(_is_remote_call(s) for s in got))
    client = _failed_remote_call(spans)
    assert client.attributes["error.type"].endswith(traced[0].__qualname__)
    detector.assert_all_ended()
