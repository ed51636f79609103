"""PraisonAI's schedulers (`praisonai.scheduler`): one trace per scheduled run.

`AgentScheduler` (a thread of its own) and `AsyncAgentScheduler` (a task)
run `_execute_with_retry(max_retries)` once per scheduled run: up to
`max_retries` calls of their executor's `execute(task)`, a failed one
followed by `backoff_delay(attempt)` seconds of an interruptible wait
(`stop()` ends it, and the run with it). With a `timeout` the sync
scheduler runs each call on a pool of its own (`_get_timeout_executor()`)
and gives up on it after `timeout` seconds; the async one uses
`asyncio.wait_for`.

Where each piece of the span tree comes from:

- the run: `_execute_with_retry`, as a root span (`start_schedule_run`);
  its outcome from the scheduler's own counters (success, failure) read
  before and after, `cancelled` when it ended in a backoff;
- an attempt: the executor's `execute` when it runs on the scheduler's own
  thread or task; on the timeout pool, the pool's `submit` (on the
  scheduler's thread, so the attempt ends when the scheduler stops waiting,
  even if the call goes on) with the attempt's context handed to the worker;
- a backoff: `backoff_delay`, called in the scheduler's `except` block (the
  exception being handled is the attempt's failure as the scheduler saw it).
"""

from __future__ import annotations

import sys
import weakref
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from .._handler import TelemetryHandler
from .._patching import Patcher
from .._safety import report

RUN_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.praisonai.schedule")
ATTEMPT_KEY = otel_context.create_key(
    "opentelemetry-instrumentation-agents.praisonai.schedule-attempt")

# The expression each scheduler was started with (`_execute_with_retry` is
# not given it).
_expressions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _current_run() -> Any:
    return otel_context.get_value(RUN_KEY)


def _counts(scheduler: Any) -> tuple[int, int, int]:
    return tuple(int(getattr(scheduler, name, 0) or 0) for name in
                 ("_success_count", "_failure_count", "_undelivered_count"))


def _outcome(scheduler: Any, run: Any, before: tuple[int, int, int]) -> tuple[str, str | None]:
    """How the run ended and which of the user's callbacks the scheduler called."""
    success, failure, undelivered = (a - b for a, b in zip(_counts(scheduler), before,
                                                           strict=True))
    if success:
        callback = "on_failure" if undelivered else "on_success"
        return "success", callback if getattr(scheduler, callback, None) else None
    if failure:
        return "failure", "on_failure" if getattr(scheduler, "on_failure", None) else None
    return ("cancelled" if run.attempts else "skipped"), None


def _start_run(handler: TelemetryHandler, scheduler: Any, args: tuple, kwargs: dict) -> Any:
    if not handler.enabled:
        return None
    try:
        max_retries = args[0] if args else kwargs.get("max_retries")
        return handler.start_schedule_run(
            getattr(getattr(scheduler, "agent", None), "name", None),
            expression=_expressions.get(scheduler), max_retries=max_retries)
    except Exception:  # noqa: BLE001
        report("starting a PraisonAI scheduled run")
        return None


def _end_run(handler: TelemetryHandler, scheduler: Any, run: Any, before: Any) -> None:
    try:
        outcome, callback = _outcome(scheduler, run, before)
    except Exception:  # noqa: BLE001
        report("reading a PraisonAI scheduled run's outcome")
        outcome, callback = "success", None
    handler.finish_schedule_run(run, outcome, callback=callback)


def run_wrapper(handler: TelemetryHandler):
    """`AgentScheduler._execute_with_retry`: the run's span around it."""
    def wrapper(wrapped, instance, args, kwargs):
        run = _start_run(handler, instance, args, kwargs)
        if run is None:
            return wrapped(*args, **kwargs)
        before = _counts(instance)
        token = otel_context.attach(otel_context.set_value(RUN_KEY, run, run.context))
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            otel_context.detach(token)
            handler.finish_schedule_run(run, "failure", error=exc)
            raise
        otel_context.detach(token)
        _end_run(handler, instance, run, before)
        return result

    return wrapper


def arun_wrapper(handler: TelemetryHandler):
    """`AsyncAgentScheduler._execute_with_retry`."""
    async def wrapper(wrapped, instance, args, kwargs):
        run = _start_run(handler, instance, args, kwargs)
        if run is None:
            return await wrapped(*args, **kwargs)
        before = _counts(instance)
        token = otel_context.attach(otel_context.set_value(RUN_KEY, run, run.context))
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            otel_context.detach(token)
            handler.finish_schedule_run(run, "failure", error=exc)
            raise
        otel_context.detach(token)
        _end_run(handler, instance, run, before)
        return result

    return wrapper


def _attempt_context(handler: TelemetryHandler, run: Any) -> tuple[Any, Any]:
    """A new attempt of `run` and the context its call runs in (None: none)."""
    attempt = handler.start_attempt(run)
    if attempt is None:
        return None, None
    ctx = otel_context.set_value(ATTEMPT_KEY, attempt,
                                 otel_context.set_value(RUN_KEY, run, attempt.context))
    return attempt, ctx


def _attempt_here() -> Any:
    """The run whose next attempt starts with a call made now (None: not one)."""
    if otel_context.get_value(ATTEMPT_KEY) is not None:
        return None  # the call is the attempt's own (on the timeout pool)
    return _current_run()


