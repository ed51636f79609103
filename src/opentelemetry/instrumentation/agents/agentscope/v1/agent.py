"""AgentScope 1.x agents, mapped onto the handler.

- ``AgentBase.__call__`` (every agent called as ``await agent(msg)``) and
  ``ReActAgent.reply`` (a ReAct agent's reply called directly): one
  ``invoke_agent`` span per invocation; ``reply`` reached from inside the same
  agent's ``__call__`` adds nothing.
- ``ReActAgent._reasoning``: one call per reasoning/acting round; it opens the
  round's ``react step`` (the round's tools run inside it until the next
  round). ``ReActAgent._summarizing`` runs only when the loop used up
  ``max_iters``: it marks the invocation and opens the final round.
- While an invocation is in flight, our ReAct hooks sit on the agent (`hooks`).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from ... import attributes as A
from ..._context import attach as _attach
from ..._context import detach as _detach
from ..._handler import TelemetryHandler
from ..._invocations import (
    AgentInvocation,
    current_frame,
    reentered,
)
from ..._patching import Patcher
from ..._registry import AgentRegistry
from ..._safety import report
from . import messages as _messages
from ._shared import STREAMS, Types, end_abandoned, provider_name
from .hooks import HOOK_NAME, IN_REASONING, make_hooks, register_hooks, remove_hooks

__all__ = ["HOOK_NAME", "REGISTRY", "install"]

REGISTRY: AgentRegistry | None = None
"""The per-agent hook registry of the active instrumentation (for tests)."""


def install(patcher: Patcher, handler: TelemetryHandler, types: Types,
            ensure_model_traced: Callable[[Any], None]) -> Callable[[], None]:
    """Register the agent patches; returns what removes our hooks from live agents."""
    global REGISTRY
    hooks = make_hooks(handler)
    registry = AgentRegistry(lambda agent: register_hooks(agent, hooks),
                             lambda agent, _installed: remove_hooks(agent, hooks))
    REGISTRY = registry

    def agent_base_module(module: ModuleType) -> None:
        patcher.wrap(module, "AgentBase.__call__",
                     _agent_wrapper(handler, types, registry, ensure_model_traced))

    def react_agent_module(module: ModuleType) -> None:
        patcher.wrap(module, "ReActAgent.reply",
                     _agent_wrapper(handler, types, registry, ensure_model_traced))
        patcher.wrap(module, "ReActAgent._reasoning", _reasoning_wrapper(handler))
        patcher.wrap(module, "ReActAgent._summarizing", _summarizing_wrapper(handler))

    patcher.on_import("agentscope.agent._agent_base", agent_base_module)
    patcher.on_import("agentscope.agent._react_agent", react_agent_module)
    return registry.clear


def _agent_wrapper(handler: TelemetryHandler, types: Types, registry: AgentRegistry,
                   ensure_model_traced: Callable[[Any], None]):
    # A plain function returning a coroutine: when we are not tracing, the
    # caller awaits AgentScope's own coroutine and we add no frame of ours.
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        if reentered(instance):  # `reply` reached from this same invocation's `__call__`
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
            provider=provider_name(model) if model is not None else None,
            request_model=getattr(model, "model_name", None),
            max_iterations=getattr(agent, "max_iters", None),
            input_value=_messages.agent_input(msg) if handler.capture_content else None,
        )
    except Exception:  # noqa: BLE001
        report("agentscope agent start")
        return None


async def _traced_invocation(handler: TelemetryHandler, types: Types, registry: AgentRegistry,
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
    # Whatever a hook leaves in `IN_REASONING` goes when this invocation ends.
    reasoning_token = IN_REASONING.set(None)
    streams: list[Any] = []
    streams_token = STREAMS.set(streams)
    token = _attach(frame.context)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _detach(token)
        IN_REASONING.reset(reasoning_token)
        STREAMS.reset(streams_token)
        if hooked:
            registry.release(agent)
        end_abandoned(streams, exc, False)
        handler.finish_agent(frame, error=exc)
        raise
    _detach(token)
    IN_REASONING.reset(reasoning_token)
    STREAMS.reset(streams_token)
    if hooked:
        registry.release(agent)
    try:
        err = None
        metadata = getattr(result, "metadata", None)
        interrupted = isinstance(metadata, dict) and bool(metadata.get("_is_interrupted"))
        end_abandoned(streams, None, interrupted)
        if interrupted:
            # `__call__` caught a cancellation and answered via handle_interrupt.
            frame.finish_reason = "interrupted"
            err = "cancelled"
            handler.finish_step(frame, finish_reason=A.FINISH_CANCELLED)
        elif frame.finish_reason is None:
            frame.finish_reason = "completed"
        handler.finish_agent(
            frame, error_type=err,
            output_value=_messages.reply(result) if handler.capture_content else None,
            answer=handler.NO_ANSWER if interrupted else result)
    except Exception:  # noqa: BLE001
        report("agentscope agent end")
    return result


def _reasoning_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        frame = current_frame()
        if frame is None or frame.owner is not instance or IN_REASONING.get() is frame:
            return wrapped(*args, **kwargs)
        return _traced_reasoning(handler, frame, wrapped, args, kwargs)

    return wrapper


async def _traced_reasoning(handler: TelemetryHandler, frame: AgentInvocation, wrapped: Any,
                            args: tuple, kwargs: dict) -> Any:
    # The round is derived from this call, not from the hooks, which
    # AgentScope skips for overlapping calls on one instance.
    handler.start_step(frame)
    token = IN_REASONING.set(frame)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        IN_REASONING.reset(token)


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


