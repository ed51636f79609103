"""AgentScope 2.x human-in-the-loop and external execution, mapped onto the handler.

Nothing here patches AgentScope: `agent`'s reply wrappers call `paused` and
`resumed`.

- A reply pauses when a tool call needs the user's confirmation or is an
  external tool: AgentScope marks the call ``asking`` / ``submitted`` in the
  agent's last message, yields ``RequireUserConfirmEvent`` /
  ``RequireExternalExecutionEvent`` and ends the stream without a
  ``ReplyEndEvent``. When a reply stream ends that way we read the waiting
  calls once, so the agent span says why it stopped and which calls (id,
  name) are pending; replies that finish pay nothing for this.
- The continuation (``reply`` / ``reply_stream`` given a
  ``UserConfirmResultEvent`` or ``ExternalExecutionResultEvent``) carries
  the same reply id; its span names it, links to the paused one, and each
  external result becomes a tool span marked as executed outside.
- Every reply's span carries AgentScope's reply id (what its own tracer
  records as ``agentscope.agent.reply_id``).
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context

from ... import attributes as A
from ..._handler import TelemetryHandler
from ..._invocations import AgentInvocation
from ..._safety import report
from . import messages as _messages
from . import native

_PAUSES = {"asking": A.FINISH_USER_CONFIRMATION, "submitted": A.FINISH_EXTERNAL_EXECUTION}
_RESULT_ERRORS = {"error": "tool_error", "interrupted": "cancelled", "denied": "denied"}


# The inputs that continue a paused reply, by class name (a cheap check on
# every reply's inputs) -> what the continuation delivers.
RESUMING = {
    "UserConfirmResultEvent": A.FINISH_USER_CONFIRMATION,
    "ExternalExecutionResultEvent": A.FINISH_EXTERNAL_EXECUTION,
    "UserInterruptEvent": "user_interrupt",
}


def paused(handler: TelemetryHandler, frame: AgentInvocation) -> None:
    """`frame`'s reply ended without finishing: note the calls it waits on.

    AgentScope marks each such call ``asking`` (a user's confirmation) or
    ``submitted`` (an external tool) in the agent's last message before it
    yields the require event and stops; read once, when the reply ends.
    """
    try:
        agent = frame.owner
        state = agent.state
        by_reason: dict[str, list[tuple[Any, Any]]] = {}
        for call in state.get_awaiting_tool_calls(agent.name):
            reason = _PAUSES.get(str(getattr(call, "state", "")))
            if reason is not None:
                by_reason.setdefault(reason, []).append((call.id, call.name))
        for reason, calls in by_reason.items():
            handler.note_pending(frame, reason, state.reply_id, calls)
        if native.on(frame):
            native.pending(handler, frame, {
                reason: [name for _, name in calls] for reason, calls in by_reason.items()})
    except Exception:  # noqa: BLE001
        report("agentscope paused reply")


def resumed(handler: TelemetryHandler, frame: AgentInvocation, event: Any) -> None:
    """`frame` continues a paused reply with `event` (a confirmation or external results)."""
    try:
        results = getattr(event, "execution_results", None)
        kind = RESUMING.get(type(event).__name__, A.FINISH_USER_CONFIRMATION)
        handler.note_resumed(frame, kind, getattr(event, "reply_id", None))
        if not results:
            return
        # The results were produced outside; they enter the reply here.
        token = otel_context.attach(frame.context)
        try:
            for result in results:
                handler.external_tool_result(
                    getattr(result, "name", None), call_id=getattr(result, "id", None),
                    result=_messages.tool_result(getattr(result, "output", None))
                    if handler.capture_content else None,
                    error_type=_RESULT_ERRORS.get(str(getattr(result, "state", ""))),
                    runtime_attributes=native.external_result(frame, result))
        finally:
            otel_context.detach(token)
    except Exception:  # noqa: BLE001
        report("agentscope resumed reply")
