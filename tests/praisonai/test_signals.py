"""Production signals on real PraisonAI agents (scripted model server)."""

from __future__ import annotations

import threading

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    error,
    text,
    tool_calls,
)
from tests.signals_support import (
    assert_loop,
    assert_no_loop,
    cascade_of,
    input_links,
    signals_of,
)

from .support import MODEL, make_agent


@pytest.fixture
def signals(provider, exporter):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    with signals_of(PraisonAIInstrumentor, provider, exporter) as found:
        yield found


def test_overlapping_turns_on_one_agent_carry_the_count(signals, serve):
    serve([tool_calls([ToolCall("lookup", {"key": "{conv}"})]), text("answer {conv}")])
    in_tool = threading.Barrier(2, timeout=20)
    read = threading.Barrier(2, timeout=20)
    active_seen, calls = [], []

    def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        calls.append(key)
        if len(calls) > 2:
            return f"value for {key}"  # the lone turn after the overlap waits for nobody
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
    (tool,) = signals.spans("execute_tool")
    assert "error.type" not in tool.attributes
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


# -- cascades -------------------------------------------------------------------
def _member(name: str):
    from praisonaiagents import Agent

    # The marker routes each request to this agent's script, whichever thread asks.
    return Agent(name=name, instructions=f"[conv:{name}] You help.", model=MODEL, retry=False)


def _pair_tasks(researcher, writer):
    from praisonaiagents import Task

    return [Task(name="research", description="Find the weather in Lima.",
                 expected_output="facts", agent=researcher),
            Task(name="write", description="Write one sentence about it.",
                 expected_output="a sentence", agent=writer)]


PAIR = """
invoke_workflow desk {{agents.workflow.type={kind}}}
  invoke_agent researcher
    react step
      chat gpt-4o-mini
  invoke_agent writer
    react step
      chat gpt-4o-mini
"""


@pytest.mark.parametrize("researcher_turn", ["empty", "error"])
def test_a_sequential_team_stops_on_a_failed_first_member_and_names_it(signals, respond,
                                                                       researcher_turn):
    """PraisonAI answers None when the model call fails (no exception); the
    team tries the task three times, then fails it without running the
    writer on it: a failed member, no cascade."""
    from praisonaiagents import AgentTeam

    first = text("  ") if researcher_turn == "empty" else error(500, "model down")
    respond(lambda conversation, request: first if conversation == "researcher"
            else text("Lima is ... unknown."))
    researcher, writer = _member("researcher"), _member("writer")
    team = AgentTeam(name="desk", agents=[researcher, writer],
                     tasks=_pair_tasks(researcher, writer), process="sequential")
    team.start()

    spans = signals.exporter.get_finished_spans()
    failed = "" if researcher_turn == "empty" else "error.type=openai.InternalServerError, "
    attempt = f"""
          invoke_agent researcher {{{failed}agents.agent.empty_output=true}}
            react step
              chat gpt-4o-mini {{{failed.rstrip(', ')}}}"""
    tree = assert_tree(spans, "invoke_workflow desk {error.type=task_failed}" + attempt * 3,
                       ordered=True)
    # A task tried again runs on no other member's output.
    assert input_links(spans) == [("researcher", [])] * 3
    assert cascade_of(tree.span) == (("researcher",), None)


def test_a_team_member_that_recovers_on_a_retry_hands_on_its_good_answer(signals, respond):
    from praisonaiagents import AgentTeam

    asked = []

    def responder(conversation, request):
        if conversation == "researcher":
            asked.append(1)
            return text("") if len(asked) == 1 else text("Lima: sunny.")
        return text("Lima is sunny today.")

    respond(responder)
    researcher, writer = _member("researcher"), _member("writer")
    AgentTeam(name="desk", agents=[researcher, writer],
              tasks=_pair_tasks(researcher, writer), process="sequential").start()

    spans = signals.exporter.get_finished_spans()
    tree = assert_tree(spans, """
        invoke_workflow desk
          invoke_agent researcher
            react step
              chat gpt-4o-mini
          invoke_agent researcher
            react step
              chat gpt-4o-mini
          invoke_agent writer
            react step
              chat gpt-4o-mini
    """, ordered=True)
    researchers = [s for s in spans if s.name == "invoke_agent researcher"]
    (link,) = tel_links(spans, "invoke_agent writer")
    assert link.context.span_id == max(researchers, key=lambda s: s.start_time).context.span_id
    # The empty attempt is named; the writer ran on the good one: no cascade.
    assert cascade_of(tree.span) == (("researcher",), None)


def test_an_agent_flow_whose_first_step_answers_empty_is_degraded(signals, respond):
    from praisonaiagents import AgentFlow

    respond(lambda conversation, request: text("") if conversation == "researcher"
            else text("Nothing to write about."))
    flow = AgentFlow(name="desk", steps=[_member("researcher"), _member("writer")])
    flow.run("Weather in Lima?")

    spans = signals.exporter.get_finished_spans()
    tree = assert_tree(spans, PAIR.format(kind="AgentFlow"), ordered=True)
    assert input_links(spans) == [("researcher", []), ("writer", ["researcher"])]
    assert cascade_of(tree.span) == (("researcher",), True)


