"""Production failure modes made visible: pieces the agent and tool operations use.

- Overlap: the invocations of each agent instance in flight, keyed by the
  instance's id only while one is in flight (the frame holds the instance, so
  the id cannot be reused meanwhile, and nothing here holds it longer).
- Loops: a digest of each tool call's name and arguments, kept in memory on
  the invocation's frame and never recorded.
- Empty answers: whether a runtime's answer has no text and no structured output.
- The last invocation that returned in this thread or task, for
  `record_evaluation` after the fact.
- Cascades: what the members of a workflow hand on to each other (`Members`).
"""

from __future__ import annotations

import threading
import weakref
from contextvars import ContextVar
from typing import Any

from opentelemetry.trace import Link, SpanContext

from opentelemetry import context as otel_context

from . import attributes as A

_inflight: dict[int, list[Any]] = {}
_inflight_lock = threading.Lock()

_last_invocation: ContextVar[SpanContext | None] = ContextVar(
    "opentelemetry-instrumentation-agents.last_invocation", default=None)


def enter(frame: Any) -> None:
    """`frame`'s invocation starts: it and every invocation of the same instance
    in flight now overlap; each keeps the most others it saw at once."""
    key = id(frame.owner)
    with _inflight_lock:
        running = _inflight.get(key)
        if running is None:
            _inflight[key] = [frame]
            return
        others = len(running)
        for other in running:
            if other.overlap < others:
                other.overlap = others
        frame.overlap = others
        running.append(frame)


def leave(frame: Any) -> None:
    """`frame`'s invocation ended; the instance's entry goes with its last one."""
    key = id(frame.owner)
    with _inflight_lock:
        running = _inflight.get(key)
        if running is None:
            return
        try:
            running.remove(frame)
        except ValueError:
            return
        if not running:
            del _inflight[key]


def in_flight() -> int:
    """How many agent instances have an invocation in flight (for tests)."""
    return len(_inflight)


def tool_digest(name: Any, arguments: Any) -> int:
    """An in-memory digest of one tool call (name and arguments); never recorded."""
    if type(arguments) is dict:
        # Key order does not matter; repr and sorted run in C (json.dumps with
        # options builds an encoder per call: most of this signal's cost).
        try:
            text = repr(sorted(arguments.items()))
        except Exception:  # noqa: BLE001 - keys of mixed types, a broken __repr__
            text = _repr(arguments)
    elif isinstance(arguments, str):
        text = arguments.strip()
    else:
        text = _repr(arguments)
    return hash((name, text))


def _repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__: the object stands for itself
        return str(id(value))


def is_empty(answer: Any, depth: int = 0) -> bool:
    """Whether a runtime's answer holds no text and no structured output.

    None, "", whitespace; a message (an object or dict with `content`) whose
    content is empty and that carries no structured output (`metadata`); a list
    of blocks none of which holds text or anything but reasoning. Anything
    else (a tool call, a dict of structured output) is an answer.
    """
    if answer is None:
        return True
    if isinstance(answer, str):
        return not answer.strip()
    if depth > 3:
        return False
    if isinstance(answer, (list, tuple)):
        for item in answer:  # a loop, not all(<genexpr>): one frame less per answer
            if not is_empty(item, depth + 1):
                return False
        return True
    if isinstance(answer, dict):
        kind = answer.get("type")
        if kind in ("thinking", "reasoning"):
            return True
        if "text" in answer:
            return is_empty(answer["text"], depth + 1)
        if "content" in answer and not answer.get("metadata"):
            return is_empty(answer["content"], depth + 1)
        return not answer
    # Attributes a message or block has first: a missing one can cost a
    # Python-level __getattr__ (pydantic models).
    content = getattr(answer, "content", _MISSING)
    if content is not _MISSING:
        if getattr(answer, "metadata", None):
            return False  # structured output rides on the message's metadata
        return is_empty(content, depth + 1)
    text = getattr(answer, "text", _MISSING)
    if text is not _MISSING:
        return is_empty(text, depth + 1)
    return getattr(answer, "type", None) in ("thinking", "reasoning")


_MISSING = object()

NO_ANSWER = object()
"""What `finish_agent` gets when the adapter did not say what the agent answered."""


# The invocation with this span context just returned (the ContextVar's own
# setter: no Python frame on every invocation's path).
note_returned = _last_invocation.set


def last_invocation_span_context() -> SpanContext | None:
    """The span context of the last agent invocation that returned in the
    caller's thread or task (None before any), to attach an evaluation to it
    with `record_evaluation(..., span_context=...)`."""
    return _last_invocation.get()


# A workflow's context holds its `Members` here (a member's own context too:
# the frames below it tell a direct member from an agent nested in one).
WORKFLOW_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.workflow")


class Members:
    """What the members of one workflow hand on to each other.

    A member that starts ran on the output of the members that finished last,
    in one batch, before it started: in a sequential pipeline the member
    before it; when a team's members finish together, all of them (the
    leader that continues on their results). `parallel` workflows (a fan-out:
    every member gets the workflow's own input) link nothing. Members that
    run concurrently in a sequential workflow are linked as they happened to
    start and finish. Only the members' span contexts are kept (as links),
    never their frames, so nothing here holds an invocation alive.
    """

    __slots__ = ("degraded", "failed", "fresh", "handed", "lock", "outer", "parallel")

    def __init__(self, outer: Any, parallel: bool) -> None:
        # The enclosing agent frame's reference in the workflow's context: an
        # agent that finds the same one in its parent context is a member.
        self.outer = outer
        self.parallel = parallel
        # (owner id, link, whether it failed or was empty) of the last batch.
        self.handed: list[tuple[int, Link, bool]] = []
        self.fresh = False  # whether a member finished since one last started
        self.failed: list[str] = []
        self.degraded = False
        self.lock = threading.Lock()

    def started(self, owner: Any) -> list[Link] | None:
        """A member starts: the links to the members whose output it runs on
        (another agent's, not its own earlier one's)."""
        if self.parallel:
            return None
        with self.lock:
            self.fresh = False
            handed = [(link, bad) for other, link, bad in self.handed
                      if not _is_owner(other, owner)]
            if any(bad for _, bad in handed):
                self.degraded = True
        return [link for link, _ in handed] or None

    def finished(self, owner: Any, span_context: SpanContext, name: str | None,
                 bad: bool) -> None:
        """A member ended (`bad`: in error, or with an empty answer)."""
        with self.lock:
            if bad and (name or "") not in self.failed:
                self.failed.append(name or "")
            if self.parallel or not span_context.is_valid:
                return
            if not self.fresh:
                self.handed = []
                self.fresh = True
            attrs = {A.LINK_TYPE: A.LINK_INPUT_FROM}
            if name:
                attrs[A.AGENT_NAME] = name
            self.handed.append((_owner_key(owner), Link(span_context, attrs), bad))


def _owner_key(owner: Any) -> Any:
    """A reference to `owner` that does not keep it alive (its id when it
    cannot be referenced weakly: then only while it lives is it told apart)."""
    try:
        return weakref.ref(owner)
    except TypeError:
        return id(owner)


def _is_owner(key: Any, owner: Any) -> bool:
    if type(key) is int:
        return key == id(owner)
    return key() is owner
