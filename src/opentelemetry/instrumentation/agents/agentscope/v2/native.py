"""AgentScope 2.x's own tracer, when the user switched it on: its names on our spans.

AgentScope records spans of its own when an agent has its `TracingMiddleware`
and an SDK tracer provider is installed. While we are active that middleware
stays a pass-through (`tracing`), so no agent, model or tool call gets two
spans; for such an agent, each of our spans also carries what the middleware
would have put on its own span, under AgentScope's names (``agentscope.*``
and its shape of the ``gen_ai`` message attributes), so AgentScope Studio and
dashboards keyed on them keep working. Ours win where both have a value (see
the handler's `carry_runtime_attributes`).

The values come from AgentScope's own attribute extractors, called with what
our wrappers already hold; what its middleware computes inline (the reply id,
the tools a paused reply waits on, the external-execution mark) is mapped from
the same facts our spans record. Nothing here runs for an agent without that
middleware, and nothing at all until one is seen.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from ... import attributes as A
from ..._handler import TelemetryHandler
from ..._invocations import AgentInvocation, current_frame
from ..._safety import report

# A note on the agent frame (the handler keeps "_" keys off the span).
_ON = "_agentscope_tracing"

# AgentScope's names for what its middleware computes inline (its `SpanAttributes`).
REPLY_ID = "agentscope.agent.reply_id"
HITL_PENDING_TOOLS = "agentscope.agent.hitl_pending_tools"
EXTERNAL_PENDING_TOOLS = "agentscope.agent.external_execution_pending_tools"
IS_EXTERNAL_EXECUTION = "agentscope.agent.is_external_execution"
# Our pending reasons (see `hitl`) -> AgentScope's attribute for the waiting tools.
PENDING_NAMES = {"user_confirmation": HITL_PENDING_TOOLS,
                 "external_execution": EXTERNAL_PENDING_TOOLS}


class _AgentScopeTracing:
    """AgentScope's middleware class, tracing check and extractors, found on first use."""

    seen = False  # an agent with AgentScope's tracing on has been seen
    _loaded = False
    _failed = False

    def load(self) -> bool:
        if self._loaded:
            return True
        if self._failed:
            return False
        try:
            from agentscope.middleware._tracing import _extractor, _trace, _utils

            self.middleware = _trace.TracingMiddleware
            check = _trace._check_tracing_enabled
            # Ours answers False while we are active; the question here is AgentScope's.
            self.enabled = getattr(check, "__wrapped__", check)
            self.extract = _extractor
            self.serialize = _utils._serialize_to_str
            self._loaded = True
        except Exception:  # noqa: BLE001
            self._failed = True
            report("loading AgentScope's tracing")
        return self._loaded

    def wanted(self, agent: Any, hooks: str) -> bool:
        """Whether `agent` has AgentScope's middleware for `hooks` (an attribute
        such as ``_reply_middlewares``) and AgentScope's tracing is configured."""
        middlewares = getattr(agent, hooks, None)
        if not middlewares or not self.load():
            return False
        middleware = self.middleware
        return any(isinstance(m, middleware) for m in middlewares) and bool(self.enabled())


TRACING = _AgentScopeTracing()


def agent_started(handler: TelemetryHandler, frame: AgentInvocation, agent: Any,
                  args: tuple, kwargs: dict) -> bool:
    """At a reply's start: whether AgentScope's tracing is on for it (then noted
    on `frame`, and its request attributes carried)."""
    if not TRACING.wanted(agent, "_reply_middlewares"):
        return False
    TRACING.seen = True
    extra = frame.extra if frame.extra is not None else {}
    extra[_ON] = True
    frame.extra = extra
    try:
        ex = TRACING.extract
        inputs = {"inputs": args[0] if args else kwargs.get("inputs"),
                  "structured_schema": args[1] if len(args) > 1
                  else kwargs.get("structured_schema")}
        attributes = ex._get_agent_request_attributes(agent, inputs)
        attributes.update(ex._get_common_attributes(getattr(agent.state, "session_id", "")))
        handler.carry_runtime_attributes(frame, attributes)
    except Exception:  # noqa: BLE001
        report("agentscope tracing: reply start")
    return True


def agent_ending(handler: TelemetryHandler, frame: AgentInvocation, reply_id: Any,
                 final_msg: Any = None) -> None:
    """Before a reply's span ends: the reply id and, when we have it, the answer."""
    try:
        reply_id = reply_id or getattr(frame.owner.state, "reply_id", None)
        attributes = {REPLY_ID: reply_id} if reply_id else {}
        if final_msg is not None:
            attributes.update(TRACING.extract._get_agent_response_attributes(final_msg))
        handler.carry_runtime_attributes(frame, attributes)
    except Exception:  # noqa: BLE001
        report("agentscope tracing: reply end")


