"""PraisonAI's LiteLLM path for OpenAI's Responses API models: the same trees.

`LLM` sends `gpt-4o*` / `o*` models (bare, or behind `openai/`) through
`litellm.responses` / `aresponses`, which talk `POST /v1/responses` to the
scripted server. LiteLLM's Responses API drops the `base_url` PraisonAI hands
it (it reads `api_base`), so the server is reached through `OPENAI_BASE_URL`
(the `serve` fixture sets it), as an application's would be; the agents
still pass `base_url`, which is what selects PraisonAI's LiteLLM path. Every
test fails on any connection beyond loopback.
"""

from __future__ import annotations

import json

import pytest

from opentelemetry.instrumentation.agents.testing import assert_isolated, assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    error,
    text,
    tool_calls,
)

from .support import (
    LOOKUP_SCRIPT,
    assert_overlapped,
    get_weather,
    hierarchical_answer,
    turns_in_tasks,
    turns_in_threads,
)
from .test_litellm import loopback_only  # noqa: F401 - the autouse network guard

MODEL = "openai/gpt-4o-mini"

TOOL_ROUND = [tool_calls([ToolCall("get_weather", {"city": "Lima"})], usage=(12, 3),
                         cache_read_tokens=4, reasoning_tokens=2),
              text("It is sunny in Lima ({conv}).", usage=(20, 7), first_chunk_delay=0.05)]


def responses_agent(server, model: str = MODEL, *, name: str = "helper", tools=(get_weather,),
                    **options):
    from praisonaiagents import Agent

    return Agent(name=name, instructions="You help.", tools=list(tools), model=model,
                 base_url=server.base_url, api_key="sk-scripted", retry=False, **options)


def expected_tree(stream: bool, port: int) -> str:
    """One chat with one tool round: two Responses API calls, usage details and all.

    Usage comes with streamed calls too: the `response.completed` event carries
    the whole response.
    """
    common = (f"gen_ai.operation.name=chat, gen_ai.provider.name=openai, "
              f"gen_ai.request.model=gpt-4o-mini, gen_ai.response.model=gpt-4o-mini, "
              f"gen_ai.request.stream={str(stream).lower()}, server.address=127.0.0.1, "
              f"server.port={port}")
    return f"""
invoke_agent helper {{gen_ai.operation.name=invoke_agent, gen_ai.agent.name=helper, gen_ai.request.model=openai/gpt-4o-mini, agents.runtime=praisonai, agents.react.rounds=2, gen_ai.usage.input_tokens=32, gen_ai.usage.output_tokens=10, gen_ai.usage.cache_read.input_tokens=4, gen_ai.usage.reasoning.output_tokens=2, status=UNSET}}
  react step {{gen_ai.operation.name=react, gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls, status=UNSET}}
    chat gpt-4o-mini {{{common}, gen_ai.response.id=resp_c1_0, gen_ai.response.finish_reasons=[tool_calls], gen_ai.usage.input_tokens=12, gen_ai.usage.output_tokens=3, gen_ai.usage.cache_read.input_tokens=4, gen_ai.usage.reasoning.output_tokens=2, status=UNSET}}
    execute_tool get_weather {{gen_ai.agent.name=helper, gen_ai.operation.name=execute_tool, gen_ai.tool.name=get_weather, gen_ai.tool.call.id=call_c1_0_0, gen_ai.tool.type=function, status=UNSET}}
  react step {{gen_ai.operation.name=react, gen_ai.react.round=2, gen_ai.react.finish_reason=stop, status=UNSET}}
    chat gpt-4o-mini {{{common}, gen_ai.response.id=resp_c1_1, gen_ai.response.finish_reasons=[stop], gen_ai.usage.input_tokens=20, gen_ai.usage.output_tokens=7, gen_ai.usage.cache_read.input_tokens=0, gen_ai.usage.reasoning.output_tokens=0, status=UNSET}}
"""


def _check_requests(server, stream: bool) -> None:
    requests = server.requests_for("c1", api="responses")
    assert len(requests) == 2, server.requests
    assert server.requests_for("c1", api="chat.completions") == []
    assert all(r["model"] == "gpt-4o-mini" and bool(r.get("stream")) is stream
               for r in requests)
    assert server.errors == []


