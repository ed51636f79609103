"""PraisonAI Agents: usage details, request parameters, server, streaming
latency (model calls and `start(stream=True)`), tool descriptions and
definitions and the details event, on real agents against the scripted
server, on the OpenAI-native path and the LiteLLM path."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)
from tests.praisonai.conftest import offline, serve  # noqa: F401 - fixtures
from tests.praisonai.support import MODEL, get_weather, make_agent
from tests.runtimes import loopback_only  # noqa: F401 - autouse fixture

from .support import (
    CACHE_CREATION,
    CACHE_READ,
    CALL_ATTRIBUTES,
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

LITELLM_MODEL = "openai/scripted-model"
ANTHROPIC_MODEL = "anthropic/claude-sonnet-4-5"
DESCRIPTION = "Report the weather in a city."

USAGE_ROUND = [
    tool_calls([ToolCall("get_weather", {"city": "Lima"})], usage=(70, 3),
               cache_read_tokens=40, cache_creation_tokens=20, reasoning_tokens=2),
    text("It is sunny in Lima.", usage=(90, 4), cache_read_tokens=60, reasoning_tokens=1),
]


@pytest.fixture
def praisonai(instrument):
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    def start():
        return instrument(PraisonAIInstrumentor)

    return start


def litellm_agent(server, model: str = LITELLM_MODEL, **options):
    from praisonaiagents import Agent

    base = server.anthropic_base_url if model.startswith("anthropic/") else server.base_url
    llm = options.pop("llm", None)
    return Agent(name="helper", instructions="You help.", tools=[get_weather],
                 llm={"model": model, **llm} if llm else model, base_url=base,
                 api_key="sk-scripted", retry=False, **options)


def usage_tree(model: str, first: dict[str, int], second: dict[str, int]) -> str:
    total = {k: first.get(k, 0) + second.get(k, 0) for k in {**first, **second}}

    def attrs(values: dict[str, int]) -> str:
        return "".join(f", {k}={v}" for k, v in sorted(values.items()))

    return f"""
invoke_agent helper {{gen_ai.usage.input_tokens=160, gen_ai.usage.output_tokens=7{attrs(total)}}}
  react step
    chat {model} {{gen_ai.usage.input_tokens=70, gen_ai.usage.output_tokens=3{attrs(first)}}}
    execute_tool get_weather {{gen_ai.tool.description={DESCRIPTION}}}
  react step
    chat {model} {{gen_ai.usage.input_tokens=90, gen_ai.usage.output_tokens=4{attrs(second)}}}
"""


# -- the OpenAI-native path -----------------------------------------------------

def test_openai_usage_details_summed_on_the_agent(praisonai, serve, exporter,  # noqa: F811
                                                  metric_reader):
    praisonai()
    server = serve(USAGE_ROUND)
    assert make_agent().chat("Weather in Lima? [conv:u1]") == "It is sunny in Lima."

    assert [r["stream"] for r in server.requests] == [False, False]
    spans = exporter.get_finished_spans()
    # Chat completions carry no cache-creation count.
    assert_tree(spans, usage_tree(MODEL, {CACHE_READ: 40, REASONING: 2},
                                  {CACHE_READ: 60, REASONING: 1}), ordered=True)
    assert all(CACHE_CREATION not in s.attributes for s in spans)
    types = {p.attributes["gen_ai.token.type"]
             for p in points(metrics(metric_reader), "gen_ai.client.token.usage")}
    assert types == {"input", "output"}


async def test_openai_stream_processor_usage_details(praisonai, serve, exporter):  # noqa: F811
    praisonai()
    server = serve(USAGE_ROUND)
    answer = await make_agent().achat("Weather in Lima? [conv:u1]", stream=True)
    assert answer == "It is sunny in Lima."

    # PraisonAI's stream processor asks for the usage chunk, then assembles a
    # response whose usage has no details; they are read off the chunk.
    assert all(r["stream_options"] == {"include_usage": True} for r in server.requests)
    spans = exporter.get_finished_spans()
    assert_tree(spans, usage_tree(MODEL, {CACHE_READ: 40, REASONING: 2},
                                  {CACHE_READ: 60, REASONING: 1}), ordered=True)
    for chat in by_name(spans, f"chat {MODEL}"):
        assert chat.attributes["gen_ai.request.stream"] is True
        assert TTFC in chat.attributes


def test_live_display_asks_for_no_usage(praisonai, serve, exporter):  # noqa: F811
    praisonai()
    server = serve(USAGE_ROUND)
    make_agent(output="verbose").chat("Weather in Lima? [conv:u1]")

    # The live display's streams are created without `stream_options`: the
    # server sends no usage, so there is none (details included) to report.
    assert [("stream_options" in r, r["stream"]) for r in server.requests] == [
        (False, True)] * 2
    spans = exporter.get_finished_spans()
    assert_tree(spans, f"""
