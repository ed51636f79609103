"""Carrying the caller's context into the thread `Agent.start()` uses on a TTY.

On a terminal, `start()` runs `self.chat(...)` in a bare
`threading.Thread(target=run_chat)` and animates a spinner meanwhile. That
thread starts with an empty context, so its agent span would open a new
trace. The `start` wrapper records the caller's context for the agent while
`start` runs; the `chat` wrapper, finding itself with an empty context inside
such a thread, adopts it. Records are keyed by the agent in a
`WeakKeyDictionary` of ours (nothing is stored on the agent) and told apart
by the prompt `start` was given, which `run_chat` keeps in its closure.
"""

from __future__ import annotations

import threading
import weakref
from types import ModuleType
from typing import Any

from opentelemetry.context import Context

from .._context import get_current as _get_current
from .._handler import TelemetryHandler
from .._patching import Patcher
from .._safety import report

_lock = threading.Lock()
_pending: weakref.WeakKeyDictionary[Any, list[tuple[Any, Context]]] = \
    weakref.WeakKeyDictionary()


def start_wrapper(wrapped, instance, args, kwargs):
    """`Agent.start`: note the caller's context while `start` runs."""
    ctx = _get_current()
    if not ctx:
        # Nothing to hand over (and suppression lives in the context too).
        return wrapped(*args, **kwargs)
    entry = (args[0] if args else kwargs.get("prompt"), ctx)
    try:
        with _lock:
            _pending.setdefault(instance, []).append(entry)
    except TypeError:  # an agent class that cannot be weakly referenced
        return wrapped(*args, **kwargs)
    try:
        return wrapped(*args, **kwargs)
    finally:
        with _lock:
            entries = _pending.get(instance)
            if entries is not None:
                # By identity: two entries may compare equal.
                entries[:] = [e for e in entries if e is not entry]
                if not entries:
                    del _pending[instance]


def adopt(agent: Any) -> Context | None:
    """The context of the `start` call whose `run_chat` thread this is, if any."""
    if not _pending:
        # The common case, without the lock: a `start` that hands over
        # registers before it starts the thread that would read it.
        return None
    try:
        with _lock:
            entries = list(_pending.get(agent, ()))
        if not entries:
            return None
        target = getattr(threading.current_thread(), "_target", None)
        if getattr(target, "__name__", None) != "run_chat":
            return None
        cells = dict(zip(target.__code__.co_freevars, target.__closure__ or (), strict=False))
        if "self" not in cells or cells["self"].cell_contents is not agent:
            return None
        prompt = cells["prompt"].cell_contents if "prompt" in cells else None
        for candidate, ctx in entries:
            if candidate is prompt:
                return ctx
        for candidate, ctx in entries:
            if candidate == prompt:
                return ctx
        # `start` rewrote the prompt (None -> instructions, {{variables}}).
        return entries[0][1] if len(entries) == 1 else None
    except Exception:  # noqa: BLE001
        report("praisonai start() thread handover")
        return None


def clear() -> None:
    with _lock:
        _pending.clear()


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def execution_mixin(module: ModuleType) -> None:
        patcher.wrap(module, "ExecutionMixin.start", start_wrapper)

    patcher.on_import("praisonaiagents.agent.execution_mixin", execution_mixin)
