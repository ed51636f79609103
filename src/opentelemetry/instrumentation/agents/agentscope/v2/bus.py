"""AgentScope 2.x app: the trace context rides along with run triggers on the message bus.

A chat run that is not spawned by the request itself (a human-in-the-loop
resume posted to ``/chat``, an inbound channel message, an inbox delivery
from a team leader, a schedule) is a *run trigger*: `enqueue_run_trigger`
pushes ``{user_id, session_id, agent_id, kind, input}`` onto the bus's
wake-up queue (`MessageBusKeys.wakeup_queue`), and the `WakeupDispatcher`
of some process (any process, with the Redis bus) drains it and spawns the
run. The trigger is pushed with the submitter's W3C trace context in one
more field, and the dispatcher handles that entry in the context it
carries. The run it spawns (`ChatService._run_impl`, the part of
`ChatService.run` that can fail; `run` logs and swallows what it raises)
is a CONSUMER span ``process agentscope:wakeups`` (the messaging
conventions; `messaging.system` ``redis`` for the Redis bus, ``agentscope``
for the in-memory one; the queue entry's id as `messaging.message.id`),
whose parent is whatever was current where the trigger was submitted; the
run's ``invoke_agent`` is under it, and a run that fails (Redis gone
mid-run) ends it with ``error.type``.

Parent rather than link: one trigger starts exactly one run (the
dispatcher handles entries one by one, and re-queues a busy session's
trigger with the same context), the submitter is that run's cause, and
one trace per request is what users look for. The submitting request
usually ends first (it is fire-and-forget); a child outliving its parent
is allowed. A trigger that carried no context still gets its process span,
as the root of a trace of its own.

No span is added on the submitting side (the push is one Redis command in
the request's own span); the payload is copied, never changed in place,
and the dispatcher reads only the fields it knows.
"""

from __future__ import annotations

from contextvars import ContextVar
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from ..._context import get_current as _get_current
from ..._context import span_of as _span_of
from ..._context import suppressed as _suppressed
from ..._handler import TelemetryHandler
from ..._patching import Patcher
from ..._propagation import carrier_of, extract
from ..._safety import report
from ...attributes import MESSAGING_SYSTEM_REDIS

TRACE_CONTEXT_FIELD = "_otel_trace_context"
"""The payload field holding the submitter's trace context (W3C carrier)."""

IN_MEMORY_SYSTEM = "agentscope"
"""`messaging.system` of AgentScope's in-memory bus (a bus of its own, not a product)."""

_BUSES = (
    ("agentscope.app.message_bus._in_memory_message_bus", "InMemoryMessageBus"),
    ("agentscope.app.message_bus._redis_message_bus", "RedisMessageBus"),
)


class _Trigger:
    """A drained wake-up entry: what its process span says, and where it goes."""

    __slots__ = ("context", "message_id", "payload", "queue", "system")

    def __init__(self, payload: dict, context: Any, message_id: Any, queue: str,
                 system: str) -> None:
        self.payload = payload
        self.context = context
        self.message_id = message_id if isinstance(message_id, str) else None
        self.queue = queue
        self.system = system


# The entries the dispatcher drained last in this task, until `_dispatch_one`
# takes them in order.
_DRAINED: ContextVar[list[_Trigger] | None] = ContextVar(
    "opentelemetry-instrumentation-agents.agentscope.bus.drained", default=None)

# In the context `_dispatch_one` runs in (and so in the run task it spawns):
# the trigger being dispatched, until the run's process span takes it.
_DISPATCHING = otel_context.create_key("agents.agentscope.bus.dispatching")


def _system_of(bus: Any) -> str:
    return MESSAGING_SYSTEM_REDIS if type(bus).__name__ == "RedisMessageBus" \
        else IN_MEMORY_SYSTEM


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
        return _drain(wrapped, instance, args, kwargs)

    return wrapper


