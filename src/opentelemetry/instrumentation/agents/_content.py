"""Message-content capture: whether to record it, and how to make it safe.

Content is off by default. The switch reads the same environment variables,
with the same values, as `opentelemetry-util-genai`, so one setting governs
every GenAI instrumentation in a process (see `capture_enabled`). Captured
values go through the content hook (`set_content_hook`), are serialized to
JSON without ever raising (`to_json`) and cut to `max_length()` characters.
The JSON message shape itself (roles, typed parts) is built by
`_genai_messages` and the runtimes' own message converters.
"""

from __future__ import annotations

import json
import json.encoder
import logging
import os
from collections.abc import Callable
from typing import Any

from ._safety import report

_logger = logging.getLogger(__name__)

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
MAX_LENGTH_ENV = "OTEL_INSTRUMENTATION_AGENTS_CONTENT_MAX_LENGTH"
STABILITY_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN"
DEFAULT_MAX_LENGTH = 8192
TRUNCATION_MARK = "...[truncated]"
UNSERIALIZABLE = "<unserializable>"

EXPERIMENTAL_OPT_IN = "gen_ai_latest_experimental"

# `ContentCapturingMode` of opentelemetry-util-genai, by name: whether the
# mode puts content on spans. EVENT_ONLY and SPAN_AND_EVENT put it on the
# `gen_ai.client.inference.operation.details` event (see `event_content_enabled`).
CAPTURE_MODES = {"NO_CONTENT": False, "SPAN_ONLY": True, "EVENT_ONLY": False,
                 "SPAN_AND_EVENT": True}
EVENT_MODES = ("EVENT_ONLY", "SPAN_AND_EVENT")
EMIT_EVENT_ENV = "OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT"

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
      ``true`` (any case) switches capture on, anything else leaves it off;
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


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in `TRUNCATION_MARK` if cut."""
    if len(text) <= limit:
        return text
    if limit <= len(TRUNCATION_MARK):
        return text[:max(limit, 0)]
    return text[:limit - len(TRUNCATION_MARK)] + TRUNCATION_MARK


class ContentDropped(Exception):
    """A `LazyList` item could not be converted (already reported).

    Raised through `to_json` so the attribute is dropped, as it is when an
    eager converter fails: a history with an unreadable message is not
    recorded at all rather than recorded as a placeholder.
    """


class LazyList:
    """A list whose items are made only when read: `convert(item)` for each
    source item, extended into the list (one source item may give several).

    Serialization reads items only up to the length limit (`to_json`), so a
    long history costs what the limit lets through, not its whole length.
    A content hook sees the whole list (it is handed plain data, see
    `apply_hook`), so with a hook installed every item is converted.
    """

    __slots__ = ("_convert", "_head", "_source")

    def __init__(self, source: Any, convert: Callable[[Any], Any],
                 head: list[Any] | None = None) -> None:
        self._source = source
        self._convert = convert
        self._head = head or []

    def __iter__(self) -> Any:
        yield from self._head
        convert = self._convert
        for item in self._source:
            try:
                converted = convert(item)
            except Exception as exc:  # the attribute is dropped, never the call
                report("converting content (a history item)")
                raise ContentDropped from exc
            yield from converted

    def __bool__(self) -> bool:
        return bool(self._head) or bool(self._source)


def _fallback(value: Any) -> Any:
    if isinstance(value, LazyList):
        return list(value)
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
    placeholder. The one exception raised is `ContentDropped`, from a
    `LazyList` whose converter failed (already reported): `render` and
    `render_structured` record nothing then.
    """
    if limit is None:
        limit = max_length()
    try:
        if isinstance(value, str):
            text = value
        elif isinstance(value, (list, tuple, LazyList)):
            text = _bounded_list(value, limit)
        else:
            text = _dumps(value)
    except ContentDropped:
        raise
    except Exception:  # noqa: BLE001 - cycles, broken __repr__, recursion
        text = UNSERIALIZABLE
    # Lone surrogates cannot be exported as UTF-8; replace rather than fail.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return truncate(text, limit)


