"""Span trees of real PraisonAI agents; only the model is scripted (a local HTTP server)."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import threading

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    error,
    text,
    tool_calls,
)

from .support import boom, get_weather, make_agent

TOOL_ROUND = [tool_calls([ToolCall("get_weather", {"city": "Lima"})], usage=(12, 3)),
              text("It is sunny in Lima ({conv}).", usage=(20, 7))]

# The whole tree of one chat with one tool round, every attribute that
# identifies a span or carries its outcome.
CHAT_TREE = """
invoke_agent helper {gen_ai.operation.name=invoke_agent, gen_ai.agent.name=helper, gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, agents.runtime=praisonai, agents.react.rounds=2, agents.react.max_iterations=20, agents.react.max_iterations_reached=false, agents.agent.finish_reason=completed, gen_ai.usage.input_tokens=32, gen_ai.usage.output_tokens=10, status=UNSET}
  react step {gen_ai.operation.name=react, gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls, status=UNSET}
    chat gpt-4o-mini {gen_ai.operation.name=chat, gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, gen_ai.request.stream=false, gen_ai.response.id=chatcmpl-c1-0, gen_ai.response.model=gpt-4o-mini, gen_ai.response.finish_reasons=[tool_calls], gen_ai.usage.input_tokens=12, gen_ai.usage.output_tokens=3, status=UNSET}
    execute_tool get_weather {gen_ai.agent.name=helper, gen_ai.operation.name=execute_tool, gen_ai.tool.name=get_weather, gen_ai.tool.call.id=call_c1_0_0, gen_ai.tool.type=function, status=UNSET}
  react step {gen_ai.operation.name=react, gen_ai.react.round=2, gen_ai.react.finish_reason=stop, status=UNSET}
    chat gpt-4o-mini {gen_ai.operation.name=chat, gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, gen_ai.request.stream=false, gen_ai.response.id=chatcmpl-c1-1, gen_ai.response.model=gpt-4o-mini, gen_ai.response.finish_reasons=[stop], gen_ai.usage.input_tokens=20, gen_ai.usage.output_tokens=7, status=UNSET}