def _check_streamed(tree) -> None:
    chats = tree.find("chat gpt-4o-mini")
    first = [chat.attributes["gen_ai.response.time_to_first_chunk"] for chat in chats]
    # The answer's first event waited 50 ms at the server.
    assert 0 < first[0] and first[1] >= 0.05, first


def test_chat(instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)
    agent = responses_agent(server)

    answer = agent.chat("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    _check_requests(server, stream=False)
    tree = assert_tree(exporter.get_finished_spans(), expected_tree(False, server.port),
                       ordered=True)
    assert tree.attributes["gen_ai.agent.id"] == agent.agent_id
    for chat in tree.find("chat gpt-4o-mini"):
        assert "gen_ai.response.time_to_first_chunk" not in chat.attributes
        assert "gen_ai.input.messages" not in chat.attributes
    detector.assert_all_ended()


async def test_achat(instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)

    answer = await responses_agent(server).achat("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    _check_requests(server, stream=False)
    assert_tree(exporter.get_finished_spans(), expected_tree(False, server.port), ordered=True)
    detector.assert_all_ended()


def test_streamed_chat(instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)

    answer = responses_agent(server).chat("Weather in Lima? [conv:c1]", stream=True)

    assert answer == "It is sunny in Lima (c1)."
    _check_requests(server, stream=True)
    tree = assert_tree(exporter.get_finished_spans(), expected_tree(True, server.port),
                       ordered=True)
    _check_streamed(tree)
    detector.assert_all_ended()


async def test_streamed_achat(instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)

    answer = await responses_agent(server).achat("Weather in Lima? [conv:c1]", stream=True)

    assert answer == "It is sunny in Lima (c1)."
    _check_requests(server, stream=True)
    tree = assert_tree(exporter.get_finished_spans(), expected_tree(True, server.port),
                       ordered=True)
    _check_streamed(tree)
    detector.assert_all_ended()


def test_bare_model_name_takes_the_same_path(instrumented, serve, exporter, detector):
    # `gpt-4o-mini` with a base_url: PraisonAI's LLM class, Responses API.
    server = serve(TOOL_ROUND)

    answer = responses_agent(server, "gpt-4o-mini").chat("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    _check_requests(server, stream=False)
    assert_tree(exporter.get_finished_spans(),
                expected_tree(False, server.port).replace(
                    "gen_ai.request.model=openai/gpt-4o-mini", "gen_ai.request.model=gpt-4o-mini"),
                ordered=True)
    detector.assert_all_ended()


def test_content_capture(instrumented_with_content, serve, exporter, detector):
    server = serve(TOOL_ROUND)

    responses_agent(server).chat("Weather in Lima? [conv:c1]", stream=True)

    tree = assert_tree(exporter.get_finished_spans(), expected_tree(True, server.port),
                       ordered=True)
    first, second = tree.find("chat gpt-4o-mini")
    (definition,) = json.loads(first.attributes["gen_ai.tool.definitions"])
    assert definition["name"] == "get_weather"
    assert definition["description"] == "Report the weather in a city."
    assert definition["parameters"]["required"] == ["city"]
    # PraisonAI's system prompt goes as `instructions`.
    assert "You help." in first.attributes["gen_ai.system_instructions"]
    inputs = json.loads(second.attributes["gen_ai.input.messages"])
    assert [m["role"] for m in inputs][-2:] == ["assistant", "tool"]
    (result,) = inputs[-1]["parts"]
    assert (result["type"], result["id"]) == ("tool_call_response", "call_c1_0_0")
    output = json.loads(second.attributes["gen_ai.output.messages"])
    assert output == [{"role": "assistant", "finish_reason": "stop",
                       "parts": [{"type": "text", "content": "It is sunny in Lima (c1)."}]}]
    (tool,) = tree.find("execute_tool get_weather")
    # The description the model read, from the Responses API tool list.
    assert tool.attributes["gen_ai.tool.description"] == "Report the weather in a city."
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"city": "Lima"}
    detector.assert_all_ended()


def test_request_parameters(instrumented, serve, exporter, detector):
    from praisonaiagents import Agent

    server = serve([text("ok", usage=(5, 1))])
    llm = {"model": MODEL, "temperature": 0.2, "max_tokens": 64, "top_p": 0.9}
    Agent(name="helper", instructions="You help.", llm=llm, base_url=server.base_url,
          api_key="sk-scripted", retry=False).chat("hi [conv:p1]")

    (request,) = server.requests_for("p1", api="responses")
    assert (request["temperature"], request["max_output_tokens"], request["top_p"]) == \
        (0.2, 64, 0.9)
    assert_tree(exporter.get_finished_spans(), f"""
invoke_agent helper {{status=UNSET}}
  react step {{status=UNSET}}
    chat gpt-4o-mini {{gen_ai.request.temperature=0.2, gen_ai.request.max_tokens=64, gen_ai.request.top_p=0.9, gen_ai.response.id=resp_p1_0, server.port={server.port}, status=UNSET}}
""")
    detector.assert_all_ended()


@pytest.mark.parametrize("stream", [False, True])
def test_incomplete_response_finishes_with_length(stream, instrumented, serve, exporter,
                                                  detector):
    # The scripted server answers `status="incomplete"`, `max_output_tokens`.
    server = serve([text("cut short", finish_reason="length", usage=(9, 2))])

    responses_agent(server, tools=()).chat("Go on. [conv:l1]", stream=stream)

    # PraisonAI asks again after a cut-off answer (a new prompt, without the
    # marker: the same script answers): one round per request.
    assert server.requests_for("l1", api="responses")
    sent = len(server.requests)
    assert sent > 1
    assert_tree(exporter.get_finished_spans(), f"""
invoke_agent helper {{gen_ai.usage.output_tokens={2 * sent}, status=UNSET}}
  react step {{status=UNSET}} *{sent}
    chat gpt-4o-mini {{gen_ai.request.stream={str(stream).lower()}, gen_ai.response.finish_reasons=[length], gen_ai.usage.output_tokens=2, status=UNSET}}
""")
    detector.assert_all_ended()


@pytest.mark.parametrize("stream", [False, True])
def test_error_response_is_an_error_chat_span(stream, instrumented, serve, exporter,
                                              detector):
    server = serve([error(400, "bad request for {conv}")])

    answer = responses_agent(server).chat("Weather? [conv:e1]", stream=stream)

    assert answer is None  # PraisonAI reports failures as None
    assert server.requests_for("e1", api="responses")
    chats = [s for s in exporter.get_finished_spans() if s.name == "chat gpt-4o-mini"]
    assert chats, "the failed model call has a span"
    assert all(s.status.status_code.name == "ERROR" for s in chats)
    assert all(s.attributes["error.type"].endswith("BadRequestError") for s in chats), [
        s.attributes["error.type"] for s in chats]
    assert all(s.attributes["gen_ai.request.stream"] is stream for s in chats)
    detector.assert_all_ended()


async def test_error_response_achat(instrumented, serve, exporter, detector):
    server = serve([error(400, "bad request for {conv}")])

    answer = await responses_agent(server).achat("Weather? [conv:e1]")

    assert answer is None
    chats = [s for s in exporter.get_finished_spans() if s.name == "chat gpt-4o-mini"]
    assert chats and all(s.status.status_code.name == "ERROR" for s in chats)
    assert all(s.attributes["error.type"].endswith("BadRequestError") for s in chats)
    detector.assert_all_ended()


# -- the hierarchical manager's own model, `manager_llm="gpt-4o-mini"` -----

def _prompt(request) -> str:
    """The last user prompt of a chat-completions or Responses request, as text."""
    items = request.get("messages") or request.get("input") or []
    for item in reversed(items):
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, list):
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content)
    return ""


