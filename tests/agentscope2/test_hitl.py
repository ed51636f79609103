"""Replies that pause for a user's confirmation or for an externally executed
tool, and the calls that continue them (real AgentScope 2.x, scripted model)."""

from __future__ import annotations

import json
from typing import Any

from agentscope.agent import Agent, ReActConfig
from agentscope.event import (
    ConfirmResult,
    ExternalExecutionResultEvent,
    RequireExternalExecutionEvent,
    RequireUserConfirmEvent,
    UserConfirmResultEvent,
)
from agentscope.message import TextBlock, ToolResultBlock
from agentscope.permission import PermissionBehavior, PermissionDecision
from agentscope.tool import FunctionTool, ToolBase, Toolkit
from opentelemetry.trace import StatusCode

from opentelemetry.instrumentation.agents.testing import assert_tree, build_trees
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)

from .support import ALLOW, get_weather, user

ASK = PermissionDecision(behavior=PermissionBehavior.ASK, message="needs a human")


def delete_file(path: str) -> str:
    """Delete a file.

    Args:
        path: The file to delete.
    """
    return f"deleted {path}"


class Deploy(ToolBase):
    """A tool the caller runs itself (external execution)."""

    name: str = "deploy"
    description: str = "Deploy the service."
    input_schema: dict = {"type": "object", "properties": {"env": {"type": "string"}},
                          "required": ["env"]}
    is_external_tool: bool = True
    is_concurrency_safe: bool = True
    is_read_only: bool = False

    async def check_permissions(self, tool_input: dict[str, Any], context: Any
                                ) -> PermissionDecision:
        return ALLOW


def _confirming_agent(model: ScriptedChatModel) -> Agent:
    tools = [FunctionTool(delete_file, permission=ASK), FunctionTool(get_weather,
                                                                     permission=ALLOW)]
    return Agent(name="helper", system_prompt="You help.", model=model,
                 toolkit=Toolkit(tools=tools), react_config=ReActConfig(max_iters=5))


async def _until(agent: Agent, inputs: Any, kind: type) -> Any:
    found = None
    async for event in agent.reply_stream(inputs):
        if isinstance(event, kind):
            found = event
    assert found is not None, f"the reply did not pause with {kind.__name__}"
    return found


def _roots(spans):
    return sorted(build_trees(spans), key=lambda tree: tree.span.start_time)


async def test_confirm_then_resume_is_two_linked_traces(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("delete_file", {"path": "/tmp/a"})),
                               say("Deleted it.")])
    agent = _confirming_agent(model)

    pause = await _until(agent, user("delete /tmp/a"), RequireUserConfirmEvent)
    (call,) = pause.tool_calls
    result = await agent.reply(UserConfirmResultEvent(
        reply_id=pause.reply_id, confirm_results=[ConfirmResult(confirmed=True, tool_call=call)]))

    assert result.get_text_content() == "Deleted it."
    spans = exporter.get_finished_spans()
    first, second = _roots(spans)
    assert_tree([first], """
        invoke_agent helper {agents.agent.finish_reason=user_confirmation, agents.agent.pending_reason=user_confirmation}
          react step {gen_ai.react.round=1}
            chat scripted-model
    """)
    assert_tree([second], """
        invoke_agent helper {agents.agent.finish_reason=completed, agents.agent.resumed_with=user_confirmation}
          react step {gen_ai.react.round=1}
            execute_tool delete_file {gen_ai.tool.call.id=call-default-0-0}
          react step {gen_ai.react.round=2}
            chat scripted-model
    """, ordered=True)
    a, b = first.span, second.span
    assert a.context.trace_id != b.context.trace_id
    assert json.loads(a.attributes["agents.agent.pending_tool_calls"]) == [
        {"id": call.id, "name": "delete_file"}]
    assert "agents.agent.pending_tool_calls" not in b.attributes
    # One logical reply: same conversation, same reply id, and a link back.
    assert a.attributes["gen_ai.conversation.id"] == b.attributes["gen_ai.conversation.id"] \
        == agent.state.session_id
    assert a.attributes["agents.agent.reply_id"] == b.attributes["agents.agent.reply_id"] \
        == pause.reply_id
    (link,) = b.links
    assert link.context.span_id == a.context.span_id
    assert link.context.trace_id == a.context.trace_id
    assert link.attributes["agents.agent.resumed_with"] == "user_confirmation"
    detector.assert_all_ended()


async def test_denied_confirmation(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("delete_file", {"path": "/etc"})),
                               say("I will not delete it.")])
    agent = _confirming_agent(model)

    pause = await _until(agent, user("delete /etc"), RequireUserConfirmEvent)
    await agent.reply(UserConfirmResultEvent(
        reply_id=pause.reply_id,
        confirm_results=[ConfirmResult(confirmed=False, tool_call=pause.tool_calls[0])]))

    _, second = _roots(exporter.get_finished_spans())
    assert_tree([second], """
        invoke_agent helper {agents.agent.resumed_with=user_confirmation}
          react step {gen_ai.react.round=1}
            execute_tool delete_file {error.type=denied}
          react step {gen_ai.react.round=2}
            chat scripted-model
    """, ordered=True)
    detector.assert_all_ended()