"""


def _spans(exporter):
    return exporter.get_finished_spans()


@pytest.mark.parametrize("entry", ["chat", "run", "start"])
def test_sync_entry_points_trace_the_tool_loop(entry, instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)
    agent = make_agent()

    answer = getattr(agent, entry)("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    assert len(server.requests) == 2
    tree = assert_tree(_spans(exporter), CHAT_TREE, ordered=True)
    assert tree.attributes["gen_ai.agent.id"] == agent.agent_id
    detector.assert_all_ended()


@pytest.mark.parametrize("entry", ["achat", "arun", "astart"])
async def test_async_entry_points_trace_the_tool_loop(entry, instrumented, serve, exporter,
                                                      detector):
    serve(TOOL_ROUND)

    answer = await getattr(make_agent(), entry)("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    assert_tree(_spans(exporter), CHAT_TREE, ordered=True)
    detector.assert_all_ended()


async def test_streamed_achat_reads_usage_off_each_stream(instrumented, serve, exporter,
                                                         detector):
    server = serve(TOOL_ROUND)

    answer = await make_agent().achat("Weather in Lima? [conv:c1]", stream=True)

    assert answer == "It is sunny in Lima (c1)."
    assert all(r["stream_options"] == {"include_usage": True} for r in server.requests)
    # PraisonAI rebuilds the response from the chunks and drops a "stop"
    # finish reason on the way: the span has none to report.
    expected = CHAT_TREE.replace("stream=false", "stream=true").replace(
        ", gen_ai.response.finish_reasons=[stop]", "")
    assert_tree(_spans(exporter), expected, ordered=True)
    detector.assert_all_ended()


def test_live_display_streams_each_loop_call(instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)

    # Verbose output: PraisonAI's loop streams each call into a live display.
    answer = make_agent(output="verbose").chat("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    assert [r["stream"] for r in server.requests] == [True, True]
    assert_tree(_spans(exporter), """
        invoke_agent helper {agents.react.rounds=2, status=UNSET}
          react step {gen_ai.react.finish_reason=tool_calls, status=UNSET}
            chat gpt-4o-mini {gen_ai.request.stream=true, gen_ai.response.id=chatcmpl-c1-0, status=UNSET}
            execute_tool get_weather {status=UNSET}
          react step {gen_ai.react.finish_reason=stop, status=UNSET}
            chat gpt-4o-mini {gen_ai.request.stream=true, gen_ai.response.id=chatcmpl-c1-1, status=UNSET}
    """, ordered=True)
    detector.assert_all_ended()


def test_streamed_start_spans_the_whole_stream(instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)

    stream = make_agent().start("Weather in Lima? [conv:c1]", stream=True)
    assert exporter.get_finished_spans() == ()  # nothing runs before the first next()
    pieces = list(stream)

    assert "".join(pieces) == "It is sunny in Lima (c1)."
    # PraisonAI's streaming path: the OpenAI client directly, the follow-up
    # without tools, and no usage asked for.
    assert [("tools" in r, r.get("stream")) for r in server.requests] == [
        (True, True), (False, True)]
    assert_tree(_spans(exporter), """
        invoke_agent helper {agents.react.rounds=2, agents.agent.finish_reason=completed, status=UNSET}
          react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls, status=UNSET}
            chat gpt-4o-mini {gen_ai.request.stream=true, gen_ai.response.id=chatcmpl-c1-0, gen_ai.response.finish_reasons=[tool_calls], status=UNSET}
            execute_tool get_weather {gen_ai.tool.call.id=call_c1_0_0, status=UNSET}
          react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop, status=UNSET}
            chat gpt-4o-mini {gen_ai.request.stream=true, gen_ai.response.id=chatcmpl-c1-1, gen_ai.response.finish_reasons=[stop], status=UNSET}
    """, ordered=True)
    # No usage was asked for, so none is reported; the stream was read to its end.
    assert not any("gen_ai.usage.input_tokens" in s.attributes for s in _spans(exporter))
    assert not any("agents.stream.closed_early" in s.attributes for s in _spans(exporter))
    detector.assert_all_ended()


def _first_words(stream):
    # The first chunk PraisonAI yields is the (empty) role delta.
    text = ""
    while not text:
        text = next(stream)
    return text


ABANDONED = """
invoke_agent helper {agents.stream.closed_early=true, agents.react.rounds=1, status=UNSET}
  react step {gen_ai.react.round=1, status=UNSET}
    chat gpt-4o-mini {error.type=incomplete_stream, status=ERROR}