def pending(handler: TelemetryHandler, frame: AgentInvocation,
            names_by_reason: dict[str, list[Any]]) -> None:
    """The tools a paused reply waits on, by name, as AgentScope lists them."""
    handler.carry_runtime_attributes(frame, {
        PENDING_NAMES[reason]: json.dumps(names, ensure_ascii=False)
        for reason, names in names_by_reason.items() if reason in PENDING_NAMES})


def external_result(frame: AgentInvocation, result: Any) -> dict[str, Any] | None:
    """What AgentScope records on the tool span of a result executed outside."""
    if not on(frame):
        return None
    attributes: dict[str, Any] = {IS_EXTERNAL_EXECUTION: True}
    try:
        output = getattr(result, "output", None)
        if output is not None:
            attributes[A.TOOL_CALL_RESULT] = TRACING.serialize(output)
        attributes.update(TRACING.extract._get_common_attributes(
            getattr(frame.owner.state, "session_id", "")))
    except Exception:  # noqa: BLE001
        report("agentscope tracing: external result")
    return attributes


def stream_with_final_message(wrapped: Any, args: tuple, kwargs: dict
                              ) -> tuple[AsyncGenerator[Any, None], list[Any]]:
    """`reply_stream(...)` asked for its final message, which lands in the list
    returned beside it; the caller still gets it only if it asked."""
    if len(args) > 2:
        wanted = bool(args[2])
        source = wrapped(*args[:2], True, *args[3:], **kwargs)
    else:
        wanted = bool(kwargs.get("yield_final_msg", False))
        source = wrapped(*args, **{**kwargs, "yield_final_msg": True})
    final: list[Any] = [None]
    return _final_kept(source, wanted, final), final


async def _final_kept(source: AsyncGenerator[Any, None], wanted: bool, final: list[Any]
                      ) -> AsyncGenerator[Any, None]:
    from agentscope.message import Msg

    try:
        async for item in source:
            if isinstance(item, Msg):
                final[0] = item
                if not wanted:
                    continue
            yield item
    finally:
        await source.aclose()


def on(frame: AgentInvocation | None) -> bool:
    """Whether `frame` is a reply AgentScope's tracing is on for."""
    return frame is not None and frame.extra is not None and _ON in frame.extra


def chat_frame(hooks: str = "_model_call_middlewares") -> AgentInvocation | None:
    """The reply a model (or, with ``_acting_middlewares``, tool) call made now
    belongs to, when AgentScope's tracing is on for that call; else None."""
    if not TRACING.seen:
        return None
    frame = current_frame()
    if not on(frame):
        return None
    middlewares = getattr(frame.owner, hooks, None) or ()
    middleware = TRACING.middleware
    return frame if any(isinstance(m, middleware) for m in middlewares) else None


def chat_started(handler: TelemetryHandler, inv: Any, frame: AgentInvocation, model: Any,
                 args: tuple, kwargs: dict) -> None:
    try:
        names = ("messages", "tools", "tool_choice")
        call = {**dict(zip(names, args, strict=False)), **kwargs}
        ex = TRACING.extract
        attributes = ex._get_llm_request_attributes(
            model, {**(getattr(model, "generate_kwargs", None) or {}), **call})
        attributes.update(ex._get_common_attributes(
            getattr(frame.owner.state, "session_id", "")))
        handler.carry_runtime_attributes(inv, attributes)
    except Exception:  # noqa: BLE001
        report("agentscope tracing: model call start")


def chat_ending(handler: TelemetryHandler, inv: Any, response: Any) -> None:
    try:
        handler.carry_runtime_attributes(
            inv, TRACING.extract._get_llm_response_attributes(response))
    except Exception:  # noqa: BLE001
        report("agentscope tracing: model call end")


def tool_started(handler: TelemetryHandler, inv: Any, frame: AgentInvocation,
                 toolkit: Any, tool_call: Any) -> None:
    try:
        ex = TRACING.extract
        attributes = ex._get_tool_request_attributes(toolkit, tool_call)
        attributes.update(ex._get_common_attributes(
            getattr(frame.owner.state, "session_id", "")))
        handler.carry_runtime_attributes(inv, attributes)
    except Exception:  # noqa: BLE001
        report("agentscope tracing: tool call start")


def tool_ending(handler: TelemetryHandler, inv: Any, response: Any) -> None:
    try:
        handler.carry_runtime_attributes(
            inv, TRACING.extract._get_tool_response_attributes(response))
    except Exception:  # noqa: BLE001
        report("agentscope tracing: tool call end")
