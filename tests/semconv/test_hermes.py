"""Hermes Agent: usage details, request parameters, server, streaming latency,
tool descriptions and definitions and the details event, on real agents
against the scripted server, on each of Hermes's three model APIs."""

from __future__ import annotations

import json

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    text,
    tool_calls,
)
from tests.hermes.support import NUMBERS, add_numbers, tools
from tests.runtimes import loopback_only  # noqa: F401 - autouse fixture

from .support import (
    CACHE_CREATION,
    CACHE_READ,
    REASONING,
    TPOC_METRIC,
    TTFC,
    TTFC_METRIC,
    assert_first_chunk_after,
    assert_streaming_instruments,
    assert_tool_round_events,
    by_name,
    events,
    json_attr,
    metrics,
    points,
)

MODES = {
    # api_mode: (Hermes provider, model, span provider, endpoint the server logs)
    "chat_completions": ("custom", "fake-model", "custom", "chat.completions"),
    "anthropic_messages": ("anthropic", "claude-sonnet-4-5", "anthropic", "messages"),
    "codex_responses": ("openai", "gpt-5-mini", "openai", "responses"),
}

# Which usage details each protocol carries, as the scripted server renders
# them: chat completions have no cache-creation count, Anthropic no reasoning
# count; Anthropic and the Responses API always send theirs (0 when none).
DETAILS = {
    "chat_completions": (CACHE_READ, REASONING),
    "anthropic_messages": (CACHE_READ, CACHE_CREATION),
    "codex_responses": (CACHE_READ, REASONING),
}


@pytest.fixture
def server():
    servers = []

    def start(script):
        srv = ScriptedOpenAIServer(script).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


@pytest.fixture
def hermes(instrument):
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    def start():
        return instrument(HermesAgentInstrumentor)

    return start


def make_agent(srv, mode: str, *, streaming: bool = True, max_iterations: int = 10,
               **options):
    from run_agent import AIAgent

    provider, model, _, _ = MODES[mode]
    base = srv.anthropic_base_url if mode == "anthropic_messages" else srv.base_url
    agent = AIAgent(base_url=base, api_key="sk-test", model=model, provider=provider,
                    api_mode=mode, enabled_toolsets=["otel_test"],
                    max_iterations=max_iterations, tool_delay=0.0, quiet_mode=True,
                    skip_context_files=True, skip_memory=True, **options)
    assert agent.api_mode == mode
    if not streaming:
        agent._disable_streaming = True
    return agent


def expected(mode: str, values: dict[str, int]) -> dict[str, int]:
    """`values` keeps the details `mode`'s protocol carries (0 where it sends 0)."""
    always = mode != "chat_completions"
    return {key: values.get(key, 0) for key in DETAILS[mode] if always or key in values}


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
@pytest.mark.parametrize("mode", list(MODES))
def test_usage_details_summed_on_the_agent(hermes, mode, streaming, exporter, metric_reader,
                                           server):
    hermes()
    srv = server([
        tool_calls([ToolCall("add_numbers", {"a": 2, "b": 3})], usage=(70, 3),
                   cache_read_tokens=40, cache_creation_tokens=20, reasoning_tokens=2),
        text("The sum is 5.", usage=(90, 4), cache_read_tokens=60, reasoning_tokens=1),
    ])
    with tools(add_numbers=(add_numbers, NUMBERS)):
        result = make_agent(srv, mode, streaming=streaming).run_conversation(
            "What is 2+3? [conv:usage]")
    assert result["final_response"] == "The sum is 5."

    first = expected(mode, {CACHE_READ: 40, CACHE_CREATION: 20, REASONING: 2})
    second = expected(mode, {CACHE_READ: 60, REASONING: 1})
    total = {key: first.get(key, 0) + second.get(key, 0) for key in {**first, **second}}
    # Anthropic's input count leaves the cache counts out; the conventions'
    # input tokens include them, as the other two protocols' counts do.
    inputs = (130, 150) if mode == "anthropic_messages" else (70, 90)

    def attrs(values: dict[str, int]) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(values.items()))

    _, model, _, _ = MODES[mode]
    spans = exporter.get_finished_spans()
    assert_tree(spans, f"""
invoke_agent hermes {{gen_ai.usage.input_tokens={sum(inputs)}, gen_ai.usage.output_tokens=7, {attrs(total)}}}
  react step
    chat {model} {{gen_ai.usage.input_tokens={inputs[0]}, gen_ai.usage.output_tokens=3, {attrs(first)}}}
    execute_tool add_numbers
  react step
    chat {model} {{gen_ai.usage.input_tokens={inputs[1]}, gen_ai.usage.output_tokens=4, {attrs(second)}}}
""", ordered=True)
    # Nothing a protocol did not report: the conventions' keys, no zero stand-ins.
    for span in spans:
        for key in {CACHE_READ, CACHE_CREATION, REASONING} - set(DETAILS[mode]):
            assert key not in span.attributes, (span.name, key)
    types = {p.attributes["gen_ai.token.type"]
             for p in points(metrics(metric_reader), "gen_ai.client.token.usage")}
    # `gen_ai.token.type` has only input and output: the details are parts of them.
    assert types == {"input", "output"}


