"""Replies paused for a human or an external tool, and their continuations:
note_reply_id, note_pending, note_resumed, external_tool_result."""

from __future__ import annotations

import json

from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import StatusCode

from .contract import Owner, Unserializable, current, sampled_out_parent


def _paused(handler, reply_id="reply-1", calls=(("c1", "delete_file"),),
            reason="user_confirmation"):
    frame = handler.start_agent(Owner(), "bot")
    handler.note_pending(frame, reason, reply_id, calls)
    handler.finish_agent(frame)
    return frame


def test_a_paused_invocation_says_why_and_what_it_waits_on(tel):
    handler = tel.handler()
    _paused(handler, calls=[("c1", "delete_file"), ("c2", "send_mail")])
    attrs = tel.span("invoke_agent bot").attributes
    assert attrs["agents.agent.pending_reason"] == "user_confirmation"
    assert attrs["agents.agent.finish_reason"] == "user_confirmation"
    assert attrs["agents.agent.reply_id"] == "reply-1"
    assert json.loads(attrs["agents.agent.pending_tool_calls"]) == [
        {"id": "c1", "name": "delete_file"}, {"id": "c2", "name": "send_mail"}]
    assert not any(key.startswith("_") for key in attrs)  # working notes stay off
    assert tel.span("invoke_agent bot").status.status_code is StatusCode.UNSET


