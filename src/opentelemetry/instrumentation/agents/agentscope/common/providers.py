"""`gen_ai.provider.name` of an AgentScope model, from the module its class is in.

AgentScope keeps each provider's models in a module of their own under
``agentscope.model``; the module names differ between 1.x and 2.x, so each
line passes its own table. Answers are cached per class.
"""

from __future__ import annotations

from typing import Any


class ProviderNames:
    """Callable: model -> provider name (or what the table maps its module to),
    `default` for a class outside the table."""

    def __init__(self, by_module: dict[str, Any], package: str = "model",
                 default: Any = None) -> None:
        self._by_module = by_module
        self._package = package
        self._default = default
        self._cache: dict[type, Any] = {}

    def __call__(self, model: Any) -> Any:
        cls = type(model)
        try:
            return self._cache[cls]
        except KeyError:
            pass
        found = self._default
        # A user's subclass of a provider's model still names that provider.
        for klass in cls.__mro__:
            parts = klass.__module__.split(".")
            if parts[:2] == ["agentscope", self._package] and len(parts) > 2 \
                    and parts[2] in self._by_module:
                found = self._by_module[parts[2]]
                break
        self._cache[cls] = found
        return found
