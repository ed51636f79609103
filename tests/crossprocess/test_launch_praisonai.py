"""PraisonAI agents and teams served with `launch()` (FastAPI, uvicorn, in a
subprocess) continue the W3C trace context of the request that calls them.

The caller (this process) sends the request inside a CLIENT span with a
``traceparent`` header; the served agent's spans, exported by the server
process to the same receiver, must be that span's children. Served
"plain" (FastAPI's own request telemetry off), our continuation alone puts
them there; with FastAPI's telemetry on (FastAPI 0.16x, whenever an SDK is
configured) they nest under FastAPI's server and endpoint spans instead.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from opentelemetry.trace import SpanKind

from opentelemetry import propagate
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    text,
    tool_calls,
    turn_index,
)

from .support import HERE, http_server

MODEL = "gpt-4o-mini"
SCRIPT = {
    # The agent (and the team's first member): a tool round, then an answer
    # that names the conversation the team's second member continues.
    "a": [tool_calls([ToolCall("get_weather", {"city": "Lima"})]), text("Sunny. [conv:b]")],
    "c": [tool_calls([ToolCall("get_weather", {"city": "Oslo"})]), text("Snow. [conv:d]")],
    "b": [text("Report: sunny.")],
    "d": [text("Report: snow.")],
}

AGENT_TREE = """
{caller}
  invoke_agent helper {{agents.runtime=praisonai}}
    react step
      chat gpt-4o-mini
      execute_tool get_weather
    react step
      chat gpt-4o-mini
