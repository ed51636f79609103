"""Production signals on real PraisonAI agents (scripted model server)."""

from __future__ import annotations

import threading

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import ToolCall, text, tool_calls
from tests.signals_support import assert_loop, assert_no_loop, signals_of

from .support import make_agent


@pytest.fixture
def signals(provider, exporter):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    with signals_of(PraisonAIInstrumentor, provider, exporter) as found:
        yield found


def test_overlapping_turns_on_one_agent_carry_the_count(signals, serve):
    serve([tool_calls([ToolCall("lookup", {"key": "{conv}"})]), text("answer {conv}")])
    in_tool = threading.Barrier(2, timeout=20)
    read = threading.Barrier(2, timeout=20)
    active_seen = []

    def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        in_tool.wait()  # both turns are in flight now
        active_seen.append(signals.total("agents.invocations.active"))
        read.wait()
        return f"value for {key}"

    agent = make_agent([lookup])
    threads = [threading.Thread(target=agent.chat, args=(f"Look up {k}. [conv:{k}]",))
               for k in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    overlapped = signals.agents()
    assert len(overlapped) == 2
    assert [s.attributes.get("agents.agent.concurrent_invocations") for s in overlapped] == [1, 1]
    assert active_seen == [2, 2]
    assert signals.total("agents.invocations.active") == 0
    (point,) = signals.points("agents.invocations.active")
    assert dict(point.attributes) == {"gen_ai.agent.name": "helper", "agents.runtime": "praisonai"}

    signals.exporter.clear()
    assert agent.chat("Look up c. [conv:c]") == "answer c"
    (lone,) = signals.agents()
    assert "agents.agent.concurrent_invocations" not in lone.attributes


def test_the_same_tool_call_four_times_is_a_loop(signals, serve):
    same = tool_calls([ToolCall("lookup", {"key": "k"})])
    serve([same, same, same, same, text("done")])

    def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        return "not found"

    assert make_agent([lookup]).chat("Find k.") == "done"
    assert_loop(signals, rounds=5, tool="lookup", trip_round=3, agent="helper")


def test_distinct_arguments_are_no_loop(signals, serve):
    serve([tool_calls([ToolCall("lookup", {"key": f"k{i}"})]) for i in range(4)]
          + [text("done")])

    def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        return "not found"

    assert make_agent([lookup]).chat("Find k.") == "done"
    assert len(signals.spans("react step")) == 5
    assert_no_loop(signals)


def test_an_empty_answer_is_flagged(signals, serve):
    serve([text("  ")])
    make_agent().chat("Say nothing.")
    (span,) = signals.agents()
    assert span.attributes.get("agents.agent.empty_output") is True


def test_an_answer_is_not_flagged(signals, serve):
    serve([text("hello")])
    assert make_agent().chat("Say hello.") == "hello"
    (span,) = signals.agents()
    assert "agents.agent.empty_output" not in span.attributes


def test_guardrail_fail_then_pass_gives_two_evaluations_on_the_agent_span(signals, respond):
    from .test_guardrails import bad_then_good, guarded_agent

    respond(bad_then_good)
    assert guarded_agent().chat("Answer me.") == "a good answer"

    (agent_span,) = signals.agents()
    rejected, accepted = sorted(signals.spans("guardrail only_good"),
                                key=lambda s: s.attributes["agents.guardrail.attempt"])
    assert agent_span.context.span_id == rejected.parent.span_id == accepted.parent.span_id
    first, second = signals.evaluations()
    for record, label in ((first, "fail"), (second, "pass")):
        # Without content capture, no explanation (the guardrail's feedback).
        assert dict(record.attributes) == {"gen_ai.evaluation.name": "only_good",
                                           "gen_ai.evaluation.score.label": label}
        assert record.span_id == agent_span.context.span_id
        assert record.trace_id == agent_span.context.trace_id


def test_record_evaluation_inside_and_after_an_invocation(signals, serve):
    from opentelemetry.instrumentation.agents import (
        last_invocation_span_context,
        record_evaluation,
    )

    serve([tool_calls([ToolCall("judge", {"answer": "x"})]), text("done")])

    def judge(answer: str) -> str:
        """Judge an answer.

        Args:
            answer: The answer.
        """
        record_evaluation("inside", score=0.25, label="low")
        return "judged"

    assert make_agent([judge]).chat("Judge x.") == "done"
    record_evaluation("relevance", score=0.9, span_context=last_invocation_span_context())

    (agent_span,) = signals.agents()
    (tool_span,) = signals.spans("execute_tool judge")
    inside, after = signals.evaluations()
    assert dict(inside.attributes) == {"gen_ai.evaluation.name": "inside",
                                       "gen_ai.evaluation.score.value": 0.25,
                                       "gen_ai.evaluation.score.label": "low"}
    assert inside.span_id == tool_span.context.span_id  # the span current in the tool
    assert dict(after.attributes) == {"gen_ai.evaluation.name": "relevance",
                                      "gen_ai.evaluation.score.value": 0.9}
    assert after.span_id == agent_span.context.span_id
    assert after.trace_id == agent_span.context.trace_id
