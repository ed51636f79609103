"""Model calls on PraisonAI's LiteLLM path: the `LLM` class (`praisonaiagents[llm]`).

An agent built with `llm="provider/model"`, `llm={"model": ...}` or a
`base_url` talks to its model through `praisonaiagents.llm.LLM`, which sends
every chat-completions request through two methods, patched here:

- `LLM._completion_with_retry`: every sync call (`chat`, tool rounds,
  streaming, reflection, the iteration-limit summary). Streamed, it returns
  LiteLLM's `CustomStreamWrapper`, read by PraisonAI chunk by chunk.
- `LLM._acompletion_with_retry`: the same for `achat`.

One `chat {model}` span per call (LiteLLM's own retries inside it are the
same model call), opening the agent's next `react step` when called right
inside the agent span, exactly like the OpenAI-native path (`_models`). The
provider is LiteLLM's own resolution of the model name and base URL, mapped
to the GenAI provider names; the request model is the name LiteLLM sends.

The request's parameters, server (`api_base` / `base_url`) and tools are
read off the completion parameters PraisonAI hands LiteLLM; usage details
(cache and reasoning tokens) off LiteLLM's `Usage`, whole or streamed.

LiteLLM's OpenTelemetry callback is not what traces these calls: PraisonAI
removes it (every non-allow-listed `litellm.callbacks` entry) when it sets
up its first `LLM`. A callback registered again afterwards finds our `chat`
span as its parent and starts no request span of its own (LiteLLM 1.97: only
a `raw_gen_ai_request` child, and attributes that arrive after our span ended).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .. import _request
from .. import attributes as A
from .._handler import TelemetryHandler
from .._patching import Patcher
from .._safety import report
from .._streams import trace_async_stream, trace_sync_stream
from . import _chunks, _messages
from ._call import NO_MESSAGES, Call, next_round, start_call
from ._chunks import ChunkObserver
from ._wrapping import acall_in, call_in

# LiteLLM provider ids to `gen_ai.provider.name` values; others pass as they are.
_PROVIDERS = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "bedrock": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai",
    "vertex_ai_beta": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "groq": "groq",
    "mistral": "mistral_ai",
    "deepseek": "deepseek",
    "xai": "x_ai",
    "perplexity": "perplexity",
    "watsonx": "ibm.watsonx.ai",
}

# (model, base URL, explicit provider) -> (model LiteLLM sends, provider name).
# Resolving costs about as much as a span; the few names an application uses
# resolve once.
_resolved: dict[tuple[Any, Any, Any], tuple[str | None, str | None]] = {}
_RESOLVED_MAX = 256


def resolve(params: dict) -> tuple[str | None, str | None]:
    """The request model and provider LiteLLM will use for these parameters."""
    model = params.get("model")
    if not isinstance(model, str):
        return None, None
    base = params.get("api_base") or params.get("base_url")
    explicit = params.get("custom_llm_provider")
    key = (model, base, explicit)
    found = _resolved.get(key)
    if found is not None:
        return found
    try:
        from litellm import get_llm_provider

        sent, provider, _, _ = get_llm_provider(
            model=model, custom_llm_provider=explicit,
            api_base=base if isinstance(base, str) else None)
        found = (sent, _PROVIDERS.get(provider, provider))
    except Exception:  # noqa: BLE001 - LiteLLM raises for names it cannot route
        found = (model, explicit if isinstance(explicit, str) else None)
    if len(_resolved) < _RESOLVED_MAX:
        _resolved[key] = found
    return found


def _start(handler: TelemetryHandler, params: dict) -> Call | None:
    """The chat span of one LiteLLM call; LiteLLM sends OpenAI's models through
    the OpenAI SDK's chat completions (what a provider instrumentation wraps)."""
    if not handler.enabled:
        return None
    try:
        tools = params.get("tools")
        turn = next_round(handler, tools)
        model, provider = resolve(params)
        return start_call(
            handler, turn, False, model=model, provider=provider,
            stream=bool(params.get("stream")),
            messages=_messages.request(params.get("messages")) if handler.capture_content
            else NO_MESSAGES,
            request=params,
            server=_request.server(params.get("api_base") or params.get("base_url")),
            tools=tools, api=A.SDK_OPENAI_CHAT if provider == "openai" else None)
    except Exception:  # noqa: BLE001
        report("praisonai litellm call start")
        return None


class _StreamObserver(ChunkObserver):
    """Reads what the span needs off LiteLLM's `ModelResponseStream` chunks,
    whose fields may be missing; the span ends as on the OpenAI path."""

    __slots__ = ()

    def on_item(self, chunk: Any) -> None:
        self.call.handler.chat_chunk(self.call.inv)
        if self.response_id is None:
            self.response_id = getattr(chunk, "id", None)
            self.model = getattr(chunk, "model", None)
        choices = getattr(chunk, "choices", None)
        if choices:
            choice = choices[0]
            reason = getattr(choice, "finish_reason", None)
            if reason is not None:
                self.finish = reason
            delta = getattr(choice, "delta", None)
            if self.text is not None and delta is not None:
                if getattr(delta, "content", None):
                    self.text.append(delta.content)
                if getattr(delta, "tool_calls", None):
                    _messages.add_tool_call_deltas(self.calls, delta.tool_calls)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage


def _outcome(call: Call, result: Any, is_async: bool) -> Any:
    if hasattr(result, "choices"):
        return _chunks.outcome(call, result)  # a whole ModelResponse
    try:
        observer = _StreamObserver(call)
        if is_async and hasattr(result, "__aiter__"):
            return trace_async_stream(result, lambda: observer)
        if not is_async and hasattr(result, "__next__"):
            return trace_sync_stream(result, lambda: observer)
    except Exception:  # noqa: BLE001
        report("praisonai litellm stream")
    call.handler.finish_chat(call.inv)
    return result


def completion_wrapper(handler: TelemetryHandler):
    """`LLM._completion_with_retry(**completion_params)`."""
    def wrapper(wrapped, instance, args, kwargs):
        call = _start(handler, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        return _outcome(call, call_in(call.context, call.failed, wrapped, args, kwargs), False)
    return wrapper


def acompletion_wrapper(handler: TelemetryHandler):
    """`LLM._acompletion_with_retry(**completion_params)`."""
    async def wrapper(wrapped, instance, args, kwargs):
        call = _start(handler, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        result = await acall_in(call.context, call.failed, wrapped, args, kwargs)
        return _outcome(call, result, True)
    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def litellm_path(module: ModuleType) -> None:
        patcher.wrap(module, "LLM._completion_with_retry", completion_wrapper(handler))
        patcher.wrap(module, "LLM._acompletion_with_retry", acompletion_wrapper(handler))

    patcher.on_import("praisonaiagents.llm.llm", litellm_path)
