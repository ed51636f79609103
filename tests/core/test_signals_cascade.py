"""Cascades in multi-agent runs, runtime-free: a workflow member's
`invoke_agent` links (`agents.link.type=input_from`) to the members whose
output it ran on; the workflow names its failed members and says when one ran
on a failed or empty member's output."""

from __future__ import annotations

import threading

from opentelemetry.instrumentation.agents._handler import TelemetryHandler

from .contract import Owner, current

FAILED = "agents.workflow.failed_members"
DEGRADED = "agents.workflow.degraded"
NO_ANSWER = TelemetryHandler.NO_ANSWER


def _member(handler, owner, name, *, error=None, answer="done", before_end=None):
    frame = handler.start_agent(owner, name)
    if before_end is not None:
        with current(frame.context):
            before_end()
    handler.finish_agent(frame, error=error, answer=answer)
    return frame


def _inputs(tel, name):
    """(agent name, link attributes) of each link of the span named `name`."""
    by_id = {s.context.span_id: s.attributes.get("gen_ai.agent.name") for s in tel.spans()}
    return [(by_id[link.context.span_id], dict(link.attributes))
            for link in tel.span(name).links]


def _link(name):
    return {"agents.link.type": "input_from", "gen_ai.agent.name": name}


def test_a_sequential_member_links_to_the_one_before_and_a_failure_degrades(tel):
    handler = tel.handler()
    wf = handler.start_workflow("pipe")
    with current(wf.context):
        _member(handler, Owner(), "a", error=RuntimeError("model down"))
        _member(handler, Owner(), "b")
        _member(handler, Owner(), "c")
    handler.finish_workflow(wf)

    tel.tree("""
        invoke_workflow pipe
          invoke_agent a
          invoke_agent b
          invoke_agent c
    """)
    assert _inputs(tel, "invoke_agent a") == []
    assert _inputs(tel, "invoke_agent b") == [("a", _link("a"))]
    assert _inputs(tel, "invoke_agent c") == [("b", _link("b"))]
    span = tel.span("invoke_workflow pipe")
    assert span.attributes[FAILED] == ("a",)
    assert span.attributes[DEGRADED] is True


def test_an_empty_answer_is_a_failed_member_too(tel):
    handler = tel.handler()
    wf = handler.start_workflow("pipe")
    with current(wf.context):
        _member(handler, Owner(), "a", answer="   ")
        _member(handler, Owner(), "b")
    handler.finish_workflow(wf)
    span = tel.span("invoke_workflow pipe")
    assert span.attributes[FAILED] == ("a",)
    assert span.attributes[DEGRADED] is True
    assert tel.span("invoke_agent a").attributes["agents.agent.empty_output"] is True


def test_a_failed_last_member_fails_without_degrading_and_a_clean_run_adds_nothing(tel):
    handler = tel.handler()
    for title, last_answer in (("bad", ""), ("clean", "ok")):
        wf = handler.start_workflow(title)
        with current(wf.context):
            _member(handler, Owner(), "a")
            _member(handler, Owner(), "b", answer=last_answer)
        handler.finish_workflow(wf)
    bad = tel.span("invoke_workflow bad").attributes
    assert bad[FAILED] == ("b",) and DEGRADED not in bad
    clean = tel.span("invoke_workflow clean").attributes
    assert FAILED not in clean and DEGRADED not in clean


def test_a_leader_continuing_on_its_members_links_to_all_of_them(tel):
    """A team: the leader pauses on its assignments, both members run on its
    output, and the leader's continuation runs on both members' results."""
    handler = tel.handler()
    leader, m1, m2 = Owner(), Owner(), Owner()
    wf = handler.start_workflow("team")
    with current(wf.context):
        _member(handler, leader, "leader", answer=NO_ANSWER)  # paused: no answer yet
        first = handler.start_agent(m1, "m1")
        second = handler.start_agent(m2, "m2")
        handler.finish_agent(second, answer="")
        handler.finish_agent(first, answer="found it")
        _member(handler, leader, "leader")
    handler.finish_workflow(wf)

    assert _inputs(tel, "invoke_agent m1") == [("leader", _link("leader"))]
    assert _inputs(tel, "invoke_agent m2") == [("leader", _link("leader"))]
    continuation = [s for s in tel.spans() if s.name == "invoke_agent leader"][1]
    assert sorted(link.attributes["gen_ai.agent.name"] for link in continuation.links) == [
        "m1", "m2"]
    span = tel.span("invoke_workflow team")
    assert span.attributes[FAILED] == ("m2",)
    assert span.attributes[DEGRADED] is True


def test_an_agent_nested_in_a_member_is_not_a_member(tel):
    """A sub-agent a member calls neither links nor counts: its failure is the
    member's business (the member's own answer says whether it recovered)."""
    handler = tel.handler()
    wf = handler.start_workflow("pipe")

    def sub_agent_fails():
        _member(handler, Owner(), "helper", error=ValueError("bad"))

    with current(wf.context):
        _member(handler, Owner(), "a", before_end=sub_agent_fails)
        _member(handler, Owner(), "b")
    handler.finish_workflow(wf)

    assert _inputs(tel, "invoke_agent helper") == []
    assert _inputs(tel, "invoke_agent b") == [("a", _link("a"))]
    attrs = tel.span("invoke_workflow pipe").attributes
    assert FAILED not in attrs and DEGRADED not in attrs


