"""The coverage table's AgentScope 1.x column against real AgentScope 1.x runs:
ReAct agents with the scripted model (streamed, usage details, tools that
succeed and fail, a failing model, memory compression) and with AgentScope's
OpenAI model against the scripted server, embeddings, knowledge retrieval,
a pipeline; content and details events on."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    Turn,
    call_tools,
    fail,
    say,
)
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    text,
)
from tests.agentscope1.support import get_weather, make_agent, user

from .support import assert_column_matches

SUMMARY = {"task_overview": "weather", "current_state": "asked", "important_discoveries": "sun",
           "next_steps": "answer", "context_to_preserve": "Paris"}


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")


def broken_tool(city: str):
    """A tool that fails.

    Args:
        city (`str`): The city.
    """
    raise RuntimeError(f"no weather for {city}")


async def _streamed_rounds_with_usage_and_parameters() -> None:
    model = ScriptedChatModel([
        call_tools(("get_weather", {"city": "Paris"}), ("broken_tool", {"city": "Lima"}),
                   usage=(70, 3), cache_read=40, cache_creation=20, reasoning=2),
        say("It is sunny in Paris.", usage=(90, 4), cache_read=60)], stream=True)
    # What a 1.x model class keeps its request parameters in (DashScope, Gemini
    # and Ollama models take `top_k`).
    model.generate_kwargs = {"top_k": 5}
    await make_agent(model, [get_weather, broken_tool])(user("weather in Paris?"))


async def _openai_model_over_http() -> None:
    from agentscope.model import OpenAIChatModel

    generate = {"temperature": 0.3, "max_tokens": 50, "top_p": 0.8, "seed": 7,
                "stop": ["END"], "frequency_penalty": 0.1, "presence_penalty": 0.2, "n": 2}
    with ScriptedOpenAIServer([text("It is sunny.")]) as server:
        model = OpenAIChatModel("gpt-4o-mini", api_key="sk-scripted", stream=False,
                                client_kwargs={"base_url": server.base_url,
                                               "max_retries": 0},
                                generate_kwargs=generate)
        await make_agent(model)(user("weather?"))


async def _failing_model() -> None:
    with pytest.raises(RuntimeError):
        await make_agent(ScriptedChatModel([fail(RuntimeError("model down"))]))(user())


async def _memory_compression() -> None:
    from agentscope.agent import ReActAgent
    from agentscope.token import CharTokenCounter

    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Paris"})),
                               Turn(metadata=SUMMARY), say("Sunny.")])
    agent = make_agent(model, [get_weather])
    agent.compression_config = ReActAgent.CompressionConfig(
        enable=True, agent_token_counter=CharTokenCounter(), trigger_threshold=10,
        keep_recent=1)
    await agent(user("weather in Paris?"))


async def _embeddings_and_retrieval() -> None:
    from agentscope.message import TextBlock
    from agentscope.rag import DocMetadata, Document, SimpleKnowledge

    from opentelemetry.instrumentation.agents.testing.agentscope.embedding_v1 import (
        MemoryStore,
        ScriptedTextEmbedding,
    )

    kb = SimpleKnowledge(embedding_store=MemoryStore("handbook"),
                         embedding_model=ScriptedTextEmbedding())
    await kb.add_documents([Document(metadata=DocMetadata(
        content=TextBlock(type="text", text="PTO is 25 days."), doc_id="doc1", chunk_id=0,
        total_chunks=1), id="doc1-0")])
    await kb.retrieve("PTO?", limit=1)


async def _pipeline() -> None:
    import agentscope.pipeline as pipelines

    alice = make_agent(ScriptedChatModel([say("alice here")]), name="alice")
    bob = make_agent(ScriptedChatModel([say("bob here")]), name="bob")
    await pipelines.sequential_pipeline([alice, bob], user("go"))


async def test_the_agentscope1_column_says_what_agentscope1_emits(collector):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    collector.instrument(AgentScopeInstrumentor)
    await _streamed_rounds_with_usage_and_parameters()
    await _openai_model_over_http()
    await _failing_model()
    await _memory_compression()
    await _embeddings_and_retrieval()
    await _pipeline()

    names = {span.name.split(" ")[0] for span in collector.spans()}
    assert names == {"invoke_agent", "react", "chat", "execute_tool", "embeddings",
                     "retrieval", "invoke_workflow"}
    assert_column_matches("AgentScope 1.x", collector)
