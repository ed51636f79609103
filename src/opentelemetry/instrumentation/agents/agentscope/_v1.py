"""Where AgentScope 1.x does its work, mapped onto the handler.

- ``AgentBase.__call__`` (every agent called as ``await agent(msg)``) and
  ``ReActAgent.reply`` (a ReAct agent's reply called directly): one
  ``invoke_agent`` span per invocation; ``reply`` reached from inside the same
  agent's ``__call__`` adds nothing.
- ``ReActAgent._reasoning``: one call per reasoning/acting round; it opens the
  round's ``react step`` (the round's tools run inside it until the next
  round). ``ReActAgent._summarizing`` runs only when the loop used up
  ``max_iters``: it marks the invocation and opens the final round.
- The ReAct hooks (``pre_/post_reasoning``, ``pre_/post_acting``), registered
  per agent as instance hooks while at least one traced invocation of it is
  in flight (`REGISTRY`). AgentScope's own per-instance re-entrancy guard
  skips hooks for all but one of several overlapping calls on one instance,
  so rounds never depend on them: the hooks only open a round the
  ``_reasoning`` wrapper cannot see (a subclass overriding ``_reasoning``
  without calling ``super()``) and record how a round ended from the final
  reasoning message.
- ``__call__`` of every `ChatModelBase` subclass: the base method is abstract
  and every model overrides it, so each model class is wrapped (the built-in
  ones when ``agentscope.model`` is imported, any other one the first time an
  agent that uses it is invoked). Returns a ``ChatResponse`` or, streaming, an
  async generator of accumulating chunks.
- ``Toolkit.call_tool_function``: a coroutine returning an async generator of
  ``ToolResponse``; the tool span covers the whole generator. The toolkit
  turns a tool's exception into an ``Error: ...`` text result; the
  ``TextBlock`` it builds for it is made while that exception is being
  handled, which is where we read its type.
- ``agentscope.tracing``: its ``trace_reply``, ``trace_llm`` and
  ``trace_toolkit`` decorators would emit a second span for the very agent,
  model and tool calls we trace; ``_check_tracing_enabled`` answers False to
  them (and only them) while we are active. Its formatter, embedding and
  generic ``@trace`` spans are not ours to replace and keep working, nested
  under our spans.
"""

from __future__ import annotations

import inspect
import sys
import weakref
from collections.abc import AsyncGenerator, Callable
from contextvars import ContextVar
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from .. import _genai_messages as M
from .. import _request, _usage
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
from .._registry import AgentRegistry
from .._safety import error_type as _error_type
from .._safety import report
from .._streams import trace_async_stream
from . import _v1_compression
from . import _v1_messages as _messages
from ._providers import ProviderNames

_attach = otel_context.attach
_detach = otel_context.detach
_get_current_span = trace.get_current_span

HOOK_NAME = "opentelemetry.instrumentation.agents"
"""The one name our instance hooks are registered under, for every hook type."""

HOOK_TYPES = ("pre_reasoning", "post_reasoning", "pre_acting", "post_acting")

REGISTRY: AgentRegistry | None = None
"""The per-agent hook registry of the active instrumentation (for tests)."""

# The frame whose reasoning round is running in this task, so a round is
# opened once however many of the wrapper and the hooks see it.
_IN_REASONING: ContextVar[AgentInvocation | None] = ContextVar(
    "otel_agents_as1_reasoning", default=None)
# The model whose call we are tracing in this task: a subclass's `__call__`
# calling `super().__call__()` (both wrapped) makes one chat span, not two.
_IN_MODEL: ContextVar[Any] = ContextVar("otel_agents_as1_model", default=None)
# The model and tool streams opened during this task's invocation. AgentScope
# stops reading such a stream without closing it when a call is cancelled
# (`_reasoning` or `_acting` left by a CancelledError, which `__call__` turns
# into an "interrupted" reply) and after its finish function succeeds; the
# stream would then end only when garbage-collected, after its agent span.
# What is still open when the invocation ends is ended with it.
_STREAMS: ContextVar[list[Any] | None] = ContextVar("otel_agents_as1_streams", default=None)


def _watch_stream(observer: Any) -> None:
    streams = _STREAMS.get()
    if streams is not None:
        streams.append(observer)


def _end_abandoned(streams: list[Any], error: BaseException | None, interrupted: bool) -> None:
    for observer in streams:
        if not observer.inv.ended:
            try:
                observer.abandoned(error, interrupted)
            except Exception:  # noqa: BLE001
                report("agentscope abandoned stream")


