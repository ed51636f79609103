"""Real AgentScope 2.x agents, a scripted model and real tools: the trees."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry.instrumentation.agents.testing import assert_tree, build_trees
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    fail,
    say,
)

from .support import get_time, get_weather, make_agent, user

ONE_TOOL_ROUND = """
invoke_agent helper {gen_ai.operation.name=invoke_agent, agents.react.rounds=2}
  react step {gen_ai.operation.name=react, gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls}
    chat scripted-model {gen_ai.operation.name=chat}
    execute_tool get_weather {gen_ai.operation.name=execute_tool}
  react step {gen_ai.operation.name=react, gen_ai.react.round=2, gen_ai.react.finish_reason=stop}
    chat scripted-model {gen_ai.operation.name=chat}
"""


def _by_name(spans, name):
    return [s for s in spans if s.name == name]


async def test_single_reply_tree(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Paris"}), usage=(7, 3)),
                               say("It is sunny.", usage=(11, 4))])
    agent = make_agent(model, [get_weather])

    result = await agent.reply(user("weather in Paris?"))

    assert result.get_text_content() == "It is sunny."
    spans = exporter.get_finished_spans()
    tree = assert_tree(spans, ONE_TOOL_ROUND, ordered=True)
    detector.assert_all_ended()

    agent_span = tree.span
    assert agent_span.kind is SpanKind.INTERNAL
    attrs = agent_span.attributes
    assert attrs["gen_ai.agent.name"] == "helper"
    assert attrs["gen_ai.conversation.id"] == agent.state.session_id
    assert attrs["gen_ai.request.model"] == "scripted-model"
    assert attrs["gen_ai.usage.input_tokens"] == 18
    assert attrs["gen_ai.usage.output_tokens"] == 7
    assert attrs["agents.react.max_iterations"] == 10
    assert attrs["agents.react.max_iterations_reached"] is False
    assert attrs["agents.agent.finish_reason"] == "completed"

    chat1, chat2 = _by_name(spans, "chat scripted-model")
    assert chat1.kind is SpanKind.CLIENT
    assert chat1.attributes["gen_ai.usage.input_tokens"] == 7
    assert chat1.attributes["gen_ai.response.id"] == "resp-default-0"
    assert chat1.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert chat2.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert chat1.attributes["gen_ai.request.stream"] is False

    (tool_span,) = _by_name(spans, "execute_tool get_weather")
    assert tool_span.attributes["gen_ai.tool.call.id"] == "call-default-0-0"
    assert tool_span.attributes["gen_ai.tool.name"] == "get_weather"
    assert tool_span.attributes["gen_ai.tool.type"] == "function"
    assert tool_span.status.status_code is StatusCode.UNSET
    # No message content by default.
    for span in spans:
        assert not any(k in span.attributes for k in (
            "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.call.arguments"))


async def test_streaming_model_responses(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Oslo"}), usage=(5, 2)),
                               say("Cold and clear over the fjord today.", usage=(9, 8))],
                              stream=True, chunk_size=4)
    agent = make_agent(model, [get_weather])

    result = await agent.reply(user())

    assert result.get_text_content() == "Cold and clear over the fjord today."
    spans = exporter.get_finished_spans()
    tree = assert_tree(spans, ONE_TOOL_ROUND, ordered=True)
    detector.assert_all_ended()
    chats = _by_name(spans, "chat scripted-model")
    assert [c.attributes["gen_ai.request.stream"] for c in chats] == [True, True]
    assert [c.attributes["gen_ai.usage.output_tokens"] for c in chats] == [2, 8]
    assert [c.attributes["gen_ai.response.finish_reasons"] for c in chats] == [
        ("tool_calls",), ("stop",)]
    assert tree.span.attributes["gen_ai.usage.input_tokens"] == 14


async def test_reply_stream_consumed_fully(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Rome"})), say("ok")],
                              stream=True)
    agent = make_agent(model, [get_weather])

    events = [event async for event in agent.reply_stream(user())]

    assert events, "the stream yields events"
    tree = assert_tree(exporter.get_finished_spans(), ONE_TOOL_ROUND, ordered=True)
    assert "agents.stream.closed_early" not in tree.span.attributes
    detector.assert_all_ended()


async def test_reply_stream_abandoned_early(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Rome"})), say("ok")],
                              stream=True)
    agent = make_agent(model, [get_weather])

    stream = agent.reply_stream(user())
    async for _event in stream:
        break  # the consumer walks away after the first event
    await stream.aclose()

    spans = exporter.get_finished_spans()
    detector.assert_all_ended()
    (agent_span,) = _by_name(spans, "invoke_agent helper")
    assert agent_span.attributes["agents.stream.closed_early"] is True
    assert agent_span.status.status_code is StatusCode.UNSET
    assert len(build_trees(spans)) == 1


async def test_reply_stream_never_iterated_emits_nothing(instrumented, exporter, detector):
    agent = make_agent(ScriptedChatModel([say("ok")]))
    stream = agent.reply_stream(user())
    del stream
    assert exporter.get_finished_spans() == ()
    detector.assert_all_ended()


async def test_parallel_tool_calls(instrumented, exporter, detector):
    barrier = asyncio.Barrier(2)

    async def slow_a(city: str) -> str:
        """First tool.

        Args:
            city: A city.
        """
        await asyncio.wait_for(barrier.wait(), 5)  # both tools run at once
        return f"a {city}"

    async def slow_b(city: str) -> str:
        """Second tool.

        Args:
            city: A city.
        """
        await asyncio.wait_for(barrier.wait(), 5)
        return f"b {city}"

    model = ScriptedChatModel([call_tools(("slow_a", {"city": "x"}), ("slow_b", {"city": "y"})),
                               say("both done")])
    agent = make_agent(model, [slow_a, slow_b])

    await agent.reply(user())

    spans = exporter.get_finished_spans()
    assert_tree(spans, """
        invoke_agent helper
          react step {gen_ai.react.round=1}
            chat scripted-model
            execute_tool slow_a {gen_ai.tool.call.id=call-default-0-0}
            execute_tool slow_b {gen_ai.tool.call.id=call-default-0-1}
          react step {gen_ai.react.round=2}
            chat scripted-model
    """)
    detector.assert_all_ended()
    a, b = _by_name(spans, "execute_tool slow_a")[0], _by_name(spans, "execute_tool slow_b")[0]
    # The barrier forced overlap: each started before the other ended.
    assert a.start_time < b.end_time and b.start_time < a.end_time


async def test_tool_raising_is_error_span(instrumented, exporter, detector):
    def explode(city: str) -> str:
        """Always fails.

        Args:
            city: A city.
        """
        raise ValueError(f"no weather for {city}")

    model = ScriptedChatModel([call_tools(("explode", {"city": "Atlantis"})),
                               say("sorry, that failed")])
    agent = make_agent(model, [explode])

    result = await agent.reply(user())

    # AgentScope turned the exception into a tool result and carried on.
    assert result.get_text_content() == "sorry, that failed"
    spans = exporter.get_finished_spans()
    assert_tree(spans, """
        invoke_agent helper {status=UNSET}
          react step {status=UNSET}
            chat scripted-model {status=UNSET}
            execute_tool explode {status=ERROR, error.type=ValueError}
          react step {status=UNSET}
            chat scripted-model {status=UNSET}
    """)
    detector.assert_all_ended()


async def test_model_raising_passes_through(instrumented, exporter, detector):
    boom = ConnectionError("model endpoint down")
    model = ScriptedChatModel([fail(boom)])
    agent = make_agent(model, [get_weather])

    with pytest.raises(ConnectionError) as caught:
        await agent.reply(user())

    assert caught.value is boom
    assert model.calls == {"default": 1}  # the agent (and its model) ran once
    spans = exporter.get_finished_spans()
    assert_tree(spans, """
        invoke_agent helper {status=ERROR, error.type=ConnectionError}
          react step {status=ERROR, error.type=ConnectionError, gen_ai.react.finish_reason=error}
            chat scripted-model {status=ERROR, error.type=ConnectionError}
    """)
    detector.assert_all_ended()


async def test_max_iters_reached(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "a"})),
                               call_tools(("get_weather", {"city": "b"})),
                               say("I ran out of rounds")])
    agent = make_agent(model, [get_weather], max_iters=2)

    result = await agent.reply(user())

    assert str(result.finished_reason) == "exceed_max_iters"
    tree = assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper {agents.react.rounds=3, agents.react.max_iterations_reached=true}
          react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls}
            chat scripted-model
            execute_tool get_weather
          react step {gen_ai.react.round=2, gen_ai.react.finish_reason=tool_calls}
            chat scripted-model
            execute_tool get_weather
          react step {gen_ai.react.round=3, gen_ai.react.finish_reason=stop}
            chat scripted-model
    """, ordered=True)
    assert tree.span.attributes["agents.agent.finish_reason"] == "max_iterations"
    assert tree.span.attributes["agents.react.max_iterations"] == 2
    detector.assert_all_ended()


