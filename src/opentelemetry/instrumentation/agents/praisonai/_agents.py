"""Agent invocations: `Agent.chat`, `Agent.achat` and the `start(stream=True)` generator.

`run`/`start` delegate to `chat` and `arun`/`astart` to `achat`, so those two
carry the agent span; `start(stream=True)` and `iter_stream` go through the
generator `_start_stream` instead. PraisonAI re-enters `chat` from inside a
turn (the stream's fallback, retries): one span per invocation is enough.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .. import attributes as A
from .._context import attach as _attach
from .._context import detach as _detach
from .._context import get_current as _get_current
from .._handler import TelemetryHandler
from .._invocations import reentered
from .._patching import Patcher
from .._safety import report
from .._streams import trace_sync_stream
from . import _guardrails, _messages, _tty
from ._persistence import session_of
from ._state import Turn
from ._wrapping import acall_in, call_in


def _max_steps(agent: Any) -> int | None:
    # The limit PraisonAI hands its tool loop (`ExecutionConfig.max_steps`,
    # else `max_iter`); whether it was hit is judged against the value the
    # loop itself receives (see `_models.loop_wrapper`).
    execution = getattr(agent, "execution", None)
    resolver = getattr(execution, "resolved_max_steps", None)
    if callable(resolver):
        return int(resolver())
    limit = getattr(agent, "max_iter", None)
    return int(limit) if isinstance(limit, int) else None


def begin(handler: TelemetryHandler, agent: Any, prompt: Any) -> Turn | None:
    """Open the agent span for one invocation, or None (re-entry, suppressed)."""
    if not handler.enabled:
        return None
    try:
        if reentered(agent):
            return None
        model = getattr(agent, "llm", None)
        # Without a custom LLM PraisonAI talks to OpenAI through its own client.
        native = getattr(agent, "_using_custom_llm", True) is False
        frame = handler.start_agent(
            agent, getattr(agent, "name", None),
            agent_id=getattr(agent, "agent_id", None),
            conversation_id=session_of(agent) or getattr(agent, "_session_id", None),
            provider="openai" if native else None,
            request_model=model if isinstance(model, str) else None,
            max_iterations=_max_steps(agent),
            input_value=_messages.user_text(prompt) if handler.capture_content else None,
        )
        return Turn(frame) if frame is not None else None
    except Exception:  # noqa: BLE001
        report("praisonai agent start")
        return None


def _close_open_chat(handler: TelemetryHandler, turn: Turn) -> None:
    chat = turn.open_chat
    if chat is not None and not chat.ended:
        handler.finish_chat(chat, error_type="incomplete_stream")


def end(handler: TelemetryHandler, turn: Turn, result: Any = None,
        error: BaseException | None = None, streamed: bool = False) -> None:
    try:
        _close_open_chat(handler, turn)
        frame = turn.frame
        err_type = None
        if error is None:
            # PraisonAI reports most failures (the model endpoint down, a
            # guardrail) by answering None instead of raising; a stream
            # whose model calls failed just ends, after a silent fallback.
            if result is None or (streamed and turn.model_error is not None):
                frame.finish_reason = A.FINISH_ERROR
                err_type = turn.model_error or "agent_error"
            elif frame.extra and frame.extra.get(_guardrails.REJECTED):
                # The last check rejected: PraisonAI answered its fixed
                # refusal, not the model's answer.
                frame.finish_reason = "guardrail_blocked"
                err_type = "guardrail_blocked"
            elif turn.hit_limit():
                frame.finish_reason = A.FINISH_MAX_ITERATIONS
                frame.max_iterations_reached = True
            else:
                frame.finish_reason = "completed"
        handler.finish_agent(
            frame, error=error, error_type=err_type,
            output_value=_messages.assistant_text(result) if handler.capture_content
            and isinstance(result, str) else None,
            # A stream's text is gathered only under content capture.
            answer=result if not streamed or handler.capture_content else handler.NO_ANSWER)
    except Exception:  # noqa: BLE001
        report("praisonai agent end")


def _prompt(args: tuple, kwargs: dict) -> Any:
    return args[0] if args else kwargs.get("prompt")


def chat_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        handover = None
        if not _get_current():
            # Possibly the bare thread `start()` runs `chat` in on a TTY.
            ctx = _tty.adopt(instance)
            if ctx is not None:
                handover = _attach(ctx)
        try:
            turn = begin(handler, instance, _prompt(args, kwargs))
            if turn is None:
                return wrapped(*args, **kwargs)
            result = call_in(turn.context, lambda exc: end(handler, turn, error=exc), wrapped,
                             args, kwargs)
            end(handler, turn, result)
            return result
        finally:
            if handover is not None:
                _detach(handover)

    return wrapper


def achat_wrapper(handler: TelemetryHandler):
    async def wrapper(wrapped, instance, args, kwargs):
        turn = begin(handler, instance, _prompt(args, kwargs))
        if turn is None:
            return await wrapped(*args, **kwargs)
        result = await acall_in(turn.context, lambda exc: end(handler, turn, error=exc),
                                wrapped, args, kwargs)
        end(handler, turn, result)
        return result

    return wrapper


class _AgentStream:
    """Observer of a `start(stream=True)` generator: the agent span spans it all."""

    __slots__ = ("capture", "context", "handler", "pieces", "turn")

    def __init__(self, handler: TelemetryHandler, turn: Turn) -> None:
        self.handler = handler
        self.capture = handler.capture_content
        self.turn = turn
        self.context = turn.context
        self.pieces: list[str] = []

    def on_item(self, item: Any) -> None:
        # The first event's time is the stream's time to first event.
        self.handler.agent_event(self.turn.frame)
        if self.capture and isinstance(item, str):
            self.pieces.append(item)

    def on_end(self, error: BaseException | None, closed_early: bool) -> None:
        turn = self.turn
        if error is not None or not closed_early:
            end(self.handler, turn, "".join(self.pieces), error, streamed=True)
            return
        _close_open_chat(self.handler, turn)
        self.handler.finish_agent(turn.frame, stream_closed_early=True)


def start_stream_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        source = wrapped(*args, **kwargs)
        if not handler.enabled:
            return source
        prompt = _prompt(args, kwargs)

        def begin_stream() -> _AgentStream | None:
            # Runs at the consumer's first next(): the span starts where the
            # stream is read, and nothing is traced for a stream never read.
            turn = begin(handler, instance, prompt)
            return _AgentStream(handler, turn) if turn is not None else None

        return trace_sync_stream(source, begin_stream)

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def chat_mixin(module: ModuleType) -> None:
        patcher.wrap(module, "ChatMixin.chat", chat_wrapper(handler))
        patcher.wrap(module, "ChatMixin.achat", achat_wrapper(handler))
        patcher.wrap(module, "ChatMixin._start_stream", start_stream_wrapper(handler))

    patcher.on_import("praisonaiagents.agent.chat_mixin", chat_mixin)
