"""How our own failures are reported: logged once per place, never raised."""

from __future__ import annotations

import logging
import threading

_logger = logging.getLogger("opentelemetry.instrumentation.agents")
_seen: set[str] = set()
_seen_lock = threading.Lock()


def report(where: str) -> None:
    """Log the exception being handled as an instrumentation fault.

    Called from ``except`` blocks that shield the host from our own bugs. The
    first fault at each place is a warning with its traceback; later ones are
    debug records, so a broken provider cannot flood the host's logs.
    """
    with _seen_lock:
        first = where not in _seen
        _seen.add(where)
    if first:
        _logger.warning("opentelemetry-instrumentation-agents failed in %s; "
                        "the application is unaffected", where, exc_info=True)
    else:
        _logger.debug("instrumentation fault in %s", where, exc_info=True)


def error_type(exc: BaseException) -> str:
    """The `error.type` value for an exception: its fully qualified class name."""
    cls = type(exc)
    module = cls.__module__
    if module in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"