invoke_agent helper
  react step
    chat {MODEL} {{gen_ai.request.stream=true}}
    execute_tool get_weather {{gen_ai.tool.description={DESCRIPTION}}}
  react step
    chat {MODEL} {{gen_ai.request.stream=true}}
""", ordered=True)
    for span in spans:
        assert "gen_ai.usage.input_tokens" not in span.attributes
        assert CACHE_READ not in span.attributes


def test_openai_server_and_temperature(praisonai, serve, exporter, metric_reader):  # noqa: F811
    praisonai()
    server = serve([text("ok")])
    make_agent().chat("hi [conv:p1]", temperature=0.3)

    (request,) = server.requests
    assert request["temperature"] == 0.3
    (chat,) = by_name(exporter.get_finished_spans(), f"chat {MODEL}")
    attrs = chat.attributes
    assert (attrs["server.address"], attrs["server.port"]) == ("127.0.0.1", server.port)
    assert attrs["gen_ai.request.temperature"] == 0.3
    # PraisonAI's native path passes no other sampling parameter.
    assert not [k for k in attrs if k.startswith("gen_ai.request.")
                and k not in ("gen_ai.request.model", "gen_ai.request.stream",
                              "gen_ai.request.temperature")]
    (point,) = points(metrics(metric_reader), "gen_ai.client.operation.duration")
    assert (point.attributes["server.address"], point.attributes["server.port"]) == (
        "127.0.0.1", server.port)


def test_openai_live_display_time_to_first_chunk(praisonai, serve, exporter,  # noqa: F811
                                                 metric_reader):
    praisonai()
    delay = 0.1
    serve([text("It is sunny in Lima today, and warm.", first_chunk_delay=delay,
                chunk_delay=0.005)])
    make_agent(output="verbose").chat("Weather? [conv:t1]")

    (chat,) = by_name(exporter.get_finished_spans(), f"chat {MODEL}")
    assert chat.attributes["gen_ai.request.stream"] is True
    first = assert_first_chunk_after(chat, delay)
    found = metrics(metric_reader)
    assert_streaming_instruments(found)
    (ttfc,) = points(found, TTFC_METRIC)
    assert ttfc.count == 1 and ttfc.sum == pytest.approx(first)
    (per_chunk,) = points(found, TPOC_METRIC)
    assert per_chunk.count >= 2


def test_streamed_start_first_event_and_chunks(praisonai, serve, exporter,  # noqa: F811
                                               metric_reader):
    praisonai()
    delay = 0.1
    serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})]),
           text("It is sunny in Lima today.", first_chunk_delay=delay, chunk_delay=0.005)])
    stream = make_agent().start("Weather in Lima? [conv:s1]", stream=True)
    pieces = list(stream)
    assert "".join(pieces) == "It is sunny in Lima today."

    spans = exporter.get_finished_spans()
    tree = assert_tree(spans, f"""
invoke_agent helper
  react step
    chat {MODEL} {{gen_ai.request.stream=true}}
    execute_tool get_weather {{gen_ai.tool.description={DESCRIPTION}}}
  react step
    chat {MODEL} {{gen_ai.request.stream=true}}
