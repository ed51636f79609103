"""Guardrail checks, handoffs and knowledge retrieval of real PraisonAI agents.

Only the model is scripted. A guardrail here accepts an answer containing
"good"; the scripted model answers "bad" until the request carries
PraisonAI's own retry feedback ("failed validation").
"""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)

from .support import MODEL


def _text_of(request) -> str:
    return "\n".join(str(m.get("content")) for m in request.get("messages") or [])


def bad_then_good(conversation, request):
    return text("a good answer" if "failed validation" in _text_of(request) else "a bad answer")


def always_bad(conversation, request):
    return text("a bad answer")


def only_good(output):
    """Accept an answer that says good."""
    if "good" in output.raw:
        return True, output
    return False, "say good"


def fast_retries():
    from praisonaiagents.config.feature_configs import ExecutionConfig

    # PraisonAI waits before a guardrail retry (1 s by default).
    return ExecutionConfig(retry_initial_delay=0.001, retry_jitter=0)


def guarded_agent(name: str = "guarded", *, max_retries: int = 3):
    from praisonaiagents import Agent
    from praisonaiagents.config.feature_configs import GuardrailConfig

    return Agent(name=name, instructions="You help.", model=MODEL, retry=False,
                 guardrails=GuardrailConfig(validator=only_good, max_retries=max_retries),
                 execution=fast_retries())


def _spans(exporter):
    return exporter.get_finished_spans()


RETRIED_TREE = """
invoke_agent guarded {agents.guardrail.retries=1, status=UNSET}
  react step {gen_ai.react.round=1, status=UNSET}
    chat gpt-4o-mini {status=UNSET}
  guardrail only_good {agents.guardrail.attempt=1, agents.guardrail.passed=false, status=UNSET}
  react step {gen_ai.react.round=2, status=UNSET}
    chat gpt-4o-mini {status=UNSET}
  guardrail only_good {agents.guardrail.attempt=2, agents.guardrail.passed=true, status=UNSET}
"""


def test_agent_guardrail_rejects_then_passes(instrumented_with_content, respond, exporter,
                                              detector):
    respond(bad_then_good)

    assert guarded_agent().chat("Answer me.") == "a good answer"

    tree = assert_tree(_spans(exporter), RETRIED_TREE, ordered=True)
    rejected, accepted = tree.find("guardrail only_good")
    for check in (rejected, accepted):
        assert {key: check.attributes[key] for key in (
            "gen_ai.operation.name", "agents.guardrail.name", "agents.guardrail.target",
            "gen_ai.agent.name")} == {
            "gen_ai.operation.name": "guardrail", "agents.guardrail.name": "only_good",
            "agents.guardrail.target": "agent", "gen_ai.agent.name": "guarded"}
    # The reason is content: recorded only under content capture.
    assert rejected.attributes["agents.guardrail.feedback"] == "say good"
    assert "agents.guardrail.feedback" not in accepted.attributes
    detector.assert_all_ended()


async def test_agent_guardrail_in_achat(instrumented, respond, exporter, detector):
    respond(bad_then_good)

    assert await guarded_agent().achat("Answer me.") == "a good answer"

    tree = assert_tree(_spans(exporter), RETRIED_TREE, ordered=True)
    assert all("agents.guardrail.feedback" not in node.attributes for node in tree.walk())
    detector.assert_all_ended()


def test_agent_guardrail_that_never_passes(instrumented, respond, exporter, detector):
    respond(always_bad)

    answer = guarded_agent(max_retries=1).chat("Answer me.")

    # PraisonAI answers a fixed refusal rather than the rejected text.
    assert "did not pass the safety guardrail" in answer
    assert_tree(_spans(exporter), """
invoke_agent guarded {agents.guardrail.retries=1, error.type=guardrail_blocked, status=ERROR}
  react step {gen_ai.react.round=1, status=UNSET}
    chat gpt-4o-mini {status=UNSET}
  guardrail only_good {agents.guardrail.attempt=1, agents.guardrail.passed=false, status=UNSET}
  react step {gen_ai.react.round=2, status=UNSET}
    chat gpt-4o-mini {status=UNSET}
  guardrail only_good {agents.guardrail.attempt=2, agents.guardrail.passed=false, status=UNSET}
""", ordered=True)
    detector.assert_all_ended()


