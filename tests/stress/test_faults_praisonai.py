"""PraisonAI Agents faults: the host sees what it sees uninstrumented.

Each scenario runs twice, each time on a fresh agent and scripted server,
first uninstrumented, then instrumented; the host must get the same thing
both times: the same answer and chat history, or the same exception (the
very object the tool raised, where PraisonAI lets it through). Every span
ends, once, and the span where it failed says so. PraisonAI's own timeout
is the per-tool one (``ToolConfig(timeout=...)``); an application's is
``asyncio.wait_for`` around ``achat``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from typing import Any

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    error,
    text,
    tool_calls,
)
from tests.praisonai.support import make_agent

from .checks import assert_all_ended_once, async_outcome, normalize, outcome

pytestmark = pytest.mark.usefixtures("praisonai_offline")


class Abort(BaseException):
    """Like KeyboardInterrupt: not an Exception."""


TOOL_ERROR = ValueError("the tool broke")
ABORT = Abort("stop right there")
KNOWN = (TOOL_ERROR, ABORT)
PROMPT = "Go. [conv:x]"
CANCELLED = "asyncio.exceptions.CancelledError"


def _tool_script():
    return [tool_calls([ToolCall("work", {"city": "Lima"})]), text("done")]


class Scenario:
    """One fault: the script, what the tool does, and how the host calls the agent.

    `host`: "chat", "achat", "cancel in model", "cancel in tool",
    "wait_for in model", "wait_for in tool".
    """

    def __init__(self, script, host: str, *, tool: str | None = None,
                 tool_timeout: float | None = None) -> None:
        self.script = script
        self.host = host
        self.tool = tool  # None, "raise", "abort", "slow"
        self.tool_timeout = tool_timeout

    def _tool(self, entered: threading.Event):
        behaviour = self.tool

        def work(city: str) -> str:
            """Do some work.

            Args:
                city: The city.
            """
            entered.set()
            if behaviour == "raise":
                raise TOOL_ERROR
            if behaviour == "abort":
                raise ABORT
            if behaviour == "slow":
                time.sleep(1.0)
            return f"worked in {city}"

        async def async_work(city: str) -> str:
            entered.set()
            if behaviour == "raise":
                raise TOOL_ERROR
            if behaviour == "abort":
                raise ABORT
            await asyncio.sleep(5 if self.host.endswith("in tool") else 1.0)
            return f"worked in {city}"

        async_work.__doc__ = work.__doc__
        async_work.__name__ = async_work.__qualname__ = "work"
        # An async tool only where the host cancels inside it.
        return async_work if self.host.endswith("in tool") else work

    def run(self) -> dict[str, Any]:
        entered = threading.Event()
        options: dict[str, Any] = {}
        if self.tool_timeout is not None:
            from praisonaiagents.config.feature_configs import ToolConfig

            options["tool_config"] = ToolConfig(timeout=self.tool_timeout)
        saved = os.environ.get("OPENAI_BASE_URL")
        with ScriptedOpenAIServer(self.script, marker="last") as srv:
            os.environ["OPENAI_BASE_URL"] = srv.base_url
            try:
                agent = make_agent([self._tool(entered)], **options)
                seen = self._drive(agent, entered)
            finally:
                if saved is None:
                    os.environ.pop("OPENAI_BASE_URL", None)
                else:
                    os.environ["OPENAI_BASE_URL"] = saved
        return {**seen, "history": normalize(agent.chat_history)}

    def _drive(self, agent: Any, entered: threading.Event) -> dict[str, Any]:
        if self.host == "chat":
            return outcome(lambda: agent.chat(PROMPT), KNOWN)

        async def host() -> dict[str, Any]:
            task = asyncio.ensure_future(agent.achat(PROMPT))
            if self.host == "achat":
                return await async_outcome(lambda: task, KNOWN)
            if self.host.startswith("wait_for"):
                return await async_outcome(lambda: asyncio.wait_for(task, 0.3), KNOWN)
            if self.host == "cancel in model":
                await asyncio.sleep(0.3)  # the model takes 3 s to answer
            else:
                while not entered.is_set():
                    await asyncio.sleep(0.01)
            task.cancel()
            return await async_outcome(lambda: task, KNOWN)

        return asyncio.run(host())


MODEL_FAILED = """
invoke_agent helper {status=ERROR, error.type=openai.InternalServerError, agents.agent.finish_reason=error}
  react step {status=UNSET, gen_ai.react.finish_reason=error}
    chat gpt-4o-mini {status=ERROR, error.type=openai.InternalServerError}
"""
TOOL_FAILED = """
invoke_agent helper {status=UNSET, agents.agent.finish_reason=completed}
  react step {status=UNSET, gen_ai.react.finish_reason=tool_calls}
    chat gpt-4o-mini {status=UNSET}
    execute_tool work {status=ERROR, error.type=%s}
  react step {status=UNSET, gen_ai.react.finish_reason=stop}
    chat gpt-4o-mini {status=UNSET}
