"""Message-content capture: whether to record it, and how to make it safe.

Content is off by default. The switch reads the same environment variables,
with the same values, as `opentelemetry-util-genai`, so one setting governs
every GenAI instrumentation in a process.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

_logger = logging.getLogger(__name__)

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
MAX_LENGTH_ENV = "OTEL_INSTRUMENTATION_AGENTS_CONTENT_MAX_LENGTH"
STABILITY_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN"
DEFAULT_MAX_LENGTH = 8192
TRUNCATION_MARK = "...[truncated]"
UNSERIALIZABLE = "<unserializable>"

_SPAN_MODES = {"SPAN_ONLY", "SPAN_AND_EVENT"}


def capture_enabled() -> bool:
    """Whether message content goes on spans, read from the environment."""
    raw = os.environ.get(CAPTURE_ENV, "").strip()
    if not raw:
        return False
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    # The enum values only mean something under the experimental opt-in,
    # which is how the GenAI utilities read them too.
    if "gen_ai_latest_experimental" in os.environ.get(STABILITY_ENV, ""):
        return raw.upper() in _SPAN_MODES
    return False


def max_length() -> int:
    raw = os.environ.get(MAX_LENGTH_ENV)
    if not raw:
        return DEFAULT_MAX_LENGTH
    try:
        value = int(raw)
    except ValueError:
        _logger.warning("%s=%r is not an integer; using %d", MAX_LENGTH_ENV, raw,
                        DEFAULT_MAX_LENGTH)
        return DEFAULT_MAX_LENGTH
    return max(value, 0)


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = max(limit - len(TRUNCATION_MARK), 0)
    return text[:keep] + TRUNCATION_MARK


def _fallback(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    for attr in ("model_dump", "to_dict"):
        method = getattr(value, attr, None)
        if callable(method):
            try:
                return method()
            except Exception:  # noqa: BLE001 - a broken to_dict is the host's issue
                break
    try:
        return repr(value)
    except Exception:  # noqa: BLE001
        return UNSERIALIZABLE


def to_json(value: Any, limit: int | None = None) -> str:
    """Serialize `value` to JSON text no longer than `limit`; never raises.

    Strings pass through as they are (a tool's result is usually text), other
    values become JSON, with anything JSON cannot encode replaced by a
    description of it. Cyclic or otherwise hopeless values become a fixed
    placeholder.
    """
    if limit is None:
        limit = max_length()
    try:
        if isinstance(value, str):
            text = value
        else:
            text = json.dumps(value, default=_fallback, ensure_ascii=False)
    except Exception:  # noqa: BLE001 - cycles, broken __repr__, recursion
        text = UNSERIALIZABLE
    # Lone surrogates cannot be exported as UTF-8; replace rather than fail.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return truncate(text, limit)


ContentHook = Callable[[str, str, Any], Any]
"""`hook(span_kind, attribute_key, value) -> value or None` (None drops it)."""

_content_hook: ContentHook | None = None


def set_content_hook(hook: ContentHook | None) -> None:
    """Install a function that may redact or drop content before it is recorded."""
    global _content_hook
    _content_hook = hook


def apply_hook(kind: str, key: str, value: Any) -> Any:
    hook = _content_hook
    if hook is None:
        return value
    try:
        return hook(kind, key, value)
    except Exception:
        _logger.warning("content hook raised; dropping %s", key, exc_info=True)
        return None
