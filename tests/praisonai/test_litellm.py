"""PraisonAI's LiteLLM path (`llm="provider/model"`, `base_url=`): the same trees.

Only the model is scripted: LiteLLM talks chat completions to the scripted
server for `openai/...` models, and the Anthropic Messages API for
`anthropic/...` models. Every test fails on any connection beyond loopback.
"""

from __future__ import annotations

import socket

import pytest

from opentelemetry.instrumentation.agents.testing import assert_isolated, assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    error,
    text,
    tool_calls,
)

from .support import LOOKUP_SCRIPT, assert_overlapped, get_weather, turns_in_tasks, turns_in_threads

TOOL_ROUND = [tool_calls([ToolCall("get_weather", {"city": "Lima"})], usage=(12, 3)),
              text("It is sunny in Lima ({conv}).", usage=(20, 7))]

OPENAI_MODEL = "openai/scripted-model"
ANTHROPIC_MODEL = "anthropic/claude-sonnet-4-5"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fail (and remember) any name lookup or connection beyond 127.0.0.1."""
    attempts: list[str] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost", b"127.0.0.1"):
            attempts.append(f"lookup {host}")
            raise OSError(f"test network guard: no lookups of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1"):
            attempts.append(f"connect {address}")
            raise OSError(f"test network guard: no connection to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts
    assert attempts == [], f"tried to reach beyond loopback: {attempts}"


def litellm_agent(server, model: str = OPENAI_MODEL, *, name: str = "helper",
                  tools=(get_weather,), **options):
    from praisonaiagents import Agent

    base = server.anthropic_base_url if model.startswith("anthropic/") else server.base_url
    return Agent(name=name, instructions="You help.", tools=list(tools), model=model,
                 base_url=base, api_key="sk-scripted", retry=False, **options)


def expected_tree(requested: str, provider: str, streams: list[bool], *,
                  ids: bool = True) -> str:
    """One chat with one tool round, a span per model request PraisonAI made.

    ``streams``: whether each request was streamed (PraisonAI decides per call:
    with tools some providers are not streamed; its async loop asks the model
    once more after the answer, a third round answering the same). Streamed
    calls carry no usage: PraisonAI does not ask for it (no
    ``stream_options``) and LiteLLM hands none to the reader. ``ids``:
    response ids are the server's own (LiteLLM makes up its own for Anthropic).
    """
    model = requested.split("/", 1)[1]
    usage = [(12, 3)] + [(20, 7)] * (len(streams) - 1)
    lines = []
    for index, streamed in enumerate(streams):
        reason = "tool_calls" if index == 0 else "stop"
        attrs = (f"gen_ai.operation.name=chat, gen_ai.provider.name={provider}, "
                 f"gen_ai.request.model={model}, gen_ai.request.stream={str(streamed).lower()}, "
                 f"gen_ai.response.finish_reasons=[{reason}]")
        if ids:
            attrs += f", gen_ai.response.id=chatcmpl-c1-{min(index, 1)}"
        if not streamed:
            attrs += (f", gen_ai.usage.input_tokens={usage[index][0]}, "
                      f"gen_ai.usage.output_tokens={usage[index][1]}")
        lines.append(f"  react step {{gen_ai.operation.name=react, gen_ai.react.round={index + 1}, "
                     f"gen_ai.react.finish_reason={reason}, status=UNSET}}")
        lines.append(f"    chat {model} {{{attrs}, status=UNSET}}")
        if index == 0:
            lines.append("    execute_tool get_weather {gen_ai.operation.name=execute_tool, "
                         "gen_ai.agent.name=helper, "
                         "gen_ai.tool.name=get_weather, gen_ai.tool.type=function, status=UNSET}")
    totals = [u for u, streamed in zip(usage, streams, strict=True) if not streamed]
    agent = (f"gen_ai.operation.name=invoke_agent, gen_ai.agent.name=helper, "
             f"gen_ai.request.model={requested}, agents.runtime=praisonai, "
             f"agents.react.rounds={len(streams)}")
    if totals:
        agent += (f", gen_ai.usage.input_tokens={sum(u[0] for u in totals)}, "
                  f"gen_ai.usage.output_tokens={sum(u[1] for u in totals)}")
    return "\n".join([f"invoke_agent helper {{{agent}, status=UNSET}}", *lines]) + "\n"


def streams_of(server) -> list[bool]:
    return [request.get("stream") is True for request in server.requests]


def test_openai_compatible_chat(instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)
    agent = litellm_agent(server)

    answer = agent.chat("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    assert len(server.requests_for("c1", api="chat.completions")) == 2
    tree = assert_tree(exporter.get_finished_spans(),
                       expected_tree(OPENAI_MODEL, "openai", [False, False]), ordered=True)
    assert tree.attributes["gen_ai.agent.id"] == agent.agent_id
    detector.assert_all_ended()


async def test_openai_compatible_achat(instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)

    answer = await litellm_agent(server).achat("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    assert streams_of(server) == [False, False, False]
    assert_tree(exporter.get_finished_spans(),
                expected_tree(OPENAI_MODEL, "openai", streams_of(server)), ordered=True)
    detector.assert_all_ended()


@pytest.mark.parametrize("model", [OPENAI_MODEL, ANTHROPIC_MODEL])
def test_streamed_chat(model, instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)
    agent = litellm_agent(server, model)

    answer = agent.chat("Weather in Lima? [conv:c1]", stream=True)

    assert answer == "It is sunny in Lima (c1)."
    # With tools PraisonAI streams only where LiteLLM streams tool calls.
    assert any(streams_of(server)) or model == ANTHROPIC_MODEL
    provider = model.split("/")[0]
    assert_tree(exporter.get_finished_spans(),
                expected_tree(model, provider, streams_of(server), ids=provider == "openai"),
                ordered=True)
    detector.assert_all_ended()


@pytest.mark.parametrize("model", [OPENAI_MODEL, ANTHROPIC_MODEL])
async def test_streamed_achat(model, instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)

    answer = await litellm_agent(server, model).achat("Weather in Lima? [conv:c1]", stream=True)

    assert answer == "It is sunny in Lima (c1)."
    assert any(streams_of(server)) or model == ANTHROPIC_MODEL
    provider = model.split("/")[0]
    assert_tree(exporter.get_finished_spans(),
                expected_tree(model, provider, streams_of(server), ids=provider == "openai"),
                ordered=True)
    detector.assert_all_ended()


def test_anthropic_model_through_the_messages_api(instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)

    answer = litellm_agent(server, ANTHROPIC_MODEL).chat("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    requests = server.requests_for("c1", api="messages")
    assert len(requests) == 2 and requests[0]["model"] == "claude-sonnet-4-5"
    tree = assert_tree(exporter.get_finished_spans(),
                       expected_tree(ANTHROPIC_MODEL, "anthropic", [False, False], ids=False),
                       ordered=True)
    # LiteLLM's own ids: it does not keep the message id Anthropic sent.
    for chat in tree.find("chat claude-sonnet-4-5"):
        assert chat.attributes["gen_ai.response.id"].startswith("chatcmpl-")
    (tool,) = tree.find("execute_tool get_weather")
    assert tool.attributes["gen_ai.tool.call.id"] == "toolu_c1_0_0"
    detector.assert_all_ended()


async def test_anthropic_model_achat(instrumented, serve, exporter, detector):
    server = serve(TOOL_ROUND)

    answer = await litellm_agent(server, ANTHROPIC_MODEL).achat("Weather in Lima? [conv:c1]")

    assert answer == "It is sunny in Lima (c1)."
    assert streams_of(server) == [False, False, False]
    assert_tree(exporter.get_finished_spans(),
                expected_tree(ANTHROPIC_MODEL, "anthropic", streams_of(server), ids=False),
                ordered=True)
    detector.assert_all_ended()


def test_model_error_is_an_error_chat_span(instrumented, serve, exporter, detector):
    server = serve([error(400, "bad request for {conv}")])

    answer = litellm_agent(server).chat("Weather? [conv:e1]")

    assert answer is None  # PraisonAI reports failures as None
    chats = [s for s in exporter.get_finished_spans() if s.name == "chat scripted-model"]
    assert chats, "the failed model call has a span"
    assert all(s.status.status_code.name == "ERROR" for s in chats)
    assert all(s.attributes["error.type"].endswith("BadRequestError") for s in chats), [
        s.attributes["error.type"] for s in chats]
    detector.assert_all_ended()


RUNS = 16
TREE = """
invoke_agent helper {agents.react.rounds=2, gen_ai.usage.input_tokens=20, status=UNSET}
  react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls, status=UNSET}
    chat scripted-model {gen_ai.provider.name=openai, gen_ai.usage.input_tokens=10, status=UNSET}
    execute_tool lookup {status=UNSET}
  react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop, status=UNSET}
    chat scripted-model {gen_ai.provider.name=openai, gen_ai.usage.input_tokens=10, status=UNSET}