def test_two_reasons_are_both_named(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    handler.note_pending(frame, "user_confirmation", None, [("c1", "a")])
    handler.note_pending(frame, "external_execution", None, [("c2", "b")])
    handler.note_pending(frame, "external_execution", None, [])
    handler.finish_agent(frame)
    attrs = tel.span("invoke_agent bot").attributes
    assert attrs["agents.agent.pending_reason"] == ("user_confirmation", "external_execution")
    assert attrs["agents.agent.finish_reason"] == "user_confirmation"
    assert len(json.loads(attrs["agents.agent.pending_tool_calls"])) == 2
    assert "agents.agent.reply_id" not in attrs


def test_the_continuation_links_to_the_paused_invocation_once(tel):
    handler = tel.handler()
    _paused(handler)
    paused = tel.span("invoke_agent bot")
    for _ in range(2):
        frame = handler.start_agent(Owner(), "bot")
        handler.note_resumed(frame, "user_confirmation", "reply-1")
        handler.finish_agent(frame)
    first, second = tel.spans()[1:]
    assert first.attributes["agents.agent.resumed_with"] == "user_confirmation"
    assert first.attributes["agents.agent.reply_id"] == "reply-1"
    (link,) = first.links
    assert link.context.span_id == paused.context.span_id
    assert dict(link.attributes) == {"agents.agent.reply_id": "reply-1",
                                     "agents.agent.resumed_with": "user_confirmation"}
    assert second.links == ()  # a reply is continued once
    assert first.context.trace_id != paused.context.trace_id


def test_a_continuation_of_an_unknown_reply_has_no_link(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    handler.note_resumed(frame, "external_execution", "never-paused")
    handler.note_reply_id(frame, "never-paused")
    handler.finish_agent(frame)
    span = tel.span("invoke_agent bot")
    assert span.links == ()
    assert span.attributes["agents.agent.reply_id"] == "never-paused"


def test_paused_replies_are_remembered_boundedly(tel):
    handler = tel.handler(tracer_provider=tel.sampled_out_provider())
    for index in range(4097):  # one more than are kept
        _paused(handler, reply_id=f"r{index}")
    handler = _with_parked_of(tel, handler)
    for reply_id, linked in (("r0", False), ("r4096", True), ("r1", True)):
        frame = handler.start_agent(Owner(), "bot")
        handler.note_resumed(frame, "user_confirmation", reply_id)
        handler.finish_agent(frame)
        assert bool(tel.spans()[-1].links) is linked, reply_id


def _with_parked_of(tel, unrecorded):
    """A recording handler that shares `unrecorded`'s paused replies (parked
    cheaply while unrecorded: sampling does not change what is remembered)."""
    handler = tel.handler()
    handler._parked = unrecorded._parked
    return handler


def test_external_tool_results_are_tool_spans_in_a_round(tel):
    handler = tel.handler(content="true")
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        handler.external_tool_result("lookup", call_id="c1", result={"ok": 1})
        handler.external_tool_result("fail", call_id="c2", error_type="rejected")
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot {status=UNSET}
          react step {gen_ai.react.round=1, status=UNSET}
            execute_tool lookup {agents.tool.external_execution=true, status=UNSET}
            execute_tool fail {agents.tool.external_execution=true, status=ERROR}
    """)
    assert tel.span("execute_tool lookup").attributes["gen_ai.tool.call.result"] == '{"ok":1}'
    assert tel.span("execute_tool fail").attributes["error.type"] == "rejected"


def test_suppressed_emits_nothing(tel):
    handler = tel.handler()
    with suppress_instrumentation():
        handler.external_tool_result("lookup", call_id="c1", result="x")
    assert tel.nothing_emitted()


def test_sampled_out_invocations_raise_nothing(tel):
    handler = tel.handler()
    with current(sampled_out_parent()):
        frame = handler.start_agent(Owner(), "bot")
        handler.note_pending(frame, "user_confirmation", "r", [("c", "t")])
        handler.note_resumed(frame, "user_confirmation", "r")
        with current(frame.context):
            handler.external_tool_result("t", result=Unserializable())
        handler.finish_agent(frame)
    assert tel.spans() == []


def test_bad_values_never_raise(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    handler.note_reply_id(frame, Unserializable())
    handler.note_pending(frame, "user_confirmation", Unserializable(),
                         [(Unserializable(), None)])
    handler.note_pending(frame, "user_confirmation", None, None)  # not iterable
    handler.note_pending(frame, "user_confirmation", None, [("only-one",)])
    handler.note_resumed(frame, "user_confirmation", Unserializable())
    handler.external_tool_result(Unserializable(), call_id=Unserializable())
    handler.finish_agent(frame)
    # After the end: nothing.
    handler.note_reply_id(frame, "late")
    handler.note_resumed(frame, "user_confirmation", "late")
    handler.note_pending(frame, "late", "r", [("c", "t")])
    span = tel.span("invoke_agent bot")
    assert json.loads(span.attributes["agents.agent.pending_tool_calls"]) == [
        {"id": "", "name": ""}]
    tel.detector.assert_all_ended()


def test_a_wait_inside_an_invocation_is_on_the_span_that_waited_and_summed_on_the_agent(tel):
    """PraisonAI's approvals: the tool call waits for a human's decision and
    goes on; the agent invocation carries the sum of its waits."""
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    handler.start_step(frame)
    with current(frame.context):
        tool = handler.start_tool("publish")
        with current(tool.context):
            handler.note_hitl_wait(0.25, "user_confirmation")
        handler.finish_tool(tool)
        other = handler.start_tool("publish")
        handler.note_hitl_wait(0.5, "user_confirmation", context=other.context)
        handler.finish_tool(other)
    handler.finish_agent(frame)

    tools = [s.attributes["agents.hitl.wait.duration"] for s in tel.spans()
             if s.name == "execute_tool publish"]
    assert tools == [0.25, 0.5]
    assert tel.span("invoke_agent bot").attributes["agents.hitl.wait.duration"] == 0.75
    (point,) = tel.points("agents.hitl.wait.duration")
    assert dict(point.attributes) == {"gen_ai.agent.name": "bot",
                                      "agents.agent.pending_reason": "user_confirmation"}
    assert (point.count, point.sum) == (2, 0.75)


def test_a_wait_outside_any_invocation_and_under_suppression(tel, monkeypatch):
    handler = tel.handler()
    handler.note_hitl_wait(1.0, "user_confirmation")  # no span, no agent: the metric only
    (point,) = tel.points("agents.hitl.wait.duration")
    assert dict(point.attributes) == {"agents.agent.pending_reason": "user_confirmation"}
    with suppress_instrumentation():
        handler.note_hitl_wait(1.0, "user_confirmation")
    assert tel.points("agents.hitl.wait.duration")[0].count == 1
    monkeypatch.setenv("OTEL_INSTRUMENTATION_AGENTS_SIGNALS", "false")
    off = tel.handler()
    frame = off.start_agent(Owner(), "bot")
    with current(frame.context):
        off.note_hitl_wait(1.0, "user_confirmation")
    off.finish_agent(frame)
    assert "agents.hitl.wait.duration" not in tel.span("invoke_agent bot").attributes
