"""AgentScope 2.x: usage details, request parameters, server, streaming latency,
tool descriptions and definitions, on real agents with scripted models."""

from __future__ import annotations

import json

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    text,
)
from tests.agentscope2.support import get_weather, make_agent, user

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


@pytest.fixture
def instrumented(instrument):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    return instrument(AgentScopeInstrumentor)


async def test_cache_usage_on_chat_spans_summed_on_the_agent(instrumented, exporter,
                                                              metric_reader):
    model = ScriptedChatModel([
        call_tools(("get_weather", {"city": "Paris"}), usage=(100, 3), cache_read=40,
                   cache_creation=60),
        say("It is sunny.", usage=(120, 4), cache_read=100),
    ])
    await make_agent(model, [get_weather]).reply(user("weather in Paris?"))

    spans = exporter.get_finished_spans()
    tree = assert_tree(spans, """
invoke_agent helper {gen_ai.usage.cache_read.input_tokens=140, gen_ai.usage.cache_creation.input_tokens=60}
  react step
    chat scripted-model {gen_ai.usage.cache_read.input_tokens=40, gen_ai.usage.cache_creation.input_tokens=60}
    execute_tool get_weather
  react step
    chat scripted-model {gen_ai.usage.cache_read.input_tokens=100}
""", ordered=True)
    _, second = by_name(spans, "chat scripted-model")
    assert CACHE_CREATION not in second.attributes  # that response reported none
    # AgentScope 2.x's ChatUsage has no reasoning count: nothing to report.
    assert all(REASONING not in span.attributes for span in spans)
    assert tree.span.attributes["gen_ai.usage.input_tokens"] == 220
    # The token-usage metric keeps to the conventions' token types.
    types = {p.attributes["gen_ai.token.type"]
             for p in points(metrics(metric_reader), "gen_ai.client.token.usage")}
    assert types == {"input", "output"}


async def test_no_cache_counts_when_the_response_reports_none(instrumented, exporter):
    await make_agent(ScriptedChatModel([say("hi")])).reply(user())

    for span in exporter.get_finished_spans():
        assert CACHE_READ not in span.attributes
        assert CACHE_CREATION not in span.attributes


async def test_request_parameters_and_tool_description(instrumented, exporter):
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Paris"})), say("ok")],
                              temperature=0.2, max_tokens=64, top_p=0.9, top_k=40)
    await make_agent(model, [get_weather]).reply(user())

    spans = exporter.get_finished_spans()
    for chat in by_name(spans, "chat scripted-model"):
        attrs = chat.attributes
        assert attrs["gen_ai.request.temperature"] == 0.2
        assert attrs["gen_ai.request.max_tokens"] == 64
        assert attrs["gen_ai.request.top_p"] == 0.9
        assert attrs["gen_ai.request.top_k"] == 40.0
        # Opt-in with content, as the conventions say: off here.
        assert "gen_ai.tool.definitions" not in attrs
        assert "server.address" not in attrs  # a scripted model has no server
    (tool,) = by_name(spans, "execute_tool get_weather")
    assert tool.attributes["gen_ai.tool.description"].startswith("Report the weather.")


async def test_unset_parameters_are_not_recorded(instrumented, exporter):
    await make_agent(ScriptedChatModel([say("hi")])).reply(user())

    (chat,) = by_name(exporter.get_finished_spans(), "chat scripted-model")
    assert not [key for key in chat.attributes if key.startswith("gen_ai.request.")
                and key not in ("gen_ai.request.model", "gen_ai.request.stream")]


async def test_tool_definitions_with_content_capture(capture, instrument, exporter):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    capture("SPAN_ONLY")
    instrument(AgentScopeInstrumentor)
    await make_agent(ScriptedChatModel([say("hi")]), [get_weather]).reply(user())

    (chat,) = by_name(exporter.get_finished_spans(), "chat scripted-model")
    definitions = json.loads(chat.attributes["gen_ai.tool.definitions"])
    (weather,) = [d for d in definitions if d["name"] == "get_weather"]
    assert weather["type"] == "function"
    assert weather["description"].startswith("Report the weather.")
    assert weather["parameters"]["properties"]["city"]["type"] == "string"


async def test_streamed_reply_time_to_first_chunk(instrumented, exporter, metric_reader):
    delay = 0.05
    model = ScriptedChatModel([say("It is sunny in Paris today.", first_chunk_delay=delay,
                                   chunk_delay=0.002)], stream=True, chunk_size=4)
    agent = make_agent(model)
    events = [event async for event in agent.reply_stream(user())]
    assert events

    spans = exporter.get_finished_spans()
    (chat,) = by_name(spans, "chat scripted-model")
    assert chat.attributes["gen_ai.request.stream"] is True
    first = assert_first_chunk_after(chat, delay)
    (agent_span,) = by_name(spans, "invoke_agent helper")
    # The reply's first event (its start) comes before the model's first chunk.
    to_first_event = agent_span.attributes["agents.agent.time_to_first_event"]
    assert 0 <= to_first_event < first

    found = metrics(metric_reader)
    assert_streaming_instruments(found)
    (ttfc,) = points(found, TTFC_METRIC)
    assert ttfc.count == 1 and ttfc.sum == pytest.approx(first)
    assert dict(ttfc.attributes) == {"gen_ai.operation.name": "chat",
                                     "gen_ai.request.model": "scripted-model"}
    (per_chunk,) = points(found, TPOC_METRIC)
    # 27 characters in chunks of 4: 7 chunks (AgentScope keeps the usage-only
    # chunk from its consumer), so 6 gaps, each at least the scripted delay.
    assert per_chunk.count == 6
    assert per_chunk.min >= 0.002