"""


def test_streamed_start_closed_after_the_first_chunk(instrumented, serve, exporter, detector):
    serve([text("one two three four five six")])
    stream = make_agent().start("Count. [conv:c1]", stream=True)

    assert _first_words(stream) == "one"
    stream.close()

    assert_tree(_spans(exporter), ABANDONED)
    detector.assert_all_ended()


def test_streamed_start_dropped_after_the_first_chunk(instrumented, serve, exporter, detector):
    serve([text("one two three four five six")])
    stream = make_agent().start("Count. [conv:c1]", stream=True)

    assert _first_words(stream) == "one"
    del stream
    gc.collect()

    assert_tree(_spans(exporter), ABANDONED)
    detector.assert_all_ended()


def _team():
    from praisonaiagents import AgentTeam, Task

    researcher = make_agent(name="researcher")
    writer = make_agent((), name="writer")
    tasks = [
        Task(name="research", description="[conv:research] Find the weather in Lima.",
             expected_output="facts", agent=researcher),
        Task(name="write", description="[conv:write] Write one sentence about it.",
             expected_output="a sentence", agent=writer),
    ]
    return AgentTeam(name="desk", agents=[researcher, writer], tasks=tasks)


TEAM_SCRIPT = {
    "research": [tool_calls([ToolCall("get_weather", {"city": "Lima"})]),
                 text("Lima: sunny.")],
    "write": [text("Lima is sunny today.")],
}

TEAM_TREE = """
invoke_workflow desk {gen_ai.workflow.name=desk, agents.runtime=praisonai, status=UNSET}
  invoke_agent researcher {agents.runtime=praisonai, agents.react.rounds=2, status=UNSET}
    react step {gen_ai.react.round=1, status=UNSET}
      chat gpt-4o-mini {gen_ai.response.id=chatcmpl-research-0, status=UNSET}
      execute_tool get_weather {gen_ai.tool.call.id=call_research_0_0, status=UNSET}
    react step {gen_ai.react.round=2, status=UNSET}
      chat gpt-4o-mini {gen_ai.response.id=chatcmpl-research-1, status=UNSET}
  invoke_agent writer {agents.runtime=praisonai, agents.react.rounds=1, status=UNSET}
    react step {gen_ai.react.round=1, status=UNSET}
      chat gpt-4o-mini {gen_ai.response.id=chatcmpl-write-0, status=UNSET}
