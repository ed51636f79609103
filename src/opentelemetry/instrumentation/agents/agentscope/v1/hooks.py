"""AgentScope 1.x's ReAct hooks (``pre_/post_reasoning``, ``pre_/post_acting``).

Registered per agent as instance hooks while at least one traced invocation
of it is in flight (`agent.REGISTRY`). AgentScope's own per-instance
re-entrancy guard skips hooks for all but one of several overlapping calls
on one instance, so rounds never depend on them: the hooks only open a round
the ``_reasoning`` wrapper cannot see (a subclass overriding ``_reasoning``
without calling ``super()``) and record how a round ended from the final
reasoning message.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from ... import attributes as A
from ..._handler import TelemetryHandler
from ..._invocations import (
    AgentInvocation,
    current_frame,
)
from ..._safety import report

HOOK_NAME = "opentelemetry.instrumentation.agents"
"""The one name our instance hooks are registered under, for every hook type."""

HOOK_TYPES = ("pre_reasoning", "post_reasoning", "pre_acting", "post_acting")

# The frame whose reasoning round is running in this task, so a round is
# opened once however many of the wrapper and the hooks see it.
IN_REASONING: ContextVar[AgentInvocation | None] = ContextVar(
    "otel_agents_as1_reasoning", default=None)


def make_hooks(handler: TelemetryHandler) -> tuple[tuple[str, Callable[..., None]], ...]:
    """The four hook functions, shared by every agent (they hold no agent)."""

    def own_frame(agent: Any) -> AgentInvocation | None:
        # Hooks run for whatever invocation of `agent` reached them; only the
        # frame of that same agent, in this task's context, is ours to touch.
        frame = current_frame()
        if frame is None or frame.owner is not agent or frame.ended:
            return None
        return frame

    def pre_reasoning(agent: Any, kwargs: dict[str, Any]) -> None:
        try:
            frame = own_frame(agent)
            if frame is not None and IN_REASONING.get() is not frame:
                # A round the `_reasoning` wrapper did not open (a subclass
                # overriding `_reasoning`): open it here. The flag is cleared
                # by post_reasoning, or by the invocation's end if it raised.
                handler.start_step(frame)
                IN_REASONING.set(frame)
        except Exception:  # noqa: BLE001
            report("agentscope pre_reasoning hook")

    def post_reasoning(agent: Any, kwargs: dict[str, Any], output: Any) -> None:
        try:
            frame = own_frame(agent)
            if frame is None:
                return
            step = frame.step
            if step is not None and output is not None and hasattr(output, "has_content_blocks"):
                # What the agent acts on is the message after every post hook
                # before ours, which may differ from what the model said.
                step.finish_reason = (A.FINISH_TOOL_CALLS if output.has_content_blocks("tool_use")
                                      else A.FINISH_STOP)
            if IN_REASONING.get() is frame:
                IN_REASONING.set(None)
        except Exception:  # noqa: BLE001
            report("agentscope post_reasoning hook")

    def pre_acting(agent: Any, kwargs: dict[str, Any]) -> None:
        try:
            frame = own_frame(agent)
            if frame is not None and frame.step is None:
                # Acting with no round open (a custom loop acting first).
                handler.start_step(frame)
        except Exception:  # noqa: BLE001
            report("agentscope pre_acting hook")

    def post_acting(agent: Any, kwargs: dict[str, Any], output: Any) -> None:
        # Nothing to add: the tool span already ended with the tool's result,
        # and the round stays open for the round's other tool calls. Kept so
        # the four ReAct positions are registered (and removed) as one set.
        return None

    return (("pre_reasoning", pre_reasoning), ("post_reasoning", post_reasoning),
            ("pre_acting", pre_acting), ("post_acting", post_acting))


def register_hooks(agent: Any, hooks: tuple[tuple[str, Callable[..., None]], ...]) -> None:
    """Add our four hooks to `agent`; on failure remove those added, then raise."""
    added: list[tuple[str, Callable[..., None]]] = []
    try:
        for hook_type, hook in hooks:
            agent.register_instance_hook(hook_type, HOOK_NAME, hook)
            added.append((hook_type, hook))
    except BaseException:
        remove_hooks(agent, tuple(added))
        raise
    # Nothing to keep: what to remove is known from `hooks` (and holds no agent).
    return None


def remove_hooks(agent: Any, hooks: tuple[tuple[str, Callable[..., None]], ...]) -> None:
    for hook_type, hook in hooks:
        table = getattr(agent, f"_instance_{hook_type}_hooks", None)
        # Only our own function: the application may have replaced or cleared it.
        if table is not None and table.get(HOOK_NAME) is hook:
            del table[HOOK_NAME]


