"""AgentScope 1.x pipelines and message hubs, mapped onto the handler.

- ``sequential_pipeline`` / ``fanout_pipeline`` (and the ``SequentialPipeline``
  / ``FanoutPipeline`` classes, which call them): one ``invoke_workflow`` span
  per call, the agents' ``invoke_agent`` spans under it (fan-out's parallel
  tasks inherit the workflow's context). The functions are patched where
  AgentScope binds them (``agentscope.pipeline``, its ``_functional`` and
  ``_class`` modules); a reference an application took before instrumenting
  stays unpatched.
- ``MsgHub`` (an async context manager): one ``invoke_workflow {hub name}``
  span from ``__aenter__`` to ``__aexit__``; the replies made inside the
  ``async with`` block nest under it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from ..._handler import TelemetryHandler
from ..._patching import Patcher
from ..._safety import report
from ..common import workflows as _workflows

_PIPELINES = ("sequential_pipeline", "fanout_pipeline")

# The open hub run in this context: (hub, workflow invocation, token).
_HUB_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.agentscope.msghub")


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    def pipeline_modules(module: ModuleType) -> None:
        for name in _PIPELINES:
            wrapper = _pipeline_wrapper(handler, name)
            for owner in (module, getattr(module, "_functional", None),
                          getattr(module, "_class", None)):
                if owner is not None and hasattr(owner, name):
                    patcher.wrap(owner, name, wrapper)

    def msghub_module(module: ModuleType) -> None:
        patcher.wrap(module, "MsgHub.__aenter__", _enter_wrapper(handler))
        patcher.wrap(module, "MsgHub.__aexit__", _exit_wrapper(handler))

    patcher.on_import("agentscope.pipeline", pipeline_modules)
    patcher.on_import("agentscope.pipeline._msghub", msghub_module)


def _pipeline_wrapper(handler: TelemetryHandler, name: str):
    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        agents = args[0] if args else kwargs.get("agents")
        inv = _workflows.start(handler, name, name, agents or (),
                               parallel=name == "fanout_pipeline")
        if inv is None:
            return wrapped(*args, **kwargs)
        return _workflows.awaited(handler, inv, wrapped(*args, **kwargs))

    return wrapper


class _HubRun:
    __slots__ = ("hub", "inv", "token")

    def __init__(self, hub: Any, inv: Any) -> None:
        self.hub = hub
        self.inv = inv
        self.token: Any = None


def _enter_wrapper(handler: TelemetryHandler):
    async def wrapper(wrapped, instance, args, kwargs):
        run = None
        if handler.enabled:
            inv = _workflows.start(handler, getattr(instance, "name", None), "MsgHub",
                                   getattr(instance, "participants", None) or ())
            if inv is not None:
                run = _HubRun(instance, inv)
                # Current for the whole `async with` block (the announcement
                # broadcast included), reset by `__aexit__` in this same task.
                run.token = otel_context.attach(
                    otel_context.set_value(_HUB_KEY, run, inv.context))
        try:
            return await wrapped(*args, **kwargs)
        except BaseException as exc:
            if run is not None:
                _close(handler, run, exc)
            raise

    return wrapper


def _close(handler: TelemetryHandler, run: _HubRun, error: BaseException | None) -> None:
    try:
        token, run.token = run.token, None
        if token is not None:
            otel_context.detach(token)
    except Exception:  # noqa: BLE001
        report("agentscope msghub exit")
    handler.finish_workflow(run.inv, error=error)


def _exit_wrapper(handler: TelemetryHandler):
    async def wrapper(wrapped, instance, args, kwargs):
        run = otel_context.get_value(_HUB_KEY)
        if not isinstance(run, _HubRun) or run.hub is not instance:
            return await wrapped(*args, **kwargs)
        error = args[1] if len(args) > 1 and isinstance(args[1], BaseException) else None
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            _close(handler, run, exc)
            raise
        _close(handler, run, error)
        return result

    return wrapper
