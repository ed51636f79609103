"""The `gen_ai.client.inference.operation.details` event of a model call.

Emitted through the OpenTelemetry Logs API when `_content.emit_event_enabled`
says so, in the shape `opentelemetry-util-genai` gives it, so one backend
query finds both: the event name, no body, the model call's attributes
(operation, provider, model, server, request parameters, response, usage,
``error.type``) and, with EVENT_ONLY or SPAN_AND_EVENT, the content as
structured attributes (``gen_ai.input.messages``, ``gen_ai.output.messages``,
``gen_ai.system_instructions``, ``gen_ai.tool.definitions``). The record
carries the chat span's context, so it links to the span.
"""

from __future__ import annotations

from typing import Any

from opentelemetry._logs import Logger, LoggerProvider, LogRecord, get_logger

from . import attributes as A
from ._safety import report


def make_logger(scope: str, version: str, provider: LoggerProvider | None,
                schema_url: str) -> Logger | None:
    try:
        return get_logger(scope, version, provider, schema_url=schema_url)
    except Exception:  # noqa: BLE001 - a broken provider must not fail instrument()
        report("getting a logger")
        return None


def emit_details(logger: Logger, context: Any, attributes: dict[str, Any],
                 content: dict[str, Any] | None) -> None:
    """Emit one details event: `attributes` plus the structured `content`."""
    try:
        if content:
            attributes = {**attributes, **content}
        logger.emit(LogRecord(event_name=A.EVENT_INFERENCE_DETAILS, attributes=attributes,
                              context=context))
    except Exception:  # noqa: BLE001
        report("emitting the inference details event")
