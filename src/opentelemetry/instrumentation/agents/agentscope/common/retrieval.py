"""A knowledge-base search of either AgentScope line, traced as one retrieval span."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..._context import attach as _attach
from ..._context import detach as _detach
from ..._handler import TelemetryHandler
from ..._safety import report


async def traced_retrieval(handler: TelemetryHandler, inv: Any, context: Any,
                           search: Callable[[], Awaitable[Any]],
                           documents: Callable[[Any], Any]) -> Any:
    """Await `search()` with `context` current; the span ends with what it found
    (`documents` makes the conventions' document objects of it, under content
    capture)."""
    token = _attach(context)
    try:
        found = await search()
    except BaseException as exc:
        _detach(token)
        handler.finish_retrieval(inv, error=exc)
        raise
    _detach(token)
    try:
        handler.finish_retrieval(
            inv, documents_count=len(found) if isinstance(found, list) else None,
            documents=documents(found) if handler.capture_content else None)
    except Exception:  # noqa: BLE001
        report("agentscope retrieval end")
    return found
