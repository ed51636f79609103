"""Tool calls of Hermes Agent.

Hermes runs a tool call through one of three doors, and some nest:

- ``run_agent.handle_function_call``: registry tools on the sequential path
  (one tool call, or calls that must not run in parallel). Hermes looks it
  up on the ``run_agent`` module at each call, so that is where it is
  wrapped; other callers of ``model_tools.handle_function_call`` are not
  agent tool calls.
- ``AIAgent._invoke_tool``: every call on the concurrent path (several
  parallel-safe calls, run in a thread pool that copies the context); for
  registry tools it goes on to ``handle_function_call``, which then adds no
  second span.
- ``tool_executor._run_agent_tool_execution_middleware``: tools the agent
  handles itself (todo, memory, clarify, ``delegate_task``...) on the
  sequential path.

Hermes turns a tool's exception into an ``{"error": ...}`` result for the
model. Such a result makes the span an error, judged the way Hermes itself
judges tool results (``agent.display._detect_tool_failure``), and
``model_tools._sanitize_tool_error``, which Hermes calls while handling the
exception, tells us the exception's class.

A tool's description (``gen_ai.tool.description``) is the one the model was
offered: the agent's ``tools`` schemas (Hermes rewrites some, such as
``delegate_task``'s, per agent), else the registry's entry.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from opentelemetry import trace

from .. import attributes as A
from .._context import attach as _attach
from .._context import detach as _detach
from .._handler import TelemetryHandler
from .._invocations import current_tool
from .._patching import Patcher, Wrapper
from .._safety import error_type as _error_type
from .._safety import report
from ._state import loop_run

_get_current_span = trace.get_current_span

TOOL_ERROR = "tool_error"

# (args, kwargs) of a wrapped call -> (tool name, tool call id, arguments)
Extract = Callable[[tuple, dict], tuple[Any, Any, Any]]


def _arg(args: tuple, kwargs: dict, index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def function_call_args(args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
    """`handle_function_call` and `AIAgent._invoke_tool` share their leading parameters:
    ``(function_name, function_args, task_id, tool_call_id, ...)``."""
    return (_arg(args, kwargs, 0, "function_name"), _arg(args, kwargs, 3, "tool_call_id"),
            _arg(args, kwargs, 1, "function_args"))


def middleware_args(args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
    """`_run_agent_tool_execution_middleware(agent, *, function_name, ..., tool_call_id)`."""
    return kwargs.get("function_name"), kwargs.get("tool_call_id"), kwargs.get("function_args")


def _same_call_in_progress(name: Any, call_id: Any) -> bool:
    """Whether this exact tool call already has our span open right here."""
    tool = current_tool()
    if tool is None or _get_current_span() is not tool.span:
        return False
    attrs = tool.attributes
    return attrs.get(A.TOOL_NAME) == name and \
        attrs.get(A.TOOL_CALL_ID) == (str(call_id) if call_id else None)


_detector: list[Callable[[str, Any], tuple[bool, str]] | None] = []


def _hermes_detector() -> Callable[[str, Any], tuple[bool, str]] | None:
    if not _detector:
        try:  # only ever reached from inside a Hermes tool call
            from agent.display import _detect_tool_failure

            _detector.append(_detect_tool_failure)
        except Exception:  # noqa: BLE001
            _detector.append(None)
    return _detector[0]


def failed(name: Any, result: Any) -> bool:
    """Whether Hermes would count `result` as a failed tool call."""
    detect = _hermes_detector()
    if detect is not None:
        try:
            return bool(detect(str(name), result)[0])
        except Exception:  # noqa: BLE001
            pass
    if isinstance(result, str) and result.startswith("{"):
        try:
            data = json.loads(result)
        except ValueError:
            return False
        return isinstance(data, dict) and ("error" in data or data.get("success") is False)
    return False


def description(name: Any) -> str | None:
    """The description of tool `name` the running agent offered its model."""
    if not isinstance(name, str):
        return None
    run = loop_run()
    offered = getattr(run.agent, "tools", None) if run is not None else None
    for schema in offered if isinstance(offered, list) else ():
        function = schema.get("function") if isinstance(schema, dict) else None
        if isinstance(function, dict) and function.get("name") == name:
            found = function.get("description")
            return found if isinstance(found, str) else None
    registry = sys.modules.get("tools.registry")  # Hermes's, imported by Hermes
    entry = getattr(getattr(registry, "registry", None), "get_entry", None)
    found = getattr(entry(name), "description", None) if entry is not None else None
    return found if isinstance(found, str) else None


def tool_wrapper(handler: TelemetryHandler, extract: Extract,
                 returns_pair: bool = False) -> Wrapper:
    """A wrapper for one tool door; `returns_pair`: the result is (result, args)."""

    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        inv = None
        try:
            name, call_id, arguments = extract(args, kwargs)
            if not _same_call_in_progress(name, call_id):
                inv = handler.start_tool(
                    name, call_id=str(call_id) if call_id else None,
                    description=description(name),
                    arguments=arguments)
        except Exception:  # noqa: BLE001
            report("hermes tool call start")
        if inv is None:
            return wrapped(*args, **kwargs)
        token = _attach(inv.context)
        try:
            outcome = wrapped(*args, **kwargs)
        except BaseException as exc:
            _detach(token)
            handler.finish_tool(inv, error=exc)
            raise
        _detach(token)
        try:
            result = outcome[0] if returns_pair and isinstance(outcome, tuple) else outcome
            error_type = (inv.error_type or TOOL_ERROR) if failed(name, result) else None
            handler.finish_tool(inv, result=result if handler.capture_content else None,
                                error_type=error_type)
        except Exception:  # noqa: BLE001
            report("hermes tool call end")
        return outcome

    return wrapper


def sanitize_error_wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple,
                           kwargs: dict) -> Any:
    """`model_tools._sanitize_tool_error`, called in Hermes's ``except`` blocks."""
    try:
        exc = sys.exc_info()[1]
        if exc is not None:
            tool = current_tool()
            if tool is not None and tool.error_type is None:
                tool.error_type = _error_type(exc)
    except Exception:  # noqa: BLE001
        report("hermes tool error type")
    return wrapped(*args, **kwargs)


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def run_agent(module: ModuleType) -> None:
        patcher.wrap(module, "AIAgent._invoke_tool", tool_wrapper(handler, function_call_args))
        patcher.wrap(module, "handle_function_call", tool_wrapper(handler, function_call_args))

    def tool_executor(module: ModuleType) -> None:
        patcher.wrap(module, "_run_agent_tool_execution_middleware",
                     tool_wrapper(handler, middleware_args, returns_pair=True))

    patcher.on_import("run_agent", run_agent)
    patcher.on_import("agent.tool_executor", tool_executor)
    patcher.on_import("model_tools", lambda module: patcher.wrap(
        module, "_sanitize_tool_error", sanitize_error_wrapper))
