"""Lazy, reversible patching with wrapt.

Instrumenting never imports a runtime module itself: each patch waits for the
application's own import through a wrapt post-import hook (which fires at once
when the module is already loaded). Every patch is recorded so `unpatch_all`
restores the originals, and a callable that already carries our wrapper is
never wrapped a second time.

Runtimes move and rename the private call points we patch from release to
release. A call point missing from the installed version is drift, not a
fault: it gets one warning naming it (``module.Class.method``), the other
patches still go in, and nothing is raised into the host.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import wrapt
from opentelemetry.instrumentation.utils import unwrap

from ._safety import report

_logger = logging.getLogger("opentelemetry.instrumentation.agents")

# wrapt proxies keep `_self_`-prefixed attributes on the proxy itself rather
# than forwarding them to the wrapped function, so the mark leaves with unwrap.
_MARK = "_self_otel_agents_wrapper"

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def _resolve(module: Any, path: str) -> tuple[Any, str]:
    parent: Any = module
    *owners, attribute = path.split(".")
    for name in owners:
        parent = getattr(parent, name)
    return parent, attribute


def _qualified(owner: Any, path: str) -> str:
    """`owner.path` spelled from the module down, whether `owner` is a module or a class."""
    if isinstance(owner, type):
        return f"{owner.__module__}.{owner.__qualname__}.{path}"
    return f"{getattr(owner, '__name__', type(owner).__name__)}.{path}"


def is_ours(obj: Any) -> bool:
    return bool(getattr(obj, _MARK, False))


class Patcher:
    """Applies one runtime's patches when its modules are imported."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._active = False
        self._hooked: set[str] = set()
        # Several concerns may patch one module: each registers its own plan.
        self._plans: dict[str, list[Callable[[ModuleType], None]]] = {}
        self._patched: list[tuple[Any, str]] = []
        # Call points already reported missing, so each warns once per instrument().
        self._missing: set[str] = set()

    @property
    def active(self) -> bool:
        return self._active

    def on_import(self, module_name: str, apply: Callable[[ModuleType], None]) -> None:
        """Run `apply(module)` once `module_name` is imported (now, if it is)."""
        with self._lock:
            self._active = True
            plans = self._plans.setdefault(module_name, [])
            plans.append(apply)
            if module_name in self._hooked:
                # wrapt keeps hooks forever; ours is already registered and
                # consults `_plans`, so re-instrumenting only re-applies.
                import sys

                module = sys.modules.get(module_name)
                if module is not None:
                    self._apply(module_name, module, apply)
                return
            self._hooked.add(module_name)
        wrapt.register_post_import_hook(
            lambda module, name=module_name: self._run(name, module), module_name)

    def _run(self, module_name: str, module: ModuleType) -> None:
        with self._lock:
            if not self._active:
                return
            for apply in list(self._plans.get(module_name, ())):
                self._apply(module_name, module, apply)

    def _apply(self, module_name: str, module: ModuleType,
               apply: Callable[[ModuleType], None]) -> None:
        try:
            apply(module)
        except Exception:  # noqa: BLE001 - an unexpected runtime version stays unpatched
            report(f"patching {module_name}")

    def wrap(self, module: Any, path: str, wrapper: Wrapper) -> bool:
        """Wrap `module.path` (e.g. ``"Agent.reply"``) unless we already did.

        `module` may be a module or any other object (say, a class found at
        run time). Does nothing once `unpatch_all` has run, so a late patch
        racing with uninstrument cannot outlive it.
        """
        with self._lock:
            if not self._active:
                return False
            try:
                parent, attribute = _resolve(module, path)
            except AttributeError:
                self._report_missing(module, path)
                return False
            if not hasattr(parent, attribute):
                self._report_missing(module, path)
                return False
            # On a class, only its own attribute: one inherited from a base is
            # the base's to wrap (callers that mean every override walk them).
            current = parent.__dict__.get(attribute) if isinstance(parent, type) else \
                getattr(parent, attribute, None)
            if current is None or is_ours(current):
                return False
            wrapt.wrap_function_wrapper(parent, attribute, wrapper)
            installed = parent.__dict__.get(attribute) if isinstance(parent, type) else \
                getattr(parent, attribute)
            setattr(installed, _MARK, True)
            self._patched.append((parent, attribute))
            return True

    def _report_missing(self, owner: Any, path: str) -> None:
        name = _qualified(owner, path)
        if name in self._missing:
            return
        self._missing.add(name)
        _logger.warning("opentelemetry-instrumentation-agents: %s is not in the installed "
                        "version, so it is not traced; everything else is", name)

    def missing(self) -> list[str]:
        """The call points reported missing since the last `unpatch_all`."""
        with self._lock:
            return sorted(self._missing)

    def replace(self, owner: Any, attribute: str, replacement: Any) -> None:
        """Set `owner.attribute`, remembering the original for `unpatch_all`."""
        with self._lock:
            original = getattr(owner, attribute)
            proxy = wrapt.FunctionWrapper(original, lambda w, i, a, k: replacement(*a, **k))
            setattr(proxy, _MARK, True)
            setattr(owner, attribute, proxy)
            self._patched.append((owner, attribute))

    def unpatch_all(self) -> None:
        with self._lock:
            self._active = False
            self._plans.clear()
            self._missing.clear()
            patched, self._patched = self._patched, []
            for owner, attribute in reversed(patched):
                try:
                    unwrap(owner, attribute)
                except Exception:  # noqa: BLE001
                    report(f"restoring {attribute}")

    def patched(self) -> list[tuple[Any, str]]:
        with self._lock:
            return list(self._patched)
