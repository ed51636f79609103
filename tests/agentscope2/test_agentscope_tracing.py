"""AgentScope's own tracing switched on by the user, with us instrumenting.

AgentScope's `TracingMiddleware` records when an agent has it and the global
tracer provider is an SDK one. With us active it stays a pass-through (one
span per call, ours), and our spans carry its attribute names too. Each test
compares against what AgentScope's middleware records alone, in the same
process, for the same script (so an AgentScope release that records more
shows up here).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from agentscope.agent import Agent, ReActConfig
from agentscope.event import (
    ConfirmResult,
    ExternalExecutionResultEvent,
    RequireExternalExecutionEvent,
    RequireUserConfirmEvent,
    UserConfirmResultEvent,
)
from agentscope.message import TextBlock, ToolResultBlock
from agentscope.middleware import TracingMiddleware
from agentscope.permission import PermissionBehavior, PermissionDecision
from agentscope.tool import FunctionTool, Toolkit

from opentelemetry import trace
from opentelemetry.instrumentation.agents.testing import assert_tree, build_trees
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)

from .support import TOOL_ROUND_TREE, get_weather, tool, user
from .test_hitl import Deploy, delete_file

ASK = PermissionDecision(behavior=PermissionBehavior.ASK, message="needs a human")
CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.definitions",
                "gen_ai.tool.call.arguments", "gen_ai.tool.call.result")


@pytest.fixture
def global_sdk(provider, monkeypatch):
    """The SDK provider as the global one: AgentScope's tracing is then configured."""
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    return provider


@pytest.fixture
def on(global_sdk, instrumented):
    return instrumented


def _agent(script: list, tools: list | None = None, *, name: str = "helper",
           traced: bool = True, stream: bool = False) -> Agent:
    return Agent(name=name, system_prompt="You help.",
                 model=ScriptedChatModel(script, stream=stream),
                 toolkit=Toolkit(tools=tools or []), react_config=ReActConfig(max_iters=5),
                 middlewares=[TracingMiddleware()] if traced else [])


def _tool_round(**kwargs: Any) -> Agent:
    return _agent([call_tools(("get_weather", {"city": "Rome"})), say("Sunny.")],
                  [tool(get_weather)], **kwargs)


def _by_operation(spans) -> dict[str, list]:
    found: dict[str, list] = {}
    for span in spans:
        found.setdefault(span.attributes.get("gen_ai.operation.name"), []).append(span)
    return found


async def _agentscope_alone(exporter, make, run) -> dict[str, list]:
    """What AgentScope's middleware records for `run(make())`, without us."""
    await run(make())
    spans = exporter.get_finished_spans()
    assert spans and all(s.instrumentation_scope.name == "agentscope" for s in spans)
    exporter.clear()
    return _by_operation(spans)


def _carried(theirs: dict[str, list], ours: dict[str, list], operation: str) -> None:
    """Our spans of `operation` carry every key AgentScope's have (one to one, in order)."""
    assert len(ours[operation]) == len(theirs[operation])
    for their_span, our_span in zip(theirs[operation], ours[operation], strict=True):
        assert set(their_span.attributes) <= set(our_span.attributes), operation


async def _reply(agent: Agent) -> Any:
    return await agent.reply(user("weather in Rome?"))


