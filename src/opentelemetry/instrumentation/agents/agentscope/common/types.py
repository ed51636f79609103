"""AgentScope classes the adapters compare against, looked up on first use."""

from __future__ import annotations


class LazyTypes:
    """AgentScope classes we compare against, looked up on first use.

    Post-import hooks fire while a package may still be half-imported, so
    importing these when patching could fail; by the first call they exist.
    Each line's subclass imports its own in `_import`.
    """

    _loaded = False

    def load(self) -> LazyTypes:
        if not self._loaded:
            self._import()
            self._loaded = True
        return self

    def _import(self) -> None:
        raise NotImplementedError