"""
# PraisonAI's async loop asks the model once more after the answer.
ASYNC_TREE = TREE.replace("rounds=2, gen_ai.usage.input_tokens=20",
                          "rounds=3, gen_ai.usage.input_tokens=30") + """\
  react step {gen_ai.react.round=3, gen_ai.react.finish_reason=stop, status=UNSET}
    chat scripted-model {gen_ai.provider.name=openai, gen_ai.usage.input_tokens=10, status=UNSET}
"""


def _check_isolated(spans, keys, tree_shape=TREE):
    from .support import conversation_of

    trees = assert_isolated(spans, tree_shape, len(keys), ordered=True)
    assert sorted(conversation_of(tree) for tree in trees) == sorted(keys)
    for tree in trees:
        key = conversation_of(tree)
        (tool,) = tree.find("execute_tool lookup")
        assert f'"{key}"' in tool.attributes["gen_ai.tool.call.arguments"]
        assert f"answer {key}" in tree.attributes["gen_ai.output.messages"]
    assert_overlapped(trees)


def test_one_litellm_agent_in_many_threads(instrumented_with_content, serve, exporter,
                                           detector):
    server = serve(LOOKUP_SCRIPT)
    keys = [f"c{i}" for i in range(RUNS)]
    answers = turns_in_threads(lambda lookup: litellm_agent(server, tools=[lookup]), keys)

    assert answers == {key: f"answer {key}" for key in keys}
    _check_isolated(exporter.get_finished_spans(), keys)
    detector.assert_all_ended()


async def test_one_litellm_agent_in_many_tasks(instrumented_with_content, serve, exporter,
                                               detector):
    server = serve(LOOKUP_SCRIPT)
    keys = [f"a{i}" for i in range(RUNS)]
    answers = await turns_in_tasks(lambda lookup: litellm_agent(server, tools=[lookup]),
                                   keys)

    assert answers == [f"answer {key}" for key in keys]
    _check_isolated(exporter.get_finished_spans(), keys, ASYNC_TREE)
    detector.assert_all_ended()
