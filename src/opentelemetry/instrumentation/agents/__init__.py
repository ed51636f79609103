"""OpenTelemetry instrumentation for agent runtimes.

Usage::

    from opentelemetry.instrumentation.agents import AgentsInstrumentor

    AgentsInstrumentor().instrument()              # every installed runtime
    AgentsInstrumentor().instrument(runtimes=["agentscope"])

Each runtime also has its own instrumentor (for example
`opentelemetry.instrumentation.agents.agentscope.AgentScopeInstrumentor`),
which `opentelemetry-instrument` finds through entry points. Using both, or
either twice, never patches anything twice.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Collection, Iterable
from typing import Any

from opentelemetry.instrumentation.dependencies import get_dependency_conflicts
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from ._content import set_content_hook
from ._instrumentor import LIFECYCLE_LOCK, RuntimeInstrumentor
from .version import __version__

__all__ = ["RUNTIMES", "AgentsInstrumentor", "__version__", "set_content_hook"]

_logger = logging.getLogger(__name__)

RUNTIMES: dict[str, str] = {
    "agentscope": "opentelemetry.instrumentation.agents.agentscope:AgentScopeInstrumentor",
    "hermes": "opentelemetry.instrumentation.agents.hermes:HermesAgentInstrumentor",
    "praisonai": "opentelemetry.instrumentation.agents.praisonai:PraisonAIInstrumentor",
    "mcp": "opentelemetry.instrumentation.agents.mcp:MCPInstrumentor",
    "a2a": "opentelemetry.instrumentation.agents.a2a:A2AInstrumentor",
}
"""Runtime name -> its instrumentor, as ``module:Class``."""


def _load(runtime: str) -> RuntimeInstrumentor:
    module_name, _, class_name = RUNTIMES[runtime].partition(":")
    return getattr(importlib.import_module(module_name), class_name)()


class AgentsInstrumentor(BaseInstrumentor):
    """Instruments every supported agent runtime that is installed."""

    def __init__(self) -> None:
        if not hasattr(self, "_ours"):
            self._ours: list[RuntimeInstrumentor] = []

    def instrumentation_dependencies(self) -> Collection[str]:
        # Each runtime checks its own requirement; none is needed for the whole.
        return ()

    def instrument(self, **kwargs: Any) -> Any:
        with LIFECYCLE_LOCK:  # see `_instrumentor.LIFECYCLE_LOCK`
            return super().instrument(**kwargs)

    def uninstrument(self, **kwargs: Any) -> Any:
        with LIFECYCLE_LOCK:
            return super().uninstrument(**kwargs)

    def _instrument(self, **kwargs: Any) -> None:
        selection: Iterable[str] | None = kwargs.pop("runtimes", None)
        names = list(RUNTIMES) if selection is None else list(selection)
        for name in names:
            if name not in RUNTIMES:
                _logger.warning("unknown agent runtime %r; known: %s", name,
                                ", ".join(RUNTIMES))
                continue
            instrumentor = _load(name)
            if instrumentor.is_instrumented_by_opentelemetry:
                continue
            if get_dependency_conflicts(instrumentor.instrumentation_dependencies()):
                _logger.debug("runtime %s is not installed; skipping", name)
                continue
            instrumentor.instrument(**kwargs)
            self._ours.append(instrumentor)

    def _uninstrument(self, **kwargs: Any) -> None:
        ours, self._ours = self._ours, []
        for instrumentor in ours:
            instrumentor.uninstrument(**kwargs)
