"""PraisonAI teams (every process) and the workflow API, as span trees.

Real `AgentTeam` / `AgentFlow` runs against the scripted server; each agent's
instructions carry its conversation marker, so every request is answered
for the agent that made it, whichever thread or branch it came from.
"""

from __future__ import annotations

import json
import threading

from opentelemetry.instrumentation.agents.testing import assert_isolated, assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)

from .support import MODEL, hierarchical_answer

MANAGER_MODEL = "openai/scripted-manager"


def agent(name: str, tools=(), *, conversation: str | None = None, **options):
    from praisonaiagents import Agent

    return Agent(name=name, instructions=f"[conv:{conversation or name}] You help.",
                 tools=list(tools), model=MODEL, retry=False, **options)


def answers(mapping: dict[str, str]):
    """Each conversation always answers the same text."""
    def responder(conversation, request):
        return text(mapping[conversation])
    return responder


def _spans(exporter):
    return exporter.get_finished_spans()


# -- AgentTeam processes ---------------------------------------------------

def _tasks(researcher, writer, **first):
    from praisonaiagents import Task

    return [Task(name="research", description="Find the weather in Lima.",
                 expected_output="facts", agent=researcher, **first),
            Task(name="write", description="Write one sentence about it.",
                 expected_output="a sentence", agent=writer)]


def test_team_workflow_process_follows_next_tasks(instrumented, respond, exporter, detector):
    from praisonaiagents import AgentTeam

    respond(answers({"researcher": "Lima: sunny.", "writer": "Lima is sunny today."}))
    researcher, writer = agent("researcher"), agent("writer")
    tasks = _tasks(researcher, writer, next_tasks=["write"], is_start=True)
    team = AgentTeam(name="desk", agents=[researcher, writer], tasks=tasks, process="workflow")

    assert team.start() == "Lima is sunny today."

    tree = assert_tree(_spans(exporter), """
invoke_workflow desk {gen_ai.operation.name=invoke_workflow, gen_ai.workflow.name=desk, agents.workflow.type=AgentTeam, agents.workflow.process=workflow, status=UNSET}
  invoke_agent researcher {gen_ai.operation.name=invoke_agent, status=UNSET}
    react step {gen_ai.operation.name=react, status=UNSET}
      chat gpt-4o-mini {gen_ai.operation.name=chat, gen_ai.response.id=chatcmpl-researcher-0, status=UNSET}
  invoke_agent writer {gen_ai.operation.name=invoke_agent, status=UNSET}
    react step {gen_ai.operation.name=react, status=UNSET}
      chat gpt-4o-mini {gen_ai.operation.name=chat, gen_ai.response.id=chatcmpl-writer-0, status=UNSET}
""", ordered=True)
    assert tree.attributes["agents.workflow.members"] == ("researcher", "writer")
    detector.assert_all_ended()


def test_team_workflow_process_routes_on_a_condition(instrumented, respond, exporter,
                                                    detector):
    from praisonaiagents import AgentTeam, Task

    respond(answers({"judge": "I approve.", "approver": "Approved.", "rejecter": "Rejected."}))
    judge, approver, rejecter = agent("judge"), agent("approver"), agent("rejecter")
    # `when` routing (PraisonAI's unified conditions). A `task_type="decision"`
    # task fails inside PraisonAI 1.7.17 itself, with or without us: its
    # structured answer reaches `TaskOutput(raw=...)` as a model object.
    tasks = [
        Task(name="judge", description="Approve or reject.", expected_output="a verdict",
             agent=judge, is_start=True, when="{{previous_output}} contains approve",
             then_task="approve", else_task="reject"),
        Task(name="reject", description="Say rejected.", expected_output="a sentence",
             agent=rejecter),
        Task(name="approve", description="Say approved.", expected_output="a sentence",
             agent=approver),
    ]
    team = AgentTeam(name="desk", agents=[judge, approver, rejecter], tasks=tasks,
                     process="workflow")

    assert team.start() == "Approved."

    # The route taken runs (`approve`, though declared after `reject`), the
    # other does not. (PraisonAI goes on to a task declared after the one it
    # routed to when that has no route of its own: declared last here.)
    assert_tree(_spans(exporter), """
invoke_workflow desk {agents.workflow.process=workflow, status=UNSET}
  invoke_agent judge {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {gen_ai.response.id=chatcmpl-judge-0, status=UNSET}
  invoke_agent approver {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {gen_ai.response.id=chatcmpl-approver-0, status=UNSET}
""", ordered=True)
    detector.assert_all_ended()


