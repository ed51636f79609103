"""PraisonAI's `RateLimiter` (`praisonaiagents.llm.rate_limiter`): the waits it imposes.

One limiter is often shared by many agents and threads
(`ExecutionConfig(rate_limiter=...)`). `acquire` / `acquire_async` (and the
`_tokens` variants for token budgets) return at once when a token is free;
otherwise they ask `_wait_time()` (`_wait_time_for_tokens()`) how long to
sleep, sleep, and try again. A call that asked is one that waited: its
whole time in `acquire` (the sleeps and the lock between them) is the wait,
recorded where the caller is (the agent invocation, before its first round,
or the model call). The flag lives in a context variable, so concurrent
callers of one limiter never see each other's waits.
"""

from __future__ import annotations

from contextvars import ContextVar
from time import perf_counter
from types import ModuleType

from .._handler import TelemetryHandler
from .._patching import Patcher

# The current acquire's flag: [True] once the limiter computed a wait for it.
_waiting: ContextVar[list | None] = ContextVar("otel_agents_praisonai_rate_wait", default=None)


def _mark_wait(wrapped, instance, args, kwargs):
    """`_wait_time` / `_wait_time_for_tokens`: asked only when the caller must wait."""
    cell = _waiting.get()
    if cell is not None:
        cell[0] = True
    return wrapped(*args, **kwargs)


def acquire_wrapper(handler: TelemetryHandler):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        cell = [False]
        token = _waiting.set(cell)
        start = perf_counter()
        try:
            return wrapped(*args, **kwargs)
        finally:
            _waiting.reset(token)
            if cell[0]:
                handler.note_rate_limit_wait(perf_counter() - start)

    return wrapper


def aacquire_wrapper(handler: TelemetryHandler):
    async def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return await wrapped(*args, **kwargs)
        cell = [False]
        token = _waiting.set(cell)
        start = perf_counter()
        try:
            return await wrapped(*args, **kwargs)
        finally:
            _waiting.reset(token)
            if cell[0]:
                handler.note_rate_limit_wait(perf_counter() - start)

    return wrapper


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def limiter(module: ModuleType) -> None:
        for name in ("acquire", "acquire_tokens"):
            patcher.wrap(module, f"RateLimiter.{name}", acquire_wrapper(handler))
        for name in ("acquire_async", "acquire_tokens_async"):
            patcher.wrap(module, f"RateLimiter.{name}", aacquire_wrapper(handler))
        for name in ("_wait_time", "_wait_time_for_tokens"):
            patcher.wrap(module, f"RateLimiter.{name}", _mark_wait)

    patcher.on_import("praisonaiagents.llm.rate_limiter", limiter)
