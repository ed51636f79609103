"""Carry the OpenTelemetry context into Hermes's per-request worker threads.

`agent.chat_completion_helpers` runs every model HTTP request on a bare
``threading.Thread`` (so the conversation thread can poll for interrupts and
stale streams). A new thread starts with an empty context, so spans that an
HTTP or OpenAI client instrumentation opens there would become roots of new
traces instead of children of our ``chat`` span. That module's ``threading``
global is swapped for a stand-in whose ``Thread`` attaches the creator's
OpenTelemetry context while it runs; every other name is the real module's.
Only the OpenTelemetry context travels: Hermes's own context variables keep
the behaviour Hermes chose for them.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

from .._context import attach as _attach
from .._context import detach as _detach
from .._context import get_current as _get_current
from .._patching import Patcher


class ContextThread(threading.Thread):
    """A `threading.Thread` that runs in the context current where it was built."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._otel_agents_context = _get_current()

    def run(self) -> None:
        token = _attach(self._otel_agents_context)
        try:
            super().run()
        finally:
            _detach(token)


class ThreadingWithContext:
    """Stands in for the `threading` module inside one Hermes module."""

    Thread = ContextThread

    def __init__(self, real: ModuleType) -> None:
        self.__wrapped__ = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)


class ThreadHandoff:
    """Installs and removes the stand-in; remembers where it put one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._modules: list[ModuleType] = []

    def install(self, module: ModuleType) -> None:
        with self._lock:
            current = getattr(module, "threading", None)
            if not isinstance(current, ModuleType):
                return  # ours already, or a layout we do not know
            module.threading = ThreadingWithContext(current)  # type: ignore[attr-defined]
            self._modules.append(module)

    def remove(self) -> None:
        with self._lock:
            modules, self._modules = self._modules, []
            for module in modules:
                current = getattr(module, "threading", None)
                if isinstance(current, ThreadingWithContext):
                    module.threading = current.__wrapped__  # type: ignore[attr-defined]


def install(patcher: Patcher) -> ThreadHandoff:
    """Hand the context to the threads Hermes starts for a model call; returns
    the handoff to remove when uninstrumenting."""
    threads = ThreadHandoff()
    patcher.on_import("agent.chat_completion_helpers", threads.install)
    return threads