@pytest.mark.parametrize("mode", list(MODES))
def test_summary_call_usage_details_and_server(hermes, mode, exporter, server):
    hermes()
    srv = server([tool_calls([ToolCall("add_numbers", {"a": 1, "b": 1})], usage=(5, 1)),
                  text("Summary: 2.", usage=(9, 3), cache_read_tokens=6,
                       reasoning_tokens=2)])
    with tools(add_numbers=(add_numbers, NUMBERS)):
        result = make_agent(srv, mode, max_iterations=1).run_conversation(
            "Keep adding. [conv:limit]")
    assert result["final_response"].startswith("Summary: 2.")

    _, model, _, _ = MODES[mode]
    summary_input = 15 if mode == "anthropic_messages" else 9  # the cache counts added
    tree = assert_tree(exporter.get_finished_spans(), f"""
invoke_agent hermes {{agents.react.max_iterations_reached=true, gen_ai.usage.input_tokens={5 + summary_input}, gen_ai.usage.output_tokens=4}}
  react step
    chat {model} {{gen_ai.usage.input_tokens=5, gen_ai.usage.output_tokens=1, server.address=127.0.0.1, server.port={srv.port}}}
    execute_tool add_numbers
  chat {model} {{gen_ai.usage.input_tokens={summary_input}, gen_ai.usage.output_tokens=3, server.address=127.0.0.1, server.port={srv.port}}}
""", ordered=True)
    summary = tree.children[-1].span
    assert summary.attributes[CACHE_READ] == 6
    if REASONING in DETAILS[mode]:
        assert summary.attributes[REASONING] == 2


def test_request_parameters_and_server(hermes, exporter, metric_reader, server):
    hermes()
    srv = server([text("ok", usage=(5, 1))])
    overrides = {"temperature": 0.25, "top_p": 0.5, "seed": 7, "stop": ["END"],
                 "frequency_penalty": 0.1, "presence_penalty": 0.2,
                 "response_format": {"type": "json_object"}}
    agent = make_agent(srv, "chat_completions", max_tokens=64, request_overrides=overrides)
    agent.run_conversation("hi [conv:params]")

    (request,) = srv.requests_for("params", api="chat.completions")
    # The span says what Hermes sent.
    assert {k: request[k] for k in overrides} == overrides
    assert request["max_tokens"] == 64
    (chat,) = by_name(exporter.get_finished_spans(), "chat fake-model")
    attrs = chat.attributes
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == srv.port
    assert attrs["gen_ai.request.temperature"] == 0.25
    assert attrs["gen_ai.request.top_p"] == 0.5
    assert attrs["gen_ai.request.seed"] == 7
    assert attrs["gen_ai.request.max_tokens"] == 64
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert attrs["gen_ai.request.frequency_penalty"] == 0.1
    assert attrs["gen_ai.request.presence_penalty"] == 0.2
    assert attrs["gen_ai.output.type"] == "json"
    assert "gen_ai.request.choice.count" not in attrs  # not asked for
    for point in points(metrics(metric_reader), "gen_ai.client.operation.duration"):
        assert point.attributes["server.address"] == "127.0.0.1"
        assert point.attributes["server.port"] == srv.port


