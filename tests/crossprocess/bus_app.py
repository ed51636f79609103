"""The worker side of AgentScope 2.x's app, for the message-bus tests.

Real parts: the bus (`InMemoryMessageBus` or `RedisMessageBus` against a
real ``redis-server``), the `WakeupDispatcher` that drains run triggers,
the `ChatRunRegistry` it spawns runs into, `enqueue_run_trigger` on the
submitting side, and an AgentScope `Agent` on a scripted model. Stand-ins:
`AgentRuns` for `ChatService` (which needs the app's storage, workspaces
and model credentials) does what `ChatService.run` does with the bus:
streams the reply and publishes every event to the session's replay log;
`SessionsExist` for the storage the dispatcher asks whether a session
still exists.
"""

from __future__ import annotations

import asyncio
from typing import Any


class SessionsExist:
    """The one storage call the dispatcher makes: every session exists."""

    async def get_session(self, user_id: str, agent_id: str, session_id: str) -> Any:
        return {"user_id": user_id, "agent_id": agent_id, "session_id": session_id}


class AgentRuns:
    """`ChatService.run`'s shape: run the agent, publish each event on the bus.

    A message containing ``slow`` makes the agent call a tool that sleeps
    `slow_seconds` (long enough for a test to take Redis away mid-run).
    """

    def __init__(self, bus: Any, slow_seconds: float = 3.0) -> None:
        self._bus = bus
        self._slow_seconds = slow_seconds
        self.finished: asyncio.Queue = asyncio.Queue()

    def _agent(self, name: str, text: str) -> Any:
        from agentscope.agent import Agent, ReActConfig
        from agentscope.permission import PermissionBehavior, PermissionDecision
        from agentscope.tool import FunctionTool, Toolkit

        from opentelemetry.instrumentation.agents.testing.agentscope_model import (
            ScriptedChatModel,
            call_tools,
            say,
        )

        seconds = self._slow_seconds

        async def wait_a_while() -> str:
            """Wait a while."""
            await asyncio.sleep(seconds)
            return "waited"

        allow = PermissionDecision(behavior=PermissionBehavior.ALLOW, message="test")
        script = [call_tools(("wait_a_while", {})), say("Done.")] if "slow" in text \
            else [say("Done.")]
        return Agent(name=name, system_prompt="You help.", model=ScriptedChatModel(script),
                     toolkit=Toolkit(tools=[FunctionTool(wait_a_while, permission=allow)]),
                     react_config=ReActConfig(max_iters=3))

    async def run(self, user_id: str, session_id: str, agent_id: str, input_msg: Any = None,
                  **_: Any) -> None:
        from agentscope.app._bus_ops import publish_session_event

        try:
            agent = self._agent(agent_id, input_msg.get_text_content() if input_msg else "")
            async for event in agent.reply_stream(input_msg):
                await publish_session_event(self._bus, session_id,
                                            event.model_dump(mode="json"))
        except Exception as exc:  # noqa: BLE001
            # ChatService.run logs and swallows a failed run, too.
            self.finished.put_nowait((session_id, exc))
            return
        self.finished.put_nowait((session_id, None))


class Worker:
    """A dispatcher draining run triggers from `bus` into `AgentRuns`."""

    def __init__(self, bus: Any, slow_seconds: float = 3.0) -> None:
        from agentscope.app._manager import ChatRunRegistry, WakeupDispatcher

        self.bus = bus
        self.runs = AgentRuns(bus, slow_seconds)
        self.registry = ChatRunRegistry()
        self.dispatcher = WakeupDispatcher(message_bus=bus, storage=SessionsExist(),
                                           chat_service=self.runs,
                                           chat_run_registry=self.registry)

    async def __aenter__(self) -> Worker:
        await self.registry.__aenter__()
        await self.dispatcher.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.dispatcher.__aexit__(*exc)
        await self.registry.__aexit__(*exc)