def _hierarchical(conversation, request):
    messages = request.get("messages") or []
    return hierarchical_answer(conversation,
                               str(messages[-1].get("content")) if messages else "")


HIERARCHICAL_TREE = """
invoke_workflow desk {agents.workflow.process=hierarchical, status=UNSET}
  invoke_agent Manager {gen_ai.request.model=openai/scripted-manager, status=UNSET}
    react step {status=UNSET}
      chat scripted-manager {gen_ai.provider.name=openai, gen_ai.request.model=scripted-manager, status=UNSET}
  chat scripted-manager {gen_ai.provider.name=openai, gen_ai.request.model=scripted-manager, status=UNSET}
  invoke_agent researcher {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, status=UNSET}
  chat scripted-manager {gen_ai.provider.name=openai, gen_ai.request.model=scripted-manager, status=UNSET}
  invoke_agent writer {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, status=UNSET}
"""


def test_team_hierarchical_manager_calls_are_chat_spans(instrumented, respond, exporter,
                                                         detector):
    from praisonaiagents import AgentTeam

    server = respond(_hierarchical)
    researcher, writer = agent("researcher"), agent("writer")
    team = AgentTeam(name="desk", agents=[researcher, writer], tasks=_tasks(researcher, writer),
                     process="hierarchical", manager_llm=MANAGER_MODEL)

    assert team.start() == "Lima is sunny today."

    tree = assert_tree(_spans(exporter), HIERARCHICAL_TREE, ordered=True)
    assert tree.attributes["agents.workflow.members"] == ("researcher", "writer")
    # Manager: its own task, then one decision per task (the third says stop
    # only when a task is left over; here both completed).
    assert sum(1 for r in server.requests if r["model"] == "scripted-manager") == 3
    detector.assert_all_ended()


async def test_team_hierarchical_astart(instrumented, respond, exporter, detector):
    from praisonaiagents import AgentTeam

    respond(_hierarchical)
    researcher, writer = agent("researcher"), agent("writer")
    team = AgentTeam(name="desk", agents=[researcher, writer], tasks=_tasks(researcher, writer),
                     process="hierarchical", manager_llm=MANAGER_MODEL)

    await team.astart()

    assert_tree(_spans(exporter), HIERARCHICAL_TREE, ordered=True)
    detector.assert_all_ended()


# -- AgentFlow (Workflow / Pipeline) ---------------------------------------

def test_flow_sequential_steps(instrumented, respond, exporter, detector):
    from praisonaiagents import AgentFlow

    respond(answers({"researcher": "Lima: sunny.", "writer": "Lima is sunny today."}))

    def tidy(context):
        return str(context.previous_result).strip()

    flow = AgentFlow(name="desk", steps=[agent("researcher"), tidy, agent("writer")])
    result = flow.run("Weather in Lima?")

    assert result["output"] == "Lima is sunny today."
    tree = assert_tree(_spans(exporter), """
invoke_workflow desk {gen_ai.workflow.name=desk, agents.runtime=praisonai, agents.workflow.type=AgentFlow, agents.workflow.process=sequential, status=UNSET}
  invoke_agent researcher {agents.runtime=praisonai, status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {gen_ai.response.id=chatcmpl-researcher-0, status=UNSET}
  invoke_agent writer {agents.runtime=praisonai, status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {gen_ai.response.id=chatcmpl-writer-0, status=UNSET}
""", ordered=True)
    # The flow's agents; a function step is not one.
    assert tree.attributes["agents.workflow.members"] == ("researcher", "writer")
    detector.assert_all_ended()


def test_flow_route_loop_and_nested_flow(instrumented, respond, exporter, detector):
    from praisonaiagents import AgentFlow
    from praisonaiagents.workflows import loop, route

    respond(answers({"judge": "approve", "approver": "approved", "rejecter": "rejected",
                     "looper": "looped", "inner": "inner done"}))
    inner = AgentFlow(name="inner", steps=[agent("inner")])

    def nested(context):
        return inner.run("Go inside.")["output"]

    flow = AgentFlow(
        name="outer",
        steps=[agent("judge"),
               route({"approve": [agent("approver")], "reject": [agent("rejecter")]}),
               loop(agent("looper"), over="items"),
               nested],
        variables={"items": ["a", "b"]})
    result = flow.run("Judge this.")

    assert result["status"] == "completed"
    tree = assert_tree(_spans(exporter), """
invoke_workflow outer {gen_ai.workflow.name=outer, status=UNSET}
  invoke_agent judge {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  invoke_agent approver {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  invoke_agent looper {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  invoke_agent looper {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  invoke_workflow inner {gen_ai.workflow.name=inner, status=UNSET}
    invoke_agent inner {status=UNSET}
      react step {status=UNSET}
        chat gpt-4o-mini {status=UNSET}
""", ordered=True)
    assert tree.attributes["agents.workflow.members"] == (
        "judge", "approver", "rejecter", "looper")
    detector.assert_all_ended()


