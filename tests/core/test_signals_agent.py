"""Production signals the handler derives from agent and tool calls, runtime-free:
overlap on one instance, the active-invocations counter, loops, empty answers,
and the switch that turns them off."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents import _signals

from .contract import Owner, current

ACTIVE = "agents.invocations.active"
CONCURRENT = "agents.agent.concurrent_invocations"


def test_overlap_on_one_instance_is_counted_on_each_and_a_lone_call_has_none(tel):
    handler = tel.handler()
    owner, other = Owner(), Owner()
    first = handler.start_agent(owner, "bot")
    second = handler.start_agent(owner, "bot")
    third = handler.start_agent(owner, "bot")
    elsewhere = handler.start_agent(other, "bot")  # another instance: no overlap
    assert tel.point(ACTIVE).value == 4
    for frame in (third, second, first, elsewhere):
        handler.finish_agent(frame)
    lone = handler.start_agent(owner, "bot")
    handler.finish_agent(lone)

    counts = [s.attributes.get(CONCURRENT) for s in tel.spans()]
    # third, second, first (each saw two others at once), elsewhere, lone: none.
    assert counts == [2, 2, 2, None, None]
    point = tel.point(ACTIVE)
    assert point.value == 0
    assert dict(point.attributes) == {"gen_ai.agent.name": "bot", "agents.runtime": "test"}
    assert _signals.in_flight() == 0  # nothing kept once the invocations ended


def test_the_registry_does_not_keep_an_instance_alive(tel):
    import gc
    import weakref

    handler = tel.handler()
    owner = Owner()
    gone = weakref.ref(owner)
    handler.finish_agent(handler.start_agent(owner, "bot"))
    del owner
    gc.collect()
    assert gone() is None


def _tool_round(handler, frame, name, arguments):
    handler.start_step(frame)
    with current(frame.context):
        handler.finish_tool(handler.start_tool(name, arguments=arguments))


def test_the_third_identical_call_trips_the_loop_once(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    for arguments in ({"q": 1}, '{"q": 2}', {"q": 1}, {"q": 1}, {"q": 1}):
        _tool_round(handler, frame, "search", arguments)
    handler.finish_agent(frame)

    agent = tel.span("invoke_agent bot")
    assert agent.attributes["agents.loop.detected"] is True
    steps = [s for s in tel.spans() if s.name == "react step"]
    tripped = [(s.attributes["gen_ai.react.round"], [dict(e.attributes) for e in s.events])
               for s in steps if s.events]
    assert tripped == [(4, [{"gen_ai.tool.name": "search", "agents.loop.repetitions": 3}])]
    assert tel.point("agents.loops").value == 1
    # The arguments are nowhere on the spans (content capture is off).
    assert all("gen_ai.tool.call.arguments" not in s.attributes for s in tel.spans())


def test_argument_order_in_a_mapping_does_not_matter_names_do(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    _tool_round(handler, frame, "a", {"x": 1, "y": 2})
    _tool_round(handler, frame, "b", {"x": 1, "y": 2})
    _tool_round(handler, frame, "a", {"y": 2, "x": 1})
    handler.finish_agent(frame)
    assert "agents.loop.detected" not in tel.span("invoke_agent bot").attributes
    assert tel.points("agents.loops") == []


class _NoRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize("arguments", [{"thing": _NoRepr()}, _NoRepr(), {1: _NoRepr(), "a": 2}])
def test_arguments_without_a_repr_still_give_a_tool_span(tel, arguments):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    for _ in range(3):
        _tool_round(handler, frame, "search", arguments)
    handler.finish_agent(frame)
    assert [s.name for s in tel.spans()].count("execute_tool search") == 3
    # The same object three times is the same call: the loop is still seen.
    assert tel.span("invoke_agent bot").attributes["agents.loop.detected"] is True


def test_loops_are_counted_per_invocation(tel):
    handler = tel.handler()
    owner = Owner()
    for _ in range(2):
        frame = handler.start_agent(owner, "bot")
        for _ in range(2):
            _tool_round(handler, frame, "search", {"q": 1})
        handler.finish_agent(frame)
    assert tel.points("agents.loops") == []


def test_the_threshold_comes_from_the_environment(tel, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTS_LOOP_THRESHOLD", "2")
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    for _ in range(2):
        _tool_round(handler, frame, "search", {"q": 1})
    handler.finish_agent(frame)
    assert tel.span("invoke_agent bot").attributes["agents.loop.detected"] is True


@pytest.mark.parametrize("answer", [None, "", "  \n", [], [{"type": "text", "text": " "}],
                                    [{"type": "thinking", "thinking": "hmm"}]])
def test_an_empty_answer_is_flagged(tel, answer):
    handler = tel.handler()
    handler.finish_agent(handler.start_agent(Owner(), "bot"), answer=answer)
    assert tel.span("invoke_agent bot").attributes["agents.agent.empty_output"] is True


class Msg:
    def __init__(self, content, metadata=None):
        self.content = content
        self.metadata = metadata


@pytest.mark.parametrize("answer", ["hi", [{"type": "text", "text": "hi"}],
                                    [{"type": "tool_use", "name": "x"}], {"score": 1},
                                    Msg("hi"), Msg("", metadata={"answer": 1})])
def test_an_answer_or_structured_output_is_not_flagged(tel, answer):
    handler = tel.handler()
    handler.finish_agent(handler.start_agent(Owner(), "bot"), answer=answer)
    assert "agents.agent.empty_output" not in tel.span("invoke_agent bot").attributes


def test_no_answer_given_or_an_exception_is_not_an_empty_answer(tel):
    handler = tel.handler()
    handler.finish_agent(handler.start_agent(Owner(), "a"))
    handler.finish_agent(handler.start_agent(Owner(), "b"), error=ValueError("x"), answer=None)
    for span in tel.spans():
        assert "agents.agent.empty_output" not in span.attributes


def test_signals_off_emit_none_of_it(tel, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTS_SIGNALS", "false")
    handler = tel.handler()
    owner = Owner()
    first, second = handler.start_agent(owner, "bot"), handler.start_agent(owner, "bot")
    for _ in range(3):
        _tool_round(handler, first, "search", {"q": 1})
    handler.finish_agent(first, answer="")
    handler.finish_agent(second)
    for span in tel.spans():
        assert not {CONCURRENT, "agents.loop.detected", "agents.agent.empty_output"} \
            & set(span.attributes)
        assert not span.events
    assert ACTIVE not in tel.metrics() and "agents.loops" not in tel.metrics()
    assert _signals.in_flight() == 0
