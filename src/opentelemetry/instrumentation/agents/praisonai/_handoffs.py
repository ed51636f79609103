"""PraisonAI handoffs (`Agent(handoffs=[...])`): the target runs on the source's output.

A handoff is a tool of the source agent (`transfer_to_<name>`) whose call
runs the target through `Handoff._execute_with_runtime_resolution` (and its
`_async` twin, also used by `execute_async`), inside the source's tool span.
Around that call the handler's handoff context is current, so the target's
`invoke_agent` links to the source's (`agents.link.type=input_from`).
"""

from __future__ import annotations

from types import ModuleType

from .._context import attach, detach
from .._handler import TelemetryHandler
from .._patching import Patcher


def sync_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        ctx = handler.handoff_context() if handler.enabled else None
        if ctx is None:
            return wrapped(*args, **kwargs)
        token = attach(ctx)
        try:
            return wrapped(*args, **kwargs)
        finally:
            detach(token)

    return wrapper


def async_wrapper(handler: TelemetryHandler):
    async def wrapper(wrapped, instance, args, kwargs):
        ctx = handler.handoff_context() if handler.enabled else None
        if ctx is None:
            return await wrapped(*args, **kwargs)
        # Attached in this task only, around the awaited call.
        token = attach(ctx)
        try:
            return await wrapped(*args, **kwargs)
        finally:
            detach(token)

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def handoffs(module: ModuleType) -> None:
        patcher.wrap(module, "Handoff._execute_with_runtime_resolution", sync_wrapper(handler))
        patcher.wrap(module, "Handoff._execute_with_runtime_resolution_async",
                     async_wrapper(handler))

    patcher.on_import("praisonaiagents.agent.handoff", handoffs)
