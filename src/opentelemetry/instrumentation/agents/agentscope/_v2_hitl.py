"""AgentScope 2.x human-in-the-loop and external execution, mapped onto the handler.

- A reply pauses when a tool call needs the user's confirmation or is an
  external tool: AgentScope marks the call ``asking`` / ``submitted``
  through ``Agent._update_tool_call_state`` right before it yields
  ``RequireUserConfirmEvent`` / ``RequireExternalExecutionEvent``. We note
  it on the invocation that is running (this task's frame), so the agent
  span says why it stopped and which calls (id, name) are pending.
- The continuation (``reply`` / ``reply_stream`` given a
  ``UserConfirmResultEvent`` or ``ExternalExecutionResultEvent``) carries
  the same reply id; its span names it, links to the paused one, and each
  external result becomes a tool span marked as executed outside.
- Every reply's span carries AgentScope's reply id (what its own tracer
  records as ``agentscope.agent.reply_id``).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from .. import attributes as A
from .._handler import TelemetryHandler
from .._invocations import AgentInvocation, current_frame
from .._patching import Patcher
from .._safety import report
from . import _messages

_PAUSES = {"asking": A.FINISH_USER_CONFIRMATION, "submitted": A.FINISH_EXTERNAL_EXECUTION}
_RESULT_ERRORS = {"error": "tool_error", "interrupted": "cancelled", "denied": "denied"}


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def agent_module(module: ModuleType) -> None:
        patcher.wrap(module, "Agent._update_tool_call_state", _state_wrapper(handler))

    patcher.on_import("agentscope.agent._agent", agent_module)


def _state_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        result = wrapped(*args, **kwargs)
        state = args[1] if len(args) > 1 else kwargs.get("state")
        reason = _PAUSES.get(state)
        if reason is not None:
            frame = current_frame()
            if frame is not None and frame.owner is instance:
                _note_pause(handler, frame, instance, reason,
                            args[0] if args else kwargs.get("tool_call_id"))
        return result

    return wrapper


def _note_pause(handler: TelemetryHandler, frame: AgentInvocation, agent: Any, reason: str,
                call_id: Any) -> None:
    try:
        state = agent.state
        name = None
        for block in state.context[-1].get_content_blocks("tool_call"):
            if block.id == call_id:
                name = block.name
                break
        handler.note_pending(frame, reason, state.reply_id, [(call_id, name)])
    except Exception:  # noqa: BLE001
        report("agentscope pending tool call")


def resumed(handler: TelemetryHandler, frame: AgentInvocation, event: Any) -> None:
    """`frame` continues a paused reply with `event` (a confirmation or external results)."""
    try:
        results = getattr(event, "execution_results", None)
        kind = A.FINISH_EXTERNAL_EXECUTION if results is not None \
            else A.FINISH_USER_CONFIRMATION
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
                    error_type=_RESULT_ERRORS.get(str(getattr(result, "state", ""))))
        finally:
            otel_context.detach(token)
    except Exception:  # noqa: BLE001
        report("agentscope resumed reply")
