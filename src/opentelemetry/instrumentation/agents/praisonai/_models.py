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

from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from .. import _request
from .. import attributes as A
from .._context import get_current as _get_current
from .._handler import TelemetryHandler
from .._patching import Patcher
from .._safety import report
from . import _chunks, _messages
from ._call import NO_MESSAGES, WATCH_KEY, Call, next_round, start_call
from ._state import direct_turn
from ._wrapping import acall_in, call_in

_PROVIDER = "openai"
_DEFAULT_MODEL = "gpt-4o-mini"  # OpenAIClient's own default for `model`
# Where the OpenAI SDK sends requests when no base URL is configured.
_DEFAULT_BASE_URL = "https://api.openai.com/v1"

_get_value = otel_context.get_value


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _start(handler: TelemetryHandler, messages: Any, model: Any, stream: bool,
           watch: bool = False, *, request: dict[str, Any] | None = None,
           base_url: Any = None, tools: Any = None,
           api: str | None = A.SDK_OPENAI_CHAT) -> Call | None:
    if not handler.enabled:
        return None
    try:
        turn = next_round(handler, tools)
        return start_call(
            handler, turn, watch, model=model if isinstance(model, str) else None,
            provider=_PROVIDER, stream=stream,
            messages=_messages.request(messages) if handler.capture_content else NO_MESSAGES,
            request=request, server=_request.server(base_url or _DEFAULT_BASE_URL),
            tools=tools, api=api)
    except Exception:  # noqa: BLE001
        report("praisonai model call start")
        return None


def _traced_sync(call: Call | None, wrapped, args, kwargs):
    if call is None:
        return wrapped(*args, **kwargs)
    return _chunks.outcome(call, call_in(call.context, call.failed, wrapped, args, kwargs))


async def _traced_async(call: Call | None, wrapped, args, kwargs):
    if call is None:
        return await wrapped(*args, **kwargs)
    return _chunks.outcome(call, await acall_in(call.context, call.failed, wrapped, args, kwargs))


# -- OpenAIClient -------------------------------------------------------------

def _client_api(client: Any, model: Any, stream: bool) -> str:
    """The SDK API an OpenAIClient call goes through: without a base URL it
    sends the models `_use_responses_api` accepts to the Responses API (whole
    calls from `(a)create_completion`, every call of the stream processors)."""
    if stream or getattr(client, "base_url", None):
        return A.SDK_OPENAI_CHAT
    try:
        return A.SDK_OPENAI_RESPONSES if client._use_responses_api(model) else A.SDK_OPENAI_CHAT
    except Exception:  # noqa: BLE001 - another PraisonAI release
        return A.SDK_OPENAI_CHAT

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
        model = _arg(args, kwargs, 1, "model", _DEFAULT_MODEL)
        stream = bool(_arg(args, kwargs, 3, "stream", False))
        return _start(handler, _arg(args, kwargs, 0, "messages"), model, stream,
                      request=_sent(args, kwargs, 2),
                      base_url=getattr(instance, "base_url", None),
                      tools=_arg(args, kwargs, 4, "tools"),
                      api=_client_api(instance, model, stream))

    return _client_wrapper(start, is_async)


def stream_processor_wrapper(handler: TelemetryHandler, is_async: bool):
    """`process_stream_response(_async)(messages, model, temperature, tools, ...)`:
    always streamed."""
    def start(instance, args, kwargs):
        model = _arg(args, kwargs, 1, "model", _DEFAULT_MODEL)
        return _start(handler, _arg(args, kwargs, 0, "messages"), model, True, watch=True,
                      request=_sent(args, kwargs, 2),
                      base_url=getattr(instance, "base_url", None),
                      tools=_arg(args, kwargs, 3, "tools"),
                      api=_client_api(instance, model, False))

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

def _sdk_start(handler: TelemetryHandler, instance: Any, kwargs: dict) -> Call | None:
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


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def openai_client(module: ModuleType) -> None:
        for name, is_async in (("acreate_completion", True), ("create_completion", False)):
            patcher.wrap(module, f"OpenAIClient.{name}", completion_wrapper(handler, is_async))
        for name, is_async in (("process_stream_response_async", True),
                               ("process_stream_response", False)):
            patcher.wrap(module, f"OpenAIClient.{name}",
                         stream_processor_wrapper(handler, is_async))
        for name in ("achat_completion_with_tools", "chat_completion_with_tools"):
            patcher.wrap(module, f"OpenAIClient.{name}", loop_wrapper)

    def openai_sdk(module: ModuleType) -> None:
        # `start(stream=True)` calls the OpenAI SDK directly; its wrapper only
        # acts inside a PraisonAI agent span.
        patcher.wrap(module, "Completions.create", sdk_create_wrapper(handler, False))
        patcher.wrap(module, "AsyncCompletions.create", sdk_create_wrapper(handler, True))

    patcher.on_import("praisonaiagents.llm.openai_client", openai_client)
    patcher.on_import("openai.resources.chat.completions.completions", openai_sdk)
