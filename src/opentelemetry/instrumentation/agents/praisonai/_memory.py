"""Memory retrieval: `FileMemory.search`, PraisonAI's default (file-based) memory.

`Agent(memory=...)` with the file backend keeps its memory under
`.praisonai/memory` of the working directory and searches it by keyword,
offline: with `MemoryConfig(prefetch=True)` before each turn
(`search_long_term`), from `get_context(query=...)`, or from the agent's
memory tools. Every one of those ends in `FileMemory.search`, one
`retrieval` span per search: data source `memory.{type}` for a search of
one memory type (`memory.long_term`, ...), `memory` for several.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .._handler import TelemetryHandler
from .._patching import Patcher
from .._safety import report
from ._knowledge import traced


def _data_source(memory_types: Any) -> str:
    if isinstance(memory_types, (list, tuple)) and len(memory_types) == 1 \
            and isinstance(memory_types[0], str):
        return f"memory.{memory_types[0]}"
    return "memory"


def search_wrapper(handler: TelemetryHandler):
    """`FileMemory.search(query, memory_types=None, limit=10)`."""
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        source = query = limit = None
        try:
            query = args[0] if args else kwargs.get("query")
            types = args[1] if len(args) > 1 else kwargs.get("memory_types")
            limit = args[2] if len(args) > 2 else kwargs.get("limit", 10)
            source = _data_source(types)
        except Exception:  # noqa: BLE001
            report("praisonai memory search start")
        return traced(handler, source, query, limit, wrapped, args, kwargs)

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def memory(module: ModuleType) -> None:
        patcher.wrap(module, "FileMemory.search", search_wrapper(handler))

    patcher.on_import("praisonaiagents.memory.file_memory", memory)