@pytest.mark.parametrize("mode", ["anthropic_messages", "codex_responses"])
def test_request_parameters_other_apis(hermes, mode, exporter, server):
    hermes()
    srv = server([text("ok", usage=(5, 1))])
    make_agent(srv, mode, max_tokens=128).run_conversation("hi [conv:params]")

    _, model, _, api = MODES[mode]
    (request,) = srv.requests_for("params", api=api)
    sent = request.get("max_tokens", request.get("max_output_tokens"))
    assert sent == 128
    (chat,) = by_name(exporter.get_finished_spans(), f"chat {model}")
    assert chat.attributes["gen_ai.request.max_tokens"] == 128
    assert chat.attributes["server.address"] == "127.0.0.1"
    assert chat.attributes["server.port"] == srv.port
    if "temperature" not in request:
        assert "gen_ai.request.temperature" not in chat.attributes


@pytest.mark.parametrize("mode", list(MODES))
def test_streamed_call_time_to_first_chunk(hermes, mode, exporter, metric_reader, server):
    hermes()
    delay = 0.1
    srv = server([text("It is sunny in Paris today, and warm.", first_chunk_delay=delay,
                       chunk_delay=0.005)])
    make_agent(srv, mode).run_conversation("weather? [conv:ttfc]")

    _, model, provider, _ = MODES[mode]
    spans = exporter.get_finished_spans()
    assert_tree(spans, f"""
invoke_agent hermes
  react step
    chat {model} {{gen_ai.request.stream=true}}
""")
    (chat,) = by_name(spans, f"chat {model}")
    first = assert_first_chunk_after(chat, delay)
    found = metrics(metric_reader)
    assert_streaming_instruments(found)
    (ttfc,) = points(found, TTFC_METRIC)
    assert ttfc.count == 1 and ttfc.sum == pytest.approx(first)
    assert dict(ttfc.attributes) == {"gen_ai.operation.name": "chat",
                                     "gen_ai.provider.name": provider,
                                     "gen_ai.request.model": model,
                                     "gen_ai.response.model": model,
                                     "server.address": "127.0.0.1", "server.port": srv.port}
    (per_chunk,) = points(found, TPOC_METRIC)
    # Several events after the first; their gaps fit in what is left of the call.
    assert per_chunk.count >= 2
    duration = (chat.end_time - chat.start_time) / 1e9
    assert 0 < per_chunk.sum <= duration - first + 1e-3


@pytest.mark.parametrize("mode", list(MODES))
def test_whole_responses_have_no_streaming_latency(hermes, mode, exporter, metric_reader,
                                                   server):
    hermes()
    srv = server([text("hi", delay=0.02)])
    make_agent(srv, mode, streaming=False).run_conversation("hi [conv:whole]")

    (chat,) = by_name(exporter.get_finished_spans(), f"chat {MODES[mode][1]}")
    assert chat.attributes["gen_ai.request.stream"] is False
    assert TTFC not in chat.attributes
    found = metrics(metric_reader)
    assert TTFC_METRIC not in found and TPOC_METRIC not in found


def test_tool_description_and_definitions(capture, hermes, exporter, server):
    capture("SPAN_ONLY")
    hermes()
    srv = server([tool_calls([ToolCall("add_numbers", {"a": 2, "b": 3})]), text("5")])
    with tools(add_numbers=(add_numbers, NUMBERS)):
        make_agent(srv, "chat_completions").run_conversation("2+3? [conv:tools]")

    spans = exporter.get_finished_spans()
    assert_tree(spans, """
invoke_agent hermes
  react step
    chat fake-model
    execute_tool add_numbers {gen_ai.tool.description=The add_numbers test tool.}
  react step
    chat fake-model
""", ordered=True)
    for chat in by_name(spans, "chat fake-model"):
        (offered,) = json_attr(chat, "gen_ai.tool.definitions")
        assert offered == {"type": "function", "name": "add_numbers",
                           "description": "The add_numbers test tool.",
                           "parameters": {"type": "object",
                                          "properties": {"a": {"type": "integer"},
                                                         "b": {"type": "integer"}},
                                          "required": ["a", "b"]}}


