"""AgentScope 1.x memory compression: the summary model call is a chat span
marked as compression, under the agent span and outside the rounds."""

from __future__ import annotations

from agentscope.agent import ReActAgent
from agentscope.token import CharTokenCounter

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    Turn,
    call_tools,
    say,
)

from .support import get_weather, make_agent, user

SUMMARY = {"task_overview": "weather", "current_state": "asked", "important_discoveries": "sun",
           "next_steps": "answer", "context_to_preserve": "Paris"}


async def test_compression_round(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Paris"}), usage=(10, 5)),
                               Turn(metadata=SUMMARY, usage=(30, 20)),
                               say("Sunny.", usage=(7, 3))])
    agent = make_agent(model, [get_weather])
    agent.compression_config = ReActAgent.CompressionConfig(
        enable=True, agent_token_counter=CharTokenCounter(), trigger_threshold=10,
        keep_recent=1)

    await agent(user("weather in Paris?"))

    assert "weather" in agent.memory._compressed_summary  # AgentScope did compress
    tree = assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper {agents.react.rounds=2, agents.agent.context_compressions=1}
          react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls}
            chat scripted-model
            execute_tool get_weather
          chat scripted-model {agents.chat.context_compression=true}
          react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop}
            chat scripted-model
    """, ordered=True)
    assert tree.span.attributes["gen_ai.usage.input_tokens"] == 47
    detector.assert_all_ended()


async def test_no_compression_when_disabled(instrumented, exporter):
    agent = make_agent(ScriptedChatModel([say("hi")]))

    await agent(user())

    (span,) = [s for s in exporter.get_finished_spans() if s.name == "invoke_agent helper"]
    assert "agents.agent.context_compressions" not in span.attributes
