"""`agent_run(...)`: a session, a user and tags on every span of a run."""

from __future__ import annotations

import asyncio

from opentelemetry.instrumentation.agents import agent_run
from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope_model import (
    ScriptedChatModel,
    call_tools,
    say,
)

from ..agentscope2.support import get_weather, make_agent, user

RUN_TREE = """
invoke_agent helper {user.id=u-7, agents.run.tier=gold}
  react step {user.id=u-7, agents.run.tier=gold}
    chat scripted-model {user.id=u-7, agents.run.tier=gold}
    execute_tool get_weather {user.id=u-7, agents.run.tier=gold}
  react step {user.id=u-7, agents.run.tier=gold}
    chat scripted-model {user.id=u-7, agents.run.tier=gold}
"""


def _script():
    return [call_tools(("get_weather", {"city": "Lima"})), say("done")]


def _instrumented(provider):
    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    return instrumentor


async def test_every_span_of_the_run_carries_its_values(provider, exporter):
    instrumentor = _instrumented(provider)
    try:
        with agent_run(session_id="s-1", user_id="u-7", attributes={"tier": "gold"}):
            await make_agent(ScriptedChatModel(_script()), [get_weather]).reply(user())
        await make_agent(ScriptedChatModel(_script()), [get_weather]).reply(user())  # outside
    finally:
        instrumentor.uninstrument()
    spans = exporter.get_finished_spans()
    inside = [s for s in spans if "user.id" in s.attributes]
    outside = [s for s in spans if "user.id" not in s.attributes]
    assert len(inside) == len(outside) == 6
    assert all(not any(k.startswith("agents.run.") for k in s.attributes) for s in outside)
    assert_tree(inside, RUN_TREE)
    for span in inside:
        assert span.attributes["user.id"] == "u-7"
        assert span.attributes["agents.run.tier"] == "gold"
        assert span.attributes["gen_ai.conversation.id"]  # the session, or the runtime's own


async def test_concurrent_runs_keep_their_own_values(provider, exporter):
    instrumentor = _instrumented(provider)

    async def one(name: str) -> None:
        with agent_run(user_id=name):
            await asyncio.sleep(0)
            await make_agent(ScriptedChatModel(_script()), [get_weather]).reply(user())

    try:
        await asyncio.gather(one("a"), one("b"))
    finally:
        instrumentor.uninstrument()
    by_trace: dict[int, set[str]] = {}
    for span in exporter.get_finished_spans():
        by_trace.setdefault(span.context.trace_id, set()).add(span.attributes["user.id"])
    assert sorted(by_trace.values(), key=sorted) == [{"a"}, {"b"}]


def test_the_session_is_the_conversation_only_where_the_runtime_gives_none(provider, exporter):
    from opentelemetry.instrumentation.agents._handler import TelemetryHandler

    class Owner:
        pass

    handler = TelemetryHandler("test", provider)
    with agent_run(session_id="s-1"):
        handler.finish_agent(handler.start_agent(Owner(), "given", conversation_id="rt-9"))
        handler.finish_agent(handler.start_agent(Owner(), "none"))
    conversations = {s.name: s.attributes["gen_ai.conversation.id"]
                     for s in exporter.get_finished_spans()}
    assert conversations == {"invoke_agent given": "rt-9", "invoke_agent none": "s-1"}
