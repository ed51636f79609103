"""AgentScope 2.x context compression and structured-output model calls.

- ``ChatModelBase.generate_structured_output`` reaches the provider without
  going through ``__call__`` (it calls ``_call_api`` itself), so it is
  wrapped on its own: one ``chat`` span per call. Compression summaries,
  the RAG reranker, the model router and long-term memory all use it.
- ``Agent._compress_context_impl``: while it runs, a structured-output call
  is the compression summary: its ``chat`` span is marked as such and sits
  under the agent span, outside the rounds. When the call changed the
  agent's context (a summary, or AgentScope's truncation after a failed
  one) the agent span counts a compression.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from .._handler import TelemetryHandler
from .._invocations import current_frame
from .._patching import Patcher
from .._safety import report
from . import _messages
from ._v2 import _field, _provider

_attach = otel_context.attach
_detach = otel_context.detach

_COMPRESSING = otel_context.create_key("opentelemetry-instrumentation-agents.compressing")


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def agent_module(module: ModuleType) -> None:
        patcher.wrap(module, "Agent._compress_context_impl", _compress_wrapper(handler))

    def model_module(module: ModuleType) -> None:
        patcher.wrap(module, "ChatModelBase.generate_structured_output",
                     _structured_wrapper(handler))

    patcher.on_import("agentscope.agent._agent", agent_module)
    patcher.on_import("agentscope.model._base", model_module)


def _compress_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        frame = current_frame()
        if frame is None or frame.owner is not instance:
            return wrapped(*args, **kwargs)
        return _traced_compression(handler, frame, instance, wrapped(*args, **kwargs))

    return wrapper


async def _traced_compression(handler: TelemetryHandler, frame: Any, agent: Any,
                              call: Any) -> Any:
    state = getattr(agent, "state", None)
    before = (getattr(state, "context", None), getattr(state, "summary", None))
    token = _attach(otel_context.set_value(_COMPRESSING, frame))
    try:
        return await call
    finally:
        _detach(token)
        try:
            # AgentScope replaces the context list (and the summary) when it
            # compressed; below the threshold it returns without touching them.
            if (getattr(state, "context", None) is not before[0]
                    or getattr(state, "summary", None) is not before[1]):
                handler.note_compression(frame)
        except Exception:  # noqa: BLE001
            report("agentscope compression end")


def _structured_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        inv = None
        try:
            compressing = otel_context.get_value(_COMPRESSING) is not None
            inputs = system = None
            if handler.capture_content:
                inputs, system = _messages.request(
                    args[0] if args else kwargs.get("messages"))
            inv = handler.start_chat(
                request_model=getattr(instance, "model", None), provider=_provider(instance),
                stream=getattr(instance, "stream", None), input_messages=inputs,
                system_instructions=system, compression=compressing)
        except Exception:  # noqa: BLE001
            report("agentscope structured output start")
        if inv is None:
            return wrapped(*args, **kwargs)
        return _traced_structured(handler, inv, wrapped, args, kwargs)

    return wrapper


async def _traced_structured(handler: TelemetryHandler, inv: Any, wrapped: Any, args: tuple,
                             kwargs: dict) -> Any:
    token = _attach(inv.context)
    try:
        response = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _detach(token)
        handler.finish_chat(inv, error=exc)
        raise
    _detach(token)
    try:
        usage = _field(response, "usage")
        reason = _field(response, "finished_reason")
        handler.finish_chat(
            inv, response_id=_field(response, "id"),
            finish_reasons=[str(reason)] if reason is not None else None,
            input_tokens=_field(usage, "input_tokens"),
            output_tokens=_field(usage, "output_tokens"),
            output_messages=_structured_output(response) if handler.capture_content else None)
    except Exception:  # noqa: BLE001
        report("agentscope structured output end")
    return response


def _structured_output(response: Any) -> Any:
    content = _field(response, "content")
    if content is None:
        return None
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False,
                                                                 default=str)
    return [{"role": "assistant", "parts": [{"type": "text", "content": text}],
             "finish_reason": "stop"}]
