"""Per-invocation state of the PraisonAI wrappers.

One `Turn` per traced agent invocation. It rides in the OpenTelemetry context
next to the core's agent frame, never on the Agent object: PraisonAI lets
many threads and tasks run `chat`/`achat` on one Agent at once, and the
global `OpenAIClient` is shared by every agent, so neither can hold it.
"""

from __future__ import annotations

import weakref
from typing import Any

from opentelemetry.context import Context

from opentelemetry import context as otel_context
from opentelemetry import trace

from .._context import get_current as _get_current
from .._invocations import AgentInvocation, ChatInvocation, held

TURN_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.praisonai.turn")

_get_current_span = trace.get_current_span


class Turn:
    """What one invocation's wrappers share: its frame and how its loop went."""

    __slots__ = ("__weakref__", "context", "frame", "last_step_reason", "loop_calls",
                 "max_iterations", "model_error", "offered", "open_chat")

    def __init__(self, frame: AgentInvocation) -> None:
        self.frame = frame
        # Weakly held, as the core holds its frames: no cycle through the context.
        self.context: Context = otel_context.set_value(TURN_KEY, weakref.ref(self),
                                                       frame.context)
        # Set by the tool-loop wrapper: the loop's limit and its model calls so far.
        self.max_iterations: int | None = None
        self.loop_calls = 0
        self.last_step_reason: str | None = None
        # error.type of the last model call if it failed (PraisonAI then
        # answers None, or a stream that falls silent), None once one succeeds.
        self.model_error: str | None = None
        # A streamed model call still being read, ended with the agent at the latest.
        self.open_chat: ChatInvocation | None = None
        # The tools the last model call offered (the request's own list): where
        # a tool span finds the description the model read.
        self.offered: Any = None

    def hit_limit(self) -> bool:
        """Whether the tool loop stopped because it ran out of iterations."""
        limit = self.max_iterations
        return (limit is not None and self.loop_calls >= limit
                and self.last_step_reason == "tool_calls")


def current_turn(ctx: Context | None = None) -> Turn | None:
    """The innermost open turn in `ctx`, whatever span is current."""
    turn: Any = held(TURN_KEY, ctx if ctx is not None else _get_current())
    return None if turn is None or turn.frame.ended else turn


def direct_turn(ctx: Context | None = None) -> Turn | None:
    """The turn whose agent span is the current span, if any.

    A model call made here is one of the invocation's own rounds; made from
    inside a tool or model span it belongs to that span instead.
    """
    if ctx is None:
        ctx = _get_current()
    turn: Any = held(TURN_KEY, ctx)
    if turn is None or turn.frame.ended or _get_current_span(ctx) is not turn.frame.span:
        return None
    return turn
