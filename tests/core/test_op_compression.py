"""Context compression: note_compression on the agent span (the summary call
itself is a chat span, see test_op_chat)."""

from __future__ import annotations

from .contract import Owner, current, sampled_out_parent


def test_compressions_are_counted_on_the_agent_span(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        handler.start_step(frame)
        handler.note_compression(frame)
        handler.finish_chat(handler.start_chat(request_model="m", compression=True))
        handler.note_compression(frame)
    handler.finish_agent(frame)
    handler.note_compression(frame)  # after the end: nothing, no error
    tel.tree("""
        invoke_agent bot {agents.agent.context_compressions=2}
          react step
          chat m {agents.chat.context_compression=true}
    """)


def test_an_invocation_that_never_compressed_says_nothing(tel):
    handler = tel.handler()
    handler.finish_agent(handler.start_agent(Owner(), "bot"))
    assert "agents.agent.context_compressions" not in tel.span("invoke_agent bot").attributes


def test_unrecorded_invocation_and_bad_frames_never_raise(tel):
    handler = tel.handler()
    with current(sampled_out_parent()):
        frame = handler.start_agent(Owner(), "bot")
        handler.note_compression(frame)
        handler.finish_agent(frame)
    assert frame.extra is None
    handler.note_compression(None)
    handler.note_compression(object())
    assert tel.spans() == []
