"""AgentScope 2.x's own tracing: its ``TracingMiddleware`` checks
``_check_tracing_enabled``; we make it answer False while we are active.

Where the user switched it on, our spans carry its attribute names instead
(`native`, which asks the original check)."""

from __future__ import annotations

from types import ModuleType

from ..._patching import Patcher


def install(patcher: Patcher) -> None:
    def tracing_module(module: ModuleType) -> None:
        patcher.wrap(module, "_check_tracing_enabled", _tracing_disabled)

    patcher.on_import("agentscope.middleware._tracing._trace", tracing_module)


def _tracing_disabled(wrapped, instance, args, kwargs) -> bool:
    # Our spans already cover what AgentScope's TracingMiddleware would emit;
    # answering "not configured" makes every one of its hooks a pass-through.
    return False