"""


@pytest.fixture
def model():
    server = ScriptedOpenAIServer(SCRIPT, marker="last").start()
    yield server
    server.stop()


def _served(mode: str, receiver, model):
    env = {"OPENAI_BASE_URL": model.base_url, "OPENAI_API_KEY": "sk-scripted",
           "OPENAI_MAX_RETRIES": "0", "PRAISONAI_TELEMETRY_DISABLED": "true"}
    return http_server("praisonai_served.py", receiver.traces_url, mode, directory=HERE, env=env)


def _ask(provider, url: str, query: str, caller: str | None) -> dict:
    """POST the query, inside a CLIENT span named `caller` whose context goes out
    as W3C headers (no span and no headers when `caller` is None)."""
    if caller is None:
        return httpx.post(url, json={"query": query}, timeout=60).json()
    with provider.get_tracer("test").start_as_current_span(caller, kind=SpanKind.CLIENT):
        headers: dict[str, str] = {}
        propagate.inject(headers)
        assert "traceparent" in headers
        return httpx.post(url, json={"query": query}, headers=headers, timeout=60).json()


def _trace_of(spans, name: str):
    root = next(s for s in spans if s.name == name)
    return root, [s for s in spans if s.context.trace_id == root.context.trace_id]


def test_served_agent_continues_the_callers_trace(host_provider, receiver, model, detector):
    with _served("agent-plain", receiver, model) as (port, _process):
        answer = _ask(host_provider, f"http://127.0.0.1:{port}/ask", "Weather? [conv:a]",
                      "ask helper")
        spans = receiver.wait_for(lambda got: any(s.name == "invoke_agent helper" for s in got)
                                  and any(s.name == "ask helper" for s in got))

    assert answer == {"response": "Sunny. [conv:b]"}
    caller, trace = _trace_of(spans, "ask helper")
    tree = assert_tree(trace, AGENT_TREE.format(caller="ask helper"), ordered=True)
    agent = tree.children[0].span
    assert agent.parent.span_id == caller.context.span_id
    assert agent.resource.attributes["service.name"] == "praisonai-served"
    assert caller.resource.attributes["service.name"] != "praisonai-served"
    detector.assert_all_ended()


def test_with_fastapi_telemetry_the_agent_nests_under_the_endpoint(host_provider, receiver,
                                                                   model, detector):
    with _served("agent", receiver, model) as (port, _process):
        answer = _ask(host_provider, f"http://127.0.0.1:{port}/ask", "Weather? [conv:a]",
                      "ask helper")
        spans = receiver.wait_for(lambda got: all(any(s.name == name for s in got) for name in (
            "invoke_agent helper", "ask helper", "POST /ask", "fastapi.serialization")))

    assert answer == {"response": "Sunny. [conv:b]"}
    _caller, trace = _trace_of(spans, "ask helper")
    # FastAPI's server span continues the headers; our middleware steps aside
    # (a span is current), and the executor hop keeps the endpoint's context.
    assert_tree(trace, """
        ask helper
          POST /ask
            fastapi.dependencies
            fastapi.endpoint
              invoke_agent helper
                react step
                  chat gpt-4o-mini
                  execute_tool get_weather
                react step
                  chat gpt-4o-mini
            fastapi.serialization
    """)
    detector.assert_all_ended()


def test_concurrent_callers_keep_their_own_traces(host_provider, receiver, model, detector):
    """Two requests at once: each served run in its own caller's trace (the
    executor threads carry each request's context, not a shared one)."""
    with _served("agent-plain", receiver, model) as (port, _process):
        url = f"http://127.0.0.1:{port}/ask"
        answers: dict[str, dict] = {}

        def call(caller: str, conversation: str) -> None:
            answers[caller] = _ask(host_provider, url, f"Weather? [conv:{conversation}]", caller)

        threads = [threading.Thread(target=call, args=args)
                   for args in (("first caller", "a"), ("second caller", "c"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        spans = receiver.wait_for(
            lambda got: sum(s.name == "invoke_agent helper" for s in got) == 2
            and sum(s.name.endswith(" caller") for s in got) == 2)

    assert answers == {"first caller": {"response": "Sunny. [conv:b]"},
                       "second caller": {"response": "Snow. [conv:d]"}}
    for caller_name, city in (("first caller", "Lima"), ("second caller", "Oslo")):
        _caller, trace = _trace_of(spans, caller_name)
        assert_tree(trace, AGENT_TREE.format(caller=caller_name), ordered=True)
        chat = next(s for s in trace if s.name == "chat gpt-4o-mini")
        assert chat.attributes["gen_ai.response.id"].startswith(
            "chatcmpl-a" if city == "Lima" else "chatcmpl-c")
    detector.assert_all_ended()


def test_served_team_continues_the_callers_trace(host_provider, receiver, model, detector):
    with _served("team-plain", receiver, model) as (port, _process):
        answer = _ask(host_provider, f"http://127.0.0.1:{port}/team", "Weather? [conv:a]",
                      "ask team")
        # The workflow span ends (and is exported) after the answer was sent.
        spans = receiver.wait_for(lambda got: all(any(s.name == name for s in got) for name in (
            "invoke_agent writer", "invoke_agent helper", "invoke_workflow helper + writer",
            "ask team")))

    assert answer["final_response"] == "Report: sunny."
    caller, trace = _trace_of(spans, "ask team")
    # The team's HTTP endpoint runs each member's chat in turn (not the
    # team's `start`); the workflow span of the request names the team (its
    # members, as PraisonAI labels an unnamed team).
    tree = assert_tree(trace, """
        ask team
          invoke_workflow helper + writer {gen_ai.workflow.name=helper + writer}
            invoke_agent helper
              react step
                chat gpt-4o-mini
                execute_tool get_weather
              react step
                chat gpt-4o-mini
            invoke_agent writer
              react step
                chat gpt-4o-mini
    """, ordered=True)
    workflow = tree.children[0].span
    assert workflow.parent.span_id == caller.context.span_id
    assert workflow.attributes["agents.workflow.members"] == ("helper", "writer")
    detector.assert_all_ended()


def test_request_without_trace_context_starts_a_trace(host_provider, receiver, model):
    with _served("agent-plain", receiver, model) as (port, _process):
        answer = _ask(host_provider, f"http://127.0.0.1:{port}/ask", "Weather? [conv:a]", None)
        spans = receiver.wait_for(lambda got: any(s.name == "invoke_agent helper" for s in got))

    assert answer == {"response": "Sunny. [conv:b]"}
    assert_tree(spans, """
        invoke_agent helper
          react step
            chat gpt-4o-mini
            execute_tool get_weather
          react step
            chat gpt-4o-mini
    """)


TEAMS_SCRIPT = {
    # research: the researcher (a tool round, then an answer naming the
    # reporter's conversation), then the reporter; support likewise, no tool.
    "r1": [tool_calls([ToolCall("get_weather", {"city": "Lima"})]), text("Found. [conv:r2]")],
    "r2": [text("Research report.")],
    "s1": [text("Ticket triaged. [conv:s2]")],
    "s2": [text("Ticket resolved.")],
}


def _teams_model(first_calls: threading.Barrier) -> ScriptedOpenAIServer:
    """The teams' model: each team's first model call is answered only once the
    other team's is in flight too, so the two requests are served at once."""
    def respond(conversation, request):
        turn = turn_index(request, since_last_user=True)
        if conversation in ("r1", "s1") and turn == 0:
            first_calls.wait()
        return TEAMS_SCRIPT[conversation][turn]

    return ScriptedOpenAIServer(respond, marker="last").start()


def _team_paths(port: int) -> dict[str, str]:
    """Each team's path, once both are served: the server listens once the first
    launch started it, the other's routes come a moment later, and a taken path
    is renamed. A team's path is a listed route with per-agent routes under it;
    its ``/list`` names the agents, which tell the team."""
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = httpx.get(f"{url}/health", timeout=5).json()["endpoints"]
        paths = [p for p in listed if any(q.startswith(p + "/") for q in listed)]
        if len(paths) == 2:
            found = {}
            for path in paths:
                agents = tuple(a["name"] for a in
                               httpx.get(f"{url}{path}/list", timeout=5).json()["agents"])
                found[next(t for t, members in MEMBERS.items() if members == agents)] = path
            return found
        time.sleep(0.05)
    raise TimeoutError(f"two teams not registered on port {port}")


# Each member's run, as it appears under its team's workflow.
MEMBER_TREES = {
    "researcher": """
invoke_agent researcher
  react step
    chat gpt-4o-mini
    execute_tool get_weather
  react step
    chat gpt-4o-mini
""",
    **{member: f"""
invoke_agent {member}
  react step
    chat gpt-4o-mini
""" for member in ("reporter", "triager", "resolver")},
}


def _team_tree(team: str, members: tuple[str, ...], fastapi_telemetry: bool) -> str:
    """The expected trace of one call to `team`: the caller's span, FastAPI's
    request spans when its telemetry is on, the team's workflow, its agents."""
    agents = "".join(MEMBER_TREES[member].lstrip("\n") for member in members)
    workflow = f"invoke_workflow {team} {{gen_ai.workflow.name={team}}}\n"
    if not fastapi_telemetry:
        return f"ask {team}\n" + _indent(workflow + _indent(agents))
    body = "fastapi.dependencies\nfastapi.endpoint\n" + _indent(agents) + "fastapi.serialization\n"
    return f"ask {team}\n" + _indent(f"POST /{team}\n" + _indent(workflow + _indent(body)))


def _indent(lines: str) -> str:
    return "".join(f"  {line}\n" for line in lines.splitlines())


MEMBERS = {"research": ("researcher", "reporter"), "support": ("triager", "resolver")}


def _call_two_teams(host_provider, receiver, mode: str) -> tuple[dict, list]:
    """Serve both teams (`mode`), call them at once, return the answers and spans."""
    first_calls = threading.Barrier(2, timeout=30)
    model = _teams_model(first_calls)
    answers: dict[str, dict] = {}
    try:
        with _served(mode, receiver, model) as (port, _process):
            paths = _team_paths(port)
            if mode.startswith("teams-collide"):
                assert paths["research"] != paths["support"]
                assert {"/team"} < set(paths.values())
            else:
                assert paths == {"research": "/research", "support": "/support"}

            def call(team: str, conversation: str) -> None:
                answers[team] = _ask(host_provider, f"http://127.0.0.1:{port}{paths[team]}",
                                     f"Help. [conv:{conversation}]", f"ask {team}")

            threads = [threading.Thread(target=call, args=args)
                       for args in (("research", "r1"), ("support", "s1"))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            # The server side's outermost spans end (and are exported) after
            # the answers were sent: FastAPI's server span, else the workflow.
            last = [f"invoke_workflow {team}" for team in MEMBERS]
            if not mode.endswith("-plain"):
                last += [f"POST {path}" for path in paths.values()]
            spans = receiver.wait_for(lambda got: all(
                any(s.name == name for s in got) for name in (
                    "ask research", "ask support", *last))
                and sum(s.name.startswith("invoke_agent ") for s in got) == 4)
    finally:
        model.stop()
    # Neither team's first model call was answered before the other's came.
    assert not first_calls.broken
    return answers, spans


def _check_team_traces(answers: dict, spans: list, fastapi_telemetry: bool) -> None:
    assert answers["research"]["final_response"] == "Research report."
    assert answers["support"]["final_response"] == "Ticket resolved."
    for team, members in MEMBERS.items():
        caller, trace = _trace_of(spans, f"ask {team}")
        tree = assert_tree(trace, _team_tree(team, members, fastapi_telemetry), ordered=True)
        under_caller = tree.children[0]
        if fastapi_telemetry:
            assert under_caller.span.kind == SpanKind.SERVER
            assert under_caller.span.attributes["http.route"] == f"/{team}"
            assert under_caller.span.parent.span_id == caller.context.span_id
            workflow = under_caller.children[0].span
        else:
            workflow = under_caller.span
            assert workflow.parent.span_id == caller.context.span_id
        assert workflow.attributes["agents.workflow.type"] == "AgentTeam"
        assert workflow.attributes["agents.runtime"] == "praisonai"
        assert workflow.attributes["agents.workflow.members"] == members
        assert workflow.resource.attributes["service.name"] == "praisonai-served"
    # Two callers, two traces: nothing of one team's run is in the other's.
    runs = [s for s in spans if s.name.startswith(("ask ", "invoke_"))]
    assert len({s.context.trace_id for s in runs}) == 2


def test_two_teams_on_one_port_called_concurrently(host_provider, receiver, detector):
    """PraisonAI's thread-safety guide: two teams launched on one port from two
    threads at once, each on its own path, called at once. Each request's trace
    is the caller's, with a workflow span naming the team the path belongs to
    and only that team's agents under it."""
    answers, spans = _call_two_teams(host_provider, receiver, "teams-plain")
    _check_team_traces(answers, spans, fastapi_telemetry=False)
    detector.assert_all_ended()


def test_with_fastapi_telemetry_two_teams_on_one_port_each_request_names_its_team(
        host_provider, receiver, detector):
    """The same with FastAPI's own request telemetry (FastAPI 0.16x, an SDK set):
    one server span per request, continuing the caller's headers, and the
    team's workflow span under it."""
    answers, spans = _call_two_teams(host_provider, receiver, "teams")
    _check_team_traces(answers, spans, fastapi_telemetry=True)
    detector.assert_all_ended()


def test_two_teams_launched_on_one_path_each_request_names_its_team(host_provider, receiver,
                                                                   detector):
    """Both teams launched on the same path at once: PraisonAI renames the later
    one's path; each request's workflow span still names the team that path
    got (not the one the launch asked for first)."""
    answers, spans = _call_two_teams(host_provider, receiver, "teams-collide-plain")
    _check_team_traces(answers, spans, fastapi_telemetry=False)
    detector.assert_all_ended()
