"""Where AgentScope 2.x does its work, mapped onto the handler.

- ``Agent.reply`` (coroutine) and ``Agent.reply_stream`` (async generator):
  one ``invoke_agent`` span each.
- ``Agent._reasoning``: called once per reasoning/acting round; it opens the
  round's ``react step`` (the tools the round's model call asks for run
  inside that step until the next round starts).
- ``ChatModelBase.__call__``: every model call of every subclass, returning a
  ``ChatResponse`` or an async generator of chunks.
- ``Toolkit.call_tool``: every tool call, an async generator ending in a
  ``ToolResponse``; ``ToolBase.__call__`` lets us see the exception a tool
  raised before AgentScope turns it into an error result for the model.
- ``TracingMiddleware``: AgentScope's own tracing checks
  ``_check_tracing_enabled``; we make it answer False while we are active.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from .. import _genai_messages as M
from .. import _request
from .. import attributes as A
from .._handler import TelemetryHandler
from .._invocations import (
    AgentInvocation,
    ChatInvocation,
    ToolInvocation,
    current_frame,
    current_tool,
)
from .._patching import Patcher
from .._safety import report
from .._streams import trace_async_stream
from . import _messages, _v2_hitl
from ._providers import ProviderNames

_attach = otel_context.attach
_detach = otel_context.detach
_get_current_span = trace.get_current_span

# The model and tool streams a reply opened, in the reply's context. AgentScope
# stops reading such a stream without closing it when something it does with
# an item raises (and `Toolkit.call_tool` yields its final result from a
# `finally`, so the last item is not always the end); the stream would then
# end only when garbage-collected, after its reply. What is still open when
# the reply ends is ended with it.
STREAMS_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.agentscope.streams")


def _watch_stream(observer: Any) -> None:
    streams = otel_context.get_value(STREAMS_KEY)
    if streams is not None:
        streams.append(observer)


def _end_abandoned(streams: list[Any], error: BaseException | None) -> None:
    for observer in streams:
        try:
            observer.abandoned(error)
        except Exception:  # noqa: BLE001
            report("agentscope abandoned stream")
    # The observers' contexts hold this list: emptied, it frees them at once
    # instead of leaving a cycle for the garbage collector.
    streams.clear()


# Where AgentScope keeps each provider's models -> gen_ai.provider.name.
_provider = ProviderNames({
    "_openai_chat": "openai",
    "_openai_response": "openai",
    "_anthropic": "anthropic",
    "_dashscope": "dashscope",
    "_gemini": "gcp.gemini",
    "_ollama": "ollama",
    "_deepseek": "deepseek",
    "_moonshot": "moonshot",
    "_xai": "x_ai",
    "_volcengine": "volcengine",
    "_minimax": "minimax",
})


# Reply outcomes as AgentScope names them -> (our finish reason, error.type).
_REPLY_OUTCOMES = {
    "completed": ("completed", None),
    "exceed_max_iters": (A.FINISH_MAX_ITERATIONS, None),
    "interrupted": ("interrupted", "cancelled"),
    "error": ("error", "agent_error"),
}


class _Types:
    """AgentScope classes we compare against, looked up on first use.

    Post-import hooks fire while a package may still be half-imported, so
    importing these when patching could fail; by the first call they exist.
    """

    _loaded = False

    def load(self) -> _Types:
        if not self._loaded:
            from agentscope.event import ReplyEndEvent
            from agentscope.model import ChatResponse
            from agentscope.tool import ToolResponse

            self.reply_end = ReplyEndEvent
            self.chat_response = ChatResponse
            self.tool_response = ToolResponse
            self._loaded = True
        return self


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    """Register the 2.x patches; they touch classes only, so nothing to undo on agents."""
    types = _Types()

    def agent_module(module: ModuleType) -> None:
        patcher.wrap(module, "Agent.reply", _reply_wrapper(handler))
        patcher.wrap(module, "Agent.reply_stream", _reply_stream_wrapper(handler, types))
        patcher.wrap(module, "Agent._reasoning", _reasoning_wrapper(handler))
        patcher.wrap(module, "Agent._handle_error_tool_call", _rejected_tool_wrapper(handler))

    def model_module(module: ModuleType) -> None:
        patcher.wrap(module, "ChatModelBase.__call__", _model_wrapper(handler, types))

    def toolkit_module(module: ModuleType) -> None:
        patcher.wrap(module, "Toolkit.call_tool", _call_tool_wrapper(handler, types))

    def tool_base_module(module: ModuleType) -> None:
        patcher.wrap(module, "ToolBase.__call__", _tool_function_wrapper(handler))

    def tracing_module(module: ModuleType) -> None:
        patcher.wrap(module, "_check_tracing_enabled", _tracing_disabled)

    patcher.on_import("agentscope.agent._agent", agent_module)
    patcher.on_import("agentscope.model._base", model_module)
    patcher.on_import("agentscope.tool._toolkit", toolkit_module)
    patcher.on_import("agentscope.tool._base", tool_base_module)
    patcher.on_import("agentscope.middleware._tracing._trace", tracing_module)

    from . import _v2_a2a, _v2_mcp

    _v2_mcp.install(patcher)
    _v2_a2a.install(patcher, handler)


# -- agents -----------------------------------------------------------------

def _start_agent(handler: TelemetryHandler, agent: Any, args: tuple, kwargs: dict
                 ) -> AgentInvocation | None:
    if not handler.enabled:
        return None
    try:
        outer = current_frame()
        if outer is not None and outer.owner is agent and _get_current_span() is outer.span:
            # `reply` reached again from inside this same invocation (an
            # override calling another entry point): one span is enough.
            return None
        model = getattr(agent, "model", None)
        state = getattr(agent, "state", None)
        react = getattr(agent, "react_config", None)
        inputs = args[0] if args else kwargs.get("inputs")
        frame = handler.start_agent(
            agent, getattr(agent, "name", None),
            conversation_id=getattr(state, "session_id", None),
            provider=_provider(model) if model is not None else None,
            request_model=getattr(model, "model", None),
            max_iterations=getattr(react, "max_iters", None),
            input_value=_messages.agent_input(inputs) if handler.capture_content else None,
        )
        if frame is not None and type(inputs).__name__ in _v2_hitl.RESUMING:
            # A confirmation, external results or an interrupt for a paused reply.
            _v2_hitl.resumed(handler, frame, inputs)
        return frame
    except Exception:  # noqa: BLE001
        report("agentscope reply start")
        return None


def _record_outcome(frame: AgentInvocation, reason: Any) -> str | None:
    """Note how the reply ended; returns the error.type it implies, if any."""
    if reason is None:
        return None
    finish, err = _REPLY_OUTCOMES.get(str(reason), (str(reason), None))
    frame.finish_reason = finish
    if finish == A.FINISH_MAX_ITERATIONS:
        frame.max_iterations_reached = True
    step = frame.step
    if err == "cancelled" and step is not None:
        # The round the interruption cut short says so (as on AgentScope 1.x).
        step.finish_reason = A.FINISH_CANCELLED
    return err


def _reply_wrapper(handler: TelemetryHandler):
    # A plain function returning a coroutine: when we are not tracing, the
    # caller awaits AgentScope's own coroutine and we add no frame of ours.
    def wrapper(wrapped, instance, args, kwargs):
        frame = _start_agent(handler, instance, args, kwargs)
        if frame is None:
            return wrapped(*args, **kwargs)
        return _traced_reply(handler, frame, wrapped(*args, **kwargs))

    return wrapper


async def _traced_reply(handler: TelemetryHandler, frame: AgentInvocation, reply: Any) -> Any:
    streams: list[Any] = []
    token = _attach(otel_context.set_value(STREAMS_KEY, streams, frame.context))
    try:
        result = await reply
    except BaseException as exc:
        _detach(token)
        _end_abandoned(streams, exc)
        handler.finish_agent(frame, error=exc)
        raise
    _detach(token)
    _end_abandoned(streams, None)
    try:
        err = _record_outcome(frame, getattr(result, "finished_reason", None))
        handler.finish_agent(
            frame, error_type=err, reply_id=getattr(result, "id", None),
            output_value=_messages.reply(result) if handler.capture_content else None)
    except Exception:  # noqa: BLE001
        report("agentscope reply end")
    return result


class _ReplyStream:
    __slots__ = ("context", "frame", "handler", "outcome_type", "reply_end", "reply_id",
                 "streams", "text")

    def __init__(self, handler: TelemetryHandler, frame: AgentInvocation, reply_end: type):
        self.handler = handler
        self.frame = frame
        self.streams: list[Any] = []
        self.context = otel_context.set_value(STREAMS_KEY, self.streams, frame.context)
        self.reply_end = reply_end
        self.outcome_type: str | None = None
        self.reply_id: str | None = None
        # The text of the latest model call: the reply's answer (content capture only).
        self.text: list[str] | None = [] if handler.capture_content else None

    def on_item(self, item: Any) -> None:
        if self.frame.first_event_at is None:
            self.handler.agent_event(self.frame)
        if type(item) is self.reply_end:
            self.outcome_type = _record_outcome(self.frame, item.finished_reason)
            self.reply_id = item.reply_id
        elif self.text is not None:
            kind = getattr(item, "type", None)
            if kind == "TEXT_BLOCK_DELTA":
                self.text.append(item.delta)
            elif kind == "MODEL_CALL_START":
                self.text.clear()

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        _end_abandoned(self.streams, error)
        if error is None and not closed_early and self.frame.finish_reason is None:
            # Ended without a ReplyEndEvent: the reply is waiting for a user's
            # confirmation or an external tool.
            _v2_hitl.paused(self.handler, self.frame)
        output = None
        if self.text is not None and error is None and not closed_early:
            output = _messages.streamed_reply("".join(self.text), self.frame.finish_reason)
        self.handler.finish_agent(self.frame, error=error, error_type=self.outcome_type,
                                  stream_closed_early=closed_early, output_value=output,
                                  reply_id=self.reply_id)


def _reply_stream_wrapper(handler: TelemetryHandler, types: _Types):
    def wrapper(wrapped, instance, args, kwargs):
        source = wrapped(*args, **kwargs)
        if not handler.enabled:
            return source

        def begin() -> _ReplyStream | None:
            frame = _start_agent(handler, instance, args, kwargs)
            return _ReplyStream(handler, frame, types.load().reply_end) if frame else None

        return trace_async_stream(source, begin)

    return wrapper


def _reasoning_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        frame = current_frame()
        if frame is not None and frame.owner is instance:
            handler.start_step(frame)
        return wrapped(*args, **kwargs)

    return wrapper


# -- model calls --------------------------------------------------------------

def _field(obj: Any, name: str, default: Any = None) -> Any:
    """`obj.name`, read as a key where AgentScope's objects are dicts.

    ChatResponse and ChatUsage are dicts with attribute access through a
    Python-level `__getattr__`; a key lookup skips that call (and the
    exception it raises for a missing field).
    """
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _chat_outcome(get: Any) -> tuple[list[str], str | None]:
    """(finish reasons, step finish reason) for a complete ChatResponse's fields."""
    if get("finished_reason", "") == "interrupted":
        return ["interrupted"], A.FINISH_CANCELLED
    for block in get("content", None) or ():
        if getattr(block, "type", None) == "tool_call":
            return [A.FINISH_TOOL_CALLS], A.FINISH_TOOL_CALLS
    return [A.FINISH_STOP], A.FINISH_STOP