def test_a_workflow_inside_a_member_has_members_of_its_own(tel):
    handler = tel.handler()
    outer = handler.start_workflow("outer")

    def inner_pipeline():
        inner = handler.start_workflow("inner")
        with current(inner.context):
            _member(handler, Owner(), "x", answer=None)
            _member(handler, Owner(), "y")
        handler.finish_workflow(inner)

    with current(outer.context):
        _member(handler, Owner(), "a", before_end=inner_pipeline)
        _member(handler, Owner(), "b")
    handler.finish_workflow(outer)

    assert _inputs(tel, "invoke_agent y") == [("x", _link("x"))]
    assert _inputs(tel, "invoke_agent b") == [("a", _link("a"))]
    assert tel.span("invoke_workflow inner").attributes[FAILED] == ("x",)
    assert FAILED not in tel.span("invoke_workflow outer").attributes


def test_an_agent_running_again_does_not_link_to_itself(tel):
    """A retry on a pipeline's own reminder (GoalPipeline's executor without a
    report) runs on no other member's output."""
    handler = tel.handler()
    executor, verifier = Owner(), Owner()
    wf = handler.start_workflow("goal")
    with current(wf.context):
        _member(handler, executor, "executor", answer="")
        _member(handler, executor, "executor")
        _member(handler, verifier, "verifier")
    handler.finish_workflow(wf)
    assert [list(s.links) for s in tel.spans() if s.name == "invoke_agent executor"] == [[], []]
    (link,) = tel.span("invoke_agent verifier").links
    assert link.context == [s for s in tel.spans()
                            if s.name == "invoke_agent executor"][1].context
    attrs = tel.span("invoke_workflow goal").attributes
    assert attrs[FAILED] == ("executor",) and DEGRADED not in attrs


def test_a_parallel_workflow_links_nothing_and_names_its_failures(tel):
    handler = tel.handler()
    wf = handler.start_workflow("fanout", parallel=True)
    with current(wf.context):
        _member(handler, Owner(), "a", answer="")
        _member(handler, Owner(), "b")
    handler.finish_workflow(wf)
    assert all(not s.links for s in tel.spans())
    attrs = tel.span("invoke_workflow fanout").attributes
    assert attrs[FAILED] == ("a",) and DEGRADED not in attrs


def test_members_in_threads_with_the_context_copied(tel):
    handler = tel.handler()
    wf = handler.start_workflow("pipe")

    def run(name, answer):
        with current(wf.context):
            _member(handler, Owner(), name, answer=answer)

    for name, answer in (("a", None), ("b", "ok")):
        thread = threading.Thread(target=run, args=(name, answer))
        thread.start()
        thread.join()
    handler.finish_workflow(wf)
    assert _inputs(tel, "invoke_agent b") == [("a", _link("a"))]
    assert tel.span("invoke_workflow pipe").attributes[DEGRADED] is True


def test_signals_off_no_links_no_workflow_attributes(tel, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTS_SIGNALS", "false")
    handler = tel.handler()
    wf = handler.start_workflow("pipe")
    with current(wf.context):
        _member(handler, Owner(), "a", error=RuntimeError("x"))
        _member(handler, Owner(), "b")
    handler.finish_workflow(wf)
    assert all(not s.links for s in tel.spans())
    attrs = tel.span("invoke_workflow pipe").attributes
    assert FAILED not in attrs and DEGRADED not in attrs


def test_nothing_is_kept_alive_by_a_workflow(tel):
    import gc
    import weakref

    handler = tel.handler()
    wf = handler.start_workflow("pipe")
    owner = Owner()
    with current(wf.context):
        frame = _member(handler, owner, "a")
    gone = weakref.ref(frame), weakref.ref(owner)
    del frame, owner
    gc.collect()
    assert [ref() for ref in gone] == [None, None]
    handler.finish_workflow(wf)


def test_a_handoff_target_links_to_the_source_and_nothing_else_does(tel):
    from opentelemetry.instrumentation.agents._context import attach, detach

    handler = tel.handler()
    source = handler.start_agent(Owner(), "triage")
    handler.start_step(source)
    with current(source.context):
        tool = handler.start_tool("transfer_to_billing")
        with current(tool.context):
            token = attach(handler.handoff_context())
            try:
                _member(handler, Owner(), "billing",
                        before_end=lambda: _member(handler, Owner(), "ledger"))
            finally:
                detach(token)
            _member(handler, Owner(), "after")  # outside the handoff: no link
        handler.finish_tool(tool)
    handler.finish_agent(source)

    assert _inputs(tel, "invoke_agent billing") == [("triage", _link("triage"))]
    assert _inputs(tel, "invoke_agent ledger") == []
    assert _inputs(tel, "invoke_agent after") == []
    assert handler.handoff_context() is None  # no invocation current


def test_no_handoff_context_with_signals_off(tel, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTS_SIGNALS", "false")
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "triage")
    with current(frame.context):
        assert handler.handoff_context() is None
    handler.finish_agent(frame)