async def test_whole_responses_have_no_streaming_latency(instrumented, exporter,
                                                         metric_reader):
    await make_agent(ScriptedChatModel([say("hi", delay=0.01)])).reply(user())

    for span in exporter.get_finished_spans():
        assert TTFC not in span.attributes
        assert "agents.agent.time_to_first_event" not in span.attributes
    found = metrics(metric_reader)
    assert TTFC_METRIC not in found and TPOC_METRIC not in found


async def test_openai_model_server_parameters_and_first_chunk(instrumented, exporter,
                                                              metric_reader):
    from agentscope.credential import OpenAICredential
    from agentscope.model import OpenAIChatModel

    delay = 0.05
    with ScriptedOpenAIServer([text("It is sunny in Paris.", delay=delay)]) as server:
        port = server.port
        model = OpenAIChatModel(
            credential=OpenAICredential(api_key="test", base_url=server.base_url),
            model="gpt-4o-mini", stream=True, max_retries=0,
            parameters=OpenAIChatModel.Parameters(temperature=0.3, max_tokens=50, top_p=0.8))
        await make_agent(model).reply(user())

    (chat,) = by_name(exporter.get_finished_spans(), "chat gpt-4o-mini")
    attrs = chat.attributes
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == port
    assert (attrs["gen_ai.request.temperature"], attrs["gen_ai.request.max_tokens"],
            attrs["gen_ai.request.top_p"]) == (0.3, 50, 0.8)
    assert_first_chunk_after(chat, delay)
    (ttfc,) = points(metrics(metric_reader), TTFC_METRIC)
    assert ttfc.attributes["server.address"] == "127.0.0.1"
    assert ttfc.attributes["server.port"] == port


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
async def test_anthropic_model_input_tokens_include_the_cache(instrumented, exporter, stream):
    from agentscope.credential import AnthropicCredential
    from agentscope.formatter import AnthropicChatFormatter
    from agentscope.model import AnthropicChatModel

    with ScriptedOpenAIServer([text("It is sunny.", usage=(30, 4), cache_read_tokens=20,
                                    cache_creation_tokens=5)]) as server:
        port = server.port
        model = AnthropicChatModel(
            credential=AnthropicCredential(api_key="sk-scripted",
                                           base_url=server.anthropic_base_url),
            model="claude-sonnet-4-5", stream=stream, max_retries=0,
            formatter=AnthropicChatFormatter())
        await make_agent(model).reply(user())

    # The Messages API counts 30 uncached input tokens beside 20 read from and
    # 5 written to the cache: 55 in all, as the conventions count input.
    assert_tree(exporter.get_finished_spans(), f"""
invoke_agent helper {{gen_ai.provider.name=anthropic, gen_ai.usage.input_tokens=55, gen_ai.usage.output_tokens=4, gen_ai.usage.cache_read.input_tokens=20, gen_ai.usage.cache_creation.input_tokens=5}}
  react step
    chat claude-sonnet-4-5 {{gen_ai.provider.name=anthropic, gen_ai.usage.input_tokens=55, gen_ai.usage.output_tokens=4, gen_ai.usage.cache_read.input_tokens=20, gen_ai.usage.cache_creation.input_tokens=5, server.address=127.0.0.1, server.port={port}}}
""")


@pytest.mark.parametrize("mode", ["EVENT_ONLY", "SPAN_AND_EVENT"])
async def test_details_event_per_model_call(capture, instrument, exporter, log_exporter, mode):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    capture(mode)
    instrument(AgentScopeInstrumentor)
    model = ScriptedChatModel([call_tools(("get_weather", {"city": "Paris"}), usage=(7, 3)),
                               say("It is sunny.", usage=(11, 4), cache_read=5)],
                              temperature=0.5)
    await make_agent(model, [get_weather]).reply(user("weather in Paris?"))

    spans = exporter.get_finished_spans()
    chats = by_name(spans, "chat scripted-model")
    for attrs in assert_tool_round_events(
            log_exporter, chats, mode, (*CALL_ATTRIBUTES, "gen_ai.request.temperature"),
            tool="get_weather", answer="It is sunny."):
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
    await make_agent(ScriptedChatModel([say("hi")])).reply(user())

    assert by_name(exporter.get_finished_spans(), "chat scripted-model")
    assert events(log_exporter) == []


async def test_details_event_of_a_failed_call(capture, instrument, log_exporter):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
    from opentelemetry.instrumentation.agents.testing.agentscope.model import fail

    capture("EVENT_ONLY")
    instrument(AgentScopeInstrumentor)
    agent = make_agent(ScriptedChatModel([fail(ConnectionError("down"))]))
    with pytest.raises(ConnectionError):
        await agent.reply(user())

    (record,) = events(log_exporter)
    assert record.attributes["error.type"] == "ConnectionError"
    assert "gen_ai.output.messages" not in record.attributes
