"""AgentScope 2.x tool calls, mapped onto the handler.

``Toolkit.call_tool``: every tool call, an async generator ending in a
``ToolResponse``; ``ToolBase.__call__`` lets us see the exception a tool
raised before AgentScope turns it into an error result for the model;
``Agent._handle_error_tool_call``: a tool call AgentScope answers itself.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from ..._handler import TelemetryHandler
from ..._invocations import (
    ToolInvocation,
    current_frame,
    current_tool,
)
from ..._patching import Patcher
from ..._streams import trace_async_stream
from . import messages as _messages
from . import native
from ._shared import Types, watch_stream


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    types = Types()

    def agent_module(module: ModuleType) -> None:
        patcher.wrap(module, "Agent._handle_error_tool_call", _rejected_tool_wrapper(handler))

    def toolkit_module(module: ModuleType) -> None:
        patcher.wrap(module, "Toolkit.call_tool", _call_tool_wrapper(handler, types))

    def tool_base_module(module: ModuleType) -> None:
        patcher.wrap(module, "ToolBase.__call__", _tool_function_wrapper(handler))

    patcher.on_import("agentscope.agent._agent", agent_module)
    patcher.on_import("agentscope.tool._toolkit", toolkit_module)
    patcher.on_import("agentscope.tool._base", tool_base_module)


# Tool descriptions by tool name, as the tools had them when last called.
# The toolkit finds a tool only inside `call_tool`, after the span started;
# what the last call of that name saw goes on the span from its start, and
# the tool itself corrects it when it differs (see `_tool_function_wrapper`).
_DESCRIPTIONS: dict[str, str] = {}
_DESCRIPTIONS_LIMIT = 1024


class _ToolStream:
    __slots__ = ("agentscope_tracing", "context", "handler", "inv", "response", "response_type")

    def __init__(self, handler: TelemetryHandler, inv: ToolInvocation, response_type: type,
                 agentscope_tracing: bool = False):
        self.handler = handler
        self.inv = inv
        self.context = inv.context
        self.response_type = response_type
        self.response: Any = None
        self.agentscope_tracing = agentscope_tracing

    def on_item(self, item: Any) -> None:
        if type(item) is self.response_type:
            self.response = item

    def abandoned(self, error: BaseException | None) -> None:
        if not self.inv.ended:
            # A tool that gave its result is judged by it, not by what failed later.
            self.on_end(None if self.response is not None else error, False)

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        response = self.response
        err_type = None
        state = str(getattr(response, "state", "")) if response is not None else ""
        if error is None:
            if state == "error":
                err_type = self.inv.error_type or "tool_error"
            elif state == "interrupted":
                err_type = "cancelled"
            elif state == "denied":
                err_type = "denied"
        if self.agentscope_tracing and error is None and response is not None:
            native.tool_ending(self.handler, self.inv, response)
        result = None
        if self.handler.capture_content and response is not None:
            result = _messages.tool_result(getattr(response, "content", None))
        self.handler.finish_tool(self.inv, result=result, error=error, error_type=err_type)


def _call_tool_wrapper(handler: TelemetryHandler, types: Types):
    def wrapper(wrapped, instance, args, kwargs):
        source = wrapped(*args, **kwargs)
        if not handler.enabled:
            return source
        tool_call = args[0] if args else kwargs.get("tool_call")

        def begin() -> _ToolStream | None:
            name = getattr(tool_call, "name", None)
            inv = handler.start_tool(
                name,
                call_id=getattr(tool_call, "id", None),
                description=_DESCRIPTIONS.get(name),
                arguments=getattr(tool_call, "input", None),
            )
            if inv is None:
                return None
            # AgentScope's own tracing, switched on for the calling agent: its names too.
            frame = native.chat_frame("_acting_middlewares") if native.TRACING.seen else None
            if frame is not None:
                native.tool_started(handler, inv, frame, instance, tool_call)
            observer = _ToolStream(handler, inv, types.load().tool_response, frame is not None)
            watch_stream(observer)
            return observer

        return trace_async_stream(source, begin)

    return wrapper


# A tool call AgentScope answers itself, without running a tool: unknown
# tool, arguments that fail the schema, permission denied, interrupted.
_REJECTED = {"error": "invalid_tool_call", "denied": "denied", "interrupted": "cancelled"}


class _RejectedTool:
    __slots__ = ("context", "error_type", "handler", "inv")

    def __init__(self, handler: TelemetryHandler, inv: ToolInvocation, error_type: str) -> None:
        self.handler = handler
        self.inv = inv
        self.context = inv.context
        self.error_type = error_type

    def on_item(self, item: Any) -> None:
        pass

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        self.handler.finish_tool(self.inv, error=error, error_type=self.error_type)

    def abandoned(self, error: BaseException | None) -> None:
        if not self.inv.ended:
            self.on_end(error, False)


def _rejected_tool_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        source = wrapped(*args, **kwargs)
        frame = current_frame()
        if frame is None or frame.owner is not instance:
            return source
        tool_call = args[0] if args else kwargs.get("tool_call")
        state = args[2] if len(args) > 2 else kwargs.get("state")

        def begin() -> _RejectedTool | None:
            inv = handler.start_tool(getattr(tool_call, "name", None),
                                     call_id=getattr(tool_call, "id", None))
            if inv is None:
                return None
            observer = _RejectedTool(handler, inv, _REJECTED.get(str(state), "tool_error"))
            watch_stream(observer)
            return observer

        return trace_async_stream(source, begin, observe_items=False)

    return wrapper


class _ToolErrorWatch:
    """Notes the exception a streaming tool raises, for its tool span."""

    __slots__ = ("context", "inv")

    def __init__(self, inv: ToolInvocation) -> None:
        self.inv = inv
        self.context = otel_context.get_current()

    def on_item(self, item: Any) -> None:
        pass

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        if error is not None:
            _note_tool_error(self.inv, error)


def _note_tool_error(inv: ToolInvocation, error: BaseException) -> None:
    from ..._safety import error_type

    inv.error_type = error_type(error)


def _tool_function_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        inv = current_tool()
        if inv is None:
            return wrapped(*args, **kwargs)
        description = getattr(instance, "description", None)
        name = getattr(instance, "name", None)
        if _DESCRIPTIONS.get(name) is not description and type(name) is str:
            if name in _DESCRIPTIONS or len(_DESCRIPTIONS) < _DESCRIPTIONS_LIMIT:
                _DESCRIPTIONS[name] = description
            handler.describe_tool(inv, description)
        return _watched_tool_call(inv, wrapped(*args, **kwargs))

    return wrapper


async def _watched_tool_call(inv: ToolInvocation, call: Any) -> Any:
    try:
        result = await call
    except Exception as exc:
        _note_tool_error(inv, exc)
        raise
    if isinstance(result, AsyncGenerator):
        return trace_async_stream(result, lambda: _ToolErrorWatch(inv), observe_items=False)
    return result

