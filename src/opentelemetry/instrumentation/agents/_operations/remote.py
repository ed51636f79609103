"""`invoke_agent {remote}` CLIENT spans: an agent invoked in another process.

The GenAI conventions make an agent invoked over the network (A2A, a
hosted agent service) an ``invoke_agent`` span of kind CLIENT, with the
peer's ``server.address`` / ``server.port``. The remote side's own spans,
when it is instrumented and continues the context we send, sit under it.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from opentelemetry.trace import SpanKind

from .. import attributes as A
from .._context import set_span_in_context as _set_span_in_context
from .._invocations import RemoteAgentInvocation
from .._safety import error_type as _error_type
from .._safety import report
from .._values import clean as _clean
from ._base import HandlerBase


class RemoteAgentOperations(HandlerBase):
    """Agents that run elsewhere, called as a client."""

    def start_remote_agent(self, name: str | None, *, address: str | None = None,
                           port: int | None = None, agent_id: str | None = None,
                           description: str | None = None, provider: str | None = None,
                           request_model: str | None = None) -> RemoteAgentInvocation | None:
        """Open a CLIENT `invoke_agent` span for an agent in another process."""
        try:
            parent = self.current_parent()
            if parent is None:
                return None
            name = _clean(name)
            attrs: dict[str, Any] = {A.OPERATION_NAME: A.OP_INVOKE_AGENT,
                                     A.RUNTIME: self.runtime}
            if name:
                attrs[A.AGENT_NAME] = name
            agent_id = _clean(agent_id)
            if agent_id:
                attrs[A.AGENT_ID] = agent_id
            for key, value in ((A.AGENT_DESCRIPTION, description), (A.PROVIDER_NAME, provider),
                               (A.REQUEST_MODEL, request_model)):
                value = _clean(value) if value else None
                if value:
                    attrs[key] = value
            if address:
                attrs[A.SERVER_ADDRESS] = address
            if port is not None:
                attrs[A.SERVER_PORT] = port
            span = self._start(f"invoke_agent {name}" if name else "invoke_agent",
                               SpanKind.CLIENT, parent, attrs)
            return RemoteAgentInvocation(span, _set_span_in_context(span, parent),
                                         perf_counter(), attrs)
        except Exception:  # noqa: BLE001
            report("start_remote_agent")
            return None

    def finish_remote_agent(self, inv: RemoteAgentInvocation, *,
                            error: BaseException | None = None,
                            error_type: str | None = None) -> None:
        try:
            if inv.ended:
                return
            self._end(inv, error, error_type)
            if self.metering:
                # A remote agent is a client operation (util-genai 1.3b0 records it so).
                attrs = {key: inv.attributes[key] for key in _METRIC_KEYS
                         if key in inv.attributes}
                err = error_type or (_error_type(error) if error is not None else None)
                if err:
                    attrs[A.ERROR_TYPE] = err
                self._operation_duration.record(perf_counter() - inv.start, attrs, inv.context)
        except Exception:  # noqa: BLE001
            report("finish_remote_agent")


_METRIC_KEYS = (A.OPERATION_NAME, A.PROVIDER_NAME, A.REQUEST_MODEL, A.SERVER_ADDRESS,
                A.SERVER_PORT)