"""


def test_team_start_runs_its_tasks_agents_beneath_it(instrumented, serve, exporter, detector):
    serve(TEAM_SCRIPT)

    assert _team().start() == "Lima is sunny today."

    assert_tree(_spans(exporter), TEAM_TREE, ordered=True)
    detector.assert_all_ended()


async def test_team_astart_runs_its_tasks_agents_beneath_it(instrumented, serve, exporter,
                                                            detector):
    serve(TEAM_SCRIPT)

    assert await _team().astart() == "Lima is sunny today."

    assert_tree(_spans(exporter), TEAM_TREE, ordered=True)
    detector.assert_all_ended()


async def test_team_astart_with_async_tasks(instrumented, serve, exporter, detector):
    serve(TEAM_SCRIPT)
    team = _team()
    for task in team.tasks.values():
        task.async_execution = True

    await team.astart()

    # Async tasks go through `achat` on the team's own loop.
    assert_tree(_spans(exporter), TEAM_TREE)
    detector.assert_all_ended()


def test_lite_agent_wraps_the_users_llm_fn(instrumented, exporter, detector):
    from praisonaiagents.lite import LiteAgent

    seen = []

    def llm_fn(messages):
        seen.append(messages)
        return "pong"

    agent = LiteAgent(name="lite", llm_fn=llm_fn)
    assert agent.chat("ping") == "pong"
    assert agent.llm_fn is llm_fn  # outside a chat, the user's own function

    assert seen[0][-1] == {"role": "user", "content": "ping"}
    assert_tree(_spans(exporter), """
        invoke_agent lite {gen_ai.operation.name=invoke_agent, agents.react.rounds=1, agents.agent.finish_reason=completed, status=UNSET}
          react step {gen_ai.operation.name=react, gen_ai.react.round=1, gen_ai.react.finish_reason=stop, status=UNSET}
            chat {gen_ai.operation.name=chat, status=UNSET}
    """)
    detector.assert_all_ended()


def test_lite_agent_llm_fn_failure(instrumented, exporter, detector):
    from praisonaiagents.lite import LiteAgent

    def llm_fn(messages):
        raise ConnectionError("model down")

    with pytest.raises(ConnectionError, match="model down"):
        LiteAgent(name="lite", llm_fn=llm_fn).chat("ping")

    assert_tree(_spans(exporter), """
        invoke_agent lite {error.type=ConnectionError, status=ERROR}
          react step {gen_ai.react.finish_reason=error, error.type=ConnectionError, status=ERROR}
            chat {error.type=ConnectionError, status=ERROR}
    """)
    detector.assert_all_ended()


def test_lite_agent_tools(instrumented, exporter):
    from praisonaiagents.lite import LiteAgent

    def broken(city: str) -> str:
        raise RuntimeError("no")

    agent = LiteAgent(name="lite", llm_fn=lambda m: "", tools=[get_weather, broken])
    assert agent.execute_tool("get_weather", city="Lima").output == "sunny in Lima"
    assert agent.execute_tool("broken", city="Lima").success is False

    names = sorted((s.name, s.attributes.get("error.type")) for s in _spans(exporter))
    assert names == [("execute_tool broken", "tool_error"), ("execute_tool get_weather", None)]


# -- failures -------------------------------------------------------------------

BOOM_ROUND = [tool_calls([ToolCall("boom", {"city": "Lima"})]), text("Recovered ({conv}).")]


def _outcome(call):
    try:
        return "returned", call()
    except Exception as exc:  # noqa: BLE001 - the outcome is what we compare
        return "raised", type(exc)


def test_raising_tool_in_chat(provider, serve, exporter, detector):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    serve(BOOM_ROUND)
    plain = _outcome(lambda: make_agent([boom]).chat("Go. [conv:c1]"))
    PraisonAIInstrumentor().instrument(tracer_provider=provider)
    try:
        traced = _outcome(lambda: make_agent([boom]).chat("Go. [conv:c1]"))
    finally:
        PraisonAIInstrumentor().uninstrument()

    # PraisonAI's sync loop re-raises a failed tool as ToolExecutionError.
    from praisonaiagents.errors import ToolExecutionError

    assert plain == traced == ("raised", ToolExecutionError)
    assert_tree(_spans(exporter), """
        invoke_agent helper {error.type=praisonaiagents.errors.ToolExecutionError, status=ERROR}
          react step {gen_ai.react.finish_reason=tool_calls, error.type=praisonaiagents.errors.ToolExecutionError, status=ERROR}
            chat gpt-4o-mini {status=UNSET}
            execute_tool boom {error.type=praisonaiagents.errors.ToolExecutionError, status=ERROR}
    """)
    detector.assert_all_ended()


async def test_raising_tool_in_achat_is_an_error_span_the_model_reads_about(
        instrumented, serve, exporter, detector):
    server = serve(BOOM_ROUND)

    # PraisonAI's async loop hands the failure to the model as a result.
    assert await make_agent([boom]).achat("Go. [conv:c1]") == "Recovered (c1)."

    assert "tool exploded" in server.requests[1]["messages"][-1]["content"]
    assert_tree(_spans(exporter), """
        invoke_agent helper {agents.agent.finish_reason=completed, status=UNSET}
          react step {gen_ai.react.round=1, status=UNSET}
            chat gpt-4o-mini {status=UNSET}
            execute_tool boom {gen_ai.tool.call.id=call_c1_0_0, error.type=tool_error, status=ERROR}
          react step {gen_ai.react.round=2, status=UNSET}
            chat gpt-4o-mini {status=UNSET}
    """, ordered=True)
    detector.assert_all_ended()


def test_raising_tool_in_stream(instrumented, serve, exporter, detector):
    from praisonaiagents.errors import ToolExecutionError

    serve(BOOM_ROUND)

    with pytest.raises(ToolExecutionError):
        list(make_agent([boom]).start("Go. [conv:c1]", stream=True))

    assert_tree(_spans(exporter), """
        invoke_agent helper {error.type=praisonaiagents.errors.ToolExecutionError, status=ERROR}
          react step {error.type=praisonaiagents.errors.ToolExecutionError, status=ERROR}
            chat gpt-4o-mini {status=UNSET}
            execute_tool boom {error.type=praisonaiagents.errors.ToolExecutionError, status=ERROR}
    """)
    detector.assert_all_ended()


FAILED_CALL = """
invoke_agent helper {agents.agent.finish_reason=error, error.type=openai.InternalServerError, status=ERROR}
  react step {gen_ai.react.finish_reason=error, status=UNSET}
    chat gpt-4o-mini {error.type=openai.InternalServerError, status=ERROR}