""", ordered=True)
    first_call, answer = by_name(spans, f"chat {MODEL}")
    assert TTFC in first_call.attributes
    answer_first = assert_first_chunk_after(answer, delay)
    agent = tree.span
    # The stream's first event is the answer's first text chunk: after the
    # tool round, and after the answer's scripted delay.
    to_first_event = agent.attributes["agents.agent.time_to_first_event"]
    answer_start = (answer.start_time - agent.start_time) / 1e9
    assert answer_start + answer_first - 0.01 <= to_first_event
    assert to_first_event <= (agent.end_time - agent.start_time) / 1e9
    (ttfc,) = points(metrics(metric_reader), TTFC_METRIC)
    assert ttfc.count == 2


def test_whole_responses_have_no_streaming_latency(praisonai, serve, exporter,  # noqa: F811
                                                   metric_reader):
    praisonai()
    serve([text("hi", delay=0.02)])
    make_agent().chat("hi [conv:w1]")

    for span in exporter.get_finished_spans():
        assert TTFC not in span.attributes
        assert "agents.agent.time_to_first_event" not in span.attributes
    found = metrics(metric_reader)
    assert TTFC_METRIC not in found and TPOC_METRIC not in found


def test_tool_definitions_with_content_capture(capture, praisonai, serve, exporter):  # noqa: F811
    capture("SPAN_ONLY")
    praisonai()
    serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})]), text("sunny")])
    make_agent().chat("Weather in Lima? [conv:d1]")

    spans = exporter.get_finished_spans()
    for chat in by_name(spans, f"chat {MODEL}"):
        (offered,) = json_attr(chat, "gen_ai.tool.definitions")
        assert offered["type"] == "function" and offered["name"] == "get_weather"
        assert offered["description"].startswith(DESCRIPTION)
        assert offered["parameters"]["properties"]["city"]["type"] == "string"
    (agent,) = by_name(spans, "invoke_agent helper")
    # PraisonAI agents have a role and goal, not a description or version.
    assert "gen_ai.agent.description" not in agent.attributes
    assert "gen_ai.agent.version" not in agent.attributes


def test_no_tool_definitions_without_content(praisonai, serve, exporter):  # noqa: F811
    praisonai()
    serve([text("hi")])
    make_agent().chat("hi [conv:d2]")

    assert all("gen_ai.tool.definitions" not in s.attributes
               for s in exporter.get_finished_spans())


@pytest.mark.parametrize("mode", ["EVENT_ONLY", "SPAN_AND_EVENT"])
def test_details_event_per_model_call(capture, praisonai, mode, serve, exporter,  # noqa: F811
                                      log_exporter):
    capture(mode)
    praisonai()
    serve([tool_calls([ToolCall("get_weather", {"city": "Lima"})], usage=(7, 3)),
           text("It is sunny.", usage=(11, 4), cache_read_tokens=5)])
    make_agent().chat("Weather in Lima? [conv:e1]", temperature=0.4)

    chats = by_name(exporter.get_finished_spans(), f"chat {MODEL}")
    same = (*CALL_ATTRIBUTES, "gen_ai.provider.name", "gen_ai.request.temperature",
            "server.address", "server.port")
    for attrs in assert_tool_round_events(log_exporter, chats, mode, same,
                                          tool="get_weather", answer="It is sunny."):
        assert attrs["gen_ai.system_instructions"][0]["type"] == "text"


@pytest.mark.parametrize("mode", [None, "NO_CONTENT", "SPAN_ONLY"])
def test_no_details_event_without_an_event_mode(capture, praisonai, mode, serve,  # noqa: F811
                                                exporter, log_exporter):
    if mode is not None:
        capture(mode)
    praisonai()
    serve([text("hi")])
    make_agent().chat("hi [conv:n1]")

    assert by_name(exporter.get_finished_spans(), f"chat {MODEL}")
    assert events(log_exporter) == []


# -- the LiteLLM path -----------------------------------------------------------

@pytest.mark.parametrize("model", [LITELLM_MODEL, ANTHROPIC_MODEL])
def test_litellm_usage_details_summed_on_the_agent(praisonai, model, serve, exporter):  # noqa: F811
    praisonai()
    server = serve(USAGE_ROUND)
    assert litellm_agent(server, model).chat("Weather in Lima? [conv:u1]") == \
        "It is sunny in Lima."

    spans = exporter.get_finished_spans()
    name = model.split("/", 1)[1]
    if model == LITELLM_MODEL:
        assert_tree(spans, usage_tree(name, {CACHE_READ: 40, REASONING: 2},
                                      {CACHE_READ: 60, REASONING: 1}), ordered=True)
        return
    # Anthropic has cache-creation counts and no reasoning count. LiteLLM adds
    # the cache counts into its prompt count (Anthropic's input count leaves
    # them out; the conventions' input tokens include them).
    assert_tree(spans, f"""
invoke_agent helper {{gen_ai.usage.input_tokens=280, gen_ai.usage.cache_read.input_tokens=100, gen_ai.usage.cache_creation.input_tokens=20}}
  react step
    chat {name} {{gen_ai.usage.input_tokens=130, gen_ai.usage.cache_read.input_tokens=40, gen_ai.usage.cache_creation.input_tokens=20}}
    execute_tool get_weather {{gen_ai.tool.description={DESCRIPTION}}}
  react step
    chat {name} {{gen_ai.usage.input_tokens=150, gen_ai.usage.cache_read.input_tokens=60, gen_ai.usage.cache_creation.input_tokens=0}}
