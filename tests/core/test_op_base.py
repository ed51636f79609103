"""What every operation shares: enabled / metering, where a span belongs
(current_parent, child_parent), broken or absent providers, the content hook."""

from __future__ import annotations

import logging

from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider

from opentelemetry import trace
from opentelemetry.instrumentation.agents import set_content_hook

from .contract import Owner, TelemetryHandler, current, sampled_out_parent


class BrokenMeterProvider(MeterProvider):
    def get_meter(self, *args, **kwargs):
        raise RuntimeError("meter provider is broken")


def test_enabled_and_metering_follow_the_providers(tel):
    handler = tel.handler()
    assert handler.enabled and handler.metering
    tracing_only = TelemetryHandler("test", tel.provider, NoOpMeterProvider())
    assert tracing_only.enabled and not tracing_only.metering
    neither = TelemetryHandler("test", trace.NoOpTracerProvider(), NoOpMeterProvider())
    assert not neither.enabled
    assert neither.current_parent() is None
    for start in (lambda: neither.start_chat(request_model="m"),
                  lambda: neither.start_tool("t"), lambda: neither.start_workflow("w"),
                  lambda: neither.start_embeddings(request_model="e"),
                  lambda: neither.start_retrieval("kb"), lambda: neither.start_guardrail("g"),
                  lambda: neither.start_remote_agent("r"), lambda: neither.start_mcp("m"),
                  lambda: neither.start_process("q", "redis")):
        assert start() is None


def test_spans_without_a_metrics_sdk(tel):
    handler = TelemetryHandler("test", tel.provider, NoOpMeterProvider())
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        handler.start_step(frame)
        chat = handler.start_chat(request_model="m", stream=True)
        handler.chat_chunk(chat)
        handler.chat_chunk(chat)
        handler.finish_chat(chat, input_tokens=1)
        handler.finish_tool(handler.start_tool("t"))
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot
          react step
            chat m
            execute_tool t
    """)
    assert tel.metrics() == {}


def test_a_broken_meter_provider_costs_the_metrics_only(tel, caplog):
    with caplog.at_level(logging.WARNING, logger="opentelemetry.instrumentation.agents"):
        handler = TelemetryHandler("test", tel.provider, BrokenMeterProvider())
    assert any("creating metric instruments" in r.getMessage() for r in caplog.records)
    assert not handler.metering
    handler.finish_chat(handler.start_chat(request_model="m"), input_tokens=1)
    handler.finish_tool(handler.start_tool("t"), error=ValueError())
    assert tel.names() == ["chat m", "execute_tool t"]


def test_where_spans_belong(tel):
    handler = tel.handler()
    assert handler.child_parent() == (handler.current_parent(), None)
    frame = handler.start_agent(Owner(), "bot")
    with current(frame.context):
        assert handler.child_parent() == (frame.context, frame)  # no round open yet
        step = handler.start_step(frame)
        assert handler.child_parent() == (step.context, frame)
        tool = handler.start_tool("t")
        with current(tool.context):  # inside the tool: the tool's context, same frame
            assert handler.child_parent() == (tool.context, frame)
        with suppress_instrumentation():
            assert handler.current_parent() is None
            assert handler.child_parent() == (None, None)
        handler.finish_tool(tool)
    handler.finish_agent(frame)


def test_sampling_is_a_tracing_decision_metrics_still_count(tel):
    handler = tel.handler()
    with current(sampled_out_parent()):
        handler.finish_chat(handler.start_chat(request_model="m"), input_tokens=4)
        handler.finish_tool(handler.start_tool("t"))
    assert tel.spans() == []
    assert set(tel.metrics()) == {"gen_ai.client.token.usage",
                                  "gen_ai.client.operation.duration", "agents.tool.duration",
                                  "gen_ai.execute_tool.duration"}


def test_the_content_hook_redacts_drops_and_cannot_break_the_host(tel, caplog):
    seen = []

    def hook(kind, key, value):
        seen.append((kind, key))
        if key == "gen_ai.tool.call.result":
            return None  # dropped
        if key == "gen_ai.input.messages":
            raise RuntimeError("hook is broken")
        return "[redacted]"

    handler = tel.handler(content="true", max_length=5)
    set_content_hook(hook)
    handler.finish_tool(handler.start_tool("t", arguments={"secret": 1}), result="x")
    handler.finish_chat(handler.start_chat(request_model="m", input_messages=["hi"]))
    tool = tel.span("execute_tool t").attributes
    assert tool["gen_ai.tool.call.arguments"] == "[redacted]"[:5]  # the limit still applies
    assert "gen_ai.tool.call.result" not in tool
    assert "gen_ai.input.messages" not in tel.span("chat m").attributes
    assert seen == [("tool", "gen_ai.tool.call.arguments"), ("tool", "gen_ai.tool.call.result"),
                    ("chat", "gen_ai.input.messages")]
