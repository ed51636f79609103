"""Model calls: one `chat {model}` span per HTTP call PraisonAI makes to the model.

Patched where PraisonAI's OpenAI-native path reaches the model:

- `OpenAIClient.acreate_completion` / `create_completion`: one call of the
  tool loop each (and the Responses API branch, which never reaches the
  SDK's chat-completions method). With a live display they return a stream.
- `OpenAIClient.process_stream_response_async` / `process_stream_response`:
  the loop's streamed calls. They swallow failures and return None, so the
  SDK call inside them reports its exception to the span through the context.
- The SDK's `Completions.create` / `AsyncCompletions.create`, but only when
  called right inside a PraisonAI agent span: `start(stream=True)` calls the
  OpenAI client directly.
- `OpenAIClient.achat_completion_with_tools` / `chat_completion_with_tools`:
  not a model call; tells the turn the loop's iteration limit.

A model call made directly inside an agent invocation opens that
invocation's next `react step` first: each round is one model call plus the
tools it asks for.

The request's parameters are the keyword arguments PraisonAI passes on to the
SDK (its `temperature` argument included), the server is the client's base
URL, and the tools offered are kept on the turn, where its tool spans find
their descriptions. The stream processors assemble their own response and
drop the usage details; the SDK stream inside them is read through a proxy
that notes each chunk's arrival and the usage chunk as it passes.
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
from .._safety import report
from . import _chunks, _messages
from ._state import Turn, direct_turn
from ._wrapping import acall_in, call_in

_PROVIDER = "openai"
_DEFAULT_MODEL = "gpt-4o-mini"  # OpenAIClient's own default for `model`
# Where the OpenAI SDK sends requests when no base URL is configured.
_DEFAULT_BASE_URL = "https://api.openai.com/v1"

# Around a call that swallows failures: where the SDK call inside notes its error.
WATCH_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.praisonai.watch")

_get_current = otel_context.get_current
_get_value = otel_context.get_value


# (inputs, system instructions) when content is not captured.
NO_MESSAGES: tuple[Any, Any] = (None, None)


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


class _Watch:
    """What the SDK call inside a stream processor saw: its error, chunks and usage."""

    __slots__ = ("error", "inv", "usage")

    def __init__(self, inv: ChatInvocation) -> None:
        self.error: BaseException | None = None
        self.inv = inv
        self.usage: Any = None


class _Call:
    """One model call in flight: its chat span and the turn it is a round of."""

    __slots__ = ("context", "handler", "inv", "turn", "watch")

    def __init__(self, handler: TelemetryHandler, inv: ChatInvocation, turn: Turn | None,
                 watch: bool) -> None:
        self.handler = handler
        self.inv = inv
        self.turn = turn
        self.watch = _Watch(inv) if watch else None
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

    def outcome(self, result: Any) -> Any:
        """End the span for what the call returned; a stream ends when it is read."""
        try:
            if result is None:
                # Only the stream processors return None: they caught an error.
                error = self.watch.error if self.watch is not None else None
                self.failed(error, None if error is not None else "model_error")
            elif hasattr(result, "choices"):
                self.completed(result)
            elif hasattr(result, "__aiter__") or hasattr(result, "__iter__"):
                return _chunks.traced(result, self)
            else:
                self.handler.finish_chat(self.inv)
        except Exception:  # noqa: BLE001
            report("praisonai model call end")
            self.handler.finish_chat(self.inv)
        return result


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
               server: tuple[str | None, int | None], tools: Any) -> _Call | None:
    """The chat span of one model call; `messages` are its (inputs, system
    instructions), read only under content capture."""
    inputs, system = messages
    inv = handler.start_chat(
        request_model=model, provider=provider, stream=stream, input_messages=inputs,
        system_instructions=system, request=_request.from_kwargs(request),
        server_address=server[0], server_port=server[1],
        tool_definitions=M.tool_definitions(tools) if handler.capture_content else None)
    return _Call(handler, inv, turn, watch) if inv is not None else None


def _start(handler: TelemetryHandler, messages: Any, model: Any, stream: bool,
           watch: bool = False, *, request: dict[str, Any] | None = None,
           base_url: Any = None, tools: Any = None) -> _Call | None:
    if not handler.enabled:
        return None
    try:
        turn = next_round(handler, tools)
        return start_call(
            handler, turn, watch, model=model if isinstance(model, str) else None,
            provider=_PROVIDER, stream=stream,
            messages=_messages.request(messages) if handler.capture_content else NO_MESSAGES,
            request=request, server=_request.server(base_url or _DEFAULT_BASE_URL),
            tools=tools)
    except Exception:  # noqa: BLE001
        report("praisonai model call start")
        return None


def _traced_sync(call: _Call | None, wrapped, args, kwargs):
    if call is None:
        return wrapped(*args, **kwargs)
    return call.outcome(call_in(call.context, call.failed, wrapped, args, kwargs))


async def _traced_async(call: _Call | None, wrapped, args, kwargs):
    if call is None:
        return await wrapped(*args, **kwargs)
    return call.outcome(await acall_in(call.context, call.failed, wrapped, args, kwargs))


# -- OpenAIClient -------------------------------------------------------------

def _sent(args: tuple, kwargs: dict, temperature_index: int) -> dict[str, Any]:
    """The request parameters an OpenAIClient method passes on to the SDK: its
    `temperature` (sent unless None) and its extra keyword arguments (only the
    names `_request` knows are read)."""
    return {**kwargs, "temperature": _arg(args, kwargs, temperature_index, "temperature", 1.0)}


def _client_wrapper(start, is_async: bool):
    """The wrapper of an `OpenAIClient` method whose chat span `start(instance,
    args, kwargs)` opens."""
    if is_async:
        async def async_wrapper(wrapped, instance, args, kwargs):
            return await _traced_async(start(instance, args, kwargs), wrapped, args, kwargs)
        return async_wrapper

    def wrapper(wrapped, instance, args, kwargs):
        return _traced_sync(start(instance, args, kwargs), wrapped, args, kwargs)
    return wrapper


def completion_wrapper(handler: TelemetryHandler, is_async: bool):
    """`(a)create_completion(messages, model, temperature, stream, tools, ...)`."""
    def start(instance, args, kwargs):
        return _start(handler, _arg(args, kwargs, 0, "messages"),
                      _arg(args, kwargs, 1, "model", _DEFAULT_MODEL),
                      bool(_arg(args, kwargs, 3, "stream", False)),
                      request=_sent(args, kwargs, 2),
                      base_url=getattr(instance, "base_url", None),
                      tools=_arg(args, kwargs, 4, "tools"))

    return _client_wrapper(start, is_async)


def stream_processor_wrapper(handler: TelemetryHandler, is_async: bool):
    """`process_stream_response(_async)(messages, model, temperature, tools, ...)`:
    always streamed."""
    def start(instance, args, kwargs):
        return _start(handler, _arg(args, kwargs, 0, "messages"),
                      _arg(args, kwargs, 1, "model", _DEFAULT_MODEL), True, watch=True,
                      request=_sent(args, kwargs, 2),
                      base_url=getattr(instance, "base_url", None),
                      tools=_arg(args, kwargs, 3, "tools"))

    return _client_wrapper(start, is_async)


def loop_wrapper(wrapped, instance, args, kwargs):
    """`(a)chat_completion_with_tools`: the tool loop; note its iteration limit."""
    try:
        turn = direct_turn()
        if turn is not None:
            limit = _arg(args, kwargs, 10, "max_iterations", 10)
            turn.max_iterations = limit if isinstance(limit, int) else None
            turn.loop_calls = 0
            turn.last_step_reason = None
    except Exception:  # noqa: BLE001
        report("praisonai tool loop")
    return wrapped(*args, **kwargs)


# -- the OpenAI SDK, reached directly by the streaming path -------------------

def _sdk_start(handler: TelemetryHandler, instance: Any, kwargs: dict) -> _Call | None:
    return _start(handler, kwargs.get("messages"), kwargs.get("model"),
                  bool(kwargs.get("stream")), request=kwargs,
                  base_url=getattr(getattr(instance, "_client", None), "base_url", None),
                  tools=kwargs.get("tools"))


def sdk_create_wrapper(handler: TelemetryHandler, is_async: bool):
    if is_async:
        async def async_wrapper(wrapped, instance, args, kwargs):
            ctx = _get_current()
            watch = _get_value(WATCH_KEY, ctx)
            if watch is not None:
                try:
                    result = await wrapped(*args, **kwargs)
                except Exception as exc:
                    watch.error = exc
                    raise
                return _chunks.watched(result, watch, handler) if kwargs.get("stream") \
                    else result
            if direct_turn(ctx) is None:
                return await wrapped(*args, **kwargs)
            return await _traced_async(_sdk_start(handler, instance, kwargs), wrapped, args,
                                       kwargs)
        return async_wrapper

    def wrapper(wrapped, instance, args, kwargs):
        ctx = _get_current()
        watch = _get_value(WATCH_KEY, ctx)
        if watch is not None:
            try:
                result = wrapped(*args, **kwargs)
            except Exception as exc:
                watch.error = exc
                raise
            return _chunks.watched(result, watch, handler) if kwargs.get("stream") else result
        if direct_turn(ctx) is None:
            return wrapped(*args, **kwargs)
        return _traced_sync(_sdk_start(handler, instance, kwargs), wrapped, args, kwargs)
    return wrapper
