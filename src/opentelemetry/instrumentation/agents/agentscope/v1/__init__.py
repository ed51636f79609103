"""AgentScope 1.x (`AgentBase` / `ReActAgent`), one module per concern.

Each module's `install` registers class-level patches for the modules it
cares about; while an invocation is in flight our ReAct hooks also sit on
the agent as instance hooks (`hooks`), which is what `install` returns the
undoing of. AgentScope's `trace_reply`, `trace_llm` and `trace_toolkit`
decorators stand aside while we are active (`tracing`).
"""

from __future__ import annotations

from collections.abc import Callable

from ..._handler import TelemetryHandler
from ..._patching import Patcher
from . import agent, compression, model, pipelines, rag, tool, tracing
from ._shared import Types


def install(patcher: Patcher, handler: TelemetryHandler) -> Callable[[], None]:
    """Register every 1.x patch; returns what removes our hooks from live agents."""
    types = Types()
    ensure_model_traced = model.install(patcher, handler, types)
    cleanup = agent.install(patcher, handler, types, ensure_model_traced)
    tool.install(patcher, handler)
    tracing.install(patcher)
    rag.install(patcher, handler)
    pipelines.install(patcher, handler)
    compression.install(patcher, handler)
    return cleanup
