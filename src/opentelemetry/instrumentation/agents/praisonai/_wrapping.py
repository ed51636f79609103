"""The call every PraisonAI wrapper makes: the wrapped function with our span current.

The span's context is current while the wrapped function runs and the
caller's is back before anything else happens: before the span is ended
as failed (`on_error`, then the exception goes on unchanged) and before the
wrapper reads the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._context import attach as _attach
from .._context import detach as _detach


def call_in(context: Any, on_error: Callable[[BaseException], object],
            wrapped: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """`wrapped(*args, **kwargs)` with `context` current; `on_error(exc)` if it raises."""
    token = _attach(context)
    try:
        result = wrapped(*args, **kwargs)
    except BaseException as exc:
        _detach(token)
        on_error(exc)
        raise
    _detach(token)
    return result


async def acall_in(context: Any, on_error: Callable[[BaseException], object],
                   wrapped: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """`await wrapped(*args, **kwargs)` with `context` current; `on_error(exc)` if it raises."""
    token = _attach(context)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _detach(token)
        on_error(exc)
        raise
    _detach(token)
    return result


def fail_with(finish: Callable[..., object], inv: Any) -> Callable[[BaseException], object]:
    """The `on_error` that ends `inv` by a handler's `finish_*(inv, error=exc)`."""
    return lambda exc: finish(inv, error=exc)
