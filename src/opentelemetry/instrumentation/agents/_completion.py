"""Content to external storage: opentelemetry-util-genai's completion hook, honoured.

util-genai loads a completion hook named by
``OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK`` from the
``opentelemetry_genai_completion_hook`` entry points (its own ``upload`` hook
writes the content through ``fsspec`` under
``OTEL_INSTRUMENTATION_GENAI_UPLOAD_BASE_PATH`` and puts references,
``gen_ai.input.messages_ref`` and the like, on the span). We load it with its
loader, hand it our content as its message types, and let it do the rest: no
uploader of ours.

Whether content also goes on the span stays the capture mode's decision, as
in util-genai: with the hook on and ``NO_CONTENT``, content goes to the store
only and the span carries just the references.

Nothing here is imported or looked up unless the hook variable is set when a
handler is created; without it, a handler's hook is None and the operations
pay one attribute check.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from . import attributes as A
from ._content import _plain, apply_hook
from ._safety import report

_logger = logging.getLogger(__name__)

HOOK_ENV = "OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK"


def load_hook() -> Any:
    """util-genai's completion hook as the environment names it, or None (unset,
    util-genai absent, or the hook resolves to its no-op)."""
    if not os.environ.get(HOOK_ENV):
        return None
    try:
        from opentelemetry.util.genai.completion_hook import (
            _NoOpCompletionHook,
            load_completion_hook,
        )
    except ImportError:
        _logger.warning("%s is set but opentelemetry-util-genai (>= 1.3b0) is not installed; "
                        "no content goes to external storage", HOOK_ENV)
        return None
    try:
        hook = load_completion_hook()
    except Exception:  # noqa: BLE001 - a broken hook must not fail instrument()
        report("loading the completion hook")
        return None
    return None if isinstance(hook, _NoOpCompletionHook) else hook


def complete(hook: Any, span: Any, kind: str, *, inputs: Any = None, outputs: Any = None,
             system: Any = None, tools: Any = None) -> None:
    """Hand one operation's content to `hook` while `span` is still open (it
    sets the references on it). The content hook (`set_content_hook`) applies
    first, as it does to what goes on spans. Never raises."""
    try:
        converted = {
            "inputs": _messages(_content(kind, A.INPUT_MESSAGES, inputs), "user"),
            "outputs": _messages(_content(kind, A.OUTPUT_MESSAGES, outputs), "assistant",
                                 output=True),
            "system_instruction": _parts(_content(kind, A.SYSTEM_INSTRUCTIONS, system)),
            "tool_definitions": _tools(_content(kind, A.TOOL_DEFINITIONS, tools)) or None,
        }
        if not any(converted.values()):
            return
        hook.on_completion(**converted, span=span, log_record=None)
    except Exception:  # noqa: BLE001
        report("the completion hook")


def _content(kind: str, key: str, value: Any) -> Any:
    if value is None:
        return None
    value = apply_hook(kind, key, value)
    return None if value is None else _plain(value)


def _messages(value: Any, role: str, output: bool = False) -> list[Any]:
    """Our messages (the conventions' JSON shape) as util-genai's message types;
    a bare text (what some runtimes give an agent) is one message of `role`."""
    from opentelemetry.util.genai.types import InputMessage, OutputMessage, TextPart

    if value is None:
        return []
    if not isinstance(value, list):
        text = value if isinstance(value, str) else _text(value)
        value = [{"role": role, "parts": [{"type": "text", "content": text}]}]
    made = []
    for message in value:
        if not isinstance(message, dict):
            message = {"role": role, "parts": [{"type": "text", "content": _text(message)}]}
        parts = _parts(message.get("parts")) or [TextPart(content="")]
        msg_role = str(message.get("role") or role)
        name = message.get("name")
        if output:
            made.append(OutputMessage(role=msg_role, parts=parts, name=name,
                                      finish_reason=message.get("finish_reason")))
        else:
            made.append(InputMessage(role=msg_role, parts=parts, name=name))
    return made


def _parts(parts: Any) -> list[Any]:
    from opentelemetry.util.genai import types as t

    if not isinstance(parts, list):
        return [] if parts is None else [t.TextPart(content=_text(parts))]
    made = []
    for part in parts:
        if not isinstance(part, dict):
            made.append(t.TextPart(content=_text(part)))
            continue
        get, kind = part.get, part.get("type")
        if kind == "text":
            made.append(t.TextPart(content=_text(get("content"))))
        elif kind == "reasoning":
            made.append(t.ReasoningPart(content=_text(get("content"))))
        elif kind == "tool_call":
            made.append(t.ToolCallRequestPart(arguments=get("arguments"),
                                              name=str(get("name") or ""), id=get("id")))
        elif kind == "tool_call_response":
            made.append(t.ToolCallResponsePart(response=get("response"), id=get("id")))
        elif kind in ("blob", "file", "uri"):
            made.append(_media(t, kind, part))
        else:  # a runtime's own part type: its name, as our span content has it
            made.append(t.GenericPart(type=str(kind)))
    return made


def _media(t: Any, kind: str, part: dict[str, Any]) -> Any:
    mime, modality = part.get("mime_type"), part.get("modality") or "image"
    if kind == "blob":
        return t.BlobPart(mime_type=mime, modality=modality, content=part.get("content"))
    if kind == "file":
        return t.FilePart(mime_type=mime, modality=modality, file_id=str(part.get("file_id")))
    return t.UriPart(mime_type=mime, modality=modality, uri=str(part.get("uri")))


def _tools(tools: Any) -> list[Any]:
    from opentelemetry.util.genai.types import FunctionToolDefinition, GenericToolDefinition

    made = []
    for tool in tools if isinstance(tools, list) else ():
        if not isinstance(tool, dict):
            continue
        name, kind = str(tool.get("name") or ""), str(tool.get("type") or "function")
        if kind == "function":
            made.append(FunctionToolDefinition(name=name, description=tool.get("description"),
                                               parameters=tool.get("parameters")))
        else:
            made.append(GenericToolDefinition(name=name, type=kind))
    return made


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    from ._content import to_json

    return to_json(value, 1 << 62)
