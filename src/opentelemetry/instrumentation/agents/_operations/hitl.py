"""Replies that pause for a human or an external tool, and their continuations.

A runtime may end an agent invocation waiting for a user's confirmation of
a tool call, or for a tool that something outside the agent executes; a
later invocation delivers the answer and carries on the same logical reply.
The first invocation's span says why it stopped and which tool calls are
pending; the continuation's span names the same reply id and links to the
first, and the results that came from outside get tool spans of their own.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from time import perf_counter
from typing import Any

from opentelemetry.metrics import Meter

from .. import attributes as A
from .._context import get_current as _get_current
from .._context import span_of as _span_of
from .._context import suppressed as _suppressed
from .._invocations import AgentInvocation, current_frame
from .._safety import report
from .._values import clean as _clean
from ._base import DURATION_BUCKETS, HandlerBase

# Paused replies remembered for linking their continuation; bounded, so a
# reply never continued costs nothing for long.
_PARKED_LIMIT = 4096


class HitlOperations(HandlerBase):
    """Paused replies (user confirmation, external execution) and continuations."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # reply id -> (the paused span's context, when it paused, why, agent name)
        self._parked: OrderedDict[str, tuple[Any, float, str, Any]] = OrderedDict()
        self._parked_lock = threading.Lock()

    def _create_instruments(self, meter: Meter) -> None:
        super()._create_instruments(meter)
        self._hitl_wait = meter.create_histogram(
            A.METRIC_HITL_WAIT, unit="s",
            description="Time a paused reply waited for a human or an external tool",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))

    def _parked_replies(self) -> OrderedDict[str, tuple[Any, float, str, Any]]:
        return self._parked

    def note_reply_id(self, frame: AgentInvocation, reply_id: Any) -> None:
        """The runtime's id of the logical reply this invocation belongs to."""
        try:
            if frame.ended or not frame.span.is_recording():
                return
            reply_id = _clean(reply_id)
            if reply_id:
                extra = frame.extra if frame.extra is not None else {}
                extra[A.REPLY_ID] = reply_id
                frame.extra = extra
        except Exception:  # noqa: BLE001
            report("note_reply_id")

    def note_pending(self, frame: AgentInvocation, reason: str, reply_id: Any,
                     tool_calls: Iterable[tuple[Any, Any]]) -> None:
        """The invocation is pausing: `reason` and the `(id, name)` calls it waits on."""
        try:
            if frame.ended:
                return
            extra = frame.extra if frame.extra is not None else {}
            pending = extra.get("_pending")
            if pending is None:
                pending = extra["_pending"] = []
            for call_id, name in tool_calls:
                pending.append({"id": _clean(call_id) or "", "name": _clean(name) or ""})
            reasons = extra.get("_reasons") or []
            if reason not in reasons:
                reasons.append(reason)
            extra["_reasons"] = reasons
            extra[A.AGENT_PENDING_REASON] = reasons[0] if len(reasons) == 1 else reasons
            extra[A.AGENT_PENDING_TOOL_CALLS] = json.dumps(pending, ensure_ascii=False)
            frame.extra = extra
            frame.finish_reason = reasons[0]
            self.note_reply_id(frame, reply_id)
            reply_id = _clean(reply_id)
            if reply_id:
                parked = self._parked_replies()
                with self._parked_lock:
                    parked[reply_id] = (frame.span.get_span_context(), perf_counter(),
                                        reasons[0], frame.attributes.get(A.AGENT_NAME))
                    parked.move_to_end(reply_id)
                    while len(parked) > _PARKED_LIMIT:
                        parked.popitem(last=False)
        except Exception:  # noqa: BLE001
            report("note_pending")

    def note_resumed(self, frame: AgentInvocation, resumed_with: str, reply_id: Any) -> None:
        """This invocation continues the paused reply `reply_id`: say so and link to it."""
        try:
            if frame.ended:
                return
            self.note_reply_id(frame, reply_id)
            extra = frame.extra if frame.extra is not None else {}
            extra[A.AGENT_RESUMED_WITH] = resumed_with
            frame.extra = extra
            reply_id = _clean(reply_id)
            if not reply_id:
                return
            parked = self._parked_replies()
            with self._parked_lock:
                found = parked.pop(reply_id, None)
            if found is None:
                return
            earlier, paused_at, reason, agent_name = found
            if earlier.is_valid and frame.span.is_recording():
                frame.span.add_link(earlier, {A.REPLY_ID: reply_id,
                                              A.AGENT_RESUMED_WITH: resumed_with})
            if self.signals:
                self._record_wait(frame, perf_counter() - paused_at, reason, agent_name)
        except Exception:  # noqa: BLE001
            report("note_resumed")

    def _record_wait(self, frame: AgentInvocation, wait: float, reason: str,
                     agent_name: Any) -> None:
        """How long the reply waited, on the continuation's span and as a metric."""
        extra = frame.extra if frame.extra is not None else {}
        extra[A.HITL_WAIT_DURATION] = wait
        frame.extra = extra
        if self.metering:
            attrs = {A.AGENT_PENDING_REASON: reason}
            if agent_name:
                attrs[A.AGENT_NAME] = agent_name
            self._hitl_wait.record(wait, attrs, frame.context)

    def note_hitl_wait(self, seconds: float, reason: str, *, context: Any = None) -> None:
        """The code running in `context` (default: the current one) waited
        `seconds`, inside its invocation, for a human's decision (PraisonAI's
        approvals): on the span that waited (a tool call's) and summed on the
        agent invocation's (set when it ends), and as a metric."""
        try:
            if not (self.enabled and self.signals):
                return
            ctx = context if context is not None else _get_current()
            if _suppressed(ctx):
                return
            seconds = float(seconds)
            span = _span_of(ctx)
            frame = current_frame(ctx)
            if span is not None and (frame is None or span is not frame.span) \
                    and span.is_recording():
                span.set_attribute(A.HITL_WAIT_DURATION, seconds)
            if frame is not None and not frame.ended and frame.span.is_recording():
                extra = frame.extra if frame.extra is not None else {}
                extra[A.HITL_WAIT_DURATION] = float(extra.get(A.HITL_WAIT_DURATION, 0.0)) + seconds
                frame.extra = extra
            if self.metering:
                attrs = {A.AGENT_PENDING_REASON: reason}
                name = frame.attributes.get(A.AGENT_NAME) if frame is not None else None
                if name:
                    attrs[A.AGENT_NAME] = name
                self._hitl_wait.record(seconds, attrs, ctx)
        except Exception:  # noqa: BLE001
            report("note_hitl_wait")

    def external_tool_result(self, name: Any, *, call_id: Any = None, result: Any = None,
                             error_type: str | None = None,
                             runtime_attributes: Mapping[str, Any] | None = None) -> None:
        """A tool result that came from outside: a tool span marked as such, where
        the invocation stands now (the caller has its context current);
        `runtime_attributes`: what the runtime's own tracer, switched on, records
        for it (see `carry_runtime_attributes`)."""
        try:
            inv = self.start_tool(name, call_id=call_id)  # type: ignore[attr-defined]
            if inv is None:
                return
            if inv.span.is_recording():
                inv.span.set_attribute(A.TOOL_EXTERNAL, True)
            if runtime_attributes:
                self.carry_runtime_attributes(inv, runtime_attributes)  # type: ignore[attr-defined]
            self.finish_tool(inv, result=result, error_type=error_type)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001
            report("external_tool_result")
