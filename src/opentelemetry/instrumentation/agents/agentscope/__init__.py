"""Instrumentation for AgentScope (https://github.com/agentscope-ai/agentscope).

Usage::

    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    AgentScopeInstrumentor().instrument()

One instrumentor for both lines, chosen from the installed version:

- 2.x (`agentscope.agent.Agent`): the agent, model and toolkit classes are
  patched; AgentScope's own opt-in `TracingMiddleware` turns into a
  pass-through while this instrumentation is active, and where the user
  switched it on our spans carry its attribute names too (see `v2`).
- 1.x (`AgentBase` / `ReActAgent`): the agent, model and toolkit classes are
  patched and, while an invocation is in flight, our ReAct hooks sit on the
  agent as instance hooks (see `v1`); AgentScope's `trace_reply`,
  `trace_llm` and `trace_toolkit` decorators stand aside while we are active.

Either way the trace has one span per agent, model and tool call, not two.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from importlib import metadata

from .._handler import TelemetryHandler
from .._instrumentor import RuntimeInstrumentor
from .._patching import Patcher
from ..package import AGENTSCOPE

_logger = logging.getLogger(__name__)

__all__ = ["AgentScopeInstrumentor"]


def _major_version() -> int | None:
    try:
        return int(metadata.version("agentscope").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return None


class AgentScopeInstrumentor(RuntimeInstrumentor):
    """Traces AgentScope agents, model calls and tool calls."""

    runtime = "agentscope"
    requirements = (AGENTSCOPE,)

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.requirements

    def _install(self, patcher: Patcher, handler: TelemetryHandler) -> None:
        major = _major_version()
        # 1.x's `install` returns what undoes its changes to live agents (the
        # hooks it registered); 2.x changes classes only.
        self._cleanup = None
        if major == 2:
            from . import v2

            v2.install(patcher, handler)
        elif major == 1:
            from . import v1

            self._cleanup = v1.install(patcher, handler)
        else:
            _logger.warning("agentscope %s is not supported by this version of "
                            "opentelemetry-instrumentation-agents", major)

    def _remove(self) -> None:
        cleanup, self._cleanup = getattr(self, "_cleanup", None), None
        if cleanup is not None:
            cleanup()