def _finish_chat(handler: TelemetryHandler, inv: ChatInvocation, response: Any,
                 usage: Any = None, error: BaseException | None = None) -> None:
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
    __slots__ = ("context", "handler", "inv", "last", "usage")

    def __init__(self, handler: TelemetryHandler, inv: ChatInvocation) -> None:
        self.handler = handler
        self.inv = inv
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
        _finish_chat(self.handler, self.inv, self.last, self.usage, error)

    def abandoned(self, error: BaseException | None) -> None:
        if not self.inv.ended:
            _finish_chat(self.handler, self.inv, self.last, self.usage, error)


# The fields of AgentScope's model `Parameters` classes that are request parameters.
_parameters = _request.Fields({"temperature": A.REQUEST_TEMPERATURE,
                               "max_tokens": A.REQUEST_MAX_TOKENS,
                               "top_p": A.REQUEST_TOP_P, "top_k": A.REQUEST_TOP_K})
_PARAMETER_NAMES = _parameters.names
_UNSET = (None,) * len(_PARAMETER_NAMES)
_NO_FIELDS: dict[str, Any] = {}
_NO_SERVER = (None, None)


def _model_wrapper(handler: TelemetryHandler, types: _Types):
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
            inv = handler.start_chat(
                request_model=getattr(instance, "model", None),
                provider=_provider(instance),
                stream=getattr(instance, "stream", None),
                input_messages=inputs, system_instructions=system,
                request=None if tuple(map(parameters.get, _PARAMETER_NAMES)) == _UNSET
                else _parameters(parameters),
                server_address=address, server_port=port, tool_definitions=tools,
            )
        except Exception:  # noqa: BLE001
            report("agentscope model call start")
        if inv is None:
            return wrapped(*args, **kwargs)
        return _traced_model_call(handler, types, inv, wrapped, args, kwargs)

    return wrapper


