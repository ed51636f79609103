"""Message-content capture: whether to record it, and how to make it safe.

Content is off by default; the switches are read in `_settings`. Captured
values go through the content hook (`set_content_hook`), are serialized to
JSON without ever raising (`to_json`) and cut to `max_length()` characters.
The JSON message shape itself (roles, typed parts) is built by
`_genai_messages` and the runtimes' own message converters.
"""

from __future__ import annotations

import json
import json.encoder
import logging
from collections.abc import Callable
from typing import Any

from ._safety import report
from ._settings import (  # noqa: F401 - the names this module has always offered
    CAPTURE_ENV,
    CAPTURE_MODES,
    DEFAULT_MAX_LENGTH,
    EMIT_EVENT_ENV,
    EVENT_MODES,
    EXPERIMENTAL_OPT_IN,
    MAX_LENGTH_ENV,
    STABILITY_ENV,
    capture_enabled,
    emit_event_enabled,
    event_content_enabled,
    experimental_opt_in,
    max_length,
)

_logger = logging.getLogger(__name__)

TRUNCATION_MARK = "...[truncated]"
UNSERIALIZABLE = "<unserializable>"


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

    Strings pass through as they are (a tool's result is usually text) and
    are cut at the limit, ending in `TRUNCATION_MARK`. Other values become
    JSON, with anything JSON cannot encode replaced by a description of it;
    one longer than the limit is cut inside its texts (`fit`), so it stays
    valid JSON in the same shape. Cyclic or otherwise hopeless values become
    a fixed placeholder. The one exception raised is `ContentDropped`, from a
    `LazyList` whose converter failed (already reported): `render` and
    `render_structured` record nothing then.
    """
    if limit is None:
        limit = max_length()
    try:
        if isinstance(value, str):
            return truncate(_exportable(value), limit)
        if isinstance(value, (list, tuple, LazyList)):
            text = _bounded_list(value, limit)
        else:
            text = _dumps(value)
            if len(text) > limit:
                text = fit(json.loads(text), limit)
    except ContentDropped:
        raise
    except Exception:  # noqa: BLE001 - cycles, broken __repr__, recursion
        return truncate(UNSERIALIZABLE, limit)
    # No JSON fits in fewer than two characters: a limit that small cuts the text.
    return _exportable(text if len(text) <= limit else truncate(text, limit))


def _exportable(text: str) -> str:
    # Lone surrogates cannot be exported as UTF-8; replace rather than fail.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


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
    """`items` as a JSON array no longer than `limit`: the text `json.dumps`
    gives while it fits. Items are serialized one at a time and the rest never
    read once the limit is passed; the item that passes it is cut inside its
    texts to what room is left (`_shrink`), or, when not even its shape fits,
    left out and the item before it marked instead."""
    pieces: list[str] = []
    size = 2  # "[" and "]"
    dumps = _dumps
    for item in items:
        piece = dumps(item)
        room = limit - size - (1 if pieces else 0)
        if len(piece) <= room:
            pieces.append(piece)
            size += len(piece) + (1 if len(pieces) > 1 else 0)
            continue
        cut = _shrink(_copy(item, piece, room), room)
        if cut is not None:
            pieces.append(cut)
        elif pieces:
            # The previous item, marked (in its own room and what is left): the
            # value was cut after it.
            last = pieces[-1]
            pieces[-1] = _shrink(json.loads(last), len(last) + limit - size, force=True) or last
        else:  # not even one item's shape fits: its text, cut, as one JSON string
            return _quoted("[" + piece, limit)
        break
    return "[" + ",".join(pieces) + "]"


# Keys whose string values give a message its shape (the conventions' roles,
# part types, ids, names): never cut, so a cut value keeps its shape.
_STRUCTURAL = frozenset({"role", "type", "id", "name", "finish_reason", "mime_type",
                         "modality", "file_id", "uri"})
_encode_string = json.encoder.encode_basestring  # ensure_ascii=False, as `_dumps`


def fit(value: Any, limit: int) -> str:
    """`value` (plain JSON data) as JSON text of at most `limit` characters,
    its longest texts cut (each ending in `TRUNCATION_MARK`) so it keeps its
    shape; when even its shape does not fit, its whole text cut and marked as
    one JSON string (`_quoted`). Lists go through `_bounded_list`."""
    if isinstance(value, list):
        return _bounded_list(value, limit)
    cut = _shrink(value, limit)
    return cut if cut is not None else _quoted(_dumps(value), limit)


def _quoted(text: str, limit: int) -> str:
    """`text` cut and marked as one JSON string of at most `limit` characters
    (what a value whose shape alone does not fit becomes: still JSON, still marked)."""
    keep = limit - 2
    while keep > 0:
        quoted = _encode_string(truncate(text, keep))
        if len(quoted) <= limit:
            return quoted
        keep -= len(quoted) - limit  # escapes took the room: cut that much more
    return '""' if limit >= 2 else truncate(text, limit)


def _copy(item: Any, piece: str, room: int) -> Any:
    """A plain copy of `item` to cut, its strings already no longer than
    `room` (a text longer than the room is cut anyway: O(room), not O(text));
    parsed from its JSON `piece` when it is not plain data."""
    try:
        return _capped_copy(item, room)
    except TypeError:
        return json.loads(piece)


def _capped_copy(value: Any, room: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= room else value[:room] + TRUNCATION_MARK
    if isinstance(value, dict):
        if not all(type(k) is str for k in value):
            raise TypeError  # keys JSON would convert: let it
        return {k: _capped_copy(v, room) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_capped_copy(v, room) for v in value]
    if value is None or type(value) in (bool, int):
        return value
    raise TypeError  # floats (NaN), bytes, objects: as JSON gave them


def _strings(value: Any, found: list[tuple[Any, Any, str]]) -> None:
    """Every cuttable string inside `value`: (container, key, string)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                if key not in _STRUCTURAL:
                    found.append((value, key, item))
            elif isinstance(item, (dict, list)):
                _strings(item, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                found.append((value, index, item))
            elif isinstance(item, (dict, list)):
                _strings(item, found)


def _capped(text: str, cap: int) -> str:
    return text if len(text) <= cap else text[:cap] + TRUNCATION_MARK


def _shrink(value: Any, room: int, force: bool = False) -> str | None:
    """`value`'s JSON text in at most `room` characters, every text longer
    than one cap cut to it and marked (the cap found by bisection on the
    texts' encoded lengths: O(room) per step); None when it cannot fit. With
    `force`, at least its longest text is cut (to mark a value cut after it)."""
    if isinstance(value, str):
        value = [value]  # a bare string item: cut as one text, unwrapped below
        unwrap = True
    else:
        unwrap = False
    found: list[tuple[Any, Any, str]] = []
    _strings(value, found)
    if not found:
        return None
    for container, key, _ in found:
        container[key] = ""
    frame = len(_dumps(value)) - 2 * len(found) - (2 if unwrap else 0)
    longest = max(len(text) for _, _, text in found)

    def size(cap: int) -> int:
        return frame + sum(len(_encode_string(_capped(t, cap))) for _, _, t in found)

    high = min(longest - 1 if force else longest, room)
    if high < 0 or size(0) > room:
        return None
    low = 0  # size(low) fits; find the largest cap that does
    while low < high:
        mid = (low + high + 1) // 2
        if size(mid) <= room:
            low = mid
        else:
            high = mid - 1
    for container, key, text in found:
        container[key] = _capped(text, low)
    return _dumps(value[0] if unwrap else value)


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
    `opentelemetry-util-genai` emits them); one longer than `limit`
    characters as JSON is cut inside its texts first (`to_json`), so the cost
    stays bounded by the limit. Never raises.
    """
    try:
        value = apply_hook(kind, key, value)
        if value is None:
            return None
        text = to_json(value, limit)
        if isinstance(value, str):
            return text
        try:  # cut or not, the text is JSON of the value's shape
            return json.loads(text)
        except ValueError:  # a placeholder for what could not be serialized
            return text
    except Exception:
        _logger.debug("content for %s dropped", key, exc_info=True)
        return None
