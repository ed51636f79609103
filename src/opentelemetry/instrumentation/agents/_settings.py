"""Every environment variable the instrumentation reads, parsed in one place.

Read on each call, not at import, so a setting made before instrumenting
counts (the handler reads the content settings when it is created). A value
that means nothing here is warned about once and treated as unset.

- ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``: message content on
  spans (`capture_enabled`) and on the details event (`event_content_enabled`),
  read as `opentelemetry-util-genai` reads it.
- ``OTEL_SEMCONV_STABILITY_OPT_IN``: ``gen_ai_latest_experimental`` switches
  the capture variable to util-genai's modes (`experimental_opt_in`).
- ``OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT``: whether model calls emit the
  details event (`emit_event_enabled`).
- ``OTEL_INSTRUMENTATION_AGENTS_CONTENT_MAX_LENGTH``: most characters one
  content attribute holds (`max_length`, default 8192).
- ``OTEL_INSTRUMENTATION_AGENTS_SIGNALS``: ``false`` turns off the production
  signals derived from what is traced (overlap, loops, empty answers,
  guardrail evaluation events; `signals_enabled`, default on).
- ``OTEL_INSTRUMENTATION_AGENTS_LOOP_THRESHOLD``: how many identical tool
  calls in one invocation make a loop (`loop_threshold`, default 3).
- ``OPENAI_BASE_URL``, ``OPENAI_API_BASE``: not ours; where the OpenAI client
  sends requests when nothing else says, read to name the server of a
  PraisonAI/LiteLLM Responses call (`openai_base_url`).

A new variable goes here: its name as a constant, a function that parses
it, and a bullet above (and in the README's configuration text).
"""

from __future__ import annotations

import logging
import os
from typing import Any

_logger = logging.getLogger(__name__)

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
MAX_LENGTH_ENV = "OTEL_INSTRUMENTATION_AGENTS_CONTENT_MAX_LENGTH"
STABILITY_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN"
DEFAULT_MAX_LENGTH = 8192

EXPERIMENTAL_OPT_IN = "gen_ai_latest_experimental"

# `ContentCapturingMode` of opentelemetry-util-genai, by name: whether the
# mode puts content on spans. EVENT_ONLY and SPAN_AND_EVENT put it on the
# `gen_ai.client.inference.operation.details` event (see `event_content_enabled`).
CAPTURE_MODES = {"NO_CONTENT": False, "SPAN_ONLY": True, "EVENT_ONLY": False,
                 "SPAN_AND_EVENT": True}
EVENT_MODES = ("EVENT_ONLY", "SPAN_AND_EVENT")
EMIT_EVENT_ENV = "OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT"
OPENAI_BASE_URL_ENV = "OPENAI_BASE_URL"
SIGNALS_ENV = "OTEL_INSTRUMENTATION_AGENTS_SIGNALS"
LOOP_THRESHOLD_ENV = "OTEL_INSTRUMENTATION_AGENTS_LOOP_THRESHOLD"
DEFAULT_LOOP_THRESHOLD = 3
OPENAI_API_BASE_ENV = "OPENAI_API_BASE"

_warned: set[str] = set()


def _warn_once(message: str, *args: Any) -> None:
    key = message % args
    if key not in _warned:
        _warned.add(key)
        _logger.warning(message, *args)


def experimental_opt_in() -> bool:
    """Whether `OTEL_SEMCONV_STABILITY_OPT_IN` lists ``gen_ai_latest_experimental``.

    Read as `opentelemetry-instrumentation` reads it: a comma-separated list,
    each entry stripped, compared exactly.
    """
    raw = os.environ.get(STABILITY_ENV)
    if not raw:
        return False
    return EXPERIMENTAL_OPT_IN in [entry.strip() for entry in raw.split(",")]


