"""Model calls on PraisonAI's LiteLLM path that go through the Responses API.

PraisonAI's `LLM` class sends the models its `_supports_responses_api()`
accepts (OpenAI's `gpt-4o*`, `gpt-4.1*`, `o1` / `o3` / `o4*`, bare or behind
`openai/` or `azure/`) to `litellm.responses` / `litellm.aresponses` instead
of chat completions. So does the hierarchical `AgentTeam` manager with its
default `manager_llm` (`gpt-4o-mini`). Patched here:

- `LLM._call_responses_api` / `_call_responses_api_async`: one whole
  response each (LiteLLM's retries inside are the same model call).
- `LLM._stream_responses_api` / `_stream_responses_api_async`: one streamed
  call, read to its end inside; they return (text, tool calls, the final
  response of the `response.completed` event), and raise on a failed one.
- `litellm.responses` / `litellm.aresponses`, but only right inside one of
  the streamed calls above: the event stream they hand PraisonAI is read
  through a proxy that notes each event's arrival (time to first chunk).
  Called from anywhere else they are not touched.

One `chat {model}` span per call, opening the agent's next `react step`
when called right inside the agent span, exactly like the chat-completions
calls of the same class (`_litellm`). Provider and request model are
LiteLLM's resolution of the model name.

The server: LiteLLM's Responses API reads `api_base`, not the `base_url`
PraisonAI hands it (LiteLLM 1.97 drops it), so an OpenAI request goes to
`litellm.api_base`, `OPENAI_BASE_URL`, `OPENAI_API_BASE` or api.openai.com,
and the span says where it went. The response id is the provider's: LiteLLM
wraps it in an id of its own (base64 of provider, deployment and the
provider's id), unwrapped here.
"""

from __future__ import annotations

import base64
import binascii
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from .. import _genai_messages as M
from .. import _request, _usage
from .. import attributes as A
from .._handler import TelemetryHandler
from .._invocations import ChatInvocation
from .._patching import Patcher
from .._safety import report
from .._settings import openai_base_url
from . import _messages
from ._call import NO_MESSAGES, Call, next_round, start_call
from ._litellm import resolve
from ._wrapping import acall_in, call_in

_get_value = otel_context.get_value

# Inside a streamed call: the observer its `litellm.responses` stream reports to.
_STREAM_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.praisonai.responses")

_OPENAI_DEFAULT = "https://api.openai.com/v1"
# `incomplete_details.reason` to the finish reasons chat completions would give.
_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}
_LITELLM_ID = "litellm:"
_ID_PART = "response_id:"


def _server(params: dict, provider: str | None) -> tuple[str | None, int | None]:
    base = params.get("api_base")
    if not base and provider == "openai":
        # The order LiteLLM's OpenAI Responses config looks in.
        try:
            import litellm

            base = getattr(litellm, "api_base", None)
        except Exception:  # noqa: BLE001
            base = None
        base = base or openai_base_url() or _OPENAI_DEFAULT
    return _request.server(base)


