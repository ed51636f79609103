"""An A2A server (a2a-sdk, JSON-RPC over HTTP) fronting an AgentScope 2.x agent.

    python a2a_forecaster.py PORT

Instrumented with `AgentsInstrumentor` (AgentScope and the A2A server side),
exporting to the collector its caller names (``OTLP_TRACES_URL``). The
fronted agent, ``forecaster``, runs on a scripted model; a message
containing ``slow`` makes it take 5 s.
"""

from __future__ import annotations

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from telemetry import export_from_environment

from opentelemetry.instrumentation.agents import AgentsInstrumentor

# a2a-sdk's own spans (one per internal method) nest under the continued
# context too; off by default here so the tree shows the agents (a test
# switches them on to check that none of them starts a trace of its own).
os.environ.setdefault("OTEL_INSTRUMENTATION_A2A_SDK_ENABLED", "false")
export_from_environment("a2a-forecaster")
AgentsInstrumentor().instrument()

import uvicorn  # noqa: E402
from a2a.helpers import new_text_message  # noqa: E402
from a2a.server.agent_execution import AgentExecutor  # noqa: E402
from a2a.server.request_handlers import DefaultRequestHandler  # noqa: E402
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes  # noqa: E402
from a2a.server.tasks import InMemoryTaskStore  # noqa: E402
from a2a.types import AgentCapabilities, AgentCard, AgentInterface  # noqa: E402
from agentscope.agent import Agent, ReActConfig  # noqa: E402
from agentscope.message import UserMsg  # noqa: E402
from agentscope.tool import Toolkit  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from opentelemetry.instrumentation.agents.testing.agentscope.model import (  # noqa: E402
    ScriptedChatModel,
    say,
)

PORT = int(sys.argv[1])
URL = f"http://127.0.0.1:{PORT}/"


class ForecasterExecutor(AgentExecutor):
    async def execute(self, context, event_queue) -> None:
        text = context.get_user_input()
        if "slow" in text:
            print("forecaster: slow call started", file=sys.stderr, flush=True)
            await asyncio.sleep(5)
        agent = Agent(name="forecaster", system_prompt="You forecast.",
                      model=ScriptedChatModel([say("Rain tomorrow.")]), toolkit=Toolkit(),
                      react_config=ReActConfig(max_iters=2))
        reply = await agent.reply(UserMsg(name="user", content=text))
        await event_queue.enqueue_event(new_text_message(
            reply.get_text_content(), context_id=context.context_id, task_id=context.task_id))

    async def cancel(self, context, event_queue) -> None:
        raise NotImplementedError


card = AgentCard(
    name="forecaster", description="Forecasts the weather.", version="1.0.0",
    supported_interfaces=[AgentInterface(url=URL, protocol_binding="JSONRPC")],
    capabilities=AgentCapabilities(streaming=True),
    default_input_modes=["text/plain"], default_output_modes=["text/plain"])
handler = DefaultRequestHandler(agent_executor=ForecasterExecutor(),
                                task_store=InMemoryTaskStore(), agent_card=card)
app = Starlette(routes=[*create_agent_card_routes(card),
                        *create_jsonrpc_routes(handler, rpc_url="/")])
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
