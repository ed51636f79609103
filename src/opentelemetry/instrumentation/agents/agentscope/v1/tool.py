"""AgentScope 1.x tool calls, mapped onto the handler.

``Toolkit.call_tool_function``: a coroutine returning an async generator of
``ToolResponse``; the tool span covers the whole generator. The toolkit
turns a tool's exception into an ``Error: ...`` text result; the
``TextBlock`` it builds for it is made while that exception is being
handled, which is where we read its type.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator
from types import ModuleType
from typing import Any

from ..._handler import TelemetryHandler
from ..._invocations import (
    ToolInvocation,
    current_tool,
)
from ..._patching import Patcher
from ..._safety import error_type as _error_type
from ..._streams import trace_async_stream
from . import messages as _messages
from ._shared import watch_stream


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def toolkit_module(module: ModuleType) -> None:
        patcher.wrap(module, "Toolkit.call_tool_function", _call_tool_wrapper(handler))
        patcher.wrap(module, "TextBlock", _tool_error_watch)

    patcher.on_import("agentscope.tool._toolkit", toolkit_module)


def _rejection(toolkit: Any, name: Any) -> str | None:
    """Why the toolkit will answer this call itself instead of running a tool."""
    tools = getattr(toolkit, "tools", None)
    if not isinstance(tools, dict):
        return None
    tool = tools.get(name)
    if tool is None:
        return "invalid_tool_call"  # FunctionNotFoundError
    group = getattr(tool, "group", "basic")
    if group != "basic":
        groups = getattr(toolkit, "groups", None) or {}
        if group in groups and not getattr(groups[group], "active", True):
            return "invalid_tool_call"  # FunctionInactiveError
    return None


class _ToolStream:
    __slots__ = ("context", "handler", "interrupted", "inv", "response")

    def __init__(self, handler: TelemetryHandler, inv: ToolInvocation) -> None:
        self.handler = handler
        self.inv = inv
        self.context = inv.context
        self.response: Any = None
        self.interrupted = False

    def on_item(self, item: Any) -> None:
        self.response = item
        if getattr(item, "is_interrupted", False):
            self.interrupted = True

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        err_type = None
        if error is None:
            err_type = self.inv.error_type or ("cancelled" if self.interrupted else None)
        result = None
        if self.handler.capture_content and self.response is not None:
            result = _messages.tool_result(getattr(self.response, "content", None))
        self.handler.finish_tool(self.inv, result=result, error=error, error_type=err_type)

    def abandoned(self, error: BaseException | None, interrupted: bool) -> None:
        if self.response is not None:
            # A tool that gave its result is judged by it, not by what failed later.
            self.on_end(None, False)
        else:
            self.handler.finish_tool(self.inv, error=error, error_type=None if error else
                                     "cancelled" if interrupted else "incomplete_stream")


def _description(toolkit: Any, name: Any) -> str | None:
    """The description the toolkit offers the model for tool `name` (its JSON schema's)."""
    tools = getattr(toolkit, "tools", None)
    tool = tools.get(name) if isinstance(tools, dict) and isinstance(name, str) else None
    schema = getattr(tool, "json_schema", None)
    function = schema.get("function") if isinstance(schema, dict) else None
    found = function.get("description") if isinstance(function, dict) else None
    return found if isinstance(found, str) else None


def _start_tool(handler: TelemetryHandler, toolkit: Any, tool_call: Any) -> ToolInvocation | None:
    call = tool_call if isinstance(tool_call, dict) else {}
    name = call.get("name")
    inv = handler.start_tool(
        name, call_id=call.get("id"), description=_description(toolkit, name),
        arguments=call.get("input"))
    if inv is not None:
        inv.error_type = _rejection(toolkit, name)
    return inv


def _call_tool_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        return _traced_call_tool(handler, instance, wrapped, args, kwargs)

    return wrapper


async def _traced_call_tool(handler: TelemetryHandler, toolkit: Any, wrapped: Any,
                            args: tuple, kwargs: dict) -> Any:
    tool_call = args[0] if args else kwargs.get("tool_call")
    try:
        source = await wrapped(*args, **kwargs)
    except BaseException as exc:
        # Failed before there was a stream to cover: a span that says so.
        inv = _start_tool(handler, toolkit, tool_call)
        if inv is not None:
            handler.finish_tool(inv, error=exc)
        raise
    if not isinstance(source, AsyncGenerator):
        return source

    # The tool runs when the stream is first iterated, in the iterating
    # task's context: the span starts then, so it is parented right.
    def begin() -> _ToolStream | None:
        inv = _start_tool(handler, toolkit, tool_call)
        if inv is None:
            return None
        observer = _ToolStream(handler, inv)
        watch_stream(observer)
        return observer

    return trace_async_stream(source, begin)


def _tool_error_watch(wrapped, instance, args, kwargs):
    # `Toolkit.call_tool_function` answers a tool that raised with
    # `TextBlock(type="text", text=f"Error: {e}")`, built inside its `except`
    # block: the exception being handled right now is the tool's.
    block = wrapped(*args, **kwargs)
    inv = current_tool()
    if inv is not None and inv.error_type is None:
        text = kwargs.get("text")
        if isinstance(text, str) and text.startswith("Error"):
            exc = sys.exc_info()[1]
            if exc is not None:
                inv.error_type = _error_type(exc)
    return block


