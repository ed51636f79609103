"""Tool calls: `Agent.execute_tool` (sync) and `Agent.execute_tool_async`.

The sync path runs them for `chat` and `start(stream=True)`, the async one for
`achat`; PraisonAI always passes the model's `tool_call_id`. A tool that
raises comes out of `execute_tool` as a `ToolExecutionError`, but
`execute_tool_async` returns ``{"error": ...}`` for the model instead, as it
does for a blocked or unknown tool: such a result makes the span ERROR too.

A tool's description is the one the model read: looked up in the tools the
turn's last model call offered.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .._handler import TelemetryHandler
from .._invocations import ToolInvocation
from .._patching import Patcher
from .._safety import report
from ._state import current_turn
from ._wrapping import acall_in, call_in, fail_with

# Markers PraisonAI puts in the error dicts it answers a tool call with.
_ERROR_MARKERS = (
    ("approval_denied", "denied"), ("permission_denied", "denied"),
    ("policy_denied", "denied"), ("guardrail_denied", "denied"),
    ("approval_error", "approval_error"), ("loop_blocked", "loop_blocked"),
    ("circuit_open", "circuit_open"), ("timeout", "timeout"),
)


def _result_error(inv: ToolInvocation, result: Any) -> str | None:
    if not (isinstance(result, dict) and result.get("error")):
        return None
    for key, value in _ERROR_MARKERS:
        if result.get(key):
            return value
    return inv.error_type or "tool_error"


def description(name: Any) -> str | None:
    """The description of tool `name` in what the turn's last model call offered."""
    turn = current_turn()
    offered = turn.offered if turn is not None else None
    if not isinstance(name, str) or not isinstance(offered, list):
        return None
    for tool in offered:
        if not isinstance(tool, dict):
            continue
        # Chat completions nest the function; the Responses API does not.
        function = tool.get("function", tool)
        if isinstance(function, dict) and function.get("name") == name:
            found = function.get("description")
            return found if isinstance(found, str) else None
    return None


def _start(handler: TelemetryHandler, args: tuple, kwargs: dict) -> ToolInvocation | None:
    if not handler.enabled:
        return None
    try:
        name = args[0] if args else kwargs.get("function_name")
        call_id = kwargs.get("tool_call_id") or (args[2] if len(args) > 2 else None)
        arguments = args[1] if len(args) > 1 else kwargs.get("arguments")
        return handler.start_tool(name if isinstance(name, str) else None,
                                  call_id=call_id, description=description(name),
                                  arguments=arguments)
    except Exception:  # noqa: BLE001
        report("praisonai tool start")
        return None


def _finish(handler: TelemetryHandler, inv: ToolInvocation, result: Any) -> None:
    try:
        handler.finish_tool(inv, result=result if handler.capture_content else None,
                            error_type=_result_error(inv, result))
    except Exception:  # noqa: BLE001
        report("praisonai tool end")


def execute_tool_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        inv = _start(handler, args, kwargs)
        if inv is None:
            return wrapped(*args, **kwargs)
        result = call_in(inv.context, fail_with(handler.finish_tool, inv), wrapped, args, kwargs)
        _finish(handler, inv, result)
        return result

    return wrapper


def execute_tool_async_wrapper(handler: TelemetryHandler):
    async def wrapper(wrapped, instance, args, kwargs):
        inv = _start(handler, args, kwargs)
        if inv is None:
            return await wrapped(*args, **kwargs)
        result = await acall_in(inv.context, fail_with(handler.finish_tool, inv), wrapped,
                                args, kwargs)
        _finish(handler, inv, result)
        return result

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def execution_mixin(module: ModuleType) -> None:
        patcher.wrap(module, "ExecutionMixin.execute_tool_async",
                     execute_tool_async_wrapper(handler))

    def tool_execution(module: ModuleType) -> None:
        patcher.wrap(module, "ToolExecutionMixin.execute_tool", execute_tool_wrapper(handler))

    patcher.on_import("praisonaiagents.agent.execution_mixin", execution_mixin)
    patcher.on_import("praisonaiagents.agent.tool_execution", tool_execution)
