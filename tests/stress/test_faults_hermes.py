"""Hermes Agent faults: the host sees what it sees uninstrumented.

Each scenario runs twice, each time on a fresh agent and scripted server,
first uninstrumented, then instrumented; the host must get the same thing
both times: the same result dict (Hermes reports most failures in it rather
than raising), or the same exception, the very object the tool raised. Every
span ends, once, and the span where it failed says so.

Hermes is synchronous: "cancelling" it is `agent.interrupt()` from another
thread, or cancelling the asyncio task that awaits it in `asyncio.to_thread`
(the thread runs on; its spans end when it does). Its own timeout is the
per-request one, `HERMES_API_TIMEOUT`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
from tests.hermes.support import make_agent, tools

from .checks import assert_all_ended_once, async_outcome, outcome


class Abort(BaseException):
    """Like KeyboardInterrupt: not an Exception."""


TOOL_ERROR = ValueError("the tool broke")
ABORT = Abort("stop right there")
KNOWN = (TOOL_ERROR, ABORT)
PROMPT = "Go. [conv:x]"


def _tool_script():
    return [tool_calls([ToolCall("work", {"city": "Lima"})]), text("done")]


class Scenario:
    """One fault: its script, what the tool does, and how the host drives it."""

    def __init__(self, script, *, tool=None, stop: str | None = None) -> None:
        self.script = script
        self.tool = tool
        self.stop = stop  # None, "interrupt in model", "interrupt in tool"

    def run(self) -> dict[str, Any]:
        entered, release = threading.Event(), threading.Event()

        def work(args):
            entered.set()
            if self.tool is not None:
                return self.tool(release)
            return json.dumps({"worked in": args["city"]})

        with ScriptedOpenAIServer(self.script) as srv, \
                tools(work=(work, {"city": "string"})):
            agent = make_agent(srv.base_url, streaming=False)
            if self.stop is None:
                return outcome(lambda: agent.run_conversation(PROMPT), KNOWN)
            seen: dict[str, Any] = {}
            thread = threading.Thread(target=lambda: seen.update(
                result=outcome(lambda: agent.run_conversation(PROMPT), KNOWN)))
            thread.start()
            if self.stop == "interrupt in model":
                time.sleep(0.3)  # the model takes 2 s to answer
            else:
                assert entered.wait(10)
            agent.interrupt()
            release.set()
            thread.join(30)
            return seen["result"]


def _raise(exc):
    def tool(release):
        raise exc
    return tool


def _wait_for_release(release):
    assert release.wait(10)
    return json.dumps({"worked": "late"})


FAILED_CALL = """
invoke_agent hermes {status=ERROR, error.type=%(error)s, agents.agent.finish_reason=error}
  react step {status=ERROR, error.type=%(error)s, gen_ai.react.finish_reason=error}
    chat fake-model {status=ERROR, error.type=%(error)s}