async def test_a_reply_keeps_one_tree_and_carries_agentscope_names(
        global_sdk, provider, exporter, detector):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    theirs = await _agentscope_alone(exporter, _tool_round, _reply)
    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        msg = await _reply(_tool_round())
    finally:
        instrumentor.uninstrument()

    spans = exporter.get_finished_spans()
    assert_tree(spans, TOOL_ROUND_TREE, ordered=True)  # no second span of any call
    assert not [s for s in spans if s.instrumentation_scope.name == "agentscope"]
    ours = _by_operation(spans)
    for operation in ("invoke_agent", "chat", "execute_tool"):
        _carried(theirs, ours, operation)
    (agent_span,) = ours["invoke_agent"]
    attrs = agent_span.attributes
    assert attrs["agentscope.agent.reply_id"] == attrs["agents.agent.reply_id"] == msg.id
    assert json.loads(attrs["gen_ai.input.messages"]) == [{
        "role": "user", "parts": [{"type": "text", "content": "weather in Rome?"}],
        "name": "user", "finish_reason": "stop"}]
    assert json.loads(attrs["gen_ai.output.messages"])[0]["parts"] == [
        {"type": "text", "content": "Sunny."}]
    first_chat = ours["chat"][0].attributes
    # Ours win where both have a value: our finish reasons, not its JSON string.
    assert first_chat["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert json.loads(first_chat["gen_ai.tool.definitions"])[0]["name"] == "get_weather"
    (tool_span,) = ours["execute_tool"]
    assert json.loads(tool_span.attributes["gen_ai.tool.call.arguments"]) == {"city": "Rome"}
    assert "sunny in Rome" in tool_span.attributes["gen_ai.tool.call.result"]
    detector.assert_all_ended()


async def test_a_streamed_model_carries_the_whole_response(on, exporter):
    agent = _agent([say("A long sunny answer.")], stream=True)

    final = None
    async for item in agent.reply_stream(user("weather?"), yield_final_msg=True):
        final = item

    (chat,) = _by_operation(exporter.get_finished_spans())["chat"]
    outputs = json.loads(chat.attributes["gen_ai.output.messages"])
    assert outputs[0]["parts"] == [{"type": "text", "content": "A long sunny answer."}]
    (agent_span,) = _by_operation(exporter.get_finished_spans())["invoke_agent"]
    assert agent_span.attributes["agentscope.agent.reply_id"] == final.id
    assert "A long sunny answer." in agent_span.attributes["gen_ai.output.messages"]


async def test_nothing_of_agentscope_without_its_middleware(on, exporter):
    await _reply(_tool_round(traced=False))

    spans = exporter.get_finished_spans()
    assert_tree(spans, TOOL_ROUND_TREE, ordered=True)
    for span in spans:
        assert not [k for k in span.attributes if k.startswith("agentscope.")]
        assert not [k for k in span.attributes if k in CONTENT_KEYS]


async def test_nothing_of_agentscope_while_its_tracing_is_not_configured(instrumented, exporter):
    # The middleware is there, but the global provider is not an SDK one
    # (ours was handed to the instrumentor): AgentScope would record nothing.
    await _reply(_tool_round())

    spans = exporter.get_finished_spans()
    assert_tree(spans, TOOL_ROUND_TREE, ordered=True)
    for span in spans:
        assert not [k for k in span.attributes if k.startswith("agentscope.")]


async def test_with_our_content_capture_the_content_is_ours(global_sdk, capturing, exporter):
    await _reply(_tool_round(traced=False))
    plain = exporter.get_finished_spans()
    exporter.clear()
    await _reply(_tool_round())
    traced = exporter.get_finished_spans()

    assert len(plain) == len(traced)
    for ours_alone, with_agentscope in zip(plain, traced, strict=True):
        for key in CONTENT_KEYS:
            assert ours_alone.attributes.get(key) == with_agentscope.attributes.get(key), key
    (agent_span,) = _by_operation(traced)["invoke_agent"]
    assert agent_span.attributes["agentscope.agent.reply_id"]


def _confirming(traced: bool = True) -> Agent:
    return _agent([call_tools(("delete_file", {"path": "/tmp/a"})), say("Deleted it.")],
                  [FunctionTool(delete_file, permission=ASK)], traced=traced)


async def _pause(agent: Agent, inputs: Any, kind: type) -> Any:
    found = None
    async for event in agent.reply_stream(inputs):
        if isinstance(event, kind):
            found = event
    return found


async def _confirm_flow(agent: Agent) -> Any:
    pause = await _pause(agent, user("delete /tmp/a"), RequireUserConfirmEvent)
    await agent.reply(UserConfirmResultEvent(reply_id=pause.reply_id, confirm_results=[
        ConfirmResult(confirmed=True, tool_call=pause.tool_calls[0])]))
    return pause


def _roots(spans):
    return sorted(build_trees(spans), key=lambda tree: tree.span.start_time)


async def test_a_confirmed_reply_carries_agentscope_hitl_names(global_sdk, provider, exporter):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    theirs = await _agentscope_alone(exporter, _confirming, _confirm_flow)
    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        pause = await _confirm_flow(_confirming())
    finally:
        instrumentor.uninstrument()

    spans = exporter.get_finished_spans()
    first, second = _roots(spans)
    assert_tree([second], """
        invoke_agent helper
          react step
            execute_tool delete_file
          react step
            chat scripted-model
    """, ordered=True)
    ours = _by_operation(spans)
    for operation in ("invoke_agent", "chat", "execute_tool"):
        _carried(theirs, ours, operation)
    paused, resumed = first.span.attributes, second.span.attributes
    assert json.loads(paused["agentscope.agent.hitl_pending_tools"]) == ["delete_file"]
    assert paused["agentscope.agent.reply_id"] == resumed["agentscope.agent.reply_id"] \
        == pause.reply_id
    assert resumed["agentscope.agent.incoming_event_type"] == "user_confirm_result"
    assert "agentscope.agent.hitl_pending_tools" not in resumed


def _deploying(traced: bool = True) -> Agent:
    return _agent([call_tools(("deploy", {"env": "prod"})), say("Deployed.")], [Deploy()],
                  name="ops", traced=traced)


async def _external_flow(agent: Agent) -> Any:
    pause = await _pause(agent, user("deploy to prod"), RequireExternalExecutionEvent)
    outcome = ToolResultBlock(id=pause.tool_calls[0].id, name="deploy",
                              output=[TextBlock(text="ok: v42")], state="success")
    await agent.reply(ExternalExecutionResultEvent(reply_id=pause.reply_id,
                                                   execution_results=[outcome]))
    return pause


async def test_an_external_result_carries_agentscope_names(global_sdk, provider, exporter):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    theirs = await _agentscope_alone(exporter, _deploying, _external_flow)
    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        pause = await _external_flow(_deploying())
    finally:
        instrumentor.uninstrument()

    spans = exporter.get_finished_spans()
    first, second = _roots(spans)
    assert_tree([second], """
        invoke_agent ops {agentscope.agent.incoming_event_type=external_execution_result}
          react step
            execute_tool deploy {agentscope.agent.is_external_execution=true, agents.tool.external_execution=true}
          react step
            chat scripted-model
    """, ordered=True)
    ours = _by_operation(spans)
    for operation in ("invoke_agent", "chat", "execute_tool"):
        _carried(theirs, ours, operation)
    paused = first.span.attributes
    assert json.loads(paused["agentscope.agent.external_execution_pending_tools"]) == ["deploy"]
    assert paused["agentscope.agent.reply_id"] == pause.reply_id
    tool_span = second.children[0].children[0].span
    assert "ok: v42" in tool_span.attributes["gen_ai.tool.call.result"]
    assert tool_span.attributes["gen_ai.conversation.id"] == paused["gen_ai.conversation.id"]



async def _item_types(agent: Agent, *args: Any, **kwargs: Any) -> list[str]:
    return [type(item).__name__ async for item in agent.reply_stream(*args, **kwargs)]


async def test_the_stream_gives_what_it_gives_without_us(global_sdk, provider, exporter,
                                                         detector):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    alone = [await _item_types(_tool_round(), user("weather?")),
             await _item_types(_tool_round(), user("weather?"), None, True)]
    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        exporter.clear()
        with_us = [await _item_types(_tool_round(), user("weather?")),
                   await _item_types(_tool_round(), user("weather?"), None, True)]
        # Left early: the reply's span still ends, once.
        stream = _tool_round().reply_stream(user("weather?"))
        await anext(stream)
        await stream.aclose()
    finally:
        instrumentor.uninstrument()

    assert with_us == alone
    assert "Msg" not in with_us[0] and with_us[1][-1] in ("Msg", "AssistantMsg")
    agents = _by_operation(exporter.get_finished_spans())["invoke_agent"]
    assert len(agents) == 3
    assert "gen_ai.output.messages" in agents[0].attributes
    detector.assert_all_ended()
