"""`process {destination}` CONSUMER spans: a message taken off a bus and handled.

The OpenTelemetry messaging conventions give the handling of one message a
CONSUMER span named ``process {messaging.destination.name}``, with
``messaging.operation.type=process``, ``messaging.system`` and the
destination. Its parent is the context the message was created in, when the
message carried one (one message, one handling: the conventions allow the
creation context as parent then); whatever the handler does (an agent run)
sits under it, and the span ends with ``error.type`` when the handling fails.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import SpanKind

from .. import attributes as A
from .._context import set_span_in_context as _set_span_in_context
from .._invocations import ProcessInvocation
from .._safety import report
from .._values import clean as _clean
from ._base import HandlerBase


class MessagingOperations(HandlerBase):
    """Messages handled off a bus (the consumer side)."""

    def start_process(self, destination: str | None, system: str, *,
                      message_id: str | None = None, parent: Context | None = None
                      ) -> ProcessInvocation | None:
        """Start handling one message of `destination`; `parent` is the
        context the message carried (the current one when None)."""
        try:
            current = self.current_parent()
            if current is None:
                return None
            destination = _clean(destination)
            attrs: dict[str, Any] = {A.MESSAGING_SYSTEM: system,
                                     A.MESSAGING_OPERATION_TYPE: A.MESSAGING_OPERATION_PROCESS,
                                     A.MESSAGING_OPERATION_NAME: A.MESSAGING_OPERATION_PROCESS}
            if destination:
                attrs[A.MESSAGING_DESTINATION_NAME] = destination
            message_id = _clean(message_id)
            if message_id:
                attrs[A.MESSAGING_MESSAGE_ID] = message_id
            context = parent if parent is not None else current
            name = f"process {destination}" if destination else "process"
            span = self._start(name, SpanKind.CONSUMER, context, attrs)
            return ProcessInvocation(span, _set_span_in_context(span, context), perf_counter())
        except Exception:  # noqa: BLE001
            report("start_process")
            return None

    def finish_process(self, inv: ProcessInvocation, *, error: BaseException | None = None,
                       error_type: str | None = None) -> None:
        try:
            self._end(inv, error, error_type)
        except Exception:  # noqa: BLE001
            report("finish_process")
