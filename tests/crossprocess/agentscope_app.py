"""AgentScope 2.x's own app (`agentscope.app.create_app`), served and driven
over its HTTP API, for the message-bus tests.

Everything is the app's: its routers, `ChatService`, `WakeupDispatcher`,
`ChatRunRegistry`, the bus (`InMemoryMessageBus`, or `RedisMessageBus`
against a real ``redis-server``), `RedisStorage` on that server and a
`LocalWorkspaceManager` in a temp dir, served by uvicorn on 127.0.0.1. The
only fake is the model: an OpenAI credential whose ``base_url`` is a
`ScriptedOpenAIServer`. The agent's extra tools (`create_app`'s
``extra_agent_tools``) are the test's own: ``delete_file`` asks for the
user's confirmation (so a reply pauses, and its resume goes through the
bus), ``wait_a_while`` sleeps long enough to take Redis away mid-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

MODEL = "gpt-4o-mini"
USER = "u1"
SLOW_SECONDS = 1.5


def _tools(slow_seconds: float):
    from agentscope.permission import PermissionBehavior, PermissionDecision
    from agentscope.tool import FunctionTool

    async def delete_file(path: str) -> str:
        """Delete a file.

        Args:
            path: The file to delete.
        """
        return f"deleted {path}"

    async def wait_a_while() -> str:
        """Wait a while."""
        await asyncio.sleep(slow_seconds)
        return "waited"

    ask = PermissionDecision(behavior=PermissionBehavior.ASK, message="needs a human")
    allow = PermissionDecision(behavior=PermissionBehavior.ALLOW, message="test")

    async def factory(user_id: str, agent_id: str, session_id: str) -> list:
        return [FunctionTool(delete_file, permission=ask),
                FunctionTool(wait_a_while, permission=allow)]

    return factory


def build_app(storage: Any, bus: Any, workdir: str, tracer_provider: Any = None,
              slow_seconds: float = SLOW_SECONDS) -> Any:
    """The app, mounted on a root FastAPI app whose request telemetry uses
    `tracer_provider` (the global one when None).

    Mounting is what `create_app` documents for embedding; the root app
    runs the AgentScope app's lifespan as its own.
    """
    from agentscope.app import create_app
    from agentscope.app.workspace_manager import LocalWorkspaceManager
    from fastapi import FastAPI

    agentscope_app = create_app(
        storage=storage, message_bus=bus, workspace_manager=LocalWorkspaceManager(workdir),
        extra_agent_tools=_tools(slow_seconds), enable_scheduler=False,
        enable_channel_worker=False)

    @contextlib.asynccontextmanager
    async def lifespan(_root: Any) -> AsyncIterator[None]:
        async with agentscope_app.router.lifespan_context(agentscope_app):
            yield

    telemetry = {"tracer_provider": tracer_provider} if tracer_provider is not None else None
    root = FastAPI(lifespan=lifespan, telemetry=telemetry)
    root.mount("/", agentscope_app)
    root.state.agentscope = agentscope_app
    return root


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """`app` served by uvicorn on this loop at a free 127.0.0.1 port; its base URL."""
    import uvicorn

    from .support import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before serving")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


class AppClient:
    """A user of the app's HTTP API (``X-User-ID`` is its identity)."""

    def __init__(self, base_url: str) -> None:
        import httpx

        self.http = httpx.AsyncClient(base_url=base_url, headers={"X-User-ID": USER},
                                      timeout=30)
        self.agent_id = ""
        self._credential = ""

    async def __aenter__(self) -> AppClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.http.aclose()

    async def _post(self, path: str, body: dict, headers: dict | None = None) -> dict:
        response = await self.http.post(path, json=body, headers=headers)
        assert response.status_code < 300, response.text
        return response.json()

    async def setup(self, model_base_url: str) -> None:
        """An OpenAI-compatible credential on the scripted model, and an agent."""
        credential = await self._post("/credential/", {"data": {
            "type": "openai_credential", "api_key": "sk-scripted", "base_url": model_base_url}})
        self._credential = credential["credential_id"]
        agent = await self._post("/agent/", {"name": "helper", "system_prompt": "You help."})
        self.agent_id = agent["agent_id"]

    async def session(self, name: str) -> str:
        # Named, so the app does not ask the model for a name.
        session = await self._post("/sessions/", {
            "agent_id": self.agent_id, "name": name, "chat_model_config": {
                "type": "openai_credential", "credential_id": self._credential,
                "model": MODEL, "parameters": {}}})
        return session["session_id"]

    async def chat(self, session_id: str, text: str, headers: dict | None = None) -> None:
        await self._post("/chat/", {"agent_id": self.agent_id, "session_id": session_id,
                                    "input": user_msg(text)}, headers)

    async def confirm(self, session_id: str, pause: dict, headers: dict | None = None) -> None:
        """Answer a ``REQUIRE_USER_CONFIRM`` event: yes to every call it asks about."""
        from agentscope.event import ConfirmResult, UserConfirmResultEvent

        event = UserConfirmResultEvent(reply_id=pause["reply_id"], confirm_results=[
            ConfirmResult(confirmed=True, tool_call=call) for call in pause["tool_calls"]])
        await self._post("/chat/", {"agent_id": self.agent_id, "session_id": session_id,
                                    "input": event.model_dump(mode="json")}, headers)

    @contextlib.asynccontextmanager
    async def events(self, session_id: str) -> AsyncIterator[Events]:
        """The session's live event stream (``GET /sessions/{id}/stream``)."""
        events = Events()
        subscribed = asyncio.Event()

        async def read() -> None:
            async with self.http.stream("GET", f"/sessions/{session_id}/stream",
                                        params={"agent_id": self.agent_id},
                                        timeout=None) as stream:
                subscribed.set()
                async for line in stream.aiter_lines():
                    if line.startswith("data:"):
                        events.queue.put_nowait(json.loads(line[5:]))

        reader = asyncio.create_task(read())
        try:
            await asyncio.wait_for(subscribed.wait(), 10)
            # The response starts once the bus subscription is live.
            yield events
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader


class Events:
    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()

    async def until(self, kind: str, seen: list[str] | None = None,
                    timeout: float = 20.0) -> dict:
        """The next event of type `kind` (``REQUIRE_USER_CONFIRM``, ``REPLY_END``);
        the types of the events up to it are added to `seen`."""
        async def wait() -> dict:
            while True:
                event = await self.queue.get()
                if seen is not None:
                    seen.append(event.get("type"))
                if event.get("type") == kind:
                    return event

        return await asyncio.wait_for(wait(), timeout)


def user_msg(text: str) -> dict:
    from agentscope.message import UserMsg

    return UserMsg(name="user", content=text).model_dump(mode="json")
