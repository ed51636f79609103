"""AgentScope 1.x model calls, mapped onto the handler.

``__call__`` of every `ChatModelBase` subclass: the base method is abstract
and every model overrides it, so each model class is wrapped (the built-in
ones when ``agentscope.model`` is imported, any other one the first time an
agent that uses it is invoked). Returns a ``ChatResponse`` or, streaming, an
async generator of accumulating chunks.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import AsyncGenerator, Callable
from contextvars import ContextVar
from types import ModuleType
from typing import Any

from ... import _genai_messages as M
from ... import _request, _usage
from ... import attributes as A
from ..._context import attach as _attach
from ..._context import detach as _detach
from ..._handler import TelemetryHandler
from ..._invocations import (
    ChatInvocation,
)
from ..._patching import Patcher
from ..._safety import report
from ..._streams import trace_async_stream
from . import compression
from . import messages as _messages
from ._shared import Types, provider_name, sdk_api, watch_stream

# The model whose call we are tracing in this task: a subclass's `__call__`
# calling `super().__call__()` (both wrapped) makes one chat span, not two.
_IN_MODEL: ContextVar[Any] = ContextVar("otel_agents_as1_model", default=None)


def install(patcher: Patcher, handler: TelemetryHandler, types: Types) -> Callable[[Any], None]:
    """Register the model patches; returns what makes sure a model's class is traced
    (called when an agent using it is invoked)."""
    model_wrapper = _model_wrapper(handler, types)
    # Model classes whose `__call__` we have made sure is wrapped. Weak, so
    # classes made on the fly (tests, notebooks) are not kept alive by us.
    model_classes: weakref.WeakSet[type] = weakref.WeakSet()

    def trace_model_class(cls: type) -> None:
        # Every class up to ChatModelBase that defines `__call__`: an override
        # calling `super().__call__()` still makes one span (`_IN_MODEL`).
        for klass in cls.__mro__:
            if klass is types.load().model_base:
                break
            wrap_model_call(klass)

    def wrap_model_call(klass: type) -> None:
        call = klass.__dict__.get("__call__")
        # Our wrapper answers with a coroutine, so only coroutine functions
        # (what ChatModelBase declares) are wrapped.
        if call is not None and inspect.iscoroutinefunction(call):
            patcher.wrap(klass, "__call__", model_wrapper)

    def ensure_model_traced(model: Any) -> None:
        cls = type(model)
        if cls in model_classes or not patcher.active:
            return
        try:
            if isinstance(model, types.load().model_base):
                trace_model_class(cls)
            model_classes.add(cls)
        except Exception:  # noqa: BLE001
            report("agentscope model class")

    def model_package(module: ModuleType) -> None:
        # The package is fully imported here, so every built-in model class
        # (and any subclass the application defined before instrumenting) exists.
        pending = list(module.ChatModelBase.__subclasses__())
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            wrap_model_call(cls)

    patcher.on_import("agentscope.model", model_package)
    return ensure_model_traced


def _chat_outcome(response: Any) -> tuple[list[str], str]:
    """(finish reasons, step finish reason) for a complete ChatResponse."""
    for block in getattr(response, "content", None) or ():
        if isinstance(block, dict) and block.get("type") == "tool_use":
            return [A.FINISH_TOOL_CALLS], A.FINISH_TOOL_CALLS
    return [A.FINISH_STOP], A.FINISH_STOP


def _finish_chat(handler: TelemetryHandler, inv: ChatInvocation, response: Any,
                 usage: Any = None, error: BaseException | None = None,
                 error_type: str | None = None) -> None:
    if response is None:
        handler.finish_chat(inv, error=error,
                            error_type=error_type or (None if error else "incomplete_stream"))
        return
    reasons, step_reason = _chat_outcome(response)
    usage = getattr(response, "usage", None) or usage
    # The provider's own usage object, where AgentScope kept it.
    details = _usage.details(getattr(usage, "metadata", None))
    handler.finish_chat(
        inv,
        response_id=getattr(response, "id", None),
        finish_reasons=reasons,
        input_tokens=getattr(usage, "input_tokens", None),
        output_tokens=getattr(usage, "output_tokens", None),
        usage_details=details,
        output_messages=_messages.convert_response(response) if handler.capture_content
        else None,
        step_finish_reason=step_reason,
        error=error,
        error_type=error_type,
    )


class _ChatStream:
    __slots__ = ("context", "handler", "inv", "last", "usage")

    def __init__(self, handler: TelemetryHandler, inv: ChatInvocation) -> None:
        self.handler = handler
        self.inv = inv
        self.context = inv.context
        self.last: Any = None
        self.usage: Any = None

    def on_item(self, chunk: Any) -> None:
        # AgentScope 1.x chunks accumulate: the last one is the whole response.
        self.last = chunk
        self.handler.chat_chunk(self.inv)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        incomplete = "incomplete_stream" if closed_early and error is None else None
        _finish_chat(self.handler, self.inv, self.last, self.usage, error, incomplete)

    def abandoned(self, error: BaseException | None, interrupted: bool) -> None:
        _finish_chat(self.handler, self.inv, self.last, self.usage, error,
                     None if error is not None else
                     "cancelled" if interrupted else "incomplete_stream")


# `ChatModelBase.__call__(messages, tools, tool_choice, structured_model, **kwargs)`:
# the names that are not request parameters.
_CALL_ARGS = frozenset({"messages", "tools", "tool_choice", "structured_model"})


def _model_request(model: Any, args: tuple, kwargs: dict) -> dict[str, Any] | None:
    """The request parameters a 1.x model sends: its `generate_kwargs` overridden by
    the call's own keyword arguments (as the models merge them), the `max_tokens`
    the Anthropic model keeps as an attribute, and a structured output's type."""
    sent: dict[str, Any] = {}
    max_tokens = getattr(model, "max_tokens", None)
    if type(max_tokens) is int:
        sent["max_tokens"] = max_tokens
    generate_kwargs = getattr(model, "generate_kwargs", None)
    if isinstance(generate_kwargs, dict):
        sent.update(generate_kwargs)
    if kwargs:
        sent.update((k, v) for k, v in kwargs.items() if k not in _CALL_ARGS)
    structured = args[3] if len(args) > 3 else kwargs.get("structured_model")
    if structured is not None:
        sent["response_format"] = structured
    return _request.from_kwargs(sent) if sent else None


