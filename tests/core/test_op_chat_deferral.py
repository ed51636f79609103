"""Deferring a model call to a provider instrumentation that cannot step aside
(`start_chat(api=...)`, docs/genai-stack.md), without any runtime: while such
an instrumentor is instrumented, the call is its span alone, under our round,
with none of our chat metrics or events; the agent span still sums the call's
tokens and the round still ends with the call's finish reason."""

from __future__ import annotations

import sys
import types

import pytest
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from opentelemetry import trace
from opentelemetry.instrumentation.agents import _nesting

from .contract import Owner, current

API = "test.sdk.create"
SPAN_ONLY_API = "test.sdk.respond"  # wrapped by one that records no metrics for it
TOKENS = "gen_ai.client.token.usage"


class StubbornInstrumentor(BaseInstrumentor):
    """An instrumentor like openai-v2: it wraps nothing here, it only says so."""

    def instrumentation_dependencies(self):
        return ()

    def _instrument(self, **kwargs):
        pass

    def _uninstrument(self, **kwargs):
        pass


@pytest.fixture
def stubborn(monkeypatch):
    module = types.ModuleType("tests_stubborn_instrumentation")
    module.StubbornInstrumentor = StubbornInstrumentor
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(_nesting._NON_COOPERATING, API,
                        ((module.__name__, "StubbornInstrumentor", _nesting.DEFER_ALL),))
    monkeypatch.setitem(_nesting._NON_COOPERATING, SPAN_ONLY_API,
                        ((module.__name__, "StubbornInstrumentor", _nesting.DEFER_SPAN),))
    instrumentor = StubbornInstrumentor()
    yield instrumentor
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


def _round(tel, handler, api, provider_span: str | None):
    """An agent whose one round makes a model call through `api`; the
    provider's span (when named) is made inside the call, as its wrapper would."""
    frame = handler.start_agent(Owner(), "bot")
    handler.start_step(frame)
    with current(frame.context):
        inv = handler.start_chat(request_model="gpt-x", provider="openai", stream=True,
                                 api=api)
    with current(inv.context):
        if provider_span:
            with tel.provider.get_tracer("provider").start_as_current_span(provider_span):
                pass
        handler.chat_chunk(inv)
    handler.finish_chat(inv, response_id="r-1", input_tokens=10, output_tokens=4,
                        step_finish_reason="stop")
    handler.finish_agent(frame)
    return frame


def test_a_call_through_a_wrapped_api_is_the_providers(tel, stubborn):
    stubborn.instrument()
    handler = tel.handler(emit_event="true")
    _round(tel, handler, API, "chat gpt-x (provider)")

    tel.tree("""
        invoke_agent bot
          react step {gen_ai.react.finish_reason=stop}
            chat gpt-x (provider)
    """)
    agent = tel.span("invoke_agent bot")
    assert (agent.attributes["gen_ai.usage.input_tokens"],
            agent.attributes["gen_ai.usage.output_tokens"]) == (10, 4)
    assert tel.points(TOKENS) == []
    assert tel.points("gen_ai.client.operation.duration") == []
    assert tel.points("gen_ai.client.operation.time_to_first_chunk") == []
    assert tel.events() == []


def test_a_provider_without_metrics_takes_the_span_and_leaves_ours(tel, stubborn):
    stubborn.instrument()
    handler = tel.handler(emit_event="true")
    _round(tel, handler, SPAN_ONLY_API, "provider span")

    tel.tree("""
        invoke_agent bot
          react step {gen_ai.react.finish_reason=stop}
            provider span
    """)
    assert sorted((p.attributes["gen_ai.token.type"], p.sum) for p in tel.points(TOKENS)) == [
        ("input", 10), ("output", 4)]
    point = tel.point("gen_ai.client.operation.duration")
    assert point.attributes["gen_ai.provider.name"] == "openai"
    assert tel.point("gen_ai.client.operation.time_to_first_chunk").count == 1
    assert tel.events() == []


def test_other_apis_and_an_uninstrumented_provider_keep_our_span(tel, stubborn):
    handler = tel.handler()
    _round(tel, handler, API, None)  # imported, never instrumented
    stubborn.instrument()
    _round(tel, handler, "another.sdk.create", None)
    _round(tel, handler, None, None)
    stubborn.uninstrument()
    _round(tel, handler, API, None)

    assert tel.names().count("chat gpt-x") == 4
    assert sum(p.sum for p in tel.points(TOKENS)) == 4 * 14


def test_absent_module_is_one_lookup_and_no_import(monkeypatch):
    monkeypatch.setitem(_nesting._NON_COOPERATING, API,
                        (("tests_never_imported", "X", _nesting.DEFER_ALL),))
    assert _nesting.deferred_to(API) == 0
    assert "tests_never_imported" not in sys.modules
    assert _nesting.deferred_to("unknown.api") == 0


def test_deferred_call_runs_under_the_round(tel, stubborn):
    """The SDK call's context has the round current (a non-recording stand-in
    carrying its span context), so the provider's span is the round's child."""
    stubborn.instrument()
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot")
    step = handler.start_step(frame)
    with current(frame.context):
        inv = handler.start_chat(request_model="gpt-x", api=API)
    assert inv.deferred
    inner = trace.get_current_span(inv.context)
    assert not inner.is_recording()
    assert inner.get_span_context() == step.span.get_span_context()
    handler.finish_chat(inv)
    handler.finish_agent(frame)
    assert tel.names().count("chat gpt-x") == 0


def test_an_embedding_call_through_a_wrapped_api_is_the_providers(tel, stubborn):
    handler = tel.handler()
    stubborn.instrument()
    with tel.provider.get_tracer("user").start_as_current_span("request"):
        inv = handler.start_embeddings(request_model="emb", provider="openai", api=API)
        with current(inv.context):
            with tel.provider.get_tracer("provider").start_as_current_span("provider span"):
                pass
        handler.finish_embeddings(inv, input_tokens=5)
        # A provider that records no metrics of its own keeps our span.
        handler.finish_embeddings(
            handler.start_embeddings(request_model="emb", api=SPAN_ONLY_API), input_tokens=3)
    tel.tree("""
        request
          provider span
          embeddings emb
    """)
    assert [p.sum for p in tel.points(TOKENS)] == [3]
