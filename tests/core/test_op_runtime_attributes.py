"""carry_runtime_attributes: a runtime's own tracer's names on the span we have."""

from __future__ import annotations

from opentelemetry import context as otel_context

from .contract import Owner, Unserializable


def test_the_runtime_names_land_on_the_span_ours_win(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot", conversation_id="conv-1")
    handler.carry_runtime_attributes(frame, {
        "gen_ai.conversation.id": "theirs",        # ours from the start: kept
        "gen_ai.agent.description": "An agent.",  # theirs only: carried
        "runtime.reply_id": "r-1",
        "runtime.names": ["a", "b"],
        "runtime.none": None,                      # dropped
        "runtime.mixed": ["a", 1],                 # not an attribute value: dropped
        "runtime.object": Unserializable(),        # dropped, never raises
        "agents.react.rounds": 99,                 # ours, set when it ends: ours win
    })
    handler.finish_agent(frame)

    attrs = tel.span("invoke_agent bot").attributes
    assert attrs["gen_ai.conversation.id"] == "conv-1"
    assert attrs["gen_ai.agent.description"] == "An agent."
    assert attrs["runtime.reply_id"] == "r-1"
    assert attrs["runtime.names"] == ("a", "b")
    assert attrs["agents.react.rounds"] == 0
    for key in ("runtime.none", "runtime.mixed", "runtime.object"):
        assert key not in attrs


def test_content_keys_are_ours_while_we_capture_content(tel):
    theirs = {"gen_ai.input.messages": "[their shape]", "runtime.id": "x"}
    for content, expected in (("false", "[their shape]"), ("true", None)):
        handler = tel.handler(content=content)
        inv = handler.start_tool("lookup", call_id=f"c-{content}")
        handler.carry_runtime_attributes(inv, theirs)
        handler.finish_tool(inv)
        span = tel.spans()[-1]
        assert span.attributes.get("gen_ai.input.messages") == expected
        assert span.attributes["runtime.id"] == "x"


def test_nothing_on_an_ended_or_missing_invocation(tel):
    handler = tel.handler()
    inv = handler.start_tool("lookup")
    handler.finish_tool(inv)
    handler.carry_runtime_attributes(inv, {"runtime.late": 1})
    handler.carry_runtime_attributes(None, {"runtime.late": 1})
    assert "runtime.late" not in tel.span("execute_tool lookup").attributes


def test_an_external_tool_result_carries_them(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    token = otel_context.attach(frame.context)
    try:
        handler.external_tool_result("deploy", call_id="c1",
                                     runtime_attributes={"runtime.external": True})
    finally:
        otel_context.detach(token)
    handler.finish_agent(frame)
    attrs = tel.span("execute_tool deploy").attributes
    assert attrs["runtime.external"] is True
    assert attrs["agents.tool.external_execution"] is True
