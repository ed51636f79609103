"""PraisonAI's `PersistenceOrchestrator` (`praisonai.persistence`): session ids as
`gen_ai.conversation.id`.

The orchestrator's lifecycle is called by the application around each run:
`on_agent_start(agent, session_id=...)` (or `aon_agent_start`), the agent's
own calls, then `on_agent_end(agent, session_id)`. One orchestrator (and one
agent) serves many sessions at once, so the session cannot be read off
either: `on_agent_start` notes it for its agent in the caller's context (a
context variable, so each thread and task sees only its own), the agent
span of any invocation of that agent started there takes it as its
conversation id, and `on_agent_end` forgets it. A session id the
orchestrator generates itself (none given) is not known to us.
"""

from __future__ import annotations

from contextvars import ContextVar
from types import ModuleType
from typing import Any

from .._handler import TelemetryHandler
from .._patching import Patcher
from .._safety import report

# (agent, session id) pairs of the sessions open in this context, newest first.
_sessions: ContextVar[tuple[tuple[Any, str], ...]] = ContextVar(
    "otel_agents_praisonai_sessions", default=())


def session_of(agent: Any) -> str | None:
    """The persisted session `agent` runs in here, if the application opened one."""
    for owner, session_id in _sessions.get():
        if owner is agent:
            return session_id
    return None


def _session_id(args: tuple, kwargs: dict, position: int) -> str | None:
    value = args[position] if len(args) > position else kwargs.get("session_id")
    return value if isinstance(value, str) and value else None


def _open(agent: Any, session_id: str | None) -> None:
    try:
        if session_id is not None:
            kept = tuple(pair for pair in _sessions.get() if pair[0] is not agent)
            _sessions.set(((agent, session_id), *kept))
    except Exception:  # noqa: BLE001
        report("noting a PraisonAI persisted session")


def _close(agent: Any) -> None:
    try:
        current = _sessions.get()
        if any(owner is agent for owner, _ in current):
            _sessions.set(tuple(pair for pair in current if pair[0] is not agent))
    except Exception:  # noqa: BLE001
        report("forgetting a PraisonAI persisted session")


def start_wrapper(wrapped, instance, args, kwargs):
    """`on_agent_start(agent, session_id=None, ...)`."""
    result = wrapped(*args, **kwargs)
    _open(args[0] if args else kwargs.get("agent"), _session_id(args, kwargs, 1))
    return result


async def astart_wrapper(wrapped, instance, args, kwargs):
    """`aon_agent_start(agent, session_id=None, ...)`."""
    result = await wrapped(*args, **kwargs)
    _open(args[0] if args else kwargs.get("agent"), _session_id(args, kwargs, 1))
    return result


def end_wrapper(wrapped, instance, args, kwargs):
    """`on_agent_end(agent, session_id, ...)`."""
    try:
        return wrapped(*args, **kwargs)
    finally:
        _close(args[0] if args else kwargs.get("agent"))


async def aend_wrapper(wrapped, instance, args, kwargs):
    """`aon_agent_end(agent, session_id, ...)`."""
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _close(args[0] if args else kwargs.get("agent"))


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def orchestrator(module: ModuleType) -> None:
        patcher.wrap(module, "PersistenceOrchestrator.on_agent_start", start_wrapper)
        patcher.wrap(module, "PersistenceOrchestrator.aon_agent_start", astart_wrapper)
        patcher.wrap(module, "PersistenceOrchestrator.on_agent_end", end_wrapper)
        patcher.wrap(module, "PersistenceOrchestrator.aon_agent_end", aend_wrapper)

    patcher.on_import("praisonai.persistence.orchestrator", orchestrator)
