"""Run attributes: a session, a user and tags on every span of a run.

Kept as W3C baggage in the OpenTelemetry context, so they follow the run
wherever the context goes: into threads and tasks the runtime starts, and
across processes wherever we carry the trace context (MCP, A2A, the
AgentScope message bus, PraisonAI ``launch()``), since the default
propagators (``OTEL_PROPAGATORS=tracecontext,baggage``) send baggage with it.
Baggage is visible to every service the request reaches: put no secrets in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry.context import Context, attach, detach, get_current

from opentelemetry import baggage

from . import attributes as A

_KEYS = (A.CONVERSATION_ID, A.USER_ID)

# The key the API keeps baggage under, to read it straight off a context:
# learnt from the API itself (the only key setting baggage puts in a context).
BAGGAGE_KEY = next(iter(baggage.set_baggage("probe", "1", Context())))


@contextmanager
def agent_run(session_id: str | None = None, user_id: str | None = None,
              attributes: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Every span this instrumentation creates inside the block gets:

    - ``gen_ai.conversation.id`` = `session_id`, where the runtime gives none;
    - ``user.id`` = `user_id`;
    - ``agents.run.<key>`` = str(value) for each of `attributes`.

    Values travel as baggage (strings), in this process and across the
    processes our instrumentation propagates the trace context to. Blocks nest:
    an inner block adds to, or overrides, the outer one's values.
    """
    ctx = get_current()
    entries = {A.CONVERSATION_ID: session_id, A.USER_ID: user_id}
    entries.update({A.RUN_ATTRIBUTE_PREFIX + str(k): v for k, v in (attributes or {}).items()})
    for key, value in entries.items():
        if value is not None:
            ctx = baggage.set_baggage(key, str(value), ctx)
    token = attach(ctx)
    try:
        yield
    finally:
        detach(token)


def add_run_attributes(attrs: dict[str, Any], parent: Context | None) -> None:
    """The run's values from `parent`'s baggage into a new span's `attrs`
    (the runtime's own conversation id wins); one context lookup when unused."""
    entries = baggage.get_all(parent)
    if not entries:
        return
    for key, value in entries.items():
        if key in _KEYS or key.startswith(A.RUN_ATTRIBUTE_PREFIX):
            attrs.setdefault(key, value)