@pytest.mark.parametrize("entry", ["start", "astart", "astart_async_task"])
async def test_task_guardrail_in_a_team_reruns_the_task(entry, instrumented, respond, exporter,
                                                        detector):
    import threading

    from praisonaiagents import Agent, AgentTeam, Task

    # The team runs the task again with the same prompt: the model's second
    # answer is the good one.
    answers = iter(["a bad answer", "a good answer"])
    lock = threading.Lock()

    def in_turn(conversation, request):
        with lock:
            return text(next(answers))

    respond(in_turn)
    writer = Agent(name="writer", instructions="You write.", model=MODEL, retry=False)
    task = Task(name="write", description="Write one sentence.", expected_output="a sentence",
                agent=writer, guardrail=only_good, max_retries=2)
    team = AgentTeam(name="desk", agents=[writer], tasks=[task])

    if entry == "start":
        assert team.start() == "a good answer"
    else:
        # An async task is checked through `_aapply_task_guardrail`, in an
        # executor thread.
        task.async_execution = entry == "astart_async_task"
        await team.astart()
        assert task.result.raw == "a good answer"

    assert_tree(_spans(exporter), """
invoke_workflow desk {status=UNSET}
  invoke_agent writer {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  guardrail only_good {agents.guardrail.target=task, agents.guardrail.attempt=1, agents.guardrail.passed=false, status=UNSET}
  invoke_agent writer {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  guardrail only_good {agents.guardrail.target=task, agents.guardrail.attempt=2, agents.guardrail.passed=true, status=UNSET}
""", ordered=True)
    detector.assert_all_ended()


TURNS = 8


