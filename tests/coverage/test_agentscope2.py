"""The coverage table's AgentScope 2.x column against real AgentScope 2.x runs:
every operation the adapter traces (agents, rounds, model calls whole and
streamed, local and over HTTP, tools, failures, embeddings, retrieval, team
pipelines, remote A2A agents), content and details events on."""

from __future__ import annotations

import socket

import pytest

from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    fail,
    say,
)
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    text,
)
from tests.agentscope2.support import get_weather, make_agent, user

from .support import assert_column_matches


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def broken_tool(city: str) -> str:
    """A tool that fails.

    Args:
        city: The city.
    """
    raise RuntimeError(f"no weather for {city}")


async def _local_agent_streamed_with_parameters() -> None:
    model = ScriptedChatModel([
        call_tools(("get_weather", {"city": "Paris"}), usage=(100, 3), cache_read=40,
                   cache_creation=60),
        say("It is sunny.", usage=(120, 4), cache_read=100)],
        stream=True, temperature=0.2, max_tokens=64, top_p=0.9, top_k=5)
    await make_agent(model, [get_weather]).reply(user("weather in Paris?"))


async def _openai_model_over_http() -> None:
    from agentscope.credential import OpenAICredential
    from agentscope.model import OpenAIChatModel

    with ScriptedOpenAIServer([text("It is sunny in Paris.")]) as server:
        model = OpenAIChatModel(
            credential=OpenAICredential(api_key="test", base_url=server.base_url),
            model="gpt-4o-mini", stream=False, max_retries=0,
            parameters=OpenAIChatModel.Parameters(temperature=0.3, max_tokens=50))
        await make_agent(model).reply(user())


async def _failures() -> None:
    failing = make_agent(ScriptedChatModel([fail(RuntimeError("model down"))]))
    with pytest.raises(RuntimeError):
        await failing.reply(user())
    model = ScriptedChatModel([call_tools(("broken_tool", {"city": "Lima"})),
                               say("No weather.")])
    await make_agent(model, [broken_tool]).reply(user("weather in Lima?"))


async def _embeddings_and_retrieval() -> None:
    from agentscope.message import TextBlock
    from agentscope.rag import Chunk, KnowledgeBase

    from opentelemetry.instrumentation.agents.testing.agentscope.embedding import (
        MemoryVectorStore,
        ScriptedEmbeddingModel,
    )

    kb = KnowledgeBase(name="handbook", description="The staff handbook.",
                       embedding_model=ScriptedEmbeddingModel(),
                       vector_store=MemoryVectorStore(), collection="handbook")
    texts = ("PTO is 25 days.", "Lunch is at noon.")
    await kb.insert_document([Chunk(content=TextBlock(text=t), source="handbook.md",
                                    chunk_index=i, total_chunks=len(texts))
                              for i, t in enumerate(texts)], document_id="doc1")
    await kb.search(["PTO?"], top_k=1)


async def _team_pipeline() -> None:
    from agentscope.pipeline import TeamPipeline
    from agentscope.pipeline._team_pipeline import TeamMember

    leader = make_agent(ScriptedChatModel([
        call_tools(("TeamAssign", {"member": "alice", "prompt": "weather?"})),
        say("Done.")]), name="leader")
    alice = make_agent(ScriptedChatModel([say("Sunny.")]), name="alice")
    async for _ in TeamPipeline(leader, [TeamMember(agent=alice, description="Alice.")]
                                ).reply_stream(user("ask alice")):
        pass


async def _remote_agent_unreachable() -> None:
    from a2a.types import AgentCapabilities, AgentCard, AgentInterface
    from agentscope.agent import A2AAgent

    card = AgentCard(
        name="forecaster", description="Forecasts the weather.", version="1.0.0",
        supported_interfaces=[AgentInterface(url=f"http://127.0.0.1:{_free_port()}/",
                                             protocol_binding="JSONRPC")],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"], default_output_modes=["text/plain"])
    remote = A2AAgent(agent_card=card)
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises
        await remote.reply(user("weather?"))
    await remote.aclose()


async def test_the_agentscope2_column_says_what_agentscope2_emits(collector):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    collector.instrument(AgentScopeInstrumentor)
    await _local_agent_streamed_with_parameters()
    await _openai_model_over_http()
    await _failures()
    await _embeddings_and_retrieval()
    await _team_pipeline()
    await _remote_agent_unreachable()

    names = {span.name.split(" ")[0] for span in collector.spans()}
    assert names == {"invoke_agent", "react", "chat", "execute_tool", "embeddings",
                     "retrieval", "invoke_workflow"}
    assert_column_matches("AgentScope 2.x", collector)