""", ordered=True)
    # LiteLLM counts the reasoning tokens of Anthropic's thinking blocks itself:
    # none here, and it says 0.
    assert [s.attributes[REASONING] for s in by_name(spans, f"chat {name}")] == [0, 0]


def test_litellm_request_parameters_and_server(praisonai, serve, exporter):  # noqa: F811
    praisonai()
    server = serve([text("ok")])
    agent = litellm_agent(server, llm={"temperature": 0.2, "max_tokens": 64, "top_p": 0.9,
                                       "seed": 7, "presence_penalty": 0.1,
                                       "frequency_penalty": 0.2, "stop_phrases": ["END"]})
    agent.chat("hi [conv:p1]")

    (request,) = server.requests
    (chat,) = by_name(exporter.get_finished_spans(), "chat scripted-model")
    attrs = chat.attributes
    assert (attrs["server.address"], attrs["server.port"]) == ("127.0.0.1", server.port)
    # What the span says is what LiteLLM sent.
    for name, key in (("temperature", "gen_ai.request.temperature"),
                      ("max_tokens", "gen_ai.request.max_tokens"),
                      ("top_p", "gen_ai.request.top_p"), ("seed", "gen_ai.request.seed"),
                      ("presence_penalty", "gen_ai.request.presence_penalty"),
                      ("frequency_penalty", "gen_ai.request.frequency_penalty")):
        assert attrs[key] == request[name], name
    assert (attrs["gen_ai.request.temperature"], attrs["gen_ai.request.max_tokens"],
            attrs["gen_ai.request.top_p"], attrs["gen_ai.request.seed"]) == (0.2, 64, 0.9, 7)
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert request["stop"] == ["END"]


def test_litellm_streamed_time_to_first_chunk(praisonai, serve, exporter,  # noqa: F811
                                              metric_reader):
    praisonai()
    delay = 0.1
    server = serve([text("It is sunny in Lima today, and warm.", first_chunk_delay=delay,
                         chunk_delay=0.005)])
    litellm_agent(server).chat("Weather? [conv:t1]", stream=True)

    streamed = [r.get("stream") is True for r in server.requests]
    chats = by_name(exporter.get_finished_spans(), "chat scripted-model")
    assert [c.attributes["gen_ai.request.stream"] for c in chats] == streamed
    assert streamed == [True]
    first = assert_first_chunk_after(chats[0], delay)
    found = metrics(metric_reader)
    assert_streaming_instruments(found)
    (ttfc,) = points(found, TTFC_METRIC)
    assert ttfc.sum == pytest.approx(first)
    assert ttfc.attributes["server.port"] == server.port
    (per_chunk,) = points(found, TPOC_METRIC)
    assert per_chunk.count >= 2


@pytest.mark.parametrize("mode", ["EVENT_ONLY", "SPAN_AND_EVENT"])
def test_litellm_details_event(capture, praisonai, mode, serve, exporter,  # noqa: F811
                               log_exporter):
    capture(mode)
    praisonai()
    server = serve([text("It is sunny.", usage=(11, 4))])
    litellm_agent(server).chat("Weather? [conv:e2]")

    (chat,) = by_name(exporter.get_finished_spans(), "chat scripted-model")
    (record,) = events(log_exporter)
    assert (record.trace_id, record.span_id) == (chat.context.trace_id, chat.context.span_id)
    attrs = dict(record.attributes)
    for key in ("gen_ai.provider.name", "gen_ai.request.model", "gen_ai.usage.input_tokens",
                "server.address", "server.port"):
        assert attrs[key] == chat.attributes[key], key
    assert attrs["gen_ai.output.messages"][0]["parts"] == (
        {"type": "text", "content": "It is sunny."},)
    assert ("gen_ai.output.messages" in chat.attributes) is (mode == "SPAN_AND_EVENT")


def test_openai_structured_output_type(praisonai, serve, exporter):  # noqa: F811
    from pydantic import BaseModel

    class Weather(BaseModel):
        city: str

    praisonai()
    server = serve([text('{"city": "Lima"}')])
    make_agent(tools=()).chat("Weather? [conv:o1]", output_pydantic=Weather)

    (request,) = server.requests
    assert request["response_format"]["type"] == "json_schema"
    (chat,) = by_name(exporter.get_finished_spans(), f"chat {MODEL}")
    assert chat.attributes["gen_ai.output.type"] == "json"
