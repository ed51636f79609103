"""Per-invocation telemetry state.

One object per agent invocation, round, model call and tool call. They live in
the OpenTelemetry context (a ContextVar), never on the runtime's objects, so
overlapping invocations of one agent instance cannot see each other's state.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import Span

from opentelemetry import context as otel_context

from ._context import get_current as _get_current
from ._context import span_of as _span_of

# The context holds agent and tool invocations by weak reference: an
# invocation's own context names it, and a strong reference would make every
# invocation a reference cycle, kept alive (with its span) until the garbage
# collector runs. Weakly held, all of it is freed the moment the call that
# owns it returns; a context that outlives its invocation (a task the agent
# left running) then simply finds no invocation, as after the end.
FRAME_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.frame")
TOOL_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.tool")


class _Invocation:
    __slots__ = ("__weakref__", "context", "ended", "span", "start")

    def __init__(self, span: Span, context: Context, start: float) -> None:
        self.span = span
        self.context = context
        self.start = start
        self.ended = False


class AgentInvocation(_Invocation):
    """The frame of one agent invocation.

    `owner` is the runtime's agent object, so hooks and wrappers can tell their
    own agent's frame from an enclosing agent's frame in the same context.
    """

    __slots__ = (
        "attributes",
        "completion",  # the input kept for the completion hook (set only while one is on)
        "extra",
        "finish_reason",
        "first_event_at",
        "input_tokens",
        "loop_detected",
        "max_iterations_reached",
        "output_tokens",
        "overlap",
        "owner",
        "parent",
        "rounds",
        "signal_state",
        "step",
        "tool_calls",
        "usage_details",
        "workflow",
    )

    def __init__(self, owner: Any, span: Span, context: Context, start: float,
                 parent: AgentInvocation | None, attributes: dict[str, Any]) -> None:
        self.span = span  # _Invocation's fields, set here: one call less per span
        self.context = context
        self.start = start
        self.ended = False
        self.owner = owner
        self.parent = parent
        self.attributes = attributes
        self.rounds = 0
        self.step: StepInvocation | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        # The usage details its model calls reported, summed by attribute key
        # (None until one reports any), and when a streamed invocation gave
        # its first event.
        self.usage_details = self.first_event_at = None
        self.max_iterations_reached = False
        self.finish_reason: str | None = None
        # Attributes an adapter learns during the invocation (why it paused,
        # the runtime's reply id, ...), set on the span when it ends.
        self.extra: dict[str, Any] | None = None
        # Production signals: the most other invocations of the same instance
        # in flight at once; digest -> count of its tool calls (None until the
        # first); whether a loop tripped; what `start_agent` set up for
        # signals (0: nothing, 1: counted in flight, 2: also in the
        # active-invocations metric).
        self.overlap = 0
        self.tool_calls: dict[int, int] | None = None
        self.loop_detected = False
        self.signal_state = 0
        # The workflow this invocation is a member of (its `_signals.Members`).
        self.workflow = None


class StepInvocation(_Invocation):
    __slots__ = ("finish_reason", "round")

    def __init__(self, span: Span, context: Context, start: float, round_: int) -> None:
        self.span = span  # _Invocation's fields, set here: one call less per span
        self.context = context
        self.start = start
        self.ended = False
        self.round = round_
        self.finish_reason: str | None = None


class ChatInvocation(_Invocation):
    # `completion`: the request's content kept for the completion hook (set
    # only while one is on).
    __slots__ = ("agent", "attributes", "chunk_gaps", "completion", "event", "first_chunk_at",
                 "last_chunk_at")

    def __init__(self, span: Span, context: Context, start: float,
                 agent: AgentInvocation | None, attributes: dict[str, Any]) -> None:
        self.span = span  # _Invocation's fields, set here: one call less per span
        self.context = context
        self.start = start
        self.ended = False
        self.agent = agent
        # What the span started with (operation, provider, model, request
        # parameters, server): the base of its metrics' and event's attributes.
        self.attributes = attributes
        # Streamed calls: when the first chunk arrived (perf_counter); the
        # chat operation sets `last_chunk_at` and `chunk_gaps` (the gaps
        # between chunks, while metrics are on) for streamed calls only.
        # `event`: the content the details event carries (None: no event).
        self.first_chunk_at = self.event = None

    # A call a provider instrumentation that cannot step aside traces instead
    # of us (the subclasses below): class attributes, so the ordinary call
    # pays nothing for them.
    deferred = False
    own_metrics = True


class DeferredChatInvocation(ChatInvocation):
    """A model call whose span, metrics and event belong to a provider
    instrumentation that cannot step aside (docs/genai-stack.md): its span is a
    non-recording stand-in for the enclosing one, and what the runtime reports
    still counts toward the agent span and its round."""

    __slots__ = ()
    deferred = True
    own_metrics = False


class SpanDeferredChatInvocation(DeferredChatInvocation):
    """The same, for a provider instrumentation that records no metrics for
    the call: our `gen_ai.client.*` metrics stay."""

    __slots__ = ()
    own_metrics = True


class ToolInvocation(_Invocation):
    __slots__ = ("agent", "attributes", "error_type")

    def __init__(self, span: Span, context: Context, start: float,
                 agent: AgentInvocation | None, attributes: dict[str, Any]) -> None:
        self.agent = agent
        self.attributes = attributes
        # Set when the runtime swallowed the tool's exception but we saw it.
        self.error_type: str | None = None
        self.span = span  # _Invocation's fields, set here: one call less per span
        self.context = context
        self.start = start
        self.ended = False


class WorkflowInvocation(_Invocation):
    __slots__ = ("attributes", "members")

    def __init__(self, span: Span, context: Context, start: float,
                 attributes: dict[str, Any]) -> None:
        super().__init__(span, context, start)
        self.attributes = attributes
        # What its members hand on to each other (`_signals.Members`; None
        # while signals are off).
        self.members = None


def held(key: str, ctx: Context | None = None) -> Any:
    """The object `ctx` (default: the current context) holds weakly under `key`.

    None when there is none, or when it is gone (its invocation has returned).
    """
    ref = (ctx if ctx is not None else _get_current()).get(key)
    return ref() if ref is not None else None


def current_frame(ctx: Context | None = None) -> AgentInvocation | None:
    """The innermost agent invocation in `ctx` (default: the current context)."""
    # `held`, spelt out: on the path of every wrapped call.
    ref = (ctx if ctx is not None else _get_current()).get(FRAME_KEY)
    return ref() if ref is not None else None


def reentered(owner: Any) -> bool:
    """Whether `owner`'s own invocation is what is current: an entry point of
    the agent reached again from inside that invocation (an override calling
    another one), where one span is enough."""
    ctx = _get_current()
    ref = ctx.get(FRAME_KEY)
    outer = ref() if ref is not None else None
    return outer is not None and outer.owner is owner and _span_of(ctx) is outer.span


def current_tool(ctx: Context | None = None) -> ToolInvocation | None:
    """The tool call whose code is running now, if we traced it."""
    ref = (ctx if ctx is not None else _get_current()).get(TOOL_KEY)
    return ref() if ref is not None else None


class GuardrailInvocation(_Invocation):
    __slots__ = ("attributes",)

    def __init__(self, span: Span, context: Context, start: float,
                 attributes: dict[str, Any]) -> None:
        super().__init__(span, context, start)
        self.attributes = attributes


class EmbeddingsInvocation(_Invocation):
    __slots__ = ("attributes", "nested")
    # False for a call deferred to a provider instrumentation that cannot step
    # aside (`DeferredEmbeddingsInvocation`): its span and metrics are the call's.
    own_metrics = True

    def __init__(self, span: Span, context: Context, start: float,
                 attributes: dict[str, Any], nested: Any = None) -> None:
        super().__init__(span, context, start)
        self.attributes = attributes
        # util-genai's context data inner instrumentations publish into.
        self.nested = nested



class DeferredEmbeddingsInvocation(EmbeddingsInvocation):
    """An embedding call a provider instrumentation that cannot step aside
    traces: a non-recording stand-in for the enclosing span, no metrics."""

    __slots__ = ()
    own_metrics = False

class RetrievalInvocation(_Invocation):
    __slots__ = ("attributes", "nested")

    def __init__(self, span: Span, context: Context, start: float,
                 attributes: dict[str, Any], nested: Any = None) -> None:
        super().__init__(span, context, start)
        self.attributes = attributes
        # util-genai's context data inner instrumentations publish into.
        self.nested = nested


class MCPInvocation(_Invocation):
    """One MCP request, sent (client) or handled (server)."""

    __slots__ = ("attributes", "error_type", "server", "status_code")

    def __init__(self, span: Any, context: Context, start: float,
                 attributes: dict[str, Any], server: bool) -> None:
        super().__init__(span, context, start)
        self.attributes = attributes
        self.server = server
        # How the request ended when that is learnt before it ends (a server
        # answering with an error response instead of raising).
        self.error_type: str | None = None
        self.status_code: int | None = None


class ProcessInvocation(_Invocation):
    """A message-bus message being processed (the consumer side)."""

    __slots__ = ()


class RemoteAgentInvocation(_Invocation):
    """One call of an agent in another process (A2A)."""

    __slots__ = ("attributes",)

    def __init__(self, span: Any, context: Any, start: float, attributes: dict[str, Any]) -> None:
        super().__init__(span, context, start)
        self.attributes = attributes


class ScheduleRun(WorkflowInvocation):
    """One scheduled run and the attempt it is in (or last made)."""

    __slots__ = ("attempt", "attempts", "backoff_pending", "last_error", "pending_error")

    def __init__(self, span: Any, context: Context, start: float,
                 attributes: dict[str, Any]) -> None:
        super().__init__(span, context, start, attributes)
        self.attempts = 0
        self.attempt: WorkflowInvocation | None = None
        self.backoff_pending = False  # a failed attempt's backoff, not yet over
        self.last_error: str | None = None
        # The open attempt's failure, kept until the scheduler decides what
        # follows (a backoff, or the end of the run): the attempt stays open
        # so the backoff lands on it.
        self.pending_error: BaseException | None = None
