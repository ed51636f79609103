"""AgentScope 2.x context compression: the summary model call is a chat span
marked as compression, under the agent span and outside the rounds."""

from __future__ import annotations

import json

from opentelemetry.trace import StatusCode

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    fail,
    say,
)

from .support import make_agent, user

SUMMARY = {"task_overview": "weather", "current_state": "asked", "important_discoveries": "sun",
           "next_steps": "answer", "context_to_preserve": "Paris"}


def _agent_that_fills_its_context(turns):
    model = ScriptedChatModel(turns)

    def get_weather(city: str) -> str:
        """Report the weather.

        Args:
            city: The city to report on.
        """
        # The tool's long answer leaves the context over the model's limit,
        # so the next round starts with a compression.
        model.context_size = 60
        return f"sunny in {city} " * 20

    return make_agent(model, [get_weather]), model


COMPRESSED_ROUND = """
invoke_agent helper {agents.react.rounds=2, agents.agent.context_compressions=1}
  react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls}
    chat scripted-model
    execute_tool get_weather
  chat scripted-model {agents.chat.context_compression=true}
  react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop}
    chat scripted-model
"""


async def test_compression_round(instrumented, exporter, detector):
    agent, _model = _agent_that_fills_its_context([
        call_tools(("get_weather", {"city": "Paris"}), usage=(10, 5)),
        call_tools(("generate_structured_output", SUMMARY), usage=(40, 20)),
        say("Sunny.", usage=(7, 3))])

    result = await agent.reply(user("weather in Paris?"))

    assert result.get_text_content() == "Sunny."
    assert "weather" in str(agent.state.summary)  # AgentScope did compress
    tree = assert_tree(exporter.get_finished_spans(), COMPRESSED_ROUND, ordered=True)
    compression = next(c.span for c in tree.children if c.span.name == "chat scripted-model")
    assert compression.attributes["gen_ai.usage.input_tokens"] == 40
    # The summary's tokens are part of what this invocation spent.
    assert tree.span.attributes["gen_ai.usage.input_tokens"] == 57
    detector.assert_all_ended()


async def test_failed_summary_still_counts_the_truncation(instrumented, exporter, detector):
    agent, _model = _agent_that_fills_its_context([
        call_tools(("get_weather", {"city": "Oslo"})),
        # AgentScope retries the summary once on fewer messages, then truncates.
        fail(RuntimeError("summary model down")),
        fail(RuntimeError("summary model down")),
        say("Cold.")])

    await agent.reply(user("weather in Oslo?"))

    spans = exporter.get_finished_spans()
    failed = [s for s in spans if s.attributes.get("agents.chat.context_compression")]
    assert len(failed) == 2
    for span in failed:
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes["error.type"] == "RuntimeError"
    (agent_span,) = [s for s in spans if s.name == "invoke_agent helper"]
    assert agent_span.attributes["agents.react.rounds"] == 2
    # The context was truncated instead: still a compression of the context.
    assert agent_span.attributes["agents.agent.context_compressions"] == 1
    assert all(s.parent.span_id == agent_span.context.span_id for s in failed)
    assert agent_span.status.status_code is StatusCode.UNSET
    detector.assert_all_ended()


async def test_no_compression_below_the_threshold(instrumented, exporter):
    agent = make_agent(ScriptedChatModel([say("hi")]))

    await agent.reply(user())

    (agent_span,) = [s for s in exporter.get_finished_spans() if s.name == "invoke_agent helper"]
    assert "agents.agent.context_compressions" not in agent_span.attributes
    assert not any(s.attributes.get("agents.chat.context_compression")
                   for s in exporter.get_finished_spans())


async def test_structured_output_call_outside_compression(instrumented, exporter):
    model = ScriptedChatModel([call_tools(("generate_structured_output", SUMMARY))])

    from agentscope.agent._config import SummarySchema

    response = await model.generate_structured_output(messages=[user("sum up")],
                                                      structured_model=SummarySchema)

    assert response.content["task_overview"] == "weather"
    (span,) = exporter.get_finished_spans()
    assert span.name == "chat scripted-model"
    assert "agents.chat.context_compression" not in span.attributes
    assert span.attributes["gen_ai.usage.output_tokens"] == 5


async def test_compression_content_under_capture(capturing, exporter):
    agent, _model = _agent_that_fills_its_context([
        call_tools(("get_weather", {"city": "Paris"})),
        call_tools(("generate_structured_output", SUMMARY)),
        say("Sunny.")])

    await agent.reply(user("weather in Paris?"))

    (summary,) = [s for s in exporter.get_finished_spans()
                  if s.attributes.get("agents.chat.context_compression")]
    (message,) = json.loads(summary.attributes["gen_ai.output.messages"])
    assert json.loads(message["parts"][0]["content"]) == SUMMARY
