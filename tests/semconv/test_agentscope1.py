"""AgentScope 1.x: usage details, request parameters, server, streaming latency,
tool descriptions and definitions and the details event, on real ReAct agents
with the scripted model and with AgentScope's OpenAI, OpenAI Responses and
Anthropic model classes against the scripted server."""

from __future__ import annotations

import json

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    say,
)
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    text,
    tool_calls,
)
from tests.agentscope1.support import get_weather, make_agent, user

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
    metrics,
    points,
)

DESCRIPTION = "Report the weather."


@pytest.fixture
def instrumented(instrument):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return instrument(AgentScopeInstrumentor)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    # No SDK retries, no key from the developer's shell.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-scripted")


def openai_model(server: ScriptedOpenAIServer, **options):
    from agentscope.model import OpenAIChatModel

    return OpenAIChatModel("gpt-4o-mini", api_key="sk-scripted",
                           client_kwargs={"base_url": server.base_url, "max_retries": 0},
                           **options)


# -- the scripted model ---------------------------------------------------------

async def test_usage_details_on_chat_spans_summed_on_the_agent(instrumented, exporter,
                                                               metric_reader):
    model = ScriptedChatModel([
        call_tools(("get_weather", {"city": "Paris"}), usage=(100, 3), cache_read=40,
                   cache_creation=60, reasoning=2),
        say("It is sunny.", usage=(120, 4), cache_read=100, reasoning=1),
    ])
    await make_agent(model, [get_weather])(user("weather in Paris?"))

    spans = exporter.get_finished_spans()
    assert_tree(spans, f"""
invoke_agent helper {{gen_ai.usage.input_tokens=220, gen_ai.usage.output_tokens=7, gen_ai.usage.cache_read.input_tokens=140, gen_ai.usage.cache_creation.input_tokens=60, gen_ai.usage.reasoning.output_tokens=3}}
  react step
    chat scripted-model {{gen_ai.usage.input_tokens=100, gen_ai.usage.output_tokens=3, gen_ai.usage.cache_read.input_tokens=40, gen_ai.usage.cache_creation.input_tokens=60, gen_ai.usage.reasoning.output_tokens=2}}
    execute_tool get_weather {{gen_ai.tool.description={DESCRIPTION}}}
  react step
    chat scripted-model {{gen_ai.usage.input_tokens=120, gen_ai.usage.output_tokens=4, gen_ai.usage.cache_read.input_tokens=100, gen_ai.usage.reasoning.output_tokens=1}}
""", ordered=True)
    _, second = by_name(spans, "chat scripted-model")
    assert CACHE_CREATION not in second.attributes  # that response reported none
    types = {p.attributes["gen_ai.token.type"]
             for p in points(metrics(metric_reader), "gen_ai.client.token.usage")}
    assert types == {"input", "output"}


async def test_no_usage_details_when_none_reported(instrumented, exporter):
    await make_agent(ScriptedChatModel([say("hi")]))(user())

    for span in exporter.get_finished_spans():
        for key in (CACHE_READ, CACHE_CREATION, REASONING):
            assert key not in span.attributes
    (agent,) = by_name(exporter.get_finished_spans(), "invoke_agent helper")
    # AgentScope 1.x agents have neither a description nor a version.
    assert "gen_ai.agent.description" not in agent.attributes
    assert "gen_ai.agent.version" not in agent.attributes
    (chat,) = by_name(exporter.get_finished_spans(), "chat scripted-model")
    # A scripted model has no parameters and no server.
    assert not [k for k in chat.attributes if k.startswith(("gen_ai.request.", "server."))
                and k not in ("gen_ai.request.model", "gen_ai.request.stream")]


async def test_streamed_scripted_model_time_to_first_chunk(instrumented, exporter,
                                                           metric_reader):
    delay = 0.05
    model = ScriptedChatModel([say("It is sunny in Paris today.", first_chunk_delay=delay,
                                   chunk_delay=0.002)], stream=True, chunk_size=4)
    await make_agent(model)(user())

    spans = exporter.get_finished_spans()
    (chat,) = by_name(spans, "chat scripted-model")
    assert chat.attributes["gen_ai.request.stream"] is True
    first = assert_first_chunk_after(chat, delay)
    found = metrics(metric_reader)
    assert_streaming_instruments(found)
    (ttfc,) = points(found, TTFC_METRIC)
    assert ttfc.count == 1 and ttfc.sum == pytest.approx(first)
    assert dict(ttfc.attributes) == {"gen_ai.operation.name": "chat",
                                     "gen_ai.request.model": "scripted-model"}
    (per_chunk,) = points(found, TPOC_METRIC)
    # 27 characters in chunks of 4: 7 text chunks and the final one, 7 gaps.
    assert per_chunk.count == 7
    assert per_chunk.min >= 0.002
    # 1.x agents have no streamed reply of their own: no time to first event.
    (agent,) = by_name(spans, "invoke_agent helper")
    assert "agents.agent.time_to_first_event" not in agent.attributes