def execute_wrapper(handler: TelemetryHandler):
    """`PraisonAgentExecutor.execute` on the scheduler's thread: one attempt."""
    def wrapper(wrapped, instance, args, kwargs):
        run = _attempt_here()
        attempt, ctx = _attempt_context(handler, run) if run is not None else (None, None)
        if attempt is None:
            return wrapped(*args, **kwargs)
        token = otel_context.attach(ctx)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            otel_context.detach(token)
            handler.attempt_failed(run, exc)
            raise
        otel_context.detach(token)
        handler.finish_attempt(run, attempt)
        return result

    return wrapper


def aexecute_wrapper(handler: TelemetryHandler):
    """`AsyncPraisonAgentExecutor.execute`: one attempt."""
    async def wrapper(wrapped, instance, args, kwargs):
        run = _attempt_here()
        attempt, ctx = _attempt_context(handler, run) if run is not None else (None, None)
        if attempt is None:
            return await wrapped(*args, **kwargs)
        token = otel_context.attach(ctx)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            otel_context.detach(token)
            handler.attempt_failed(run, exc)
            raise
        otel_context.detach(token)
        handler.finish_attempt(run, attempt)
        return result

    return wrapper


def _run_in(ctx: Any, fn: Any, args: tuple, kwargs: dict) -> Any:
    token = otel_context.attach(ctx)
    try:
        return fn(*args, **kwargs)
    finally:
        otel_context.detach(token)


class _AttemptFuture:
    """The pool's future; the attempt ends when the scheduler has its result or gives up."""

    def __init__(self, future: Any, handler: TelemetryHandler, run: Any, attempt: Any) -> None:
        self._future, self._handler, self._run, self._attempt = future, handler, run, attempt

    def result(self, timeout: float | None = None) -> Any:
        try:
            value = self._future.result(timeout)
        except BaseException as exc:
            self._handler.attempt_failed(self._run, exc)
            raise
        self._handler.finish_attempt(self._run, self._attempt)
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._future, name)


class _AttemptPool:
    """The scheduler's timeout pool as `_execute_with_retry` sees it: each submit an attempt."""

    def __init__(self, pool: Any, handler: TelemetryHandler, run: Any) -> None:
        self._pool, self._handler, self._run = pool, handler, run

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        attempt, ctx = _attempt_context(self._handler, self._run)
        if attempt is None:
            return self._pool.submit(fn, *args, **kwargs)
        future = self._pool.submit(_run_in, ctx, fn, args, kwargs)
        return _AttemptFuture(future, self._handler, self._run, attempt)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


def timeout_pool_wrapper(handler: TelemetryHandler):
    """`AgentScheduler._get_timeout_executor`, asked once per attempt inside a run."""
    def wrapper(wrapped, instance, args, kwargs):
        pool = wrapped(*args, **kwargs)
        run = _current_run()
        return pool if run is None else _AttemptPool(pool, handler, run)

    return wrapper


def backoff_wrapper(handler: TelemetryHandler):
    """`backoff_delay` as each scheduler module calls it, in its `except` block."""
    def wrapper(wrapped, instance, args, kwargs):
        seconds = wrapped(*args, **kwargs)
        run = _current_run()
        if run is not None:
            handler.note_backoff(run, seconds, sys.exc_info()[1])
        return seconds

    return wrapper


def _remember_expression(scheduler: Any, args: tuple, kwargs: dict) -> None:
    try:
        expression = args[0] if args else kwargs.get("schedule_expr")
        if isinstance(expression, str):
            _expressions[scheduler] = expression
    except Exception:  # noqa: BLE001
        report("reading a PraisonAI schedule expression")


def start_wrapper(wrapped, instance, args, kwargs):
    """`AgentScheduler.start(schedule_expr, ...)`."""
    _remember_expression(instance, args, kwargs)
    return wrapped(*args, **kwargs)


async def astart_wrapper(wrapped, instance, args, kwargs):
    """`AsyncAgentScheduler.start(schedule_expr, ...)`."""
    _remember_expression(instance, args, kwargs)
    return await wrapped(*args, **kwargs)


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def sync_scheduler(module: ModuleType) -> None:
        patcher.wrap(module, "AgentScheduler.start", start_wrapper)
        patcher.wrap(module, "AgentScheduler._execute_with_retry", run_wrapper(handler))
        patcher.wrap(module, "AgentScheduler._get_timeout_executor",
                     timeout_pool_wrapper(handler))
        patcher.wrap(module, "backoff_delay", backoff_wrapper(handler))

    def async_scheduler(module: ModuleType) -> None:
        patcher.wrap(module, "AsyncAgentScheduler.start", astart_wrapper)
        patcher.wrap(module, "AsyncAgentScheduler._execute_with_retry", arun_wrapper(handler))
        patcher.wrap(module, "AsyncPraisonAgentExecutor.execute", aexecute_wrapper(handler))
        patcher.wrap(module, "backoff_delay", backoff_wrapper(handler))

    def executors(module: ModuleType) -> None:
        patcher.wrap(module, "PraisonAgentExecutor.execute", execute_wrapper(handler))

    patcher.on_import("praisonai.scheduler.agent_scheduler", sync_scheduler)
    patcher.on_import("praisonai.scheduler.async_agent_scheduler", async_scheduler)
    patcher.on_import("praisonai.scheduler.base", executors)