def capture_enabled() -> bool:
    """Whether message content goes on spans, read from the environment.

    The same values, read the same way, as `opentelemetry-util-genai`, so one
    setting governs every GenAI instrumentation in a process:

    - without ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``:
      ``true`` (any case) switches capture on, anything else leaves it off
      (``false`` quietly; any other value, ``1`` and ``yes`` included, with
      one warning naming the accepted values: util-genai reads only ``true``);
    - with it: one of ``NO_CONTENT``, ``SPAN_ONLY``, ``EVENT_ONLY``,
      ``SPAN_AND_EVENT`` (any case); ``SPAN_ONLY`` and ``SPAN_AND_EVENT``
      record content on spans. Any other value (``true`` included) is
      ``NO_CONTENT``, with a warning.
    """
    raw = os.environ.get(CAPTURE_ENV)
    if not raw:
        return False
    if experimental_opt_in():
        mode = CAPTURE_MODES.get(raw.upper())
        if mode is None:
            _warn_once("%s=%r is not one of %s (read that way because %s lists %s); "
                       "capturing no content", CAPTURE_ENV, raw, ", ".join(CAPTURE_MODES),
                       STABILITY_ENV, EXPERIMENTAL_OPT_IN)
            return False
        return mode
    if raw.lower() == "true":
        return True
    if raw.upper() in CAPTURE_MODES:
        _warn_once("%s=%s needs %s=%s; capturing no content", CAPTURE_ENV, raw,
                   STABILITY_ENV, EXPERIMENTAL_OPT_IN)
    elif raw.lower() != "false":
        # `1`, `yes`, `on`...: not accepted, so that this one variable means the
        # same to us as to every util-genai instrumentation in the process
        # (they read only `true`); said once, rather than silently off.
        _warn_once("%s=%r is not recognised; accepted values: true, false (any case), or "
                   "with %s=%s one of %s; capturing no content", CAPTURE_ENV, raw,
                   STABILITY_ENV, EXPERIMENTAL_OPT_IN, ", ".join(CAPTURE_MODES))
    return False


def _mode() -> str | None:
    """The capture mode's name under the experimental opt-in (None without it)."""
    if not experimental_opt_in():
        return None
    raw = os.environ.get(CAPTURE_ENV)
    mode = raw.upper() if raw else "NO_CONTENT"
    return mode if mode in CAPTURE_MODES else "NO_CONTENT"


def event_content_enabled() -> bool:
    """Whether message content goes on the details event (EVENT_ONLY, SPAN_AND_EVENT)."""
    return _mode() in EVENT_MODES


def emit_event_enabled() -> bool:
    """Whether model calls emit the `gen_ai.client.inference.operation.details` event.

    As `opentelemetry-util-genai` decides it: only under the experimental
    opt-in; ``OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT`` (``true``/``false``, any
    case) decides when set, otherwise the capture mode does (yes for
    EVENT_ONLY and SPAN_AND_EVENT).
    """
    mode = _mode()
    if mode is None:
        return False
    raw = (os.environ.get(EMIT_EVENT_ENV) or "").strip().lower()
    if raw == "true":
        return True
    if raw == "false":
        return False
    if raw:
        _warn_once("%s=%r is not true or false; deciding by %s", EMIT_EVENT_ENV, raw,
                   CAPTURE_ENV)
    return mode in EVENT_MODES


def max_length() -> int:
    """Most characters one content attribute may hold (`MAX_LENGTH_ENV`).

    A positive integer; unset, empty or anything else means the default
    (`DEFAULT_MAX_LENGTH`), with a warning for a value that is not one.
    """
    raw = os.environ.get(MAX_LENGTH_ENV)
    if not raw:
        return DEFAULT_MAX_LENGTH
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        _warn_once("%s=%r is not a positive integer; using %d", MAX_LENGTH_ENV, raw,
                   DEFAULT_MAX_LENGTH)
        return DEFAULT_MAX_LENGTH
    return value


def openai_base_url() -> str | None:
    """The OpenAI client's base URL from the environment, as LiteLLM looks it up."""
    return os.environ.get(OPENAI_BASE_URL_ENV) or os.environ.get(OPENAI_API_BASE_ENV) or None


def signals_enabled() -> bool:
    """Whether the derived production signals are on (`SIGNALS_ENV`, default true).

    ``false`` (any case) turns them off; ``true`` or unset leaves them on;
    anything else is warned about and leaves them on.
    """
    raw = (os.environ.get(SIGNALS_ENV) or "").strip().lower()
    if raw == "false":
        return False
    if raw and raw != "true":
        _warn_once("%s=%r is not true or false; signals stay on", SIGNALS_ENV, raw)
    return True


def loop_threshold() -> int:
    """Identical tool calls in one invocation that make a loop (`LOOP_THRESHOLD_ENV`).

    An integer of at least 2; unset or anything else means the default
    (`DEFAULT_LOOP_THRESHOLD`), with a warning for a value that is not one.
    """
    raw = os.environ.get(LOOP_THRESHOLD_ENV)
    if not raw:
        return DEFAULT_LOOP_THRESHOLD
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 2:
        _warn_once("%s=%r is not an integer of at least 2; using %d", LOOP_THRESHOLD_ENV,
                   raw, DEFAULT_LOOP_THRESHOLD)
        return DEFAULT_LOOP_THRESHOLD
    return value