"""


def test_failing_endpoint_in_chat(provider, serve, exporter, detector):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    serve([error(500, "model down")])
    plain = _outcome(lambda: make_agent().chat("Go. [conv:c1]"))
    PraisonAIInstrumentor().instrument(tracer_provider=provider)
    try:
        traced = _outcome(lambda: make_agent().chat("Go. [conv:c1]"))
    finally:
        PraisonAIInstrumentor().uninstrument()

    assert plain == traced == ("returned", None)  # PraisonAI answers None
    assert_tree(_spans(exporter), FAILED_CALL)
    detector.assert_all_ended()


@pytest.mark.parametrize("stream", [False, True])
async def test_failing_endpoint_in_achat(stream, instrumented, serve, exporter, detector):
    serve([error(500, "model down")])

    assert await make_agent().achat("Go. [conv:c1]", stream=stream) is None

    # Streamed, PraisonAI swallows the SDK's error inside its stream reader;
    # the span still names it.
    assert_tree(_spans(exporter), FAILED_CALL)
    detector.assert_all_ended()


def test_failing_endpoint_in_stream(instrumented, serve, exporter, detector):
    serve([error(500, "model down")])

    # PraisonAI falls back to a plain chat, which fails too, and yields nothing.
    assert list(make_agent().start("Go. [conv:c1]", stream=True)) == []

    assert_tree(_spans(exporter), """
        invoke_agent helper {agents.react.rounds=2, error.type=openai.InternalServerError, status=ERROR}
          react step {gen_ai.react.round=1, status=UNSET}
            chat gpt-4o-mini {gen_ai.request.stream=true, error.type=openai.InternalServerError, status=ERROR}
          react step {gen_ai.react.round=2, status=UNSET}
            chat gpt-4o-mini {gen_ai.request.stream=false, error.type=openai.InternalServerError, status=ERROR}
    """, ordered=True)
    detector.assert_all_ended()


def test_iteration_limit(instrumented, serve, exporter, detector):
    from praisonaiagents import ExecutionConfig

    serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})])] * 3)

    make_agent(execution=ExecutionConfig(max_iter=2)).chat("Go.")

    assert_tree(_spans(exporter), """
        invoke_agent helper {agents.react.max_iterations=2, agents.react.max_iterations_reached=true, agents.agent.finish_reason=max_iterations, agents.react.rounds=2}
          react step {gen_ai.react.finish_reason=tool_calls}
            chat gpt-4o-mini
            execute_tool get_weather
          react step {gen_ai.react.finish_reason=tool_calls}
            chat gpt-4o-mini
            execute_tool get_weather
    """)
    detector.assert_all_ended()


# -- context: a TTY's thread, nested agents --------------------------------------

def test_tty_start_thread_stays_in_the_callers_trace(instrumented, serve, exporter, detector,
                                                     provider, monkeypatch):
    from praisonaiagents import Agent

    serve(TOOL_ROUND)
    # On a terminal `start()` runs `chat` in a bare thread and animates meanwhile.
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    agent = make_agent()
    threads = []

    def spy(*args, **kwargs):  # an instance attribute, in front of the class
        threads.append(threading.current_thread().name)
        return Agent.chat(agent, *args, **kwargs)

    agent.chat = spy
    with provider.get_tracer("app").start_as_current_span("caller"):
        answer = agent.start("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    assert len(threads) == 1 and threads[0].endswith("(run_chat)")
    assert_tree(_spans(exporter), """
        caller
          invoke_agent helper {agents.react.rounds=2}
            react step
              chat gpt-4o-mini
              execute_tool get_weather
            react step
              chat gpt-4o-mini
    """)
    detector.assert_all_ended()


def _nesting_script():
    return {
        "outer": [tool_calls([ToolCall("ask_inner", {"question": "Lima?"})]),
                  text("Inner says: sunny.")],
        "inner": [text("sunny")],
    }


NESTED = """
invoke_agent outer {agents.react.rounds=2}
  react step {gen_ai.react.round=1}
    chat gpt-4o-mini {gen_ai.response.id=chatcmpl-outer-0}
    execute_tool ask_inner
      invoke_agent inner {agents.react.rounds=1}
        react step {gen_ai.react.round=1}
          chat gpt-4o-mini {gen_ai.response.id=chatcmpl-inner-0}
  react step {gen_ai.react.round=2}
    chat gpt-4o-mini {gen_ai.response.id=chatcmpl-outer-1}