"""
RAISED_IN_TOOL = """
invoke_agent helper {status=ERROR, error.type=%(error)s}
  react step {status=ERROR, error.type=%(error)s, gen_ai.react.finish_reason=tool_calls}
    chat gpt-4o-mini {status=UNSET}
    execute_tool work {status=ERROR, error.type=%(error)s}
"""
CANCELLED_IN_MODEL = """
invoke_agent helper {status=ERROR, error.type=CANCELLED_TYPE}
  react step {status=ERROR, error.type=CANCELLED_TYPE, gen_ai.react.finish_reason=cancelled}
    chat gpt-4o-mini {status=ERROR, error.type=CANCELLED_TYPE}
""".replace("CANCELLED_TYPE", CANCELLED)
ABORT_TYPE = f"{__name__}.Abort"
SLOW = [text("slow", delay=3.0)]

SCENARIOS: dict[str, tuple[Scenario, str]] = {
    # PraisonAI answers None when the model fails, in `chat` and `achat`.
    "chat: model answers 500": (Scenario([error(500, "boom")] * 3, "chat"), MODEL_FAILED),
    "achat: model answers 500": (Scenario([error(500, "boom")] * 3, "achat"), MODEL_FAILED),
    # `chat` re-raises a failed tool as ToolExecutionError...
    "chat: tool raises": (Scenario(_tool_script(), "chat", tool="raise"), RAISED_IN_TOOL % {
        "error": "praisonaiagents.errors.ToolExecutionError"}),
    # ...`achat` tells the model about it and goes on.
    "achat: tool raises": (Scenario(_tool_script(), "achat", tool="raise"),
                           TOOL_FAILED % "tool_error"),
    "chat: tool raises a BaseException": (
        Scenario(_tool_script(), "chat", tool="abort"), RAISED_IN_TOOL % {"error": ABORT_TYPE}),
    "achat: tool raises a BaseException": (
        Scenario(_tool_script(), "achat", tool="abort"), RAISED_IN_TOOL % {"error": ABORT_TYPE}),
    "chat: ToolConfig timeout": (
        Scenario(_tool_script(), "chat", tool="slow", tool_timeout=0.2), TOOL_FAILED % "timeout"),
    "achat: ToolConfig timeout": (
        Scenario(_tool_script(), "achat", tool="slow", tool_timeout=0.2), TOOL_FAILED % "timeout"),
    "achat: task cancelled in the model call": (Scenario(SLOW, "cancel in model"),
                                                CANCELLED_IN_MODEL),
    "achat: task cancelled in a tool call": (Scenario(_tool_script(), "cancel in tool"),
                                             RAISED_IN_TOOL % {"error": CANCELLED}),
    "achat: wait_for times out in the model call": (Scenario(SLOW, "wait_for in model"),
                                                    CANCELLED_IN_MODEL),
    "achat: wait_for times out in a tool call": (Scenario(_tool_script(), "wait_for in tool"),
                                                 RAISED_IN_TOOL % {"error": CANCELLED}),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_host_sees_what_it_sees_uninstrumented(name, instrument, exporter, detector):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    scenario, tree = SCENARIOS[name]
    plain = scenario.run()
    instrument(PraisonAIInstrumentor)
    traced = scenario.run()

    assert traced == plain
    if plain.get("raised") == "Abort":
        assert plain["the script's own object"]
    assert_tree(exporter.get_finished_spans(), tree)
    assert_all_ended_once(detector)


def test_a_stream_closed_by_its_reader_ends_every_span(instrument, exporter, detector, server,
                                                       monkeypatch):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    srv = server([text("a long answer, streamed in many small pieces to its reader")],
                 marker="last")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)

    def read_two_then_close() -> dict[str, Any]:
        agent = make_agent([])
        stream = agent.start(PROMPT, stream=True)
        pieces = [next(stream), next(stream)]
        stream.close()
        # Closing PraisonAI's generator leaves the OpenAI SDK stream inside it
        # unclosed, in a reference cycle. Were the cyclic GC to finalize it
        # while the next request holds the same (PraisonAI-wide) client's
        # httpcore pool lock, closing it would take that lock again and the
        # thread would deadlock: encode/httpcore#990, with or without us. Collect it
        # here, between the runs, so no such finalizer is left pending.
        gc.collect()
        return {"pieces": pieces, "history": normalize(agent.chat_history)}

    plain = read_two_then_close()
    instrument(PraisonAIInstrumentor)
    traced = read_two_then_close()

    assert traced == plain
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper {status=UNSET, agents.stream.closed_early=true}
          react step {status=UNSET}
            chat gpt-4o-mini {status=ERROR, error.type=incomplete_stream}
    """)
    assert_all_ended_once(detector)
