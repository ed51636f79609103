"""Production signals on real Hermes agents (scripted model server)."""

from __future__ import annotations

import json
import threading

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import ToolCall, text, tool_calls
from tests.signals_support import assert_loop, assert_no_loop, signals_of

from .support import make_agent, tools


@pytest.fixture
def signals(provider, exporter):
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    with signals_of(HermesAgentInstrumentor, provider, exporter) as found:
        yield found


def _not_found(args):
    return json.dumps({"result": "not found"})


def test_overlapping_turns_on_one_agent_carry_the_count(signals, server):
    srv = server([tool_calls([ToolCall("lookup", {"key": "{conv}"})]), text("answer {conv}")])
    in_tool = threading.Barrier(2, timeout=20)
    read = threading.Barrier(2, timeout=20)
    active_seen, calls = [], []

    def lookup(args):
        calls.append(args["key"])
        if len(calls) > 2:
            return json.dumps({"result": args["key"]})  # the lone turn waits for nobody
        in_tool.wait()  # both turns are in flight now
        active_seen.append(signals.total("agents.invocations.active"))
        read.wait()
        return json.dumps({"result": args["key"]})

    with tools(lookup=(lookup, {"key": "string"})):
        # Non-streaming: Hermes lets only one stream of an agent deliver at once.
        agent = make_agent(srv.base_url, streaming=False)
        threads = [threading.Thread(target=agent.run_conversation,
                                    args=(f"Look it up. [conv:{k}]",)) for k in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        overlapped = signals.agents()
        assert len(overlapped) == 2
        assert [s.attributes.get("agents.agent.concurrent_invocations")
                for s in overlapped] == [1, 1]
        assert active_seen == [2, 2]
        assert signals.total("agents.invocations.active") == 0
        (point,) = signals.points("agents.invocations.active")
        assert dict(point.attributes) == {"gen_ai.agent.name": "hermes",
                                          "agents.runtime": "hermes"}

        signals.exporter.clear()
        agent.run_conversation("Look it up. [conv:c]")
        (lone,) = signals.agents()
        (tool,) = signals.spans("execute_tool")
        assert "error.type" not in tool.attributes
        assert "agents.agent.concurrent_invocations" not in lone.attributes


def test_the_same_tool_call_four_times_is_a_loop(signals, server):
    same = tool_calls([ToolCall("lookup", {"key": "k"})])
    srv = server([same, same, same, same, text("done")])
    with tools(lookup=(_not_found, {"key": "string"})):
        result = make_agent(srv.base_url).run_conversation("Find k.")
    assert result["final_response"] == "done"
    assert_loop(signals, rounds=5, tool="lookup", trip_round=3, agent="hermes")


def test_distinct_arguments_are_no_loop(signals, server):
    srv = server([tool_calls([ToolCall("lookup", {"key": f"k{i}"})]) for i in range(4)]
                 + [text("done")])
    with tools(lookup=(_not_found, {"key": "string"})):
        result = make_agent(srv.base_url).run_conversation("Find k.")
    assert result["final_response"] == "done"
    assert len(signals.spans("react step")) == 5
    assert_no_loop(signals)


def test_an_answer_is_not_flagged_an_empty_one_is(signals, server):
    srv = server({"full": [text("hello")], "empty": [text(" ")] * 5})
    agent = make_agent(srv.base_url)
    assert agent.run_conversation("Say hello. [conv:full]")["final_response"] == "hello"
    (span,) = signals.agents()
    assert "agents.agent.empty_output" not in span.attributes

    signals.exporter.clear()
    result = make_agent(srv.base_url).run_conversation("Say nothing. [conv:empty]")
    # Hermes retries, then answers a notice of its own in place of the model's.
    assert result["turn_exit_reason"] == "empty_response_exhausted"
    (span,) = signals.agents()
    assert span.attributes.get("agents.agent.empty_output") is True