# Where AgentScope keeps each provider's models -> gen_ai.provider.name.
_provider = ProviderNames({
    "_openai_model": "openai",
    "_openai_response_model": "openai",
    "_anthropic_model": "anthropic",
    "_dashscope_model": "dashscope",
    "_gemini_model": "gcp.gemini",
    "_ollama_model": "ollama",
})


class _Types:
    """AgentScope classes we compare against, looked up on first use.

    Post-import hooks fire while a package may still be half-imported, so
    importing these when patching could fail; by the first call they exist.
    """

    _loaded = False

    def load(self) -> _Types:
        if not self._loaded:
            from agentscope.agent import ReActAgentBase
            from agentscope.model import ChatModelBase, ChatResponse
            from agentscope.tool import ToolResponse

            self.react_base = ReActAgentBase
            self.model_base = ChatModelBase
            self.chat_response = ChatResponse
            self.tool_response = ToolResponse
            self._loaded = True
        return self


def install(patcher: Patcher, handler: TelemetryHandler) -> Callable[[], None]:
    """Register the 1.x patches; returns what removes our hooks from live agents."""
    global REGISTRY
    types = _Types()
    hooks = _make_hooks(handler)
    registry = AgentRegistry(lambda agent: _register_hooks(agent, hooks),
                             lambda agent, _installed: _remove_hooks(agent, hooks))
    REGISTRY = registry
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

    def agent_base_module(module: ModuleType) -> None:
        patcher.wrap(module, "AgentBase.__call__",
                     _agent_wrapper(handler, types, registry, ensure_model_traced))

    def react_agent_module(module: ModuleType) -> None:
        patcher.wrap(module, "ReActAgent.reply",
                     _agent_wrapper(handler, types, registry, ensure_model_traced))
        patcher.wrap(module, "ReActAgent._reasoning", _reasoning_wrapper(handler))
        patcher.wrap(module, "ReActAgent._summarizing", _summarizing_wrapper(handler))

    def model_package(module: ModuleType) -> None:
        # The package is fully imported here, so every built-in model class
        # (and any subclass the application defined before instrumenting) exists.
        pending = list(module.ChatModelBase.__subclasses__())
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            wrap_model_call(cls)

    def toolkit_module(module: ModuleType) -> None:
        patcher.wrap(module, "Toolkit.call_tool_function", _call_tool_wrapper(handler))
        patcher.wrap(module, "TextBlock", _tool_error_watch)

    def tracing_module(module: ModuleType) -> None:
        patcher.wrap(module, "_check_tracing_enabled", _tracing_check(module))

    patcher.on_import("agentscope.agent._agent_base", agent_base_module)
    patcher.on_import("agentscope.agent._react_agent", react_agent_module)
    patcher.on_import("agentscope.model", model_package)
    patcher.on_import("agentscope.tool._toolkit", toolkit_module)
    patcher.on_import("agentscope.tracing._trace", tracing_module)
    return registry.clear


# -- per-agent ReAct hooks ------------------------------------------------------

def _make_hooks(handler: TelemetryHandler) -> tuple[tuple[str, Callable[..., None]], ...]:
    """The four hook functions, shared by every agent (they hold no agent)."""

    def own_frame(agent: Any) -> AgentInvocation | None:
        # Hooks run for whatever invocation of `agent` reached them; only the
        # frame of that same agent, in this task's context, is ours to touch.
        frame = current_frame()
        if frame is None or frame.owner is not agent or frame.ended:
            return None
        return frame

    def pre_reasoning(agent: Any, kwargs: dict[str, Any]) -> None:
        try:
            frame = own_frame(agent)
            if frame is not None and _IN_REASONING.get() is not frame:
                # A round the `_reasoning` wrapper did not open (a subclass
                # overriding `_reasoning`): open it here. The flag is cleared
                # by post_reasoning, or by the invocation's end if it raised.
                handler.start_step(frame)
                _IN_REASONING.set(frame)
        except Exception:  # noqa: BLE001
            report("agentscope pre_reasoning hook")

    def post_reasoning(agent: Any, kwargs: dict[str, Any], output: Any) -> None:
        try:
            frame = own_frame(agent)
            if frame is None:
                return
            step = frame.step
            if step is not None and output is not None and hasattr(output, "has_content_blocks"):
                # What the agent acts on is the message after every post hook
                # before ours, which may differ from what the model said.
                step.finish_reason = (A.FINISH_TOOL_CALLS if output.has_content_blocks("tool_use")
                                      else A.FINISH_STOP)
            if _IN_REASONING.get() is frame:
                _IN_REASONING.set(None)
        except Exception:  # noqa: BLE001
            report("agentscope post_reasoning hook")

    def pre_acting(agent: Any, kwargs: dict[str, Any]) -> None:
        try:
            frame = own_frame(agent)
            if frame is not None and frame.step is None:
                # Acting with no round open (a custom loop acting first).
                handler.start_step(frame)
        except Exception:  # noqa: BLE001
            report("agentscope pre_acting hook")

    def post_acting(agent: Any, kwargs: dict[str, Any], output: Any) -> None:
        # Nothing to add: the tool span already ended with the tool's result,
        # and the round stays open for the round's other tool calls. Kept so
        # the four ReAct positions are registered (and removed) as one set.
        return None

    return (("pre_reasoning", pre_reasoning), ("post_reasoning", post_reasoning),
            ("pre_acting", pre_acting), ("post_acting", post_acting))


