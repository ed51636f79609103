"""PraisonAI approvals (`praisonaiagents.approval`): how long a decision took.

A tool that requires approval asks `ApprovalRegistry.approve_sync` /
`approve_async`, which answer at once from their fast paths (not required,
approved before in this context, auto-approved by the environment, YAML or a
skill) and otherwise ask the backend `get_backend()` returns (a console
prompt, a `set_approval_callback` callback, a webhook...); a team's
`human_input` review of a task's output asks that backend too. The backend is
handed out through a proxy that times its decision methods, so only a real
request is measured: the wait, inside the invocation that goes on after it
(`agents.agent.pending_reason=user_confirmation`). `AutoApproveBackend`
decides without anyone and is handed out unchanged.
"""

from __future__ import annotations

from time import perf_counter
from types import ModuleType
from typing import Any

import wrapt

from .. import attributes as A
from .._context import get_current
from .._handler import TelemetryHandler
from .._patching import Patcher
from .._safety import report

_DECIDES = ("request_approval_sync", "request_approval")


class _TimedBackend(wrapt.ObjectProxy):
    """The backend itself to every reader, except that its decision methods,
    where it has them, are timed (a method it lacks stays missing)."""

    def __init__(self, backend: Any, handler: TelemetryHandler) -> None:
        super().__init__(backend)
        self._self_handler = handler

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.__wrapped__, name)
        if name == "request_approval_sync":
            return _timed(self._self_handler, value)
        if name == "request_approval":
            return _atimed(self._self_handler, value)
        return value


def _note(handler: TelemetryHandler, start: float, ctx: Any) -> None:
    handler.note_hitl_wait(perf_counter() - start, A.FINISH_USER_CONFIRMATION, context=ctx)


def _timed(handler: TelemetryHandler, method: Any) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        ctx = get_current()
        start = perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            _note(handler, start, ctx)

    return timed


def _atimed(handler: TelemetryHandler, method: Any) -> Any:
    # The coroutine may be run on another thread's loop (PraisonAI's sync
    # bridge): the context is the one that asked for it.
    ctx = get_current()

    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = perf_counter()
        try:
            return await method(*args, **kwargs)
        finally:
            _note(handler, start, ctx)

    return timed


def get_backend_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        backend = wrapped(*args, **kwargs)
        if not handler.enabled or backend is None or isinstance(backend, _TimedBackend):
            return backend
        try:
            if type(backend).__name__ == "AutoApproveBackend" or not any(
                    hasattr(backend, name) for name in _DECIDES):
                return backend
            return _TimedBackend(backend, handler)
        except Exception:  # noqa: BLE001
            report("praisonai approval backend")
            return backend

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def registry(module: ModuleType) -> None:
        patcher.wrap(module, "ApprovalRegistry.get_backend", get_backend_wrapper(handler))

    patcher.on_import("praisonaiagents.approval.registry", registry)