def test_a_clean_team_links_its_members_and_adds_nothing_else(signals, respond):
    from praisonaiagents import AgentTeam

    respond(lambda conversation, request: text(f"{conversation} done."))
    researcher, writer = _member("researcher"), _member("writer")
    AgentTeam(name="desk", agents=[researcher, writer],
              tasks=_pair_tasks(researcher, writer), process="sequential").start()

    spans = signals.exporter.get_finished_spans()
    tree = assert_tree(spans, PAIR.format(kind="AgentTeam"), ordered=True)
    assert input_links(spans) == [("researcher", []), ("writer", ["researcher"])]
    assert cascade_of(tree.span) == (None, None)


def tel_links(spans, name):
    (span,) = [s for s in spans if s.name == name]
    return list(span.links)


# -- approvals ------------------------------------------------------------------
@pytest.fixture
def approvals():
    """The approval registry with `publish_post` required and a callback set;
    both undone after the test. (PraisonAI's default permissions deny its
    built-in dangerous tools outright: a tool of our own needs the approval.)"""
    from praisonaiagents.approval import get_approval_registry, set_approval_callback

    registry = get_approval_registry()
    registry.add_requirement("publish_post", "high")
    yield set_approval_callback
    set_approval_callback(None)
    registry.remove_requirement("publish_post")
    registry.clear_approved()


def publish_post(text: str) -> str:
    """Publish a post.

    Args:
        text: The post.
    """
    return f"published {text}"


@pytest.mark.parametrize("entry", ["chat", "achat"])
def test_an_approval_a_callback_decides_after_a_delay_is_a_measured_wait(signals, serve,
                                                                         approvals, entry):
    import asyncio
    import time

    serve([tool_calls([ToolCall("publish_post", {"text": "hello"})]), text("Published.")])
    asked = []

    def decide(function_name, arguments, risk_level):
        asked.append((function_name, risk_level))
        time.sleep(0.2)  # the human thinks
        return True

    approvals(decide)
    agent = make_agent([publish_post])
    started = time.perf_counter()
    if entry == "chat":
        answer = agent.chat("publish hello")
    else:
        answer = asyncio.run(agent.achat("publish hello"))
    at_most = time.perf_counter() - started

    tree = assert_tree(signals.exporter.get_finished_spans(), """
        invoke_agent helper
          react step
            chat gpt-4o-mini
            execute_tool publish_post
          react step
            chat gpt-4o-mini
    """)
    assert answer == "Published."
    assert asked == [("publish_post", "high")]
    tool = tree.find("execute_tool publish_post")[0].span
    assert tool.attributes.get("gen_ai.tool.call.result") is None  # content is off
    assert tool.status.status_code.name == "UNSET"  # approved: the tool ran
    waited = tool.attributes["agents.hitl.wait.duration"]
    assert 0.2 <= waited <= at_most
    assert tree.span.attributes["agents.hitl.wait.duration"] == waited
    (point,) = signals.points("agents.hitl.wait.duration")
    assert dict(point.attributes) == {"gen_ai.agent.name": "helper",
                                      "agents.agent.pending_reason": "user_confirmation"}
    assert point.count == 1 and 0.2 <= point.sum <= at_most


def test_a_tool_needing_no_approval_measures_no_wait(signals, serve, approvals):
    serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})]), text("Sunny.")])
    approvals(lambda *args: pytest.fail("asked for a tool that needs no approval"))
    assert make_agent().chat("weather in Lima?") == "Sunny."
    assert all("agents.hitl.wait.duration" not in s.attributes
               for s in signals.exporter.get_finished_spans())
    assert signals.points("agents.hitl.wait.duration") == []


# -- handoffs -------------------------------------------------------------------
@pytest.mark.parametrize("entry", ["chat", "achat"])
def test_a_handoff_target_links_to_the_agent_that_handed_over(signals, respond, entry):
    import asyncio

    from praisonaiagents import Agent

    def responder(conversation, request):
        if conversation == "billing":
            return text("Refund issued.")
        if any(m.get("role") == "tool" for m in request.get("messages") or ()):
            return text("Billing says: refund issued.")
        return tool_calls([ToolCall("transfer_to_billing", {})])

    respond(responder)
    billing = Agent(name="billing", instructions="[conv:billing] You refund.", model=MODEL,
                    retry=False)
    triage = Agent(name="triage", instructions="[conv:triage] You route.", model=MODEL,
                   retry=False, handoffs=[billing])
    if entry == "chat":
        answer = triage.chat("I want a refund")
    else:
        answer = asyncio.run(triage.achat("I want a refund"))

    assert answer == "Billing says: refund issued."
    spans = signals.exporter.get_finished_spans()
    tree = assert_tree(spans, """
        invoke_agent triage
          react step
            chat gpt-4o-mini
            execute_tool transfer_to_billing
              invoke_agent billing
                react step
                  chat gpt-4o-mini
          react step
            chat gpt-4o-mini
    """)
    assert input_links(spans) == [("triage", []), ("billing", ["triage"])]
    (link,) = tree.find("invoke_agent billing")[0].span.links
    assert link.context == tree.span.context
