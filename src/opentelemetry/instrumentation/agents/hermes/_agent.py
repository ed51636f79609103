"""Agent invocations and loop rounds of Hermes Agent.

- ``AIAgent.run_conversation``: one ``invoke_agent`` span per call. ``chat``
  is a thin caller of it, so it is not wrapped (that would nest two spans).
- ``CheckpointManager.new_turn``: Hermes calls it first thing in every
  iteration of the conversation loop (its documented contract), and nothing
  else runs exactly once per iteration; it marks a round boundary.
- ``delegate_tool._build_child_agent``: sub-agents are built on the thread of
  the ``delegate_task`` tool call but run on pool threads that start with an
  empty context; the builder's context is handed over to the child's first
  ``run_conversation``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from .. import attributes as A
from .._context import attach as _attach
from .._context import detach as _detach
from .._handler import TelemetryHandler
from .._patching import Patcher, Wrapper
from .._safety import report
from . import _messages
from ._state import Run, agent_name, current_run, loop_run, provider_name

_get_current_span = trace.get_current_span


class ChildHandoff:
    """Parent contexts of sub-agents built but not yet run, keyed weakly by agent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: weakref.WeakKeyDictionary[Any, otel_context.Context] = \
            weakref.WeakKeyDictionary()

    def put(self, child: Any, ctx: otel_context.Context) -> None:
        with self._lock:
            self._pending[child] = ctx

    def take(self, agent: Any) -> otel_context.Context | None:
        with self._lock:
            return self._pending.pop(agent, None)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


def build_child_wrapper(handler: TelemetryHandler, handoff: ChildHandoff) -> Wrapper:
    def wrapper(wrapped, instance, args, kwargs):
        child = wrapped(*args, **kwargs)
        try:
            if handler.enabled and _get_current_span().get_span_context().is_valid:
                handoff.put(child, otel_context.get_current())
        except Exception:  # noqa: BLE001
            report("hermes sub-agent hand-off")
        return child

    return wrapper


def _start_run(handler: TelemetryHandler, agent: Any, args: tuple, kwargs: dict,
               handoff: ChildHandoff) -> tuple[Run | None, object | None]:
    """Open the agent span; returns (run, token of a handed-over parent context)."""
    parent_token = None
    try:
        if current_run(agent) is not None:
            # The same agent's loop re-entering run_conversation: one span.
            return None, None
        if not _get_current_span().get_span_context().is_valid:
            parent = handoff.take(agent)
            if parent is not None:
                parent_token = _attach(parent)
        message = args[0] if args else kwargs.get("user_message")
        subagent_id = getattr(agent, "_subagent_id", None)
        frame = handler.start_agent(
            agent, agent_name(agent),
            agent_id=subagent_id if isinstance(subagent_id, str) else None,
            conversation_id=getattr(agent, "session_id", None),
            provider=provider_name(agent),
            request_model=getattr(agent, "model", None),
            max_iterations=getattr(agent, "max_iterations", None),
            input_value=_messages.user_text(message) if handler.capture_content else None,
        )
        if frame is None:
            if parent_token is not None:
                _detach(parent_token)
            return None, None
        return Run(agent, frame), parent_token
    except Exception:  # noqa: BLE001
        report("hermes run_conversation start")
        if parent_token is not None:
            _detach(parent_token)
        return None, None


def _finish_run(handler: TelemetryHandler, run: Run, result: Any) -> None:
    """End the agent span from the dict `run_conversation` returned.

    Hermes does not raise when a turn fails (model errors, interrupts); it
    returns a dict saying so, often without most of its usual keys.
    """
    frame = run.frame
    error: BaseException | None = None
    error_type: str | None = None
    output = None
    answer: Any = result
    if isinstance(result, dict):
        exit_reason = str(result.get("turn_exit_reason") or "")
        # Hermes answers a notice of its own when the model's answers stayed empty.
        answer = None if exit_reason.startswith("empty_response") \
            else result.get("final_response")
        if result.get("failed"):
            frame.finish_reason = A.FINISH_ERROR
            error = run.last_error
            if error is None:
                error_type = "agent_error"
        elif result.get("interrupted"):
            frame.finish_reason = "interrupted"
            error_type = "cancelled"
        elif frame.max_iterations_reached or exit_reason.startswith("max_iterations_reached") \
                or exit_reason == "budget_exhausted":
            frame.max_iterations_reached = True
            frame.finish_reason = A.FINISH_MAX_ITERATIONS
        elif result.get("completed"):
            frame.finish_reason = "completed"
        elif exit_reason:
            frame.finish_reason = exit_reason.split("(", 1)[0]
        if handler.capture_content:
            output = _messages.assistant_text(result.get("final_response"))
    handler.finish_agent(frame, error=error, error_type=error_type, output_value=output,
                         answer=answer)


def run_conversation_wrapper(handler: TelemetryHandler, handoff: ChildHandoff) -> Wrapper:
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        run, parent_token = _start_run(handler, instance, args, kwargs, handoff)
        if run is None:
            return wrapped(*args, **kwargs)
        token = _attach(run.context)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            _detach(token)
            handler.finish_agent(run.frame, error=exc)
            if parent_token is not None:
                _detach(parent_token)
            raise
        _detach(token)
        try:
            _finish_run(handler, run, result)
        except Exception:  # noqa: BLE001
            report("hermes run_conversation end")
        finally:
            if parent_token is not None:
                _detach(parent_token)
        return result

    return wrapper


def new_turn_wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple,
                     kwargs: dict) -> Any:
    """`CheckpointManager.new_turn`: the conversation loop starts an iteration."""
    try:
        run = loop_run()
        if run is not None and getattr(run.agent, "_checkpoint_mgr", None) is instance:
            run.round_pending = True
            run.rounds_seen = True
    except Exception:  # noqa: BLE001
        report("hermes round start")
    return wrapped(*args, **kwargs)


def begin_round(handler: TelemetryHandler, run: Run) -> None:
    """Before a model call of the loop: open its round if it starts one.

    A retry of a failed call stays in the round of the call it repeats. If this
    Hermes version has no per-iteration hook, every model call that does not
    follow a failure starts a round.
    """
    frame = run.frame
    if run.round_pending or frame.step is None or \
            (not run.rounds_seen and run.last_error is None):
        run.round_pending = False
        handler.start_step(frame)


def install(patcher: Patcher, handler: TelemetryHandler) -> ChildHandoff:
    """Register the conversation, round and child-agent patches; returns the
    handoff to clear when uninstrumenting."""
    handoff = ChildHandoff()

    def run_agent(module: ModuleType) -> None:
        patcher.wrap(module, "AIAgent.run_conversation",
                     run_conversation_wrapper(handler, handoff))

    patcher.on_import("run_agent", run_agent)
    patcher.on_import("tools.checkpoint_manager", lambda module: patcher.wrap(
        module, "CheckpointManager.new_turn", new_turn_wrapper))
    patcher.on_import("tools.delegate_tool", lambda module: patcher.wrap(
        module, "_build_child_agent", build_child_wrapper(handler, handoff)))
    return handoff
