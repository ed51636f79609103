"""AgentScope 2.x context compression and structured-output model calls.

- ``ChatModelBase.generate_structured_output`` reaches the provider without
  going through ``__call__`` (it calls ``_call_api`` itself), so it is
  wrapped on its own: one ``chat`` span per call. Compression summaries,
  the RAG reranker, the model router and long-term memory all use it.
- A structured-output call made by ``Agent._compress_context_impl`` is the
  compression summary: its ``chat`` span is marked as such and sits under
  the agent span, outside the rounds, and the agent span counts a
  compression (one per compression, however often AgentScope retries the
  summary; a failed summary is followed by AgentScope's truncation).
  Found from the caller's frame, so rounds that do not compress cost nothing.
"""

from __future__ import annotations

import inspect
import json
import sys
from types import ModuleType
from typing import Any

from ..._context import attach as _attach
from ..._context import detach as _detach
from ..._handler import TelemetryHandler
from ..._invocations import current_frame
from ..._patching import Patcher
from ..._safety import report
from . import messages as _messages
from ._shared import provider_and_api, read_field


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def model_module(module: ModuleType) -> None:
        patcher.wrap(module, "ChatModelBase.generate_structured_output",
                     _structured_wrapper(handler))

    patcher.on_import("agentscope.model._base", model_module)


_compress_code: list[Any] = []


def _compression_caller() -> Any:
    """The running `Agent._compress_context_impl` frame that made this call, if any.

    Looked up from the caller's frames, so rounds that do not compress (the
    common case: below the threshold, no model call) cost nothing at all.
    """
    if not _compress_code:
        from agentscope.agent._agent import Agent

        impl = inspect.unwrap(Agent._compress_context_impl)
        _compress_code.append(impl.__code__)
    code = _compress_code[0]
    caller = sys._getframe(2)
    for _ in range(8):  # our wrapper, wrapt's (pure-Python build), the caller
        if caller is None:
            return None
        if caller.f_code is code:
            return caller
        caller = caller.f_back
    return None


def _note_compression(handler: TelemetryHandler, caller: Any) -> None:
    frame = current_frame()
    if frame is None or frame.owner is not caller.f_locals.get("self"):
        return
    # A summary retried on fewer messages is the same compression.
    episode = id(caller)
    if frame.extra is None or frame.extra.get("_compression") != episode:
        handler.note_compression(frame)
        if frame.extra is not None:
            frame.extra["_compression"] = episode


def _structured_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        inv = None
        try:
            caller = _compression_caller()
            compressing = caller is not None
            if compressing:
                _note_compression(handler, caller)
            inputs = system = None
            if handler.capture_content:
                inputs, system = _messages.request(
                    args[0] if args else kwargs.get("messages"))
            provider, api = provider_and_api(instance)
            inv = handler.start_chat(
                request_model=getattr(instance, "model", None), provider=provider,
                stream=getattr(instance, "stream", None), input_messages=inputs,
                system_instructions=system, compression=compressing, api=api)
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
        usage = read_field(response, "usage")
        reason = read_field(response, "finished_reason")
        handler.finish_chat(
            inv, response_id=read_field(response, "id"),
            finish_reasons=[str(reason)] if reason is not None else None,
            input_tokens=read_field(usage, "input_tokens"),
            output_tokens=read_field(usage, "output_tokens"),
            output_messages=_structured_output(response) if handler.capture_content else None)
    except Exception:  # noqa: BLE001
        report("agentscope structured output end")
    return response


def _structured_output(response: Any) -> Any:
    content = read_field(response, "content")
    if content is None:
        return None
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False,
                                                                 default=str)
    return [{"role": "assistant", "parts": [{"type": "text", "content": text}],
             "finish_reason": "stop"}]