def _make_dumps() -> Callable[[Any], str]:
    """`json.dumps(value, default=_fallback, ensure_ascii=False, separators=(",", ":"))`,
    made once.

    A long history is encoded one message at a time, and `json.dumps` spends
    as long in Python around json's C encoder as the encoder itself: where the
    interpreter has that encoder, it is made here for each value (with its own
    circular-reference memo, as `json.dumps` makes it) and called directly.
    Used only if it gives the text `JSONEncoder` gives.
    """
    encode = json.JSONEncoder(default=_fallback, ensure_ascii=False,
                              separators=(",", ":")).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encode
    join, escape = "".join, json.encoder.encode_basestring

    def dumps(value: Any) -> str:
        return join(make({}, _fallback, escape, None, ":", ",", False, False, True)(value, 0))

    try:
        probe = {"text": "\u00e9\"\n\ud800", "n": [1, 2.5, -0.0, None, True, 1e300],
                 "nan": float("nan"), "bytes": b"ab", 3: ("t",)}
        cyclic: list[Any] = []
        cyclic.append(cyclic)
        if dumps(probe) != encode(probe) or dumps("x") != encode("x"):
            return encode
        try:
            dumps(cyclic)
        except ValueError:  # the memo works: a cycle is found, not recursed into
            return dumps
    except Exception:  # noqa: BLE001 - another interpreter's encoder: the plain one
        pass
    return encode


_dumps = _make_dumps()


def _bounded_list(items: Any, limit: int) -> str:
    """`items` as a JSON array, the same text `json.dumps` gives, but items are
    serialized one at a time and the rest skipped once `limit` is passed (the
    caller cuts the text to the limit)."""
    pieces = []
    size = 1  # "[" and a "," after each item but the last (or the "]")
    dumps = _dumps
    for item in items:
        piece = dumps(item)
        pieces.append(piece)
        size += len(piece) + 1
        if size > limit + 1:
            return "[" + ",".join(pieces)
    return "[" + ",".join(pieces) + "]"


ContentHook = Callable[[str, str, Any], Any]
"""`hook(span_kind, attribute_key, value) -> value or None`.

``span_kind`` is ``"agent"``, ``"chat"`` or ``"tool"``; ``attribute_key`` the
attribute about to be set (``gen_ai.input.messages``, ...); ``value`` the
content as plain JSON data (lists, dicts, strings, numbers), a copy the hook
may change freely. It returns what to record (any JSON-serializable value,
or a string recorded as it is) or None to record nothing.
"""

_content_hook: ContentHook | None = None
_hook_failed = False


def set_content_hook(hook: ContentHook | None) -> None:
    """Install a function that may redact or drop content before it is recorded.

    ``hook(span_kind, attribute_key, value)`` is called for every content
    attribute (only while content capture is on), before truncation, and
    returns the value to record or None to drop it. A hook that raises drops
    that value; the failure is logged once. ``set_content_hook(None)``
    removes it. One hook serves the whole process.
    """
    global _content_hook, _hook_failed
    _content_hook = hook
    _hook_failed = False


def _plain(value: Any) -> Any:
    """`value` as plain JSON data, detached from the runtime's own objects."""
    if isinstance(value, str):
        return value
    text = to_json(value, _NO_LIMIT)
    if text == UNSERIALIZABLE:
        return text
    try:
        return json.loads(text)
    except ValueError:  # NaN and the like: hand over the text itself
        return text


_NO_LIMIT = 1 << 62


def apply_hook(kind: str, key: str, value: Any) -> Any:
    global _hook_failed
    hook = _content_hook
    if hook is None:
        return value
    value = _plain(value)  # a ContentDropped from here is not the hook's failure
    try:
        return hook(kind, key, value)
    except Exception:  # the user's hook must not break the host
        if not _hook_failed:
            _hook_failed = True
            _logger.warning("the content hook raised; dropping %s (logged once)", key,
                            exc_info=True)
        return None


def render(kind: str, key: str, value: Any, limit: int) -> str | None:
    """The text to record for one content attribute, or None to record nothing.

    Applies the content hook, then serializes (`to_json`) and truncates to
    `limit` characters. Never raises.
    """
    try:
        value = apply_hook(kind, key, value)
        if value is None:
            return None
        return to_json(value, limit)
    except Exception:
        _logger.debug("content for %s dropped", key, exc_info=True)
        return None


def render_structured(kind: str, key: str, value: Any, limit: int) -> Any:
    """The value for one content attribute of an event, or None to record nothing.

    Events carry content as structured values (lists and maps, as
    `opentelemetry-util-genai` emits them); one that is longer than `limit`
    characters as JSON is recorded as its cut JSON text instead, so the cost
    stays bounded by the limit. Never raises.
    """
    try:
        value = apply_hook(kind, key, value)
        if value is None:
            return None
        text = to_json(value, limit)
        if isinstance(value, str) or text.endswith(TRUNCATION_MARK) or len(text) >= limit:
            return text
        return json.loads(text)
    except Exception:
        _logger.debug("content for %s dropped", key, exc_info=True)
        return None
