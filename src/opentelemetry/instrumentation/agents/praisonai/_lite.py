"""`LiteAgent` (`praisonaiagents.lite`): an agent around a user's `llm_fn(messages) -> str`.

`LiteAgent.chat` is one model call, no tool loop: the agent span holds one
round with one `chat` span around `llm_fn`. `llm_fn` is an instance attribute,
so it cannot be patched on the class; instead a data descriptor on the class
stores it in the instance `__dict__` as before and, read from inside our own
agent span, hands out a traced stand-in. Nothing is written to the agents,
and removing the descriptor (uninstrument) leaves their `llm_fn` as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from opentelemetry import trace

from .. import attributes as A
from .._handler import TelemetryHandler
from .._invocations import current_frame
from .._patching import Patcher
from .._safety import report
from . import _messages
from ._wrapping import call_in, fail_with

_get_current_span = trace.get_current_span


def chat_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        frame = None
        if handler.enabled:
            try:
                message = args[0] if args else kwargs.get("message")
                frame = handler.start_agent(
                    instance, getattr(instance, "name", None),
                    input_value=_messages.user_text(message) if handler.capture_content
                    else None)
            except Exception:  # noqa: BLE001
                report("praisonai LiteAgent start")
        if frame is None:
            return wrapped(*args, **kwargs)
        result = call_in(frame.context, fail_with(handler.finish_agent, frame), wrapped, args,
                         kwargs)
        frame.finish_reason = "completed"
        handler.finish_agent(
            frame, output_value=_messages.assistant_text(result) if handler.capture_content
            else None, answer=result)
        return result

    return wrapper


def _traced_llm_fn(handler: TelemetryHandler, fn: Callable[..., Any], frame: Any):
    def traced(*args: Any, **kwargs: Any) -> Any:
        inv = None
        try:
            handler.start_step(frame)
            inputs = system = None
            if handler.capture_content and args:
                inputs, system = _messages.request(args[0])
            inv = handler.start_chat(request_model=None, input_messages=inputs,
                                     system_instructions=system)
        except Exception:  # noqa: BLE001
            report("praisonai LiteAgent llm_fn start")
        if inv is None:
            return fn(*args, **kwargs)
        result = call_in(inv.context, fail_with(handler.finish_chat, inv), fn, args, kwargs)
        handler.finish_chat(
            inv, step_finish_reason=A.FINISH_STOP,
            output_messages=_messages.assistant_text(result) if handler.capture_content
            else None)
        return result

    return traced


class LlmFnDescriptor:
    """Class-level `LiteAgent.llm_fn`: the value lives in the instance `__dict__`."""

    def __init__(self, handler: TelemetryHandler) -> None:
        self.handler = handler

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        try:
            fn = instance.__dict__["llm_fn"]
        except KeyError:
            raise AttributeError("llm_fn") from None
        if fn is None:
            return None
        frame = current_frame()
        # Only `chat` of this very agent, with its agent span current, gets the
        # traced stand-in; any other reader sees the user's function itself.
        if frame is None or frame.owner is not instance or frame.ended \
                or _get_current_span() is not frame.span:
            return fn
        return _traced_llm_fn(self.handler, fn, frame)

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__["llm_fn"] = value

    def __delete__(self, instance: Any) -> None:
        try:
            del instance.__dict__["llm_fn"]
        except KeyError:
            raise AttributeError("llm_fn") from None


def execute_tool_wrapper(handler: TelemetryHandler):
    """`LiteAgent.execute_tool(name, **kwargs) -> LiteToolResult`; never raises."""
    def wrapper(wrapped, instance, args, kwargs):
        inv = None
        if handler.enabled:
            name = args[0] if args else kwargs.get("tool_name")
            inv = handler.start_tool(
                name if isinstance(name, str) else None,
                arguments={k: v for k, v in kwargs.items() if k != "tool_name"})
        if inv is None:
            return wrapped(*args, **kwargs)
        result = call_in(inv.context, fail_with(handler.finish_tool, inv), wrapped, args, kwargs)
        failed = getattr(result, "success", True) is False
        handler.finish_tool(
            inv, error_type=(inv.error_type or "tool_error") if failed else None,
            result=getattr(result, "output", None) if handler.capture_content else None)
        return result

    return wrapper


# The class whose `llm_fn` descriptor we set (`remove` takes it away).
_patched_class: type | None = None


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def lite(module: ModuleType) -> None:
        global _patched_class
        cls = module.LiteAgent
        patcher.wrap(module, "LiteAgent.chat", chat_wrapper(handler))
        patcher.wrap(module, "LiteAgent.execute_tool", execute_tool_wrapper(handler))
        if "llm_fn" not in cls.__dict__:
            cls.llm_fn = LlmFnDescriptor(handler)
            _patched_class = cls

    patcher.on_import("praisonaiagents.lite", lite)


def remove() -> None:
    """Take our `llm_fn` descriptor off the class it was set on."""
    global _patched_class
    cls, _patched_class = _patched_class, None
    if cls is not None and isinstance(cls.__dict__.get("llm_fn"), LlmFnDescriptor):
        del cls.llm_fn
