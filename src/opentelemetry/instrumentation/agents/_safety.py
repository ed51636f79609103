"""How our own failures are reported: logged once per fault, never raised."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Hashable

_logger = logging.getLogger("opentelemetry.instrumentation.agents")
_seen: set[Hashable] = set()
_seen_lock = threading.Lock()


def report(where: str) -> None:
    """Log the exception being handled as an instrumentation fault.

    Called from ``except`` blocks that shield the host from our own bugs. The
    first time a fault is seen it is a warning with its traceback; later ones
    are debug records, so a broken provider cannot flood the host's logs. A
    fault is the exception's class and the line that raised it: one broken
    provider method reached from several of our places warns once, not once
    per place.
    """
    key = _fault(where)
    with _seen_lock:
        first = key not in _seen
        _seen.add(key)
    if first:
        _logger.warning("opentelemetry-instrumentation-agents failed in %s; "
                        "the application is unaffected", where, exc_info=True)
    else:
        _logger.debug("instrumentation fault in %s", where, exc_info=True)


def _fault(where: str) -> Hashable:
    exc = sys.exc_info()[1]
    tb = getattr(exc, "__traceback__", None)
    if tb is None:
        return where
    while tb.tb_next is not None:
        tb = tb.tb_next
    return (type(exc), tb.tb_frame.f_code.co_filename, tb.tb_lineno)


def error_type(exc: BaseException) -> str:
    """The `error.type` value for an exception: its fully qualified class name."""
    cls = type(exc)
    module = cls.__module__
    if module in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def is_cancellation(exc: BaseException) -> bool:
    """Whether `exc` cancelled the work rather than failed it."""
    import asyncio

    # InterruptedError: what Hermes raises out of a model call the user interrupted.
    return isinstance(exc, (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt,
                            InterruptedError))
