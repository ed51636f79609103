"""OpenTelemetry instrumentation for agent runtimes.

Usage::

    from opentelemetry.instrumentation.agents import AgentsInstrumentor

    AgentsInstrumentor().instrument()              # every installed runtime
    AgentsInstrumentor().instrument(runtimes="agentscope")   # or a sequence of names

An unknown runtime name raises `ValueError` before anything is patched; a
named runtime that is not installed logs one warning.

Each runtime also has its own instrumentor (for example
`opentelemetry.instrumentation.agents.agentscope.AgentScopeInstrumentor`),
which `opentelemetry-instrument` finds through entry points. Using both, or
either twice, never patches anything twice.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Iterable
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from ._content import set_content_hook
from ._evaluation import record_evaluation
from ._instrumentor import LIFECYCLE_LOCK, RuntimeInstrumentor, log_conflict
from ._run import agent_run
from ._signals import last_invocation_span_context
from .version import __version__

__all__ = ["RUNTIMES", "AgentsInstrumentor", "__version__", "agent_run",
           "last_invocation_span_context", "record_evaluation", "set_content_hook"]

RUNTIMES: dict[str, str] = {
    "agentscope": "opentelemetry.instrumentation.agents.agentscope:AgentScopeInstrumentor",
    "hermes": "opentelemetry.instrumentation.agents.hermes:HermesAgentInstrumentor",
    "praisonai": "opentelemetry.instrumentation.agents.praisonai:PraisonAIInstrumentor",
    "mcp": "opentelemetry.instrumentation.agents.mcp:MCPInstrumentor",
    "a2a": "opentelemetry.instrumentation.agents.a2a:A2AInstrumentor",
}
"""Runtime name -> its instrumentor, as ``module:Class``."""


def _selected(selection: str | Iterable[str] | None) -> tuple[list[str], bool]:
    """The runtime names asked for, and whether they were named explicitly.

    A single string is one name (not a sequence of letters). Raises
    `ValueError` for a name we do not know: a set-up error, reported before
    anything is patched.
    """
    if selection is None:
        return list(RUNTIMES), False
    names = [selection] if isinstance(selection, str) else list(selection)
    unknown = [name for name in names if name not in RUNTIMES]
    if unknown:
        raise ValueError(f"unknown agent runtime(s) {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(RUNTIMES)}")
    return names, True


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
        # Validated here, not in `_instrument`: BaseInstrumentor would otherwise
        # be free to mark us instrumented with nothing patched.
        kwargs["runtimes"] = _selected(kwargs.get("runtimes"))
        with LIFECYCLE_LOCK:  # see `_instrumentor.LIFECYCLE_LOCK`
            return super().instrument(**kwargs)

    def uninstrument(self, **kwargs: Any) -> Any:
        with LIFECYCLE_LOCK:
            return super().uninstrument(**kwargs)

    def _instrument(self, **kwargs: Any) -> None:
        names, named = kwargs.pop("runtimes")
        for name in names:
            instrumentor = _load(name)
            if instrumentor.is_instrumented_by_opentelemetry:
                continue
            conflict = instrumentor.conflict()
            if conflict is not None:
                log_conflict(name, conflict, named=named)
                continue
            instrumentor.instrument(**kwargs)
            self._ours.append(instrumentor)

    def _uninstrument(self, **kwargs: Any) -> None:
        ours, self._ours = self._ours, []
        for instrumentor in ours:
            instrumentor.uninstrument(**kwargs)
