"""`PersistenceOrchestrator` sessions as the conversation id of the runs they hold."""

from __future__ import annotations

import asyncio
import threading

from opentelemetry.instrumentation.agents.testing import assert_isolated
from opentelemetry.instrumentation.agents.testing.openai_server import text

MODEL = "gpt-4o-mini"
TREE = """
invoke_agent helper
  react step
    chat gpt-4o-mini
"""


def _agent():
    from praisonaiagents import Agent

    return Agent(name="helper", instructions="You help.", model=MODEL, retry=False)


def _together(count):
    """A responder answering conversations `a` and `b` only once `count` of their model
    calls are in flight together (any other at once)."""
    barrier = threading.Barrier(count, timeout=30)

    def responder(conversation, request):
        if conversation in ("a", "b"):
            barrier.wait()
        return text(f"answer {conversation}")

    return responder


def _conversations(exporter, count):
    trees = assert_isolated(exporter.get_finished_spans(), TREE, count)
    return {tree.attributes.get("gen_ai.conversation.id"): tree for tree in trees}


def test_two_sessions_on_one_orchestrator_in_threads(instrumented, respond, exporter,
                                                     detector, tmp_path):
    from praisonai.persistence.conversation.json_store import JSONConversationStore
    from praisonai.persistence.orchestrator import PersistenceOrchestrator

    respond(_together(2))
    orchestrator = PersistenceOrchestrator(
        conversation_store=JSONConversationStore(path=str(tmp_path)))
    agent = _agent()  # one agent, one orchestrator, two sessions at once

    def session(key):
        session_id = f"sess-{key}"
        orchestrator.on_agent_start(agent, session_id=session_id)
        orchestrator.on_message(session_id, "user", f"Hello. [conv:{key}]")
        answer = agent.chat(f"Hello. [conv:{key}]")
        orchestrator.on_message(session_id, "assistant", str(answer))
        orchestrator.on_agent_end(agent, session_id)

    threads = [threading.Thread(target=session, args=(key,)) for key in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    runs = _conversations(exporter, 2)
    assert set(runs) == {"sess-a", "sess-b"}
    for session_id, tree in runs.items():
        # Each run's own model call: the server answered it for that session's prompt.
        (chat,) = [node for node in tree.walk() if node.name.startswith("chat ")]
        assert chat.attributes["gen_ai.response.id"].split("-")[1] == session_id[-1]
    # Ended sessions are forgotten: a run after on_agent_end carries no session.
    exporter.clear()
    agent.chat("Later. [conv:c]")
    (tree,) = assert_isolated(exporter.get_finished_spans(), TREE, 1)
    assert tree.attributes.get("gen_ai.conversation.id") in (None, getattr(agent, "_session_id",
                                                                           None))
    assert tree.attributes.get("gen_ai.conversation.id") not in ("sess-a", "sess-b")
    detector.assert_all_ended()


async def test_two_sessions_on_one_orchestrator_in_tasks(instrumented, respond, exporter,
                                                         detector, tmp_path):
    from praisonai.persistence.conversation.json_store import JSONConversationStore
    from praisonai.persistence.orchestrator import PersistenceOrchestrator

    respond(_together(2))
    orchestrator = PersistenceOrchestrator(
        conversation_store=JSONConversationStore(path=str(tmp_path)))
    agent = _agent()

    async def session(key):
        session_id = f"sess-{key}"
        await orchestrator.aon_agent_start(agent, session_id=session_id)
        answer = await agent.achat(f"Hello. [conv:{key}]")
        await orchestrator.aon_message(session_id, "assistant", str(answer))
        await orchestrator.aon_agent_end(agent, session_id)

    await asyncio.gather(session("a"), session("b"))
    assert set(_conversations(exporter, 2)) == {"sess-a", "sess-b"}
    detector.assert_all_ended()
