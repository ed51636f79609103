"""Model calls of Hermes Agent.

- ``AIAgent._interruptible_streaming_api_call`` (the default) and
  ``AIAgent._interruptible_api_call``: every model call of the conversation
  loop, one ``chat`` span each. Usage comes from each call's own response,
  not from the agent's session-wide counters, which overlapping turns share.
  Cron, Codex and the stream-not-supported fallback reach the non-streaming
  method from inside the streaming one; that inner call is the same model
  call and gets no second span.
- ``AIAgent._handle_max_iterations``: the summary call Hermes makes when the
  loop hits its iteration limit; it calls the client directly, outside the
  loop, and returns only text, so its usage is read where Hermes hands the
  raw response to its transport (``*Transport.normalize_response``).
- ``AIAgent._touch_activity``: Hermes calls it with "receiving stream
  response" once per chunk or server-sent event it reads, on all three
  model paths (chat completions, Anthropic messages, Responses); that is
  when a streamed call's chunks arrive (time to first chunk, time per chunk).

The request's parameters, its server and the tools offered are read off the
``api_kwargs`` Hermes built for the call and the agent's base URL.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any, NamedTuple

from opentelemetry import context as otel_context

from .. import _genai_messages as M
from .. import _request, _usage
from .. import attributes as A
from .._context import attach as _attach
from .._context import detach as _detach
from .._handler import TelemetryHandler
from .._invocations import ChatInvocation
from .._patching import Patcher, Wrapper
from .._safety import report
from . import _messages
from ._agent import begin_round
from ._state import CHAT_KEY, MODEL_CALL_KEY, SUMMARY_KEY, current_run, provider_name

_get_value = otel_context.get_value
_set_value = otel_context.set_value

# Hermes's `api_mode` -> the SDK API its model calls (and its iteration-limit
# summary call) go through; the Anthropic and Bedrock modes use other SDKs.
_APIS = {"chat_completions": A.SDK_OPENAI_CHAT, "codex_responses": A.SDK_OPENAI_RESPONSES}


def sdk_api(agent: Any) -> str | None:
    """The SDK API `agent`'s model calls go through (None: not the OpenAI SDK's)."""
    mode = getattr(agent, "api_mode", None)
    return _APIS.get(mode) if isinstance(mode, str) else None

# The error.type of a failure Hermes swallowed without letting us see it.
OTHER_ERROR = "_OTHER"


class Facts(NamedTuple):
    response_id: str | None
    response_model: str | None
    finish_reasons: list[str]
    wants_tools: bool
    input_tokens: int | None
    output_tokens: int | None
    details: _usage.UsageDetails | None


def _tokens(usage: Any, *names: str) -> int | None:
    for name in names:
        value = getattr(usage, name, None)
        if isinstance(value, int):
            return value
    return None


def facts(response: Any) -> Facts:
    """What a model response says, in the shapes Hermes's modes return.

    Chat completions (``openai`` objects, or the ``SimpleNamespace`` Hermes
    assembles from a stream), Anthropic messages and Responses API objects.
    """
    reasons: list[str] = []
    wants_tools = anthropic = False
    choices = getattr(response, "choices", None)
    if choices:
        for choice in choices:
            reason = getattr(choice, "finish_reason", None)
            if reason is not None:
                reasons.append(str(reason))
            if getattr(getattr(choice, "message", None), "tool_calls", None):
                wants_tools = True
    elif getattr(response, "stop_reason", None) is not None:  # Anthropic
        anthropic = True
        reasons.append(str(response.stop_reason))
        wants_tools = any(getattr(b, "type", None) == "tool_use"
                          for b in getattr(response, "content", None) or ())
    elif getattr(response, "output", None) is not None:  # Responses API
        wants_tools = any(getattr(item, "type", None) == "function_call"
                          for item in response.output or ())
        reasons.append(A.FINISH_TOOL_CALLS if wants_tools else A.FINISH_STOP)
    usage = getattr(response, "usage", None)
    response_id = getattr(response, "id", None)
    if not isinstance(response_id, str) or response_id.startswith("stream-"):
        # After streaming Hermes puts a made-up "stream-<uuid>" id on the
        # response it assembles; the provider's id is not kept.
        response_id = None
    model = getattr(response, "model", None)
    details = _usage.details(usage)
    input_tokens = _tokens(usage, "prompt_tokens", "input_tokens")
    if anthropic and input_tokens is not None and details is not None:
        # Anthropic's input count leaves out the cached and cache-written
        # tokens; the conventions' input tokens include them (as OpenAI's
        # prompt count and LiteLLM's do).
        input_tokens += (details.cache_read or 0) + (details.cache_creation or 0)
    return Facts(response_id, model if isinstance(model, str) else None, reasons, wants_tools,
                 input_tokens, _tokens(usage, "completion_tokens", "output_tokens"), details)


def _finish(handler: TelemetryHandler, inv: ChatInvocation, response: Any) -> None:
    found = facts(response)
    handler.finish_chat(
        inv,
        response_model=found.response_model,
        response_id=found.response_id,
        finish_reasons=found.finish_reasons,
        input_tokens=found.input_tokens,
        output_tokens=found.output_tokens,
        usage_details=found.details,
        output_messages=_messages.response(response) if handler.capture_content else None,
        step_finish_reason=A.FINISH_TOOL_CALLS if found.wants_tools else A.FINISH_STOP,
    )


def _start(handler: TelemetryHandler, agent: Any, api_kwargs: Any,
           stream: bool) -> ChatInvocation | None:
    try:
        run = current_run(agent)
        if run is not None:
            begin_round(handler, run)
        api_kwargs = api_kwargs if isinstance(api_kwargs, dict) else {}
        inputs = system = tools = None
        if handler.capture_content:
            inputs, system = _messages.request(api_kwargs)
            tools = M.tool_definitions(api_kwargs.get("tools"))
        address, port = server_of(agent)
        return handler.start_chat(
            request_model=api_kwargs.get("model") or getattr(agent, "model", None),
            provider=provider_name(agent), stream=stream,
            input_messages=inputs, system_instructions=system,
            request=_request.from_kwargs(api_kwargs),
            server_address=address, server_port=port, tool_definitions=tools,
            api=sdk_api(agent))
    except Exception:  # noqa: BLE001
        report("hermes model call start")
        return None


def server_of(agent: Any) -> tuple[str | None, int | None]:
    """The agent's model server: the Anthropic base URL in that mode, else its base URL."""
    base_url = None
    if getattr(agent, "api_mode", None) == "anthropic_messages":
        base_url = getattr(agent, "_anthropic_base_url", None)
    return _request.server(base_url or getattr(agent, "base_url", None))