async def test_whole_responses_have_no_streaming_latency(instrumented, exporter,
                                                         metric_reader):
    await make_agent(ScriptedChatModel([say("hi", delay=0.01)]))(user())

    for span in exporter.get_finished_spans():
        assert TTFC not in span.attributes
    found = metrics(metric_reader)
    assert TTFC_METRIC not in found and TPOC_METRIC not in found


async def test_tool_definitions_with_content_capture(capture, instrument, exporter):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    capture("SPAN_ONLY")
    instrument(AgentScopeInstrumentor)
    await make_agent(ScriptedChatModel([say("hi")]), [get_weather])(user())

    (chat,) = by_name(exporter.get_finished_spans(), "chat scripted-model")
    definitions = json.loads(chat.attributes["gen_ai.tool.definitions"])
    (weather,) = [d for d in definitions if d["name"] == "get_weather"]
    assert weather["type"] == "function"
    assert weather["description"].startswith(DESCRIPTION)
    assert weather["parameters"]["properties"]["city"]["type"] == "string"


async def test_no_tool_definitions_without_content(instrumented, exporter):
    await make_agent(ScriptedChatModel([say("hi")]), [get_weather])(user())

    (chat,) = by_name(exporter.get_finished_spans(), "chat scripted-model")
    assert "gen_ai.tool.definitions" not in chat.attributes


@pytest.mark.parametrize("mode", ["EVENT_ONLY", "SPAN_AND_EVENT"])
async def test_details_event_per_model_call(capture, instrument, exporter, log_exporter, mode):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    capture(mode)
    instrument(AgentScopeInstrumentor)
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Paris"}), usage=(7, 3)),
                               say("It is sunny.", usage=(11, 4), cache_read=5)])
    await make_agent(model, [get_weather])(user("weather in Paris?"))

    chats = by_name(exporter.get_finished_spans(), "chat scripted-model")
    for attrs in assert_tool_round_events(
            log_exporter, chats, mode, CALL_ATTRIBUTES, tool="get_weather", answer="It is sunny."):
        assert list(attrs["gen_ai.system_instructions"]) == [
            {"type": "text", "content": "You help."}]
        inputs = list(attrs["gen_ai.input.messages"])
        assert inputs[0]["parts"][0] == {"type": "text", "content": "weather in Paris?"}


@pytest.mark.parametrize("mode", [None, "NO_CONTENT", "SPAN_ONLY", "true"])
async def test_no_details_event_without_an_event_mode(capture, instrument, exporter,
                                                      log_exporter, mode):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    if mode is not None:
        capture(mode)
    instrument(AgentScopeInstrumentor)
    await make_agent(ScriptedChatModel([say("hi")]))(user())

    assert by_name(exporter.get_finished_spans(), "chat scripted-model")
    assert events(log_exporter) == []


# -- AgentScope's model classes against the scripted server ---------------------

async def test_openai_model_usage_details_parameters_and_server(instrumented, exporter,
                                                                metric_reader):
    script = [tool_calls([ToolCall("get_weather", {"city": "Paris"})], usage=(70, 3),
                         cache_read_tokens=40, reasoning_tokens=2),
              text("It is sunny.", usage=(90, 4), cache_read_tokens=60, reasoning_tokens=1)]
    generate = {"temperature": 0.3, "max_tokens": 50, "top_p": 0.8, "seed": 7,
                "stop": ["END"], "frequency_penalty": 0.1, "presence_penalty": 0.2}
    # Not streamed: AgentScope 1.0.21's OpenAI stream reader fails on the
    # `delta.audio = None` of the installed openai client (its own bug).
    with ScriptedOpenAIServer(script) as server:
        port = server.port
        model = openai_model(server, stream=False, generate_kwargs=generate)
        await make_agent(model, [get_weather])(user("weather in Paris?"))
        requests = list(server.requests)

    assert len(requests) == 2
    assert all({k: r[k] for k in generate} == generate for r in requests)
    spans = exporter.get_finished_spans()
    assert_tree(spans, f"""
invoke_agent helper {{gen_ai.usage.input_tokens=160, gen_ai.usage.cache_read.input_tokens=100, gen_ai.usage.reasoning.output_tokens=3}}
  react step
    chat gpt-4o-mini {{gen_ai.request.stream=false, gen_ai.usage.input_tokens=70, gen_ai.usage.cache_read.input_tokens=40, gen_ai.usage.reasoning.output_tokens=2}}
    execute_tool get_weather {{gen_ai.tool.description={DESCRIPTION}}}
  react step
    chat gpt-4o-mini {{gen_ai.request.stream=false, gen_ai.usage.input_tokens=90, gen_ai.usage.cache_read.input_tokens=60, gen_ai.usage.reasoning.output_tokens=1}}
""", ordered=True)
    for chat in by_name(spans, "chat gpt-4o-mini"):
        attrs = chat.attributes
        assert attrs["gen_ai.provider.name"] == "openai"
        assert (attrs["server.address"], attrs["server.port"]) == ("127.0.0.1", port)
        assert (attrs["gen_ai.request.temperature"], attrs["gen_ai.request.max_tokens"],
                attrs["gen_ai.request.top_p"], attrs["gen_ai.request.seed"]) == (0.3, 50, 0.8, 7)
        assert attrs["gen_ai.request.stop_sequences"] == ("END",)
        assert (attrs["gen_ai.request.frequency_penalty"],
                attrs["gen_ai.request.presence_penalty"]) == (0.1, 0.2)
        assert TTFC not in attrs
    for point in points(metrics(metric_reader), "gen_ai.client.operation.duration"):
        assert (point.attributes["server.address"], point.attributes["server.port"]) == (
            "127.0.0.1", port)


