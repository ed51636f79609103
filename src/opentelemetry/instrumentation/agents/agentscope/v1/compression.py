"""AgentScope 1.x memory compression, mapped onto the handler.

``ReActAgent._compress_memory_if_needed`` runs at the top of every
reasoning-acting iteration; when the memory is over the configured token
threshold it asks a model (the agent's, or ``compression_model``) for a
structured summary. While it runs, that model call's ``chat`` span is marked
as a compression call and sits under the agent span, outside the rounds;
when it stored a new summary the agent span counts a compression.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from ..._context import attach as _attach
from ..._context import detach as _detach
from ..._handler import TelemetryHandler
from ..._invocations import current_frame
from ..._patching import Patcher
from ..._safety import report

_COMPRESSING = otel_context.create_key("opentelemetry-instrumentation-agents.v1.compressing")


def compressing() -> bool:
    """True while a model call is made for an agent's memory compression."""
    return otel_context.get_value(_COMPRESSING) is not None


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def react_agent_module(module: ModuleType) -> None:
        patcher.wrap(module, "ReActAgent._compress_memory_if_needed",
                     _compress_wrapper(handler))

    patcher.on_import("agentscope.agent._react_agent", react_agent_module)


def _compress_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        frame = current_frame()
        config = getattr(instance, "compression_config", None)
        if frame is None or frame.owner is not instance or not getattr(config, "enable", False):
            return wrapped(*args, **kwargs)
        return _traced_compression(handler, frame, instance, wrapped(*args, **kwargs))

    return wrapper


async def _traced_compression(handler: TelemetryHandler, frame: Any, agent: Any,
                              call: Any) -> Any:
    memory = getattr(agent, "memory", None)
    before = getattr(memory, "_compressed_summary", None)
    token = _attach(otel_context.set_value(_COMPRESSING, frame))
    try:
        return await call
    finally:
        _detach(token)
        try:
            if getattr(memory, "_compressed_summary", None) is not before:
                handler.note_compression(frame)
        except Exception:  # noqa: BLE001
            report("agentscope compression end")