async def _drain(wrapped, instance, args, kwargs):
    entries = await wrapped(*args, **kwargs)
    try:
        key = args[0] if args else kwargs.get("key")
        if key == _wakeup_queue() and isinstance(entries, list):
            system = _system_of(instance)
            drained = []
            for entry in entries:
                if not (isinstance(entry, tuple) and len(entry) == 2):
                    continue
                entry_id, payload = entry
                if isinstance(payload, dict):
                    carrier = payload.get(TRACE_CONTEXT_FIELD)
                    drained.append(_Trigger(
                        payload, extract(carrier) if isinstance(carrier, dict) else None,
                        entry_id, key, system))
            # Awaited directly by the dispatcher, so this is set in its task.
            _DRAINED.set(drained or None)
    except Exception:  # noqa: BLE001
        report("reading the trace context of AgentScope run triggers")
    return entries


def _trigger_for(kwargs: dict) -> _Trigger | None:
    """The drained entry `_dispatch_one(**kwargs)` is handling.

    The dispatcher calls `_dispatch_one` for the drained entries in order,
    skipping malformed ones: the first remembered entry with these fields
    (and this very ``input`` object) is the one; the ones before it were
    skipped.
    """
    drained = _DRAINED.get()
    if not drained:
        return None
    for index, trigger in enumerate(drained):
        payload = trigger.payload
        if (payload.get("session_id") == kwargs.get("session_id")
                and payload.get("user_id") == kwargs.get("user_id")
                and payload.get("agent_id") == kwargs.get("agent_id")
                and payload.get("input") is kwargs.get("raw_input")):
            del drained[:index + 1]
            return trigger
    return None


def dispatch_wrapper(handler: TelemetryHandler):
    """`WakeupDispatcher._dispatch_one`: run in the context the trigger carried.

    The run task it spawns, and a busy session's re-queued trigger, copy
    that context; the run task finds the trigger in it too.
    """

    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        context = None
        try:
            trigger = _trigger_for(kwargs) if not args else None
            if trigger is not None:
                base = trigger.context if trigger.context is not None else _get_current()
                context = otel_context.set_value(_DISPATCHING, trigger, base)
        except Exception:  # noqa: BLE001
            report("finding the trace context of an AgentScope run trigger")
        if context is None:
            return wrapped(*args, **kwargs)
        return _within(context, wrapped, args, kwargs)

    return wrapper


def run_wrapper(handler: TelemetryHandler):
    """`ChatService._run_impl` of a run the dispatcher spawned: its process span."""

    def wrapper(wrapped, instance, args, kwargs):
        if not handler.enabled:
            return wrapped(*args, **kwargs)
        trigger = None
        try:
            trigger = otel_context.get_value(_DISPATCHING)
        except Exception:  # noqa: BLE001
            report("finding the AgentScope run trigger of a chat run")
        if not isinstance(trigger, _Trigger):
            return wrapped(*args, **kwargs)
        return _processed(handler, trigger, wrapped, args, kwargs)

    return wrapper


async def _processed(handler: TelemetryHandler, trigger: _Trigger, wrapped, args, kwargs):
    inv = handler.start_process(trigger.queue, trigger.system, message_id=trigger.message_id)
    token = None
    if inv is not None:
        try:
            # Taken: a run this run starts in turn is not this trigger's.
            token = otel_context.attach(otel_context.set_value(_DISPATCHING, None, inv.context))
        except Exception:  # noqa: BLE001
            report("entering the process span of an AgentScope run")
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _end_process(handler, inv, token, exc)
        raise
    _end_process(handler, inv, token, None)
    return result


def _end_process(handler: TelemetryHandler, inv: Any, token: Any,
                 error: BaseException | None) -> None:
    if token is not None:
        try:
            otel_context.detach(token)
        except Exception:  # noqa: BLE001
            report("leaving the process span of an AgentScope run")
    if inv is not None:
        handler.finish_process(inv, error=error)


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
    patcher.on_import("agentscope.app._service._chat", lambda module: patcher.wrap(
        module, "ChatService._run_impl", run_wrapper(handler)))