async def _traced_model_call(handler: TelemetryHandler, types: _Types, inv: ChatInvocation,
                             wrapped: Any, args: tuple, kwargs: dict) -> Any:
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
            _finish_chat(handler, inv, result)
        except Exception:  # noqa: BLE001
            report("agentscope model call end")
        return result
    if isinstance(result, AsyncGenerator):
        observer = _ChatStream(handler, inv)
        _watch_stream(observer)
        return trace_async_stream(result, lambda: observer)
    handler.finish_chat(inv)
    return result


# -- tool calls ---------------------------------------------------------------

# Tool descriptions by tool name, as the tools had them when last called.
# The toolkit finds a tool only inside `call_tool`, after the span started;
# what the last call of that name saw goes on the span from its start, and
# the tool itself corrects it when it differs (see `_tool_function_wrapper`).
_DESCRIPTIONS: dict[str, str] = {}
_DESCRIPTIONS_LIMIT = 1024


class _ToolStream:
    __slots__ = ("context", "handler", "inv", "response", "response_type")

    def __init__(self, handler: TelemetryHandler, inv: ToolInvocation, response_type: type):
        self.handler = handler
        self.inv = inv
        self.context = inv.context
        self.response_type = response_type
        self.response: Any = None

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
        result = None
        if self.handler.capture_content and response is not None:
            result = _messages.tool_result(getattr(response, "content", None))
        self.handler.finish_tool(self.inv, result=result, error=error, error_type=err_type)


def _call_tool_wrapper(handler: TelemetryHandler, types: _Types):
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
                arguments=getattr(tool_call, "input", None) if handler.capture_content
                else None,
            )
            if inv is None:
                return None
            observer = _ToolStream(handler, inv, types.load().tool_response)
            _watch_stream(observer)
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
            _watch_stream(observer)
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
    from .._safety import error_type

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


def _tracing_disabled(wrapped, instance, args, kwargs) -> bool:
    # Our spans already cover what AgentScope's TracingMiddleware would emit;
    # answering "not configured" makes every one of its hooks a pass-through.
    return False
