"""`gen_ai.evaluation.result` events: guardrail verdicts and users' own scores.

Emitted through the OpenTelemetry Logs API with the evaluated span's context,
so a backend shows each result on the span it judged. A score below some
threshold is the user's decision to act on: recording never blocks anything.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

from opentelemetry._logs import LogRecord, get_logger
from opentelemetry.trace import NonRecordingSpan, SpanContext, set_span_in_context

from opentelemetry import context as otel_context

from . import attributes as A
from ._safety import report
from ._settings import capture_enabled, event_content_enabled
from .version import __version__

_SCOPE = "opentelemetry.instrumentation.agents"
_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"
_EXPLANATION_LIMIT = 8192


def _logger(provider: Any = None) -> Any:
    return get_logger(_SCOPE, __version__, provider, schema_url=_SCHEMA_URL)


def evaluation_attributes(name: str, score: Any, label: Any,
                          explanation: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = {A.EVALUATION_NAME: str(name)[:256]}
    if isinstance(score, Real) and not isinstance(score, bool):
        attrs[A.EVALUATION_SCORE_VALUE] = float(score)
    if label is not None:
        attrs[A.EVALUATION_SCORE_LABEL] = str(label)[:256]
    if explanation is not None and (capture_enabled() or event_content_enabled()):
        # Free text from a judge or a guardrail: content, so only under capture.
        text = str(explanation)[:_EXPLANATION_LIMIT]
        attrs[A.EVALUATION_EXPLANATION] = text.encode("utf-8", "replace").decode("utf-8")
    return attrs


def emit_evaluation(context: Any, name: str, *, score: Any = None, label: Any = None,
                    explanation: Any = None, logger_provider: Any = None) -> None:
    """Emit one result event carrying `context` (the evaluated span's)."""
    try:
        _logger(logger_provider).emit(LogRecord(
            event_name=A.EVENT_EVALUATION_RESULT, context=context,
            attributes=evaluation_attributes(name, score, label, explanation)))
    except Exception:  # noqa: BLE001
        report("emitting an evaluation result")


def record_evaluation(name: str, *, score: float | None = None, label: str | None = None,
                      explanation: str | None = None,
                      span_context: SpanContext | None = None) -> None:
    """Record an evaluation of an agent's work as a `gen_ai.evaluation.result` event.

    `name`: what was evaluated (say ``"relevance"``); `score`: a number, when
    there is one; `label`: a verdict such as ``"pass"``/``"fail"``;
    `explanation`: recorded only while message content capture is on. The
    event belongs to `span_context` when given (for instance
    `last_invocation_span_context()` once an invocation has returned), else
    to the current span (inside an invocation: its span). Never raises.
    """
    try:
        context = otel_context.get_current()
        if span_context is not None:
            context = set_span_in_context(NonRecordingSpan(span_context), context)
        emit_evaluation(context, name, score=score, label=label, explanation=explanation)
    except Exception:  # noqa: BLE001
        report("record_evaluation")