def _hierarchical(conversation, request):
    return hierarchical_answer(conversation, _prompt(request))


HIERARCHICAL_TREE = """
invoke_workflow desk {agents.workflow.process=hierarchical, status=UNSET}
  invoke_agent Manager {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, gen_ai.response.finish_reasons=[stop], status=UNSET}
  chat gpt-4o-mini {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, gen_ai.response.finish_reasons=[stop], status=UNSET}
  invoke_agent researcher {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, gen_ai.response.finish_reasons=[stop], status=UNSET}
  chat gpt-4o-mini {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, gen_ai.response.finish_reasons=[stop], status=UNSET}
  invoke_agent writer {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, status=UNSET}
    react step {status=UNSET}
      chat gpt-4o-mini {gen_ai.provider.name=openai, gen_ai.request.model=gpt-4o-mini, gen_ai.response.finish_reasons=[stop], status=UNSET}
"""


@pytest.mark.parametrize("run_async", [False, True])
async def test_hierarchical_manager_with_its_default_model(run_async, instrumented, monkeypatch,
                                                           exporter, detector):
    """The manager's decisions (`LLM("gpt-4o-mini").get_response`) take the Responses API."""
    from praisonaiagents import Agent, AgentTeam, Task

    server = ScriptedOpenAIServer(_hierarchical).start()
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.delenv("OPENAI_MODEL_NAME", raising=False)
        researcher, writer = (Agent(name=n, instructions=f"[conv:{n}] You help.",
                                    model="gpt-4o-mini", retry=False)
                              for n in ("researcher", "writer"))
        tasks = [Task(name="research", description="Find the weather in Lima.",
                      expected_output="facts", agent=researcher),
                 Task(name="write", description="Write one sentence about it.",
                      expected_output="a sentence", agent=writer)]
        team = AgentTeam(name="desk", agents=[researcher, writer], tasks=tasks,
                         process="hierarchical")
        assert team.manager_llm == "gpt-4o-mini"

        if run_async:
            await team.astart()
        else:
            assert team.start() == "Lima is sunny today."
    finally:
        server.stop()

    assert server.errors == []
    # The manager's two decisions: Responses API requests.
    decisions = [r for r in server.requests_for(None, api="responses")
                 if "Provide a JSON" in _prompt(r)]
    assert len(decisions) == 2
    assert_tree(exporter.get_finished_spans(), HIERARCHICAL_TREE, ordered=True)
    detector.assert_all_ended()