async def test_openai_response_model_usage_details(instrumented, exporter):
    from agentscope.model import OpenAIResponseModel

    script = [text("It is sunny.", usage=(90, 4), cache_read_tokens=60, reasoning_tokens=3)]
    with ScriptedOpenAIServer(script) as server:
        model = OpenAIResponseModel("gpt-5-mini", api_key="sk-scripted", stream=False,
                                    client_kwargs={"base_url": server.base_url,
                                                   "max_retries": 0},
                                    generate_kwargs={"max_output_tokens": 99})
        await make_agent(model)(user())
        (request,) = server.requests
        port = server.port

    assert request["max_output_tokens"] == 99
    assert_tree(exporter.get_finished_spans(), f"""
invoke_agent helper {{gen_ai.provider.name=openai, gen_ai.usage.input_tokens=90, gen_ai.usage.cache_read.input_tokens=60, gen_ai.usage.reasoning.output_tokens=3}}
  react step
    chat gpt-5-mini {{gen_ai.provider.name=openai, gen_ai.request.max_tokens=99, gen_ai.usage.input_tokens=90, gen_ai.usage.cache_read.input_tokens=60, gen_ai.usage.reasoning.output_tokens=3, server.address=127.0.0.1, server.port={port}}}
""")


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
async def test_anthropic_model_parameters_and_server(instrumented, exporter, stream):
    from agentscope.formatter import AnthropicChatFormatter
    from agentscope.model import AnthropicChatModel

    delay = 0.1
    with ScriptedOpenAIServer([text("It is sunny.", usage=(30, 4), cache_read_tokens=20,
                                    first_chunk_delay=delay)]) as server:
        model = AnthropicChatModel("claude-sonnet-4-5", api_key="sk-scripted",
                                   max_tokens=256, stream=stream,
                                   client_kwargs={"base_url": server.anthropic_base_url,
                                                  "max_retries": 0},
                                   generate_kwargs={"stop_sequences": ["END"]})
        agent = make_agent(model)
        agent.formatter = AnthropicChatFormatter()
        await agent(user())
        (request,) = server.requests
        port = server.port

    # The installed anthropic client takes no sampling parameters (temperature...).
    assert (request["max_tokens"], request["stop_sequences"]) == (256, ["END"])
    (chat,) = by_name(exporter.get_finished_spans(), "chat claude-sonnet-4-5")
    attrs = chat.attributes
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert (attrs["server.address"], attrs["server.port"]) == ("127.0.0.1", port)
    assert attrs["gen_ai.request.max_tokens"] == 256
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert attrs["gen_ai.usage.input_tokens"] == 30
    # AgentScope's Anthropic model keeps only the input and output counts.
    assert CACHE_READ not in attrs
    if stream:
        assert_first_chunk_after(chat, delay)
    else:
        assert TTFC not in attrs


async def test_structured_output_type(instrumented, exporter):
    from pydantic import BaseModel

    class Weather(BaseModel):
        city: str

    # ReActAgent asks for structured output through a tool; a model called
    # with `structured_model` (by other agents, or the application) says so.
    model = ScriptedChatModel([say("{}")])
    await model([{"role": "user", "content": "hi"}], structured_model=Weather)

    (chat,) = by_name(exporter.get_finished_spans(), "chat scripted-model")
    assert chat.attributes["gen_ai.output.type"] == "json"