def _register_hooks(agent: Any, hooks: tuple[tuple[str, Callable[..., None]], ...]) -> None:
    """Add our four hooks to `agent`; on failure remove those added, then raise."""
    added: list[tuple[str, Callable[..., None]]] = []
    try:
        for hook_type, hook in hooks:
            agent.register_instance_hook(hook_type, HOOK_NAME, hook)
            added.append((hook_type, hook))
    except BaseException:
        _remove_hooks(agent, tuple(added))
        raise
    # Nothing to keep: what to remove is known from `hooks` (and holds no agent).
    return None


def _remove_hooks(agent: Any, hooks: tuple[tuple[str, Callable[..., None]], ...]) -> None:
    for hook_type, hook in hooks:
        table = getattr(agent, f"_instance_{hook_type}_hooks", None)
        # Only our own function: the application may have replaced or cleared it.
        if table is not None and table.get(HOOK_NAME) is hook:
            del table[HOOK_NAME]


# -- agents ---------------------------------------------------------------------

def _agent_wrapper(handler: TelemetryHandler, types: _Types, registry: AgentRegistry,
                   ensure_model_traced: Callable[[Any], None]):
    # A plain function returning a coroutine: when we are not tracing, the
    # caller awaits AgentScope's own coroutine and we add no frame of ours.
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        outer = current_frame()
        if outer is not None and outer.owner is instance and _get_current_span() is outer.span:
            # `reply` reached from this same invocation's `__call__`.
            return wrapped(*args, **kwargs)
        return _traced_invocation(handler, types, registry, ensure_model_traced, instance,
                                  wrapped, args, kwargs)

    return wrapper


def _start_agent(handler: TelemetryHandler, agent: Any, args: tuple, kwargs: dict,
                 ensure_model_traced: Callable[[Any], None]) -> AgentInvocation | None:
    try:
        model = getattr(agent, "model", None)
        if model is not None:
            ensure_model_traced(model)
        msg = args[0] if args else kwargs.get("msg")
        return handler.start_agent(
            agent, getattr(agent, "name", None),
            agent_id=getattr(agent, "id", None),
            provider=_provider(model) if model is not None else None,
            request_model=getattr(model, "model_name", None),
            max_iterations=getattr(agent, "max_iters", None),
            input_value=_messages.agent_input(msg) if handler.capture_content else None,
        )
    except Exception:  # noqa: BLE001
        report("agentscope agent start")
        return None