def test_overlapping_guarded_turns_on_one_agent_count_their_own_attempts(
        instrumented, respond, exporter, detector):
    """8 threads, one guarded agent, every first check held at one barrier:
    each turn's checks, attempts and retries land in its own trace."""
    import threading

    from opentelemetry.instrumentation.agents.testing import assert_isolated

    respond(bad_then_good)
    first_checks = threading.Barrier(TURNS, timeout=30)

    def held(output):
        """Accept a good answer; the first (bad) ones wait for each other."""
        if "good" not in output.raw:
            first_checks.wait()
        return only_good(output)

    from praisonaiagents import Agent
    from praisonaiagents.config.feature_configs import GuardrailConfig

    shared = Agent(name="guarded", instructions="You help.", model=MODEL, retry=False,
                   guardrails=GuardrailConfig(validator=held, max_retries=3),
                   execution=fast_retries())
    answers = []

    def run(index: int) -> None:
        answers.append(shared.chat(f"Question {index}?"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(TURNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert answers == ["a good answer"] * TURNS
    trees = assert_isolated(_spans(exporter), RETRIED_TREE.replace("only_good", "held"),
                            TURNS, ordered=True)
    checks = [node for tree in trees for node in tree.find("guardrail held")]
    assert max(c.span.start_time for c in checks[::2]) < min(
        c.span.end_time for c in checks[::2]), "the first checks did overlap"
    detector.assert_all_ended()


# -- handoffs -------------------------------------------------------------

def _desk(conversation, request):
    messages = request.get("messages") or []
    if conversation == "billing":
        return text("Refund issued.")
    if messages and messages[-1].get("role") == "tool":
        return text("Billing took care of it.")
    return tool_calls([ToolCall("transfer_to_billing", {})])


def test_handoff_runs_the_receiving_agent_under_the_transfer_tool(instrumented, respond,
                                                                   exporter, detector):
    from praisonaiagents import Agent

    respond(_desk)
    billing = Agent(name="billing", instructions="[conv:billing] You do refunds.", model=MODEL,
                    retry=False)
    triage = Agent(name="triage", instructions="[conv:triage] You route.", model=MODEL,
                   retry=False, handoffs=[billing])

    assert triage.chat("I want a refund.") == "Billing took care of it."

    assert_tree(_spans(exporter), """
invoke_agent triage {status=UNSET}
  react step {gen_ai.react.round=1, status=UNSET}
    chat gpt-4o-mini {gen_ai.response.finish_reasons=[tool_calls], status=UNSET}
    execute_tool transfer_to_billing {status=UNSET}
      invoke_agent billing {status=UNSET}
        react step {gen_ai.react.round=1, status=UNSET}
          chat gpt-4o-mini {gen_ai.response.finish_reasons=[stop], status=UNSET}
  react step {gen_ai.react.round=2, status=UNSET}
    chat gpt-4o-mini {gen_ai.response.finish_reasons=[stop], status=UNSET}
""", ordered=True)
    detector.assert_all_ended()


# -- knowledge ------------------------------------------------------------

@pytest.fixture
def local_knowledge(tmp_path, monkeypatch):
    """PraisonAI's SQLite knowledge store: offline, no extra dependency.

    The adapter writes `knowledge.db` to the working directory (it does not
    read a path from the config), so the test runs in a temp dir.
    """
    from praisonaiagents.knowledge import Knowledge

    monkeypatch.chdir(tmp_path)
    knowledge = Knowledge(config={"vector_store": {"provider": "sqlite",
                                                   "config": {"collection_name": "weather"}}})
    return knowledge


def test_agent_knowledge_search_is_a_retrieval_span(instrumented_with_content, respond,
                                                    exporter, detector, local_knowledge):
    from praisonaiagents import Agent

    server = respond(lambda conversation, request: text("Sunny."))
    agent = Agent(name="forecaster", instructions="You forecast.", model=MODEL, retry=False,
                  knowledge=local_knowledge)
    # Stored in the scope the agent searches (its user and agent ids).
    local_knowledge.store("Lima is sunny all week.", user_id=agent.user_id,
                          agent_id=agent.agent_id)

    # force_retrieval: PraisonAI's default policy skips a prompt this short.
    assert agent.chat("Lima", force_retrieval=True) == "Sunny."

    tree = assert_tree(_spans(exporter), """
invoke_agent forecaster {status=UNSET}
  retrieval weather {gen_ai.data_source.id=weather, agents.retrieval.documents.count=1, status=UNSET}
  react step {status=UNSET}
    chat gpt-4o-mini {status=UNSET}
""", ordered=True)
    (retrieval,) = tree.find("retrieval weather")
    assert retrieval.attributes["gen_ai.operation.name"] == "retrieval"
    assert retrieval.attributes["gen_ai.retrieval.query.text"] == "Lima"
    assert "Lima is sunny all week." in retrieval.attributes["gen_ai.retrieval.documents"]
    # What was found reached the model.
    assert "Lima is sunny all week." in _text_of(server.requests[0])
    detector.assert_all_ended()


def test_agent_memory_prefetch_is_a_retrieval_span(instrumented_with_content, respond,
                                                   exporter, detector, tmp_path, monkeypatch):
    from praisonaiagents import Agent
    from praisonaiagents.config.feature_configs import MemoryConfig

    # The file memory lives under `.praisonai/memory` of the working directory.
    monkeypatch.chdir(tmp_path)
    server = respond(lambda conversation, request: text("Sunny."))
    agent = Agent(name="forecaster", instructions="You forecast.", model=MODEL, retry=False,
                  memory=MemoryConfig(backend="file", prefetch=True))
    agent._memory_instance.add_long_term("Lima is sunny all week.")

    assert agent.chat("Weather in Lima?") == "Sunny."

    # PraisonAI searches with the whole prompt, then with its keywords.
    tree = assert_tree(_spans(exporter), """
invoke_agent forecaster {status=UNSET}
  retrieval memory.long_term {gen_ai.data_source.id=memory.long_term, gen_ai.request.top_k=5, agents.retrieval.documents.count=0, gen_ai.retrieval.query.text=Weather in Lima?, status=UNSET}
  retrieval memory.long_term {gen_ai.data_source.id=memory.long_term, gen_ai.request.top_k=5, agents.retrieval.documents.count=1, gen_ai.retrieval.query.text=Weather Lima, status=UNSET}
  react step {status=UNSET}
    chat gpt-4o-mini {status=UNSET}
""", ordered=True)
    found = tree.children[1]
    assert "Lima is sunny all week." in found.attributes["gen_ai.retrieval.documents"]
    assert "Lima is sunny all week." in _text_of(server.requests[0])
    detector.assert_all_ended()