def model_call_wrapper(handler: TelemetryHandler, stream: bool) -> Wrapper:
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled or _get_value(MODEL_CALL_KEY) is instance:
            return wrapped(*args, **kwargs)
        inv = _start(handler, instance, args[0] if args else kwargs.get("api_kwargs"), stream)
        if inv is None:
            return wrapped(*args, **kwargs)
        # Attached around the request so the worker thread Hermes runs it on
        # (see _threads) and every client span in it sit under this span.
        ctx = _set_value(MODEL_CALL_KEY, instance, inv.context)
        if stream:
            ctx = _set_value(CHAT_KEY, inv, ctx)
        token = _attach(ctx)
        try:
            response = wrapped(*args, **kwargs)
        except BaseException as exc:
            _detach(token)
            handler.finish_chat(inv, error=exc)
            _note_outcome(instance, exc)
            raise
        _detach(token)
        try:
            _finish(handler, inv, response)
            _note_outcome(instance, None)
        except Exception:  # noqa: BLE001
            report("hermes model call end")
        return response

    return wrapper


# What Hermes says, on every model path, as it reads each chunk of a stream.
_RECEIVING = "receiving stream response"


def touch_activity_wrapper(handler: TelemetryHandler) -> Wrapper:
    """`AIAgent._touch_activity`: a streamed call's chunk arrived (see the module doc)."""
    def wrapper(wrapped, instance, args, kwargs):
        if args and args[0] == _RECEIVING:
            inv = _get_value(CHAT_KEY)
            if inv is not None:
                try:
                    handler.chat_chunk(inv)
                except Exception:  # noqa: BLE001
                    report("hermes stream chunk")
        return wrapped(*args, **kwargs)

    return wrapper


def _note_outcome(agent: Any, error: BaseException | None) -> None:
    run = current_run(agent)
    if run is not None:
        run.last_error = error


# -- the iteration-limit summary ------------------------------------------------