async def _traced_invocation(handler: TelemetryHandler, types: _Types, registry: AgentRegistry,
                             ensure_model_traced: Callable[[Any], None], agent: Any,
                             wrapped: Any, args: tuple, kwargs: dict) -> Any:
    # Started here, when awaited, not when called: a coroutine that is never
    # awaited leaves no span open, and the parent is whoever awaits it.
    frame = _start_agent(handler, agent, args, kwargs, ensure_model_traced)
    if frame is None:
        return await wrapped(*args, **kwargs)
    hooked = False
    try:
        if isinstance(agent, types.load().react_base):
            hooked = registry.acquire(agent)
    except Exception:  # noqa: BLE001
        report("agentscope hooks")
    # Whatever a hook leaves in `_IN_REASONING` goes when this invocation ends.
    reasoning_token = _IN_REASONING.set(None)
    streams: list[Any] = []
    streams_token = _STREAMS.set(streams)
    token = _attach(frame.context)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _detach(token)
        _IN_REASONING.reset(reasoning_token)
        _STREAMS.reset(streams_token)
        if hooked:
            registry.release(agent)
        _end_abandoned(streams, exc, False)
        handler.finish_agent(frame, error=exc)
        raise
    _detach(token)
    _IN_REASONING.reset(reasoning_token)
    _STREAMS.reset(streams_token)
    if hooked:
        registry.release(agent)
    try:
        err = None
        metadata = getattr(result, "metadata", None)
        interrupted = isinstance(metadata, dict) and bool(metadata.get("_is_interrupted"))
        _end_abandoned(streams, None, interrupted)
        if interrupted:
            # `__call__` caught a cancellation and answered via handle_interrupt.
            frame.finish_reason = "interrupted"
            err = "cancelled"
            handler.finish_step(frame, finish_reason=A.FINISH_CANCELLED)
        elif frame.finish_reason is None:
            frame.finish_reason = "completed"
        handler.finish_agent(
            frame, error_type=err,
            output_value=_messages.reply(result) if handler.capture_content else None)
    except Exception:  # noqa: BLE001
        report("agentscope agent end")
    return result


def _reasoning_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        frame = current_frame()
        if frame is None or frame.owner is not instance or _IN_REASONING.get() is frame:
            return wrapped(*args, **kwargs)
        return _traced_reasoning(handler, frame, wrapped, args, kwargs)

    return wrapper


async def _traced_reasoning(handler: TelemetryHandler, frame: AgentInvocation, wrapped: Any,
                            args: tuple, kwargs: dict) -> Any:
    # The round is derived from this call, not from the hooks, which
    # AgentScope skips for overlapping calls on one instance.
    handler.start_step(frame)
    token = _IN_REASONING.set(frame)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _IN_REASONING.reset(token)


def _summarizing_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        frame = current_frame()
        if frame is not None and frame.owner is instance and not frame.ended:
            # ReActAgent summarizes only when the loop ran out of iterations
            # without an answer; the summary's model call is a round of its own.
            frame.max_iterations_reached = True
            frame.finish_reason = A.FINISH_MAX_ITERATIONS
            handler.start_step(frame)
        return wrapped(*args, **kwargs)

    return wrapper


# -- model calls ----------------------------------------------------------------

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


def _model_wrapper(handler: TelemetryHandler, types: _Types):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled or _IN_MODEL.get() is instance:
            return wrapped(*args, **kwargs)
        return _traced_model_call(handler, types, instance, wrapped, args, kwargs)

    return wrapper


async def _traced_model_call(handler: TelemetryHandler, types: _Types, model: Any,
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
            provider=_provider(model),
            stream=getattr(model, "stream", None),
            input_messages=inputs, system_instructions=system,
            compression=_v1_compression.compressing(),
            request=_model_request(model, args, kwargs),
            server_address=address, server_port=port, tool_definitions=tools,
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
            _watch_stream(observer)
            return trace_async_stream(result, lambda: observer)
        if isinstance(result, types.load().chat_response):
            _finish_chat(handler, inv, result)
        else:
            handler.finish_chat(inv)
    except Exception:  # noqa: BLE001
        report("agentscope model call end")
    return result


# -- tool calls -----------------------------------------------------------------

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
        arguments=call.get("input") if handler.capture_content else None)
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
        _watch_stream(observer)
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


# -- AgentScope's own tracing ---------------------------------------------------

async def _placeholder(*args: Any, **kwargs: Any) -> None:
    return None


def _tracing_check(module: ModuleType):
    # The decorators build one closure per decorated function, all sharing the
    # decorator's code object: that identifies which decorator is asking.
    duplicates = frozenset(
        getattr(module, name)(_placeholder).__code__
        for name in ("trace_reply", "trace_llm", "trace_toolkit", "trace_embedding")
        if callable(getattr(module, name, None)))

    def wrapper(wrapped, instance, args, kwargs):
        if not wrapped(*args, **kwargs):
            return False  # AgentScope's tracing is off: nothing to decide
        caller = sys._getframe(1)
        # wrapt's pure-Python fallback adds frames of its own in between.
        while caller is not None and caller.f_globals.get("__name__", "").startswith("wrapt"):
            caller = caller.f_back
        if caller is not None and caller.f_code in duplicates:
            # We already trace this agent, model or tool call.
            return False
        return True

    return wrapper
