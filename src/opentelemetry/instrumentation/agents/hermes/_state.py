"""Per-conversation state of the Hermes adapter, and what it reads off an agent.

`AIAgent` keeps its per-turn bookkeeping (turn id, call counter, current
tool...) on the instance, so overlapping turns on one agent overwrite each
other's. Ours lives in a `Run` object carried by the OpenTelemetry context
of the conversation thread instead: each `run_conversation` call sees only
its own.
"""

from __future__ import annotations

import weakref
from typing import Any

from opentelemetry import context as otel_context

from .._invocations import AgentInvocation, held

RUN_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.hermes.run")
# Set while one of our model-call spans is the current one for an agent, so a
# model-call method reached from inside another (cron, codex and the
# stream-not-supported fallback route streaming through the non-streaming
# method) does not open a second span for the same call.
MODEL_CALL_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.hermes.model-call")
# Set while one of our streamed model calls runs; holds its `ChatInvocation`,
# which Hermes's per-chunk activity touch (on its worker thread) reports to.
CHAT_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.hermes.chat")
# Set while the iteration-limit summary runs; holds its `SummaryCall`.
SUMMARY_KEY = otel_context.create_key("opentelemetry-instrumentation-agents.hermes.summary")



class Run:
    """One `run_conversation` call: its agent frame and loop bookkeeping."""

    __slots__ = ("__weakref__", "agent", "context", "frame", "last_error", "round_pending",
                 "rounds_seen")

    def __init__(self, agent: Any, frame: AgentInvocation) -> None:
        self.agent = agent
        self.frame = frame
        # Weakly held, as the core holds its frames: no cycle through the context.
        self.context = otel_context.set_value(RUN_KEY, weakref.ref(self), frame.context)
        # Set at the top of each loop iteration; the iteration's first model
        # call opens its `react step` (lazily, so an iteration that breaks out
        # before calling the model leaves no empty step behind).
        self.round_pending = False
        self.rounds_seen = False
        # The exception of the last failed model call, cleared by a success:
        # Hermes reports a failed turn in its return value, not by raising.
        self.last_error: BaseException | None = None


def current_run(agent: Any) -> Run | None:
    """The run of `agent` whose loop is executing in this context, if any.

    Tool calls and model calls get contexts of their own (their spans), which
    do not carry the run: code running inside a tool is not the loop.
    """
    run = loop_run()
    if run is None or run.agent is not agent or run.frame.ended:
        return None
    return run


def loop_run() -> Run | None:
    """The run whose loop is executing in this context, whichever agent's it is."""
    return held(RUN_KEY)


# Hermes provider ids with a GenAI semantic-conventions name; the others
# ("custom", "openrouter", "nous", ...) are reported as Hermes names them.
_PROVIDERS = {
    "openai": "openai",
    "openai-codex": "openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "google": "gcp.gemini",
    "bedrock": "aws.bedrock",
    "azure": "azure.ai.openai",
    "deepseek": "deepseek",
    "xai": "x_ai",
    "groq": "groq",
    "mistral": "mistral_ai",
    "perplexity": "perplexity",
}


def provider_name(agent: Any) -> str | None:
    provider = getattr(agent, "provider", None)
    if not isinstance(provider, str) or not provider:
        return None
    return _PROVIDERS.get(provider.lower(), provider)


def agent_name(agent: Any) -> str:
    """What `gen_ai.agent.name` says: Hermes agents have no name of their own.

    A top-level agent is ``hermes``; a sub-agent started by ``delegate_task``
    is named after its delegation role (``hermes-leaf``,
    ``hermes-orchestrator``); the memory/skill review fork is ``hermes-review``.
    """
    if getattr(agent, "_delegate_depth", 0):
        role = getattr(agent, "_delegate_role", None)
        return f"hermes-{role}" if isinstance(role, str) and role else "hermes-subagent"
    if getattr(agent, "_memory_write_origin", None) == "background_review":
        return "hermes-review"
    return "hermes"