"""

SCENARIOS: dict[str, tuple[Scenario, str]] = {
    "model answers 500": (
        Scenario([error(500, "boom")] * 2), FAILED_CALL % {"error": "openai.InternalServerError"}),
    "model answers 400": (
        Scenario([error(400, "bad request")]), FAILED_CALL % {"error": "openai.BadRequestError"}),
    # Hermes answers the model with the error; the conversation goes on.
    "tool raises": (Scenario(_tool_script(), tool=_raise(TOOL_ERROR)), """
        invoke_agent hermes {status=UNSET, agents.agent.finish_reason=completed}
          react step {status=UNSET, gen_ai.react.finish_reason=tool_calls}
            chat fake-model {status=UNSET}
            execute_tool work {status=ERROR, error.type=ValueError}
          react step {status=UNSET, gen_ai.react.finish_reason=stop}
            chat fake-model {status=UNSET}
    """),
    "tool raises a BaseException": (Scenario(_tool_script(), tool=_raise(ABORT)), """
        invoke_agent hermes {status=ERROR, error.type=ABORT}
          react step {status=ERROR, error.type=ABORT, gen_ai.react.finish_reason=tool_calls}
            chat fake-model {status=UNSET}
            execute_tool work {status=ERROR, error.type=ABORT}
    """.replace("ABORT", f"{__name__}.Abort")),
    "interrupt() in the model call": (
        Scenario([text("slow", delay=2.0)], stop="interrupt in model"), """
        invoke_agent hermes {status=ERROR, error.type=cancelled, agents.agent.finish_reason=interrupted}
          react step {status=UNSET, gen_ai.react.finish_reason=cancelled}
            chat fake-model {status=ERROR, error.type=InterruptedError}
    """),
    "interrupt() in a tool call": (
        Scenario(_tool_script(), tool=_wait_for_release, stop="interrupt in tool"), """
        invoke_agent hermes {status=ERROR, agents.agent.finish_reason=interrupted}
          react step {status=UNSET, gen_ai.react.finish_reason=tool_calls}
            chat fake-model {status=UNSET}
            execute_tool work {status=UNSET}
    """),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_host_sees_what_it_sees_uninstrumented(name, instrument, exporter, detector):
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    scenario, tree = SCENARIOS[name]
    plain = scenario.run()
    instrument(HermesAgentInstrumentor)
    traced = scenario.run()

    assert traced == plain
    if "raised" in plain:
        assert plain["the script's own object"]
    assert_tree(exporter.get_finished_spans(), tree)
    assert_all_ended_once(detector)


class _QuickSleep:
    """The `time` module, with `sleep` capped at 10 ms."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(min(seconds, 0.01))


def test_hermes_request_timeout(instrument, exporter, detector, monkeypatch):
    """`HERMES_API_TIMEOUT` cuts a slow model call; Hermes retries once, then fails."""
    from agent import agent_runtime_helpers, conversation_loop

    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    monkeypatch.setenv("HERMES_API_TIMEOUT", "0.2")
    # Hermes waits seconds before its retry; the same short wait in both runs.
    monkeypatch.setattr(conversation_loop, "jittered_backoff", lambda *a, **k: 0.01)
    monkeypatch.setattr(agent_runtime_helpers, "time", _QuickSleep())
    scenario = Scenario([text("slow", delay=1.0)] * 2)
    plain = scenario.run()
    instrument(HermesAgentInstrumentor)
    traced = scenario.run()

    assert traced == plain
    assert plain["returned"]["failure_reason"] == "timeout"
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent hermes {status=ERROR, error.type=openai.APITimeoutError}
          react step {status=ERROR, error.type=openai.APITimeoutError}
            chat fake-model {status=ERROR, error.type=openai.APITimeoutError}
            chat fake-model {status=ERROR, error.type=openai.APITimeoutError}
    """)
    assert_all_ended_once(detector)


def test_cancelling_the_task_awaiting_to_thread(instrument, exporter, detector, server):
    """The host's task is cancelled; the conversation finishes on its thread."""
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    def run_once() -> tuple[dict[str, Any], dict[str, Any]]:
        entered, release = threading.Event(), threading.Event()

        def work(args):
            entered.set()
            assert release.wait(10)
            return json.dumps({"worked in": args["city"]})

        srv = server(_tool_script())
        with tools(work=(work, {"city": "string"})):
            agent = make_agent(srv.base_url, streaming=False)
            finished: dict[str, Any] = {}

            def converse():
                finished["result"] = agent.run_conversation(PROMPT)["final_response"]

            async def host() -> dict[str, Any]:
                with ThreadPoolExecutor(max_workers=1) as pool:
                    loop = asyncio.get_running_loop()
                    task = asyncio.ensure_future(loop.run_in_executor(pool, converse))
                    await loop.run_in_executor(None, entered.wait, 10)
                    task.cancel()
                    seen = await async_outcome(lambda: task)
                    release.set()
                    return seen  # leaving the pool waits for the thread

            return asyncio.run(host()), finished

    plain = run_once()
    instrument(HermesAgentInstrumentor)
    traced = run_once()

    assert traced == plain
    assert plain[0]["raised"] == "CancelledError" and plain[1] == {"result": "done"}
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent hermes {agents.agent.finish_reason=completed}
          react step
            chat fake-model
            execute_tool work
          react step
            chat fake-model
    """)
    assert_all_ended_once(detector)