def test_no_tool_definitions_without_content(hermes, exporter, server):
    hermes()
    srv = server([tool_calls([ToolCall("add_numbers", {"a": 2, "b": 3})]), text("5")])
    with tools(add_numbers=(add_numbers, NUMBERS)):
        make_agent(srv, "chat_completions").run_conversation("2+3? [conv:tools]")

    spans = exporter.get_finished_spans()
    assert all("gen_ai.tool.definitions" not in s.attributes for s in spans)
    # The description is not content: recorded regardless.
    (tool,) = by_name(spans, "execute_tool add_numbers")
    assert tool.attributes["gen_ai.tool.description"] == "The add_numbers test tool."
    # Hermes agents have neither a description nor a version.
    (agent,) = by_name(spans, "invoke_agent hermes")
    assert "gen_ai.agent.description" not in agent.attributes
    assert "gen_ai.agent.version" not in agent.attributes


@pytest.mark.parametrize("mode", ["EVENT_ONLY", "SPAN_AND_EVENT"])
@pytest.mark.parametrize("api_mode", ["chat_completions", "anthropic_messages"])
def test_details_event_per_model_call(capture, hermes, api_mode, mode, exporter,
                                      log_exporter, server):
    capture(mode)
    hermes()
    srv = server([tool_calls([ToolCall("add_numbers", {"a": 2, "b": 3})], usage=(7, 3)),
                  text("The sum is 5.", usage=(11, 4), cache_read_tokens=5)])
    with tools(add_numbers=(add_numbers, NUMBERS)):
        make_agent(srv, api_mode).run_conversation("What is 2+3? [conv:event]")

    model = MODES[api_mode][1]
    chats = by_name(exporter.get_finished_spans(), f"chat {model}")
    same = ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
            "gen_ai.response.finish_reasons", "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens", "server.address", "server.port",
            "gen_ai.request.max_tokens" if api_mode == "anthropic_messages"
            else "gen_ai.request.stream")
    for attrs in assert_tool_round_events(log_exporter, chats, mode, same,
                                          tool="add_numbers", answer="The sum is 5."):
        inputs = list(attrs["gen_ai.input.messages"])
        assert inputs[0]["parts"][0] == {"type": "text", "content": "What is 2+3? [conv:event]"}


@pytest.mark.parametrize("mode", [None, "NO_CONTENT", "SPAN_ONLY"])
def test_no_details_event_without_an_event_mode(capture, hermes, mode, exporter,
                                                log_exporter, server):
    if mode is not None:
        capture(mode)
    hermes()
    srv = server([text("hi")])
    make_agent(srv, "chat_completions").run_conversation("hi [conv:none]")

    assert by_name(exporter.get_finished_spans(), "chat fake-model")
    assert events(log_exporter) == []


def test_tool_definitions_are_json(capture, hermes, exporter, server):
    """What the span holds is the JSON of the conventions' list, not a repr."""
    capture("SPAN_ONLY")
    hermes()
    srv = server([text("hi")])
    with tools(add_numbers=(add_numbers, NUMBERS)):
        make_agent(srv, "anthropic_messages").run_conversation("hi [conv:defs]")

    (chat,) = by_name(exporter.get_finished_spans(), "chat claude-sonnet-4-5")
    definitions = json.loads(chat.attributes["gen_ai.tool.definitions"])
    (offered,) = definitions
    # Hermes sends Anthropic its input_schema; the conventions call it parameters.
    assert offered["name"] == "add_numbers"
    assert offered["parameters"]["required"] == ["a", "b"]