def test_flow_failed_step_is_an_error_span(instrumented, respond, exporter, detector):
    from praisonaiagents import AgentFlow

    respond(answers({"researcher": "Lima: sunny."}))

    def broken(context):
        raise ValueError("step exploded")

    from praisonaiagents import Task

    flow = AgentFlow(name="desk", steps=[agent("researcher"),
                                         Task(name="broken", handler=broken, max_retries=0)])
    result = flow.run("Weather in Lima?")

    assert result["status"] == "failed"
    assert_tree(_spans(exporter), """
invoke_workflow desk {error.type=step_failed, status=ERROR}
  invoke_agent researcher {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
""")
    detector.assert_all_ended()


async def test_flow_astart(instrumented, respond, exporter, detector):
    from praisonaiagents import AgentFlow

    respond(answers({"researcher": "Lima: sunny.", "writer": "Lima is sunny today."}))
    flow = AgentFlow(name="desk", steps=[agent("researcher"), agent("writer")])

    result = await flow.astart("Weather in Lima?")

    assert result["output"] == "Lima is sunny today."
    assert_tree(_spans(exporter), """
invoke_workflow desk
  invoke_agent researcher
    react step
      chat gpt-4o-mini
  invoke_agent writer
    react step
      chat gpt-4o-mini
""", ordered=True)
    detector.assert_all_ended()


# -- parallel steps, overlapping ------------------------------------------

FLOWS = 4
BRANCHES = 4


def _tool_round(conversation, request):
    """First a tool call, then (once the tool answered) the branch's answer."""
    messages = request.get("messages") or []
    if messages and messages[-1].get("role") == "tool":
        return text(f"done {conversation}")
    return tool_calls([ToolCall("wait_for_all", {"key": conversation})])