async def test_only_the_asking_call_is_pending(instrumented, exporter):
    # One round asks for an allowed tool and for one that needs confirmation.
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Rome"}),
                                          ("delete_file", {"path": "/tmp/b"})),
                               say("Done.")])
    agent = _confirming_agent(model)

    pause = await _until(agent, user("weather, then delete"), RequireUserConfirmEvent)

    (first,) = _roots(exporter.get_finished_spans())
    pending = json.loads(first.span.attributes["agents.agent.pending_tool_calls"])
    assert pending == [{"id": c.id, "name": c.name} for c in pause.tool_calls]
    assert [p["name"] for p in pending] == ["delete_file"]


async def test_external_execution_then_result(instrumented, exporter, detector):
    model = ScriptedChatModel([call_tools(("deploy", {"env": "prod"})), say("Deployed.")])
    agent = Agent(name="ops", system_prompt="You deploy.", model=model,
                  toolkit=Toolkit(tools=[Deploy()]), react_config=ReActConfig(max_iters=5))

    pause = await _until(agent, user("deploy to prod"), RequireExternalExecutionEvent)
    (call,) = pause.tool_calls
    outcome = ToolResultBlock(id=call.id, name="deploy", output=[TextBlock(text="ok: v42")],
                              state="success")
    final = None
    async for item in agent.reply_stream(
            ExternalExecutionResultEvent(reply_id=pause.reply_id, execution_results=[outcome]),
            yield_final_msg=True):
        final = item
    assert final.get_text_content() == "Deployed."

    first, second = _roots(exporter.get_finished_spans())
    assert_tree([first], """
        invoke_agent ops {agents.agent.finish_reason=external_execution, agents.agent.pending_reason=external_execution}
          react step {gen_ai.react.round=1}
            chat scripted-model
    """)
    assert_tree([second], """
        invoke_agent ops {agents.agent.resumed_with=external_execution, agents.agent.finish_reason=completed}
          react step {gen_ai.react.round=1}
            execute_tool deploy {agents.tool.external_execution=true, gen_ai.tool.call.id=call-default-0-0}
          react step {gen_ai.react.round=2}
            chat scripted-model
    """, ordered=True)
    assert json.loads(first.span.attributes["agents.agent.pending_tool_calls"]) == [
        {"id": call.id, "name": "deploy"}]
    assert second.span.attributes["agents.agent.reply_id"] == pause.reply_id
    assert second.span.links[0].context.span_id == first.span.context.span_id
    tool_span = second.children[0].children[0].span
    assert tool_span.status.status_code is StatusCode.UNSET
    detector.assert_all_ended()


async def test_failed_external_result_and_its_content(capturing, exporter, detector):
    model = ScriptedChatModel([call_tools(("deploy", {"env": "prod"})), say("It failed.")])
    agent = Agent(name="ops", system_prompt="You deploy.", model=model,
                  toolkit=Toolkit(tools=[Deploy()]), react_config=ReActConfig(max_iters=5))

    pause = await _until(agent, user("deploy"), RequireExternalExecutionEvent)
    call = pause.tool_calls[0]
    await agent.reply(ExternalExecutionResultEvent(
        reply_id=pause.reply_id,
        execution_results=[ToolResultBlock(id=call.id, name="deploy",
                                           output=[TextBlock(text="quota exceeded")],
                                           state="error")]))

    (tool_span,) = [s for s in exporter.get_finished_spans() if s.name == "execute_tool deploy"]
    assert tool_span.attributes["agents.tool.external_execution"] is True
    assert tool_span.attributes["error.type"] == "tool_error"
    assert "quota exceeded" in tool_span.attributes["gen_ai.tool.call.result"]
    detector.assert_all_ended()


async def test_every_reply_carries_its_reply_id(instrumented, exporter):
    agent = _confirming_agent(ScriptedChatModel([say("one"), say("two")]))

    first = await agent.reply(user("a"))
    async for _ in agent.reply_stream(user("b")):
        pass

    spans = sorted((s for s in exporter.get_finished_spans() if s.name == "invoke_agent helper"),
                   key=lambda s: s.start_time)
    assert spans[0].attributes["agents.agent.reply_id"] == first.id
    assert spans[1].attributes["agents.agent.reply_id"] == agent.state.reply_id
    assert spans[0].attributes["agents.agent.reply_id"] != spans[1].attributes[
        "agents.agent.reply_id"]
    assert not any(s.links for s in spans)
