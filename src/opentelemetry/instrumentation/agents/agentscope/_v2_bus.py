"""AgentScope 2.x app: the trace context rides along with run triggers on the message bus.

A chat run that is not spawned by the request itself (a human-in-the-loop
resume posted to ``/chat``, an inbound channel message, an inbox delivery
from a team leader, a schedule) is a *run trigger*: `enqueue_run_trigger`
pushes ``{user_id, session_id, agent_id, kind, input}`` onto the bus's
wake-up queue (`MessageBusKeys.wakeup_queue`), and the `WakeupDispatcher`
of some process (any process, with the Redis bus) drains it and spawns the
run. The trigger is pushed with the submitter's W3C trace context in one
more field, and the dispatcher handles that entry in the context it
carries, so the run's ``invoke_agent`` span is a child of whatever was
current where the trigger was submitted.

Parent rather than link: one trigger starts exactly one run (the
dispatcher handles entries one by one, and re-queues a busy session's
trigger with the same context), the submitter is that run's cause, and
one trace per request is what users look for. The submitting request
usually ends first (it is fire-and-forget); a child outliving its parent
is allowed.

No span of our own is added on either side; the payload is copied, never
changed in place, and the dispatcher reads only the fields it knows.
"""

from __future__ import annotations

from contextvars import ContextVar
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from .._handler import TelemetryHandler
from .._operations._base import _get_current, _span_of, _suppressed
from .._patching import Patcher
from .._propagation import carrier_of, extract
from .._safety import report

TRACE_CONTEXT_FIELD = "_otel_trace_context"
"""The payload field holding the submitter's trace context (W3C carrier)."""

_BUSES = (
    ("agentscope.app.message_bus._in_memory_message_bus", "InMemoryMessageBus"),
    ("agentscope.app.message_bus._redis_message_bus", "RedisMessageBus"),
)

# The entries the dispatcher drained last in this task, with the context
# each carried, until `_dispatch_one` takes them in order.
_DRAINED: ContextVar[list[tuple[dict, Any]] | None] = ContextVar(
    "opentelemetry-instrumentation-agents.agentscope.bus.drained", default=None)


def _wakeup_queue() -> str | None:
    try:
        from agentscope.app.message_bus._keys import MessageBusKeys

        return MessageBusKeys.wakeup_queue()
    except Exception:  # noqa: BLE001
        report("reading AgentScope's wake-up queue key")
        return None


def push_wrapper(handler: TelemetryHandler):
    """`queue_push(key, payload)`: a wake-up trigger gets the current context."""

    def wrapper(wrapped, instance, args, kwargs):
        if handler.enabled:
            try:
                args, kwargs = _with_context(args, kwargs)
            except Exception:  # noqa: BLE001
                report("adding the trace context to an AgentScope run trigger")
        return wrapped(*args, **kwargs)

    return wrapper


def _with_context(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    key = args[0] if args else kwargs.get("key")
    payload = args[1] if len(args) > 1 else kwargs.get("payload")
    if not isinstance(payload, dict) or TRACE_CONTEXT_FIELD in payload:
        return args, kwargs
    if key != _wakeup_queue():
        return args, kwargs
    current = _get_current()
    if _suppressed(current) or _span_of(current) is None:
        return args, kwargs
    carrier = carrier_of(current)
    if not carrier:
        return args, kwargs
    payload = {**payload, TRACE_CONTEXT_FIELD: carrier}
    if len(args) > 1:
        return (args[0], payload, *args[2:]), kwargs
    return args, {**kwargs, "payload": payload}


def drain_wrapper(handler: TelemetryHandler):
    """`queue_drain(key)` of the wake-up queue: remember what each entry carried."""

    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        return _drain(wrapped, args, kwargs)

    return wrapper


async def _drain(wrapped, args, kwargs):
    entries = await wrapped(*args, **kwargs)
    try:
        key = args[0] if args else kwargs.get("key")
        if key == _wakeup_queue() and isinstance(entries, list):
            drained = []
            for entry in entries:
                payload = entry[1] if isinstance(entry, tuple) and len(entry) == 2 else None
                if isinstance(payload, dict):
                    carrier = payload.get(TRACE_CONTEXT_FIELD)
                    drained.append((payload, extract(carrier) if isinstance(carrier, dict)
                                    else None))
            # Awaited directly by the dispatcher, so this is set in its task.
            _DRAINED.set(drained or None)
    except Exception:  # noqa: BLE001
        report("reading the trace context of AgentScope run triggers")
    return entries


def _context_for(kwargs: dict) -> Any:
    """The context of the drained entry `_dispatch_one(**kwargs)` is handling.

    The dispatcher calls `_dispatch_one` for the drained entries in order,
    skipping malformed ones: the first remembered entry with these fields
    (and this very ``input`` object) is the one; the ones before it were
    skipped.
    """
    drained = _DRAINED.get()
    if not drained:
        return None
    for index, (payload, context) in enumerate(drained):
        if (payload.get("session_id") == kwargs.get("session_id")
                and payload.get("user_id") == kwargs.get("user_id")
                and payload.get("agent_id") == kwargs.get("agent_id")
                and payload.get("input") is kwargs.get("raw_input")):
            del drained[:index + 1]
            return context
    return None


def dispatch_wrapper(handler: TelemetryHandler):
    """`WakeupDispatcher._dispatch_one`: run in the context the trigger carried.

    The run task it spawns, and a busy session's re-queued trigger, copy
    that context.
    """

    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        context = None
        try:
            context = _context_for(kwargs) if not args else None
        except Exception:  # noqa: BLE001
            report("finding the trace context of an AgentScope run trigger")
        if context is None:
            return wrapped(*args, **kwargs)
        return _within(context, wrapped, args, kwargs)

    return wrapper


async def _within(context: Any, wrapped, args, kwargs):
    token = otel_context.attach(context)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        otel_context.detach(token)


def install(patcher: Patcher, handler: TelemetryHandler) -> None:
    push = push_wrapper(handler)
    drain = drain_wrapper(handler)

    def bus_module(class_name: str):
        def apply(module: ModuleType) -> None:
            patcher.wrap(module, f"{class_name}.queue_push", push)
            patcher.wrap(module, f"{class_name}.queue_drain", drain)

        return apply

    for module_name, class_name in _BUSES:
        patcher.on_import(module_name, bus_module(class_name))
    patcher.on_import("agentscope.app._manager._wakeup_dispatcher", lambda module: patcher.wrap(
        module, "WakeupDispatcher._dispatch_one", dispatch_wrapper(handler)))
