"""Attributes a runtime's own tracer records, carried on our spans under its names.

Some runtimes ship a tracer of their own that the user can switch on
(AgentScope's `TracingMiddleware`). While we are active it stands aside, so
the trace has one span per agent, model and tool call, not two; dashboards
and viewers keyed on the runtime's attribute names (AgentScope Studio reads
``agentscope.*``) would then see nothing. An adapter that knows the user
switched that tracer on hands us what it would have recorded, and the
span we already have carries it too.

Ours win where both have a value: a key our span started with is skipped,
and whatever we set later (when the span ends) overwrites. While our own
content capture puts content on spans, the content keys are ours alone
(our shape, our limits), so the runtime's copy is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import attributes as A
from .._safety import report
from ._base import HandlerBase

_CONTENT_KEYS = frozenset({A.INPUT_MESSAGES, A.OUTPUT_MESSAGES, A.SYSTEM_INSTRUCTIONS,
                           A.TOOL_DEFINITIONS, A.TOOL_CALL_ARGUMENTS, A.TOOL_CALL_RESULT})
_SCALARS = (str, bool, int, float)


def _attribute_value(value: Any) -> Any:
    """`value` as an attribute value, or None when it cannot be one."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (list, tuple)) and value:
        kind = type(value[0])
        if kind in _SCALARS and all(type(item) is kind for item in value):
            return tuple(value)
    return None


class RuntimeAttributeOperations(HandlerBase):
    """The runtime's own tracer's attributes on the span of an invocation in flight."""

    def carry_runtime_attributes(self, inv: Any, attributes: Mapping[str, Any] | None) -> None:
        """Set `attributes` (the runtime's names and values) on `inv`'s span now.

        Keys `inv` started with, None values and values no attribute can hold
        are skipped; so are content keys while our content capture is on.
        """
        if not attributes or inv is None:
            return
        try:
            span = inv.span
            if inv.ended or not span.is_recording():
                return
            ours = getattr(inv, "attributes", None) or {}
            content_ours = self.span_content
            for key, value in attributes.items():
                if key in ours or (content_ours and key in _CONTENT_KEYS):
                    continue
                value = _attribute_value(value)
                if value is not None and type(key) is str:
                    span.set_attribute(key, value)
        except Exception:  # noqa: BLE001
            report("carry_runtime_attributes")
