"""AgentScope 1.x's own tracing (``agentscope.tracing``).

Its ``trace_reply``, ``trace_llm`` and ``trace_toolkit`` decorators would emit
a second span for the very agent, model and tool calls we trace;
``_check_tracing_enabled`` answers False to them (and only them) while we are
active. Its formatter, embedding and generic ``@trace`` spans are not ours to
replace and keep working, nested under our spans.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from ..._patching import Patcher


def install(patcher: Patcher) -> None:
    def tracing_module(module: ModuleType) -> None:
        patcher.wrap(module, "_check_tracing_enabled", _tracing_check(module))

    patcher.on_import("agentscope.tracing._trace", tracing_module)


async def _placeholder(*args: Any, **kwargs: Any) -> None:
    return None


def _tracing_check(module: ModuleType):
    # The decorators build one closure per decorated function, all sharing the
    # decorator's code object: that identifies which decorator is asking.
    duplicates = frozenset(
        getattr(module, name)(_placeholder).__code__
        for name in ("trace_reply", "trace_llm", "trace_toolkit", "trace_embedding")
        if callable(getattr(module, name, None)))

    def wrapper(wrapped, instance, args, kwargs):
        if not wrapped(*args, **kwargs):
            return False  # AgentScope's tracing is off: nothing to decide
        caller = sys._getframe(1)
        # wrapt's pure-Python fallback adds frames of its own in between.
        while caller is not None and caller.f_globals.get("__name__", "").startswith("wrapt"):
            caller = caller.f_back
        if caller is not None and caller.f_code in duplicates:
            # We already trace this agent, model or tool call.
            return False
        return True

    return wrapper