async def test_nested_agent_under_tool_span(instrumented, exporter, detector):
    inner = make_agent(ScriptedChatModel([say("inner answer")], model="inner-model"),
                       name="researcher")

    async def ask_researcher(question: str) -> str:
        """Ask the research agent.

        Args:
            question: What to ask.
        """
        reply = await inner.reply(user(question))
        return reply.get_text_content()

    outer = make_agent(ScriptedChatModel([call_tools(("ask_researcher", {"question": "q"})),
                                          say("done")]), [ask_researcher], name="lead")

    await outer.reply(user())

    spans = exporter.get_finished_spans()
    assert_tree(spans, """
        invoke_agent lead {gen_ai.usage.input_tokens=20}
          react step
            chat scripted-model {gen_ai.usage.input_tokens=10}
            execute_tool ask_researcher
              invoke_agent researcher {gen_ai.usage.input_tokens=10}
                react step
                  chat inner-model {gen_ai.usage.input_tokens=10}
          react step
            chat scripted-model {gen_ai.usage.input_tokens=10}
    """, ordered=True)
    detector.assert_all_ended()


async def test_tool_not_found_is_error(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("no_such_tool", {})), say("ok")])
    agent = make_agent(model, [get_weather])
    await agent.reply(user())
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper
          react step
            chat scripted-model
            execute_tool no_such_tool {error.type=invalid_tool_call}
          react step
            chat scripted-model
    """)


async def test_sequential_tools_in_one_round(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "a"}),
                                          ("get_time", {"city": "a"})), say("ok")])
    agent = make_agent(model, [get_weather, get_time], concurrent=False)
    await agent.reply(user())
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper
          react step
            chat scripted-model
            execute_tool get_weather
            execute_tool get_time
          react step
            chat scripted-model
    """, ordered=True)
    detector.assert_all_ended()
