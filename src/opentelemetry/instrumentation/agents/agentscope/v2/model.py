"""AgentScope 2.x model calls, mapped onto the handler.

``ChatModelBase.__call__``: every model call of every subclass, returning a
``ChatResponse`` or an async generator of chunks.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial
from types import ModuleType
from typing import Any

from ... import _genai_messages as M
from ... import _request
from ... import attributes as A
from ..._context import attach as _attach
from ..._context import detach as _detach
from ..._handler import TelemetryHandler
from ..._invocations import ChatInvocation
from ..._patching import Patcher
from ..._safety import report
from ..._streams import trace_async_stream
from . import messages as _messages
from . import native
from ._shared import Types, provider_and_api, watch_stream


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    types = Types()

    def model_module(module: ModuleType) -> None:
        patcher.wrap(module, "ChatModelBase.__call__", _model_wrapper(handler, types))

    patcher.on_import("agentscope.model._base", model_module)


def _chat_outcome(get: Any) -> tuple[list[str], str | None]:
    """(finish reasons, step finish reason) for a complete ChatResponse's fields."""
    if get("finished_reason", "") == "interrupted":
        return ["interrupted"], A.FINISH_CANCELLED
    for block in get("content", None) or ():
        if getattr(block, "type", None) == "tool_call":
            return [A.FINISH_TOOL_CALLS], A.FINISH_TOOL_CALLS
    return [A.FINISH_STOP], A.FINISH_STOP


def _finish_chat(handler: TelemetryHandler, inv: ChatInvocation, response: Any,
                 usage: Any = None, error: BaseException | None = None,
                 agentscope_tracing: bool = False) -> None:
    if agentscope_tracing and response is not None and error is None:
        native.chat_ending(handler, inv, response)
    if response is None:
        handler.finish_chat(inv, error=error, error_type=None if error else "incomplete_stream")
        return
    # ChatResponse and ChatUsage are dicts with attribute access through a
    # Python-level `__getattr__`: key lookups skip that call (and the
    # exception it raises for a missing field).
    field = response.get if isinstance(response, dict) else partial(getattr, response)
    reasons, step_reason = _chat_outcome(field)
    usage = field("usage", None) or usage
    get = usage.get if isinstance(usage, dict) else partial(getattr, usage)
    # ChatUsage defaults both cache counts to 0 for providers that report
    # none: only a count above 0 says the provider reported it.
    cache_read = get("cache_input_tokens", None)
    cache_creation = get("cache_creation_input_tokens", None)
    input_tokens = get("input_tokens", None)
    if ((cache_read or cache_creation) and input_tokens is not None
            and inv.attributes.get(A.PROVIDER_NAME) == "anthropic"):
        # Anthropic's input count leaves out the cached and cache-written
        # tokens (AgentScope passes it through); the conventions' count has them.
        input_tokens += (cache_read or 0) + (cache_creation or 0)
    handler.finish_chat(
        inv,
        response_id=field("id", None),
        finish_reasons=reasons,
        input_tokens=input_tokens,
        output_tokens=get("output_tokens", None),
        usage_details=(cache_read or None, cache_creation or None, None)
        if cache_read or cache_creation else None,
        output_messages=_messages.convert_response(response) if handler.capture_content
        else None,
        step_finish_reason=step_reason,
        error=error,
        error_type="cancelled" if step_reason == A.FINISH_CANCELLED and error is None else None,
    )


class _ChatStream:
    __slots__ = ("agentscope_tracing", "context", "handler", "inv", "last", "usage")

    def __init__(self, handler: TelemetryHandler, inv: ChatInvocation,
                 agentscope_tracing: bool) -> None:
        self.handler = handler
        self.inv = inv
        self.agentscope_tracing = agentscope_tracing
        self.context = inv.context
        self.last: Any = None
        self.usage: Any = None

    def on_item(self, chunk: Any) -> None:
        # Chunks are deltas; the one marked `is_last` is the whole response
        # (AgentScope's own summary, not a chunk the provider sent).
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.is_last:
            self.last = chunk
        else:
            self.handler.chat_chunk(self.inv)

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        _finish_chat(self.handler, self.inv, self.last, self.usage, error,
                     self.agentscope_tracing)

    def abandoned(self, error: BaseException | None) -> None:
        if not self.inv.ended:
            _finish_chat(self.handler, self.inv, self.last, self.usage, error,
                         self.agentscope_tracing)


# The fields of AgentScope's model `Parameters` classes that are request parameters.
_parameters = _request.Fields({"temperature": A.REQUEST_TEMPERATURE,
                               "max_tokens": A.REQUEST_MAX_TOKENS,
                               "top_p": A.REQUEST_TOP_P, "top_k": A.REQUEST_TOP_K})
_PARAMETER_NAMES = _parameters.names
_UNSET = (None,) * len(_PARAMETER_NAMES)
_NO_FIELDS: dict[str, Any] = {}
_NO_SERVER = (None, None)


def _model_wrapper(handler: TelemetryHandler, types: Types):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        inv = None
        try:
            inputs = system = tools = None
            if handler.capture_content:
                inputs, system = _messages.request(
                    args[0] if args else kwargs.get("messages"))
                tools = M.tool_definitions(args[1] if len(args) > 1 else kwargs.get("tools"))
            # Read as fields: a pydantic model answers a missing attribute
            # through a Python-level __getattr__ (and an exception).
            base_url = getattr(getattr(instance, "credential", None), "__dict__",
                               _NO_FIELDS).get("base_url")
            address, port = _request.server(base_url) if base_url else _NO_SERVER
            parameters = getattr(getattr(instance, "parameters", None), "__dict__", _NO_FIELDS)
            provider, api = provider_and_api(instance)
            inv = handler.start_chat(
                request_model=getattr(instance, "model", None),
                provider=provider,
                stream=getattr(instance, "stream", None),
                input_messages=inputs, system_instructions=system,
                request=None if tuple(map(parameters.get, _PARAMETER_NAMES)) == _UNSET
                else _parameters(parameters),
                server_address=address, server_port=port, tool_definitions=tools,
                api=api,
            )
        except Exception:  # noqa: BLE001
            report("agentscope model call start")
        if inv is None:
            return wrapped(*args, **kwargs)
        # AgentScope's own tracing, switched on for the calling agent: its names too.
        frame = native.chat_frame() if native.TRACING.seen else None
        if frame is not None:
            native.chat_started(handler, inv, frame, instance, args, kwargs)
        return _traced_model_call(handler, types, inv, wrapped, args, kwargs, frame is not None)

    return wrapper


async def _traced_model_call(handler: TelemetryHandler, types: Types, inv: ChatInvocation,
                             wrapped: Any, args: tuple, kwargs: dict,
                             agentscope_tracing: bool = False) -> Any:
    # Attached while the call runs, so an HTTP client's own spans nest here.
    token = _attach(inv.context)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _detach(token)
        handler.finish_chat(inv, error=exc)
        raise
    _detach(token)
    if isinstance(result, types.load().chat_response):
        try:
            _finish_chat(handler, inv, result, agentscope_tracing=agentscope_tracing)
        except Exception:  # noqa: BLE001
            report("agentscope model call end")
        return result
    if isinstance(result, AsyncGenerator):
        observer = _ChatStream(handler, inv, agentscope_tracing)
        watch_stream(observer)
        return trace_async_stream(result, lambda: observer)
    handler.finish_chat(inv)
    return result


