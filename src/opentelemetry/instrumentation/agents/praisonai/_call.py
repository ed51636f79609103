"""One model call in flight (`Call`), shared by every model path: the
OpenAI-native client, LiteLLM, the Responses API and the streams they return.

A model call made directly inside an agent invocation opens that
invocation's next `react step` first (`next_round`): each round is one model
call plus the tools it asks for.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context

from .. import _genai_messages as M
from .. import _request, _usage
from .. import attributes as A
from .._handler import TelemetryHandler
from .._invocations import ChatInvocation
from .._safety import error_type as _error_type
from . import _messages
from ._state import Turn, direct_turn

# Around a call that swallows failures: where the SDK call inside notes its error.
WATCH_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.praisonai.watch")



# (inputs, system instructions) when content is not captured.
NO_MESSAGES: tuple[Any, Any] = (None, None)


class Watch:
    """What the SDK call inside a stream processor saw: its error, chunks and usage."""

    __slots__ = ("error", "inv", "usage")

    def __init__(self, inv: ChatInvocation) -> None:
        self.error: BaseException | None = None
        self.inv = inv
        self.usage: Any = None


class Call:
    """One model call in flight: its chat span and the turn it is a round of."""

    __slots__ = ("context", "handler", "inv", "turn", "watch")

    def __init__(self, handler: TelemetryHandler, inv: ChatInvocation, turn: Turn | None,
                 watch: bool) -> None:
        self.handler = handler
        self.inv = inv
        self.turn = turn
        self.watch = Watch(inv) if watch else None
        self.context = inv.context if self.watch is None else \
            otel_context.set_value(WATCH_KEY, self.watch, inv.context)

    def failed(self, error: BaseException | None = None, error_type: str | None = None) -> None:
        self.handler.finish_chat(self.inv, error=error, error_type=error_type)
        if self.turn is not None:
            self.turn.model_error = error_type or (_error_type(error) if error else None)
            self.turn.last_step_reason = None

    def succeeded(self, step: str, **values: Any) -> None:
        self.handler.finish_chat(self.inv, step_finish_reason=step, **values)
        if self.turn is not None:
            self.turn.last_step_reason = step
            self.turn.model_error = None

    def completed(self, response: Any) -> None:
        """A whole response: OpenAI's `ChatCompletion` or PraisonAI's look-alike."""
        choices = getattr(response, "choices", None) or ()
        reasons = [str(c.finish_reason) for c in choices if getattr(c, "finish_reason", None)]
        message = getattr(choices[0], "message", None) if choices else None
        step = A.FINISH_TOOL_CALLS if getattr(message, "tool_calls", None) else A.FINISH_STOP
        usage = getattr(response, "usage", None)
        watched = self.watch.usage if self.watch is not None else None
        # The stream processors build a usage of their own, its details zeroed;
        # the usage chunk the SDK stream carried has the provider's.
        details = _usage.details(watched if watched is not None else usage)
        self.succeeded(
            step, response_model=getattr(response, "model", None),
            response_id=getattr(response, "id", None), finish_reasons=reasons,
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
            usage_details=details,
            output_messages=_messages.response(response) if self.handler.capture_content
            else None)


def next_round(handler: TelemetryHandler, tools: Any) -> Turn | None:
    """The turn a model call made right inside the agent span is a round of,
    its next `react step` opened; None for a call made anywhere else."""
    turn = direct_turn()
    if turn is not None:
        handler.start_step(turn.frame)
        turn.loop_calls += 1
        turn.offered = tools
    return turn


def start_call(handler: TelemetryHandler, turn: Turn | None, watch: bool, *,
               model: str | None, provider: str | None, stream: bool,
               messages: tuple[Any, Any], request: dict[str, Any] | None,
               server: tuple[str | None, int | None], tools: Any,
               api: str | None = None) -> Call | None:
    """The chat span of one model call; `messages` are its (inputs, system
    instructions), read only under content capture; `api` the SDK API it
    goes through, where known."""
    inputs, system = messages
    inv = handler.start_chat(
        request_model=model, provider=provider, stream=stream, input_messages=inputs,
        system_instructions=system, request=_request.from_kwargs(request),
        server_address=server[0], server_port=server[1],
        tool_definitions=M.tool_definitions(tools) if handler.capture_content else None,
        api=api)
    return Call(handler, inv, turn, watch) if inv is not None else None
