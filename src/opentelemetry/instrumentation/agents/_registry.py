"""Reference-counted registration of per-agent hooks or middleware.

Runtimes that reach their loop only through hooks on the agent object need
ours installed while at least one traced invocation of that agent is in
flight, and gone afterwards. Overlapping invocations share one registration:
the first acquire installs, the last release removes. Entries are keyed by
the agent itself in a `WeakKeyDictionary`, so an agent that is garbage
collected leaves nothing behind (and a new object that happens to reuse its
``id()`` is never mistaken for it).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from ._safety import report

Installer = Callable[[Any], Any]
"""`install(agent)` adds our hooks and returns whatever `uninstall` needs.

If it fails part-way it must undo what it added before raising. What it
returns is kept as long as the agent lives, so it must not refer to the agent
(that would keep the agent alive forever).
"""

Uninstaller = Callable[[Any, Any], None]
"""`uninstall(agent, installed)` removes what `install` added."""


class AgentRegistry:
    """Counts in-flight invocations per agent and installs hooks on 0 -> 1."""

    def __init__(self, install: Installer, uninstall: Uninstaller) -> None:
        self._install = install
        self._uninstall = uninstall
        self._lock = threading.Lock()
        self._entries: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()

    def acquire(self, agent: Any) -> bool:
        """Count one more invocation of `agent`; True if our hooks are in place."""
        with self._lock:
            entry = self._entries.get(agent)
            if entry is not None:
                entry[0] += 1
                return True
            try:
                installed = self._install(agent)
            except Exception:  # noqa: BLE001 - the host's call goes on untraced
                report("installing agent hooks")
                return False
            self._entries[agent] = [1, installed]
            return True

    def release(self, agent: Any) -> None:
        """Count one invocation of `agent` finished; remove our hooks on 1 -> 0.

        Releasing an agent that was never acquired (or already released) does
        nothing, so a failed acquire cannot unbalance the count.
        """
        with self._lock:
            entry = self._entries.get(agent)
            if entry is None:
                return
            entry[0] -= 1
            if entry[0] > 0:
                return
            del self._entries[agent]
            # Still under the lock: a concurrent 0 -> 1 install must not run
            # between our bookkeeping and the removal it stands for.
            try:
                self._uninstall(agent, entry[1])
            except Exception:  # noqa: BLE001
                report("removing agent hooks")

    def count(self, agent: Any) -> int:
        with self._lock:
            entry = self._entries.get(agent)
            return entry[0] if entry is not None else 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Remove our hooks from every agent that still has them (uninstrument)."""
        with self._lock:
            entries = list(self._entries.items())
            self._entries.clear()
        for agent, (_count, installed) in entries:
            try:
                self._uninstall(agent, installed)
            except Exception:  # noqa: BLE001
                report("removing agent hooks")
