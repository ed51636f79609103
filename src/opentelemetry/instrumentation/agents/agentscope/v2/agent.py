"""AgentScope 2.x agents, mapped onto the handler.

- ``Agent.reply`` (coroutine) and ``Agent.reply_stream`` (async generator):
  one ``invoke_agent`` span each.
- ``Agent._reasoning``: called once per reasoning/acting round; it opens the
  round's ``react step`` (the tools the round's model call asks for run
  inside that step until the next round starts).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from opentelemetry.context import Context

from opentelemetry import context as otel_context

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
from ..._safety import report
from ..._streams import trace_async_stream
from . import hitl, native
from . import messages as _messages
from ._shared import STREAMS_KEY, Types, end_abandoned, provider_name

# Reply outcomes as AgentScope names them -> (our finish reason, error.type).
_REPLY_OUTCOMES = {
    "completed": ("completed", None),
    "exceed_max_iters": (A.FINISH_MAX_ITERATIONS, None),
    "interrupted": ("interrupted", "cancelled"),
    "error": ("error", "agent_error"),
}


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    types = Types()

    def agent_module(module: ModuleType) -> None:
        patcher.wrap(module, "Agent.reply", _reply_wrapper(handler))
        patcher.wrap(module, "Agent.reply_stream", _reply_stream_wrapper(handler, types))
        patcher.wrap(module, "Agent._reasoning", _reasoning_wrapper(handler))

    patcher.on_import("agentscope.agent._agent", agent_module)


def _start_agent(handler: TelemetryHandler, agent: Any, args: tuple, kwargs: dict
                 ) -> AgentInvocation | None:
    if not handler.enabled:
        return None
    try:
        if reentered(agent):
            return None
        model = getattr(agent, "model", None)
        state = getattr(agent, "state", None)
        react = getattr(agent, "react_config", None)
        inputs = args[0] if args else kwargs.get("inputs")
        frame = handler.start_agent(
            agent, getattr(agent, "name", None),
            conversation_id=getattr(state, "session_id", None),
            provider=provider_name(model) if model is not None else None,
            request_model=getattr(model, "model", None),
            max_iterations=getattr(react, "max_iters", None),
            input_value=_messages.agent_input(inputs) if handler.capture_content else None,
        )
        if frame is not None and getattr(agent, "_reply_middlewares", None):
            # The user may have switched AgentScope's own tracing on for this agent.
            native.agent_started(handler, frame, agent, args, kwargs)
        if frame is not None and type(inputs).__name__ in hitl.RESUMING:
            # A confirmation, external results or an interrupt for a paused reply.
            hitl.resumed(handler, frame, inputs)
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
    # `otel_context.set_value`, spelt out: one Python call less per reply.
    token = _attach(Context({**frame.context, STREAMS_KEY: streams}))
    try:
        result = await reply
    except BaseException as exc:
        _detach(token)
        end_abandoned(streams, exc)
        if native.on(frame):
            native.agent_ending(handler, frame, None)
        handler.finish_agent(frame, error=exc)
        raise
    _detach(token)
    end_abandoned(streams, None)
    try:
        if native.on(frame):
            native.agent_ending(handler, frame, getattr(result, "id", None), result)
        err = _record_outcome(frame, getattr(result, "finished_reason", None))
        handler.finish_agent(
            frame, error_type=err, reply_id=getattr(result, "id", None),
            output_value=_messages.reply(result) if handler.capture_content else None,
            # A paused or interrupted reply is not an answer, empty or not.
            answer=result if frame.finish_reason == "completed" else handler.NO_ANSWER)
    except Exception:  # noqa: BLE001
        report("agentscope reply end")
    return result


class _ReplyStream:
    __slots__ = ("context", "final", "frame", "handler", "outcome_type", "reply_end",
                 "reply_id", "streams", "text")

    def __init__(self, handler: TelemetryHandler, frame: AgentInvocation, reply_end: type):
        self.handler = handler
        self.frame = frame
        self.streams: list[Any] = []
        self.context = otel_context.set_value(STREAMS_KEY, self.streams, frame.context)
        self.reply_end = reply_end
        self.outcome_type: str | None = None
        self.reply_id: str | None = None
        # [the final message], for AgentScope's own tracing (see `native`) or
        # when the caller asked for it; it is then the reply's answer.
        self.final: list[Any] | None = None
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
        end_abandoned(self.streams, error)
        if error is None and not closed_early and self.frame.finish_reason is None:
            # Ended without a ReplyEndEvent: the reply is waiting for a user's
            # confirmation or an external tool.
            hitl.paused(self.handler, self.frame)
        if native.on(self.frame):
            native.agent_ending(self.handler, self.frame, self.reply_id,
                                self.final[0] if self.final else None)
        output = None
        if self.text is not None and error is None and not closed_early:
            output = _messages.streamed_reply("".join(self.text), self.frame.finish_reason)
        # The final message when it was asked for; else the streamed text,
        # gathered only under content capture.
        if self.frame.finish_reason != "completed":
            answer = self.handler.NO_ANSWER
        elif self.final and self.final[0] is not None:
            answer = self.final[0]
        else:
            answer = "".join(self.text) if self.text is not None else self.handler.NO_ANSWER
        self.handler.finish_agent(self.frame, error=error, error_type=self.outcome_type,
                                  stream_closed_early=closed_early, output_value=output,
                                  reply_id=self.reply_id, answer=answer)


class _FinalReplyStream(_ReplyStream):
    """A stream asked for its final message (`yield_final_msg=True`, as
    AgentScope's pipelines ask for their members): that message is the
    answer, whether content is captured or not."""

    __slots__ = ("msg",)

    def __init__(self, handler: TelemetryHandler, frame: AgentInvocation, types: Types):
        super().__init__(handler, frame, types.reply_end)
        self.msg = types.msg
        self.final = [None]

    def on_item(self, item: Any) -> None:
        if type(item) is self.msg:
            self.final[0] = item
        else:
            _ReplyStream.on_item(self, item)


def _reply_stream_wrapper(handler: TelemetryHandler, types: Types):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        final = None
        if getattr(instance, "_reply_middlewares", None) and native.TRACING.wanted(
                instance, "_reply_middlewares"):
            # AgentScope's own tracing is on: it records the final message,
            # which the stream hides unless asked for it.
            source, final = native.stream_with_final_message(wrapped, args, kwargs)
        else:
            source = wrapped(*args, **kwargs)

        def begin() -> _ReplyStream | None:
            frame = _start_agent(handler, instance, args, kwargs)
            if frame is None:
                return None
            if final is None and (kwargs.get("yield_final_msg") or (len(args) > 2 and args[2])):
                return _FinalReplyStream(handler, frame, types.load())
            stream = _ReplyStream(handler, frame, types.load().reply_end)
            stream.final = final
            return stream

        return trace_async_stream(source, begin)

    return wrapper


def _reasoning_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        frame = current_frame()
        if frame is not None and frame.owner is instance:
            handler.start_step(frame)
        return wrapped(*args, **kwargs)

    return wrapper