def provider_id(response_id: Any) -> Any:
    """The provider's response id inside LiteLLM's own ``resp_<base64>`` id."""
    if not isinstance(response_id, str) or not response_id.startswith("resp_"):
        return response_id
    try:
        decoded = base64.b64decode(response_id[5:], validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return response_id
    if not decoded.startswith(_LITELLM_ID):
        return response_id
    for part in decoded.split(";"):
        if part.startswith(_ID_PART) and len(part) > len(_ID_PART):
            return part[len(_ID_PART):]
    return response_id


def _start(handler: TelemetryHandler, params: Any, stream: bool) -> Call | None:
    if not handler.enabled or not isinstance(params, dict):
        return None
    try:
        tools = params.get("tools")
        turn = next_round(handler, tools)
        model, provider = resolve(params)
        return start_call(
            handler, turn, False, model=model, provider=provider, stream=stream,
            messages=M.lazy_openai_request(params.get("input"), params.get("instructions"))
            if handler.capture_content else NO_MESSAGES,
            request=params, server=_server(params, provider), tools=tools)
    except Exception:  # noqa: BLE001
        report("praisonai responses call start")
        return None


def _finish(call: Call, response: Any) -> None:
    """End the span for a `ResponsesAPIResponse` (or the dict of one)."""
    try:
        if response is None:
            # The stream ended without its `response.completed` event.
            call.failed(error_type="incomplete_stream")
            return
        get = M.get
        status = get(response, "status")
        if status == "failed":
            # PraisonAI raises for it once it reads the response.
            code = get(get(response, "error"), "code")
            call.failed(error_type=str(code) if code else "response_failed")
            return
        output = get(response, "output") or ()
        wants_tools = any(get(item, "type") == "function_call" for item in output)
        if wants_tools:
            reason = A.FINISH_TOOL_CALLS
        elif status == "incomplete":
            why = get(get(response, "incomplete_details"), "reason")
            reason = _INCOMPLETE.get(why, str(why or "incomplete"))
        else:
            reason = A.FINISH_STOP
        usage = get(response, "usage")
        model = get(response, "model")
        call.succeeded(
            A.FINISH_TOOL_CALLS if wants_tools else A.FINISH_STOP,
            response_model=model if isinstance(model, str) else None,
            response_id=provider_id(get(response, "id")), finish_reasons=[reason],
            input_tokens=get(usage, "input_tokens"), output_tokens=get(usage, "output_tokens"),
            usage_details=_usage.details(usage),
            output_messages=_messages.response(response) if call.handler.capture_content
            else None)
    except Exception:  # noqa: BLE001
        report("praisonai responses call end")
        call.handler.finish_chat(call.inv)


def call_wrapper(handler: TelemetryHandler):
    """`LLM._call_responses_api(**params)`: a whole response."""
    def wrapper(wrapped, instance, args, kwargs):
        call = _start(handler, kwargs, False)
        if call is None:
            return wrapped(*args, **kwargs)
        result = call_in(call.context, call.failed, wrapped, args, kwargs)
        _finish(call, result)
        return result
    return wrapper


def acall_wrapper(handler: TelemetryHandler):
    """`LLM._call_responses_api_async(**params)`."""
    async def wrapper(wrapped, instance, args, kwargs):
        call = _start(handler, kwargs, False)
        if call is None:
            return await wrapped(*args, **kwargs)
        result = await acall_in(call.context, call.failed, wrapped, args, kwargs)
        _finish(call, result)
        return result
    return wrapper


class _Watch:
    """The streamed call the next `litellm.responses` stream belongs to."""

    __slots__ = ("handler", "inv", "taken")

    def __init__(self, handler: TelemetryHandler, inv: ChatInvocation) -> None:
        self.handler = handler
        self.inv = inv
        self.taken = False


def _streamed_params(args: tuple, kwargs: dict) -> Any:
    return args[0] if args else kwargs.get("params")


def _stream_call(handler: TelemetryHandler, args: tuple, kwargs: dict
                 ) -> tuple[Call | None, Any]:
    call = _start(handler, _streamed_params(args, kwargs), True)
    if call is None:
        return None, None
    try:
        return call, otel_context.set_value(_STREAM_KEY, _Watch(handler, call.inv),
                                            call.context)
    except Exception:  # noqa: BLE001
        report("praisonai responses stream")
        return call, call.context


def _stream_result(call: Call, result: Any) -> None:
    final = result[2] if isinstance(result, tuple) and len(result) > 2 else None
    _finish(call, final)


def stream_wrapper(handler: TelemetryHandler):
    """`LLM._stream_responses_api(params, ...)`: a streamed call, read inside."""
    def wrapper(wrapped, instance, args, kwargs):
        call, ctx = _stream_call(handler, args, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        result = call_in(ctx, call.failed, wrapped, args, kwargs)
        _stream_result(call, result)
        return result
    return wrapper


def astream_wrapper(handler: TelemetryHandler):
    """`LLM._stream_responses_api_async(params, ...)`."""
    async def wrapper(wrapped, instance, args, kwargs):
        call, ctx = _stream_call(handler, args, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        result = await acall_in(ctx, call.failed, wrapped, args, kwargs)
        _stream_result(call, result)
        return result
    return wrapper


class _Events:
    """LiteLLM's event stream as PraisonAI reads it, noting each event's arrival.

    Everything but iteration (`close`, `aclose`, `response`, which PraisonAI
    uses to clean up) goes to the stream itself.
    """

    __slots__ = ("_items", "_stream", "_watch")

    def __init__(self, stream: Any, watch: _Watch) -> None:
        self._stream = stream
        self._items: Any = None
        self._watch = watch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _note(self) -> None:
        watch = self._watch
        if not watch.inv.ended:
            watch.handler.chat_chunk(watch.inv)


class _SyncEvents(_Events):
    __slots__ = ()

    def __iter__(self) -> _SyncEvents:
        self._items = iter(self._stream)
        return self

    def __next__(self) -> Any:
        if self._items is None:
            self._items = iter(self._stream)
        event = next(self._items)
        self._note()
        return event


class _AsyncEvents(_Events):
    __slots__ = ()

    def __aiter__(self) -> _AsyncEvents:
        self._items = self._stream.__aiter__()
        return self

    async def __anext__(self) -> Any:
        if self._items is None:
            self._items = self._stream.__aiter__()
        event = await self._items.__anext__()
        self._note()
        return event


def _watch() -> _Watch | None:
    watch = _get_value(_STREAM_KEY)
    if not isinstance(watch, _Watch) or watch.taken or watch.inv.ended:
        return None
    watch.taken = True  # one request per streamed call
    return watch


def litellm_responses_wrapper(wrapped, instance, args, kwargs):
    """`litellm.responses(...)`: its stream observed inside a streamed call only."""
    watch = _watch() if kwargs.get("stream") else None
    result = wrapped(*args, **kwargs)
    if watch is None or not hasattr(result, "__iter__"):
        return result
    return _SyncEvents(result, watch)


async def litellm_aresponses_wrapper(wrapped, instance, args, kwargs):
    """`litellm.aresponses(...)`."""
    watch = _watch() if kwargs.get("stream") else None
    result = await wrapped(*args, **kwargs)
    if watch is None or not hasattr(result, "__aiter__"):
        return result
    return _AsyncEvents(result, watch)


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def llm_module(module: ModuleType) -> None:
        # Models PraisonAI sends to the Responses API (`gpt-4o*`, `o*`).
        patcher.wrap(module, "LLM._call_responses_api", call_wrapper(handler))
        patcher.wrap(module, "LLM._call_responses_api_async", acall_wrapper(handler))
        patcher.wrap(module, "LLM._stream_responses_api", stream_wrapper(handler))
        patcher.wrap(module, "LLM._stream_responses_api_async", astream_wrapper(handler))

    def litellm_module(module: ModuleType) -> None:
        # Only to time a streamed Responses call's events.
        patcher.wrap(module, "responses", litellm_responses_wrapper)
        patcher.wrap(module, "aresponses", litellm_aresponses_wrapper)

    patcher.on_import("praisonaiagents.llm.llm", llm_module)
    patcher.on_import("litellm", litellm_module)
