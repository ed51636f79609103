"""Values read off the runtimes, made fit for span names and attributes.

Public to adapters: `clean` (a bounded, non-empty, exportable string),
`clean_id` (the same for ids), `as_int`, `as_strings`. Never raise: an
unreadable value is None.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NAME_LIMIT", "as_int", "as_strings", "clean", "clean_id"]

NAME_LIMIT = 256
_FIT: dict[str, None] = {}
_FIT_LIMIT = 1024


def clean(value: Any) -> str | None:
    """A name or model id fit for a span name: a bounded, non-empty string."""
    if type(value) is str:
        if value in _FIT:
            return value
        if 0 < len(value) <= NAME_LIMIT and value.isascii() and value.strip() == value:
            if len(_FIT) < _FIT_LIMIT:
                _FIT[value] = None
            return value  # the common case, checked cheaply
    if value is None:
        return None
    if not isinstance(value, str):
        try:
            value = str(value)
        except Exception:  # noqa: BLE001
            return None
    value = value.strip()
    if not value:
        return None
    if len(value) > NAME_LIMIT:
        value = value[:NAME_LIMIT]
    if not value.isascii():
        # Lone surrogates cannot be exported as UTF-8.
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def clean_id(value: Any) -> str | None:
    """An id (a response's, a tool call's, a conversation's) as `clean` makes
    it, checked without the cache: ids rarely repeat, and would crowd the
    names out of it."""
    if type(value) is str and 0 < len(value) <= NAME_LIMIT and value.isascii() \
            and value.strip() == value:
        return value
    return clean(value)


def as_int(value: Any) -> int | None:
    """`value` as an int, or None when it is none or not a number."""
    if value is None or type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def as_strings(values: Any) -> list[str] | None:
    """`values` (one string or several) as bounded strings, or None."""
    if isinstance(values, str):
        values = (values,)
    try:
        strings = []
        for value in values:  # names already known fit (the common case): no call
            if type(value) is not str or value not in _FIT:
                value = clean(value) or ""
            strings.append(value)
        return strings
    except TypeError:
        return None
