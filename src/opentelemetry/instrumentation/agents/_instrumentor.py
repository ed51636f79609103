"""The instrumentor shape every runtime shares."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.dependencies import (
    DependencyConflict,
    get_dependency_conflicts,
)
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from ._handler import TelemetryHandler
from ._patching import Patcher
from ._safety import report

_logger = logging.getLogger(__name__)

LIFECYCLE_LOCK = threading.RLock()
"""Held by every `instrument()` and `uninstrument()` of ours.

`BaseInstrumentor` checks its "instrumented" flag, patches, then sets the
flag, with nothing in between to stop another thread: an `uninstrument()`
racing an `instrument()` could leave the flag saying one thing and the
patches another (then `uninstrument()` would never restore them). One
reentrant lock for all runtimes, since `AgentsInstrumentor` drives them all.
"""


class RuntimeInstrumentor(BaseInstrumentor):
    """Base of the per-runtime instrumentors.

    A subclass names its runtime and requirement and implements `_install`,
    which only registers patches with the patcher (nothing is imported here).
    `BaseInstrumentor` makes each subclass a singleton and refuses a second
    `instrument()`, so no code path can patch a runtime twice.
    """

    runtime: str = ""
    requirements: tuple[str, ...] = ()

    def __init__(self) -> None:
        # BaseInstrumentor is a singleton: __init__ runs on every call.
        if not hasattr(self, "_patcher"):
            self._patcher = Patcher()
            self._handler: TelemetryHandler | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.requirements

    def instrument(self, **kwargs: Any) -> Any:
        with LIFECYCLE_LOCK:
            return super().instrument(**kwargs)

    def uninstrument(self, **kwargs: Any) -> Any:
        with LIFECYCLE_LOCK:
            return super().uninstrument(**kwargs)

    @property
    def handler(self) -> TelemetryHandler | None:
        return self._handler

    def conflict(self) -> DependencyConflict | None:
        """Why this runtime cannot be instrumented here: absent (``found`` is
        None) or installed at a version outside `requirements`; None if it can."""
        return get_dependency_conflicts(self.requirements)

    def _instrument(self, **kwargs: Any) -> None:
        # `opentelemetry-instrument` skips BaseInstrumentor's dependency check
        # (skip_dep_check=True) after checking the distribution's `instruments`
        # extra, which ours cannot declare (one distribution, several runtimes):
        # check here, so an absent runtime stays silent and untouched.
        conflict = self.conflict()
        if conflict is not None:
            log_conflict(self.runtime, conflict, named=False)
            return
        self._handler = TelemetryHandler(self.runtime, kwargs.get("tracer_provider"),
                                         kwargs.get("meter_provider"),
                                         kwargs.get("logger_provider"))
        try:
            self._install(self._patcher, self._handler)
        except Exception:  # noqa: BLE001 - instrument() must not fail the host's start-up
            report(f"instrumenting {self.runtime}")

    def _uninstrument(self, **kwargs: Any) -> None:
        try:
            self._remove()
        except Exception:  # noqa: BLE001
            report(f"removing {self.runtime} hooks")
        self._patcher.unpatch_all()

    def _install(self, patcher: Patcher, handler: TelemetryHandler) -> None:
        raise NotImplementedError

    def _remove(self) -> None:
        """Undo anything added to live objects beyond the recorded patches."""


def log_conflict(runtime: str, conflict: DependencyConflict, *, named: bool) -> None:
    """One line about a runtime left uninstrumented.

    A runtime that is simply not installed is only worth a warning when the
    user asked for it by name; a version outside our range always is.
    """
    if conflict.found:
        _logger.warning("%s: %s is installed, %r is supported; not instrumented",
                        runtime, conflict.found, conflict.required)
    elif named:
        _logger.warning("%s: not installed (needs %r); not instrumented", runtime,
                        conflict.required)
    else:
        _logger.debug("%s: not installed; not instrumented", runtime)