class SummaryCall:
    """The responses Hermes received while asking for the summary (usually one)."""

    __slots__ = ("responses",)

    def __init__(self) -> None:
        self.responses: list[Any] = []


def normalize_response_wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple,
                               kwargs: dict) -> Any:
    result = wrapped(*args, **kwargs)
    summary = _get_value(SUMMARY_KEY)
    if summary is not None:
        summary.responses.append(args[0] if args else kwargs.get("response"))
    return result


def _finish_summary(handler: TelemetryHandler, inv: ChatInvocation, summary: SummaryCall,
                    text: Any) -> None:
    if isinstance(text, str) and "couldn't summarize. Error:" in text:
        # Hermes caught the exception and wrote it into the answer.
        handler.finish_chat(inv, error_type=OTHER_ERROR)
        return
    found = [facts(r) for r in summary.responses]
    last = found[-1] if found else None

    def total(values: list[int | None]) -> int | None:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    reported = [f.details for f in found if f.details is not None]
    details = tuple(total(list(counts)) for counts in zip(*reported, strict=True)) \
        if reported else None

    handler.finish_chat(
        inv,
        response_model=last.response_model if last else None,
        response_id=last.response_id if last else None,
        finish_reasons=last.finish_reasons if last else None,
        input_tokens=total([f.input_tokens for f in found]),
        output_tokens=total([f.output_tokens for f in found]),
        usage_details=details,
        output_messages=_messages.assistant_text(text) if handler.capture_content else None,
    )


def max_iterations_wrapper(handler: TelemetryHandler) -> Wrapper:
    def wrapper(wrapped, instance, args, kwargs):
        run = current_run(instance) if handler.enabled else None
        if run is None:
            return wrapped(*args, **kwargs)
        inv = None
        try:
            frame = run.frame
            frame.max_iterations_reached = True
            frame.finish_reason = A.FINISH_MAX_ITERATIONS
            # The loop is over: the summary call belongs to no round.
            handler.finish_step(frame)
            inputs = system = None
            if handler.capture_content:
                messages = args[0] if args else kwargs.get("messages")
                inputs, system = _messages.messages(messages)
            # Hermes builds this request itself, not through api_kwargs: only
            # its server is known here.
            address, port = server_of(instance)
            inv = handler.start_chat(request_model=getattr(instance, "model", None),
                                     provider=provider_name(instance), stream=False,
                                     input_messages=inputs, system_instructions=system,
                                     server_address=address, server_port=port,
                                     api=sdk_api(instance))
        except Exception:  # noqa: BLE001
            report("hermes summary call start")
        if inv is None:
            return wrapped(*args, **kwargs)
        summary = SummaryCall()
        ctx = _set_value(SUMMARY_KEY, summary, _set_value(MODEL_CALL_KEY, instance, inv.context))
        token = _attach(ctx)
        try:
            text = wrapped(*args, **kwargs)
        except BaseException as exc:
            _detach(token)
            handler.finish_chat(inv, error=exc)
            raise
        _detach(token)
        try:
            _finish_summary(handler, inv, summary, text)
        except Exception:  # noqa: BLE001
            report("hermes summary call end")
        return text

    return wrapper


# The transports Hermes hands the summary call's raw response to.
_TRANSPORTS = {
    "agent.transports.chat_completions": "ChatCompletionsTransport",
    "agent.transports.anthropic": "AnthropicTransport",
    "agent.transports.codex": "ResponsesApiTransport",
}


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def run_agent(module: ModuleType) -> None:
        patcher.wrap(module, "AIAgent._interruptible_streaming_api_call",
                     model_call_wrapper(handler, stream=True))
        patcher.wrap(module, "AIAgent._interruptible_api_call",
                     model_call_wrapper(handler, stream=False))
        patcher.wrap(module, "AIAgent._touch_activity", touch_activity_wrapper(handler))
        patcher.wrap(module, "AIAgent._handle_max_iterations", max_iterations_wrapper(handler))

    def transport(class_name: str):
        def apply(module: ModuleType) -> None:
            patcher.wrap(module, f"{class_name}.normalize_response", normalize_response_wrapper)
        return apply

    patcher.on_import("run_agent", run_agent)
    for module_name, class_name in _TRANSPORTS.items():
        patcher.on_import(module_name, transport(class_name))