"""


def test_agent_called_from_a_tool_nests_under_it(instrumented, serve, exporter, detector):
    serve(_nesting_script())
    inner = make_agent((), name="inner")

    def ask_inner(question: str) -> str:
        """Ask the inner agent.

        Args:
            question: The question.
        """
        return inner.chat(f"{question} [conv:inner]")

    outer = make_agent([ask_inner], name="outer")
    assert outer.chat("Ask. [conv:outer]") == "Inner says: sunny."

    assert_tree(_spans(exporter), NESTED, ordered=True)
    detector.assert_all_ended()


async def test_agent_awaited_from_an_async_tool_nests_under_it(instrumented, serve, exporter,
                                                               detector):
    serve(_nesting_script())
    inner = make_agent((), name="inner")

    async def ask_inner(question: str) -> str:
        """Ask the inner agent.

        Args:
            question: The question.
        """
        return await inner.achat(f"{question} [conv:inner]")

    outer = make_agent([ask_inner], name="outer")
    assert await outer.achat("Ask. [conv:outer]") == "Inner says: sunny."

    assert_tree(_spans(exporter), NESTED, ordered=True)
    detector.assert_all_ended()


def test_sync_chat_inside_a_running_loop(instrumented, serve, exporter, detector):
    serve(TOOL_ROUND)

    async def caller():
        # PraisonAI moves the loop to its "praisonai-async-bridge" thread.
        return make_agent().chat("Weather in Lima? [conv:c1]")

    assert asyncio.run(caller()) == "It is sunny in Lima (c1)."
    assert_tree(_spans(exporter), CHAT_TREE, ordered=True)
    detector.assert_all_ended()



def test_message_content_when_captured(instrumented_with_content, serve, exporter):
    serve(TOOL_ROUND)
    make_agent().chat("Weather in Lima? [conv:c1]")

    spans = {s.name: s for s in _spans(exporter) if not s.name.startswith("chat")}
    chats = [s for s in _spans(exporter) if s.name.startswith("chat")]
    agent = spans["invoke_agent helper"]
    assert json.loads(agent.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Lima? [conv:c1]"}]}]
    assert json.loads(agent.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text",
                                         "content": "It is sunny in Lima (c1)."}],
         "finish_reason": "stop"}]
    second = json.loads(chats[1].attributes["gen_ai.input.messages"])
    assert [m["role"] for m in second] == ["user", "assistant", "tool"]
    assert json.loads(chats[1].attributes["gen_ai.system_instructions"])[0]["type"] == "text"
    assert second[1]["parts"][-1] == {"type": "tool_call", "id": "call_c1_0_0",
                                      "name": "get_weather", "arguments": {"city": "Lima"}}
    assert second[2]["parts"] == [{"type": "tool_call_response", "id": "call_c1_0_0",
                                   "response": '"sunny in Lima"'}]
    assert json.loads(chats[0].attributes["gen_ai.output.messages"])[0]["finish_reason"] == \
        "tool_calls"
    tool = spans["execute_tool get_weather"]
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"city": "Lima"}
    assert tool.attributes["gen_ai.tool.call.result"] == "sunny in Lima"