def _model_wrapper(handler: TelemetryHandler, types: Types):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled or _IN_MODEL.get() is instance:
            return wrapped(*args, **kwargs)
        return _traced_model_call(handler, types, instance, wrapped, args, kwargs)

    return wrapper


async def _traced_model_call(handler: TelemetryHandler, types: Types, model: Any,
                             wrapped: Any, args: tuple, kwargs: dict) -> Any:
    inv = None
    try:
        inputs = system = tools = None
        if handler.capture_content:
            inputs, system = _messages.convert_prompt(
                args[0] if args else kwargs.get("messages"))
            tools = M.tool_definitions(args[1] if len(args) > 1 else kwargs.get("tools"))
        address, port = _request.server(
            getattr(getattr(model, "client", None), "base_url", None))
        inv = handler.start_chat(
            request_model=getattr(model, "model_name", None),
            provider=provider_name(model),
            stream=getattr(model, "stream", None),
            input_messages=inputs, system_instructions=system,
            compression=compression.compressing(),
            request=_model_request(model, args, kwargs),
            server_address=address, server_port=port, tool_definitions=tools,
            api=sdk_api(model),
        )
    except Exception:  # noqa: BLE001
        report("agentscope model call start")
    if inv is None:
        return await wrapped(*args, **kwargs)
    # Attached while the call runs, so an HTTP client's own spans nest here.
    token = _attach(inv.context)
    model_token = _IN_MODEL.set(model)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _IN_MODEL.reset(model_token)
        _detach(token)
        handler.finish_chat(inv, error=exc)
        raise
    _IN_MODEL.reset(model_token)
    _detach(token)
    try:
        if isinstance(result, AsyncGenerator):
            observer = _ChatStream(handler, inv)
            watch_stream(observer)
            return trace_async_stream(result, lambda: observer)
        if isinstance(result, types.load().chat_response):
            _finish_chat(handler, inv, result)
        else:
            handler.finish_chat(inv)
    except Exception:  # noqa: BLE001
        report("agentscope model call end")
    return result


