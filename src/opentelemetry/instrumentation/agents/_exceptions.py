"""The `exception` event of a span that ended because of an exception.

As the conventions record an exception on a span (what the SDK's
`record_exception` does), but bounded: the message to `MESSAGE_LIMIT`
characters, the stack trace to its innermost `STACK_FRAMES` frames per
exception in the chain and then to `STACK_LIMIT` characters (its end kept:
the innermost frames and the exception line), so one exception raised deep
in a recursion or with a huge message costs the same as any other.
"""

from __future__ import annotations

import traceback
from typing import Any

from . import attributes as A
from ._content import TRUNCATION_MARK
from ._safety import error_type, report

MESSAGE_LIMIT = 1024
STACK_FRAMES = 32
STACK_LIMIT = 8192


def record(span: Any, exc: BaseException) -> None:
    """Add `exc`'s bounded `exception` event to `span` (recording). Never raises."""
    try:
        attrs = {A.EXCEPTION_TYPE: error_type(exc)}
        message = _message(exc)
        if message:
            attrs[A.EXCEPTION_MESSAGE] = message
        stack = _stack(exc)
        if stack:
            attrs[A.EXCEPTION_STACKTRACE] = stack
        span.add_event(A.EVENT_EXCEPTION, attrs)
    except Exception:  # noqa: BLE001
        report("recording an exception event")


def _message(exc: BaseException) -> str | None:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ is the host's, not ours
        return None
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    return _exportable(text)


def _stack(exc: BaseException) -> str | None:
    try:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__,
                                           limit=-STACK_FRAMES)
    except Exception:  # noqa: BLE001 - a broken __str__ in the chain
        return None
    text = "".join(lines)
    if len(text) > STACK_LIMIT:
        head = TRUNCATION_MARK + "\n"
        text = head + text[len(text) - (STACK_LIMIT - len(head)):]
    return _exportable(text)


def _exportable(text: str) -> str:
    if not text.isascii():
        # Lone surrogates would make the exporter fail the whole batch.
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