# -- 16 overlapping calls on one agent ------------------------------------

RUNS = 16
TREE = """
invoke_agent helper {agents.react.rounds=2, gen_ai.usage.input_tokens=20, status=UNSET}
  react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls, status=UNSET}
    chat gpt-4o-mini {gen_ai.provider.name=openai, gen_ai.usage.input_tokens=10, status=UNSET}
    execute_tool lookup {status=UNSET}
  react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop, status=UNSET}
    chat gpt-4o-mini {gen_ai.provider.name=openai, gen_ai.usage.input_tokens=10, status=UNSET}
"""


def _conversation(tree) -> str:
    """The one conversation all model and tool calls of a trace belong to."""
    keys = set()
    for node in tree.walk():
        if node.name.startswith("chat "):
            keys.add(node.attributes["gen_ai.response.id"].split("_")[1])  # resp_<key>_<n>
        elif node.name.startswith("execute_tool "):
            keys.add(node.attributes["gen_ai.tool.call.id"].split("_")[1])  # call_<key>_..
    assert len(keys) == 1, f"one trace holds calls of several conversations: {keys}"
    return keys.pop()


def _check_isolated(spans, keys, streamed: bool):
    trees = assert_isolated(spans, TREE, len(keys), ordered=True)
    assert sorted(_conversation(tree) for tree in trees) == sorted(keys)
    for tree in trees:
        key = _conversation(tree)
        (tool,) = tree.find("execute_tool lookup")
        assert f'"{key}"' in tool.attributes["gen_ai.tool.call.arguments"]
        assert f"answer {key}" in tree.attributes["gen_ai.output.messages"]
        for chat in tree.find("chat gpt-4o-mini"):
            assert chat.attributes["gen_ai.request.stream"] is streamed
            assert ("gen_ai.response.time_to_first_chunk" in chat.attributes) is streamed
    assert_overlapped(trees)


@pytest.mark.parametrize("stream", [False, True])
def test_one_agent_in_many_threads(stream, instrumented_with_content, serve, exporter,
                                   detector):
    server = serve(LOOKUP_SCRIPT)
    keys = [f"c{i}" for i in range(RUNS)]
    answers = turns_in_threads(lambda lookup: responses_agent(server, tools=[lookup]), keys,
                               stream=stream)

    assert answers == {key: f"answer {key}" for key in keys}
    assert server.errors == []
    _check_isolated(exporter.get_finished_spans(), keys, stream)
    detector.assert_all_ended()


@pytest.mark.parametrize("stream", [False, True])
async def test_one_agent_in_many_tasks(stream, instrumented_with_content, serve, exporter,
                                       detector):
    server = serve(LOOKUP_SCRIPT)
    keys = [f"a{i}" for i in range(RUNS)]
    answers = await turns_in_tasks(lambda lookup: responses_agent(server, tools=[lookup]),
                                   keys, stream=stream)

    assert answers == [f"answer {key}" for key in keys]
    assert server.errors == []
    _check_isolated(exporter.get_finished_spans(), keys, stream)
    detector.assert_all_ended()