def test_parallel_branches_overlap_each_under_its_flow(instrumented, respond, exporter,
                                                         detector):
    """4 flows at once, each with 4 parallel agent branches, every tool call held
    at one barrier until all 16 run: 16 branches provably in flight together."""
    from praisonaiagents import AgentFlow
    from praisonaiagents.workflows import parallel

    respond(_tool_round)
    everyone = threading.Barrier(FLOWS * BRANCHES, timeout=30)

    def wait_for_all(key: str) -> str:
        """Wait until every branch is here.

        Args:
            key: The branch.
        """
        everyone.wait()
        return f"ok {key}"

    flows = [AgentFlow(name="fanout", steps=[parallel(
        [agent(f"b{b}", [wait_for_all], conversation=f"f{f}b{b}") for b in range(BRANCHES)],
        max_workers=BRANCHES)]) for f in range(FLOWS)]
    results: dict[int, dict] = {}

    def run(index: int) -> None:
        results[index] = flows[index].run("Go.")

    threads = [threading.Thread(target=run, args=(f,)) for f in range(FLOWS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    for f in range(FLOWS):
        outputs = results[f]["variables"]["parallel_outputs"]
        assert outputs == [f"done f{f}b{b}" for b in range(BRANCHES)]
    branches = "".join(f"""
  invoke_agent b{b} {{status=UNSET}}
    react step {{gen_ai.react.round=1, status=UNSET}}
      chat gpt-4o-mini {{status=UNSET}}
      execute_tool wait_for_all {{status=UNSET}}
    react step {{gen_ai.react.round=2, status=UNSET}}
      chat gpt-4o-mini {{status=UNSET}}""" for b in range(BRANCHES))
    trees = assert_isolated(_spans(exporter), "invoke_workflow fanout {status=UNSET}" + branches,
                            FLOWS)
    flows_seen = set()
    for tree in trees:
        # Every call in one trace belongs to one flow's branches, each branch's
        # tool call to that branch.
        keys = {node.attributes["gen_ai.tool.call.id"].split("_")[1]
                for node in tree.walk() if node.name.startswith("execute_tool")}
        flow = {key.split("b")[0] for key in keys}
        assert len(flow) == 1 and len(keys) == BRANCHES
        flows_seen |= flow
        for node in tree.children:
            (tool,) = node.find("execute_tool wait_for_all")
            assert tool.attributes["gen_ai.tool.call.id"].split("_")[1].endswith(
                node.attributes["gen_ai.agent.name"])
    assert flows_seen == {f"f{f}" for f in range(FLOWS)}
    branch_spans = [node for tree in trees for node in tree.children]
    assert max(n.span.start_time for n in branch_spans) < min(
        n.span.end_time for n in branch_spans), "the branches did overlap"
    detector.assert_all_ended()


# -- step guardrails and the hierarchical flow -----------------------------

def _only_good(result):
    """Accept a step output that says good."""
    return ("good" in str(result.output), "say good")


def test_flow_step_guardrail_checks_each_attempt(instrumented_with_content, respond, exporter,
                                                 detector):
    from praisonaiagents import AgentFlow, Task

    # PraisonAI hands the guardrail's reason to the step's next attempt.
    respond(lambda conversation, request: text(
        "a good answer" if "Previous attempt feedback" in json.dumps(request)
        else "a bad answer"))
    writer = agent("writer")
    step = Task(name="write", action="Write one sentence.", agent=writer,
                guardrail=_only_good, max_retries=2)
    flow = AgentFlow(name="desk", steps=[step])

    result = flow.run("Go.")

    assert result["output"] == "a good answer"
    tree = assert_tree(_spans(exporter), """
invoke_workflow desk {status=UNSET}
  invoke_agent writer {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  guardrail _only_good {agents.guardrail.target=step, agents.guardrail.attempt=1, agents.guardrail.passed=false, status=UNSET}
  invoke_agent writer {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  guardrail _only_good {agents.guardrail.target=step, agents.guardrail.attempt=2, agents.guardrail.passed=true, status=UNSET}
""", ordered=True)
    rejected = tree.children[1]
    assert rejected.attributes["gen_ai.agent.name"] == "writer"
    assert rejected.attributes["agents.guardrail.feedback"] == "say good"
    # The step is the user's own object, unchanged.
    assert step.guardrail is _only_good
    detector.assert_all_ended()


def _reviewed(conversation, request):
    """Step agents answer; the flow's manager approves all but the bad answer."""
    if conversation is not None:
        return text({"drafter": "a draft", "spoiler": "a bad answer"}[conversation])
    approved = "a bad answer" not in _prompt_of(request)
    return text(json.dumps({"approved": approved, "reason": "checked"}))


def _prompt_of(request) -> str:
    return "\n".join(str(m.get("content")) for m in request.get("messages") or [])


def test_flow_hierarchical_manager_validation(instrumented, respond, exporter, detector):
    from praisonaiagents import AgentFlow

    respond(_reviewed)
    flow = AgentFlow(name="reviewed", steps=[agent("drafter"), agent("spoiler")],
                     process="hierarchical", manager_llm=MANAGER_MODEL)

    result = flow.run("Go.")

    assert result["status"] == "failed"
    assert_tree(_spans(exporter), """
invoke_workflow reviewed {agents.workflow.process=hierarchical, error.type=step_failed, status=ERROR}
  invoke_agent drafter {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  chat scripted-manager {status=UNSET}
  invoke_agent spoiler {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  chat scripted-manager {status=UNSET}
""", ordered=True)
    detector.assert_all_ended()


def test_flow_step_guardrail_inside_parallel(instrumented, respond, exporter, detector):
    from praisonaiagents import AgentFlow, Task
    from praisonaiagents.workflows import parallel

    respond(lambda conversation, request: text(
        "a good answer" if "Previous attempt feedback" in json.dumps(request)
        or conversation == "left" else "a bad answer"))
    steps = [Task(name=side, action="Write.", agent=agent(side), guardrail=_only_good,
                  max_retries=1) for side in ("left", "right")]
    flow = AgentFlow(name="desk", steps=[parallel(steps)])

    result = flow.run("Go.")

    assert result["variables"]["parallel_outputs"] == ["a good answer", "a good answer"]
    # Nested patterns check through `_apply_step_policies`: the same spans.
    assert_tree(_spans(exporter), """
invoke_workflow desk {status=UNSET}
  invoke_agent left {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  guardrail _only_good {agents.guardrail.attempt=1, agents.guardrail.passed=true, status=UNSET}
  invoke_agent right {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  guardrail _only_good {agents.guardrail.attempt=1, agents.guardrail.passed=false, status=UNSET}
  invoke_agent right {status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {status=UNSET}
  guardrail _only_good {agents.guardrail.attempt=2, agents.guardrail.passed=true, status=UNSET}
""")
    detector.assert_all_ended()
