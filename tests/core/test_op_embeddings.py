"""`embeddings {model}` calls: start_embeddings, finish_embeddings, and the
GenAI client metrics they share with chat."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from .contract import (
    CANCELLED_TYPE,
    DURATION_BOUNDS,
    TOKEN_BOUNDS,
    Owner,
    Unserializable,
    current,
    sampled_out_parent,
)

TOKENS = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"


def test_span_name_kind_and_attributes(tel):
    handler = tel.handler()
    inv = handler.start_embeddings(request_model="emb", provider="openai", dimensions=8,
                                   input_count=3)
    handler.finish_embeddings(inv, input_tokens=12, dimensions=16, cache_hit=False,
                              response_model="emb-1")
    span = tel.span("embeddings emb")
    assert span.kind is SpanKind.CLIENT
    assert span.parent is None
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "emb", "gen_ai.embeddings.dimension.count": 16,
        "agents.embeddings.input_count": 3, "gen_ai.usage.input_tokens": 12,
        "agents.embeddings.cache_hit": False, "gen_ai.response.model": "emb-1"}
    assert span.status.status_code is StatusCode.UNSET


def test_inside_an_agent_it_belongs_to_the_open_round(tel):
    handler = tel.handler()
    frame = handler.start_agent(Owner(), "bot", conversation_id="conv-1")
    with current(frame.context):
        handler.start_step(frame)
        handler.finish_embeddings(handler.start_embeddings(request_model=None))
    handler.finish_agent(frame)
    tel.tree("""
        invoke_agent bot
          react step
            embeddings
    """)
    assert tel.span("embeddings").attributes["gen_ai.conversation.id"] == "conv-1"


def test_metrics(tel):
    handler = tel.handler()
    inv = handler.start_embeddings(request_model="emb", provider="openai", dimensions=8)
    handler.finish_embeddings(inv, input_tokens=12)
    base = {"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "emb"}
    (tokens,) = tel.points(TOKENS)
    assert dict(tokens.attributes) == {**base, "gen_ai.token.type": "input"}
    assert (tokens.count, tokens.sum) == (1, 12)
    assert tuple(tokens.explicit_bounds) == TOKEN_BOUNDS
    duration = tel.point(DURATION)
    assert dict(duration.attributes) == base
    assert tuple(duration.explicit_bounds) == DURATION_BOUNDS
    assert (tel.metrics()[TOKENS].unit, tel.metrics()[DURATION].unit) == ("{token}", "s")


def test_error_path(tel):
    handler = tel.handler()
    error = ConnectionError("refused")
    handler.finish_embeddings(handler.start_embeddings(request_model="emb"), error=error)
    span = tel.span("embeddings emb")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "refused"
    assert span.attributes["error.type"] == "ConnectionError"
    assert tel.points(TOKENS) == []
    assert tel.point(DURATION).attributes["error.type"] == "ConnectionError"


async def test_cancelled_task(tel):
    handler = tel.handler()
    started = asyncio.Event()

    async def run():
        inv = handler.start_embeddings(request_model="emb")
        try:
            started.set()
            await asyncio.sleep(3600)
        except BaseException as exc:
            handler.finish_embeddings(inv, error=exc)
            raise

    task = asyncio.create_task(run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tel.span("embeddings emb").attributes["error.type"] == CANCELLED_TYPE


def test_suppressed_emits_nothing(tel):
    handler = tel.handler()
    with suppress_instrumentation():
        assert handler.start_embeddings(request_model="emb") is None
    assert tel.nothing_emitted()


def test_sampled_out_parent_records_no_span_and_raises_nothing(tel):
    handler = tel.handler()
    with current(sampled_out_parent()):
        inv = handler.start_embeddings(request_model="emb")
        handler.finish_embeddings(inv, input_tokens=3)
    assert tel.spans() == []


def test_bad_values_never_raise(tel):
    handler = tel.handler()
    inv = handler.start_embeddings(request_model=Unserializable(), provider=Unserializable(),
                                   dimensions="wide", input_count=object())
    handler.finish_embeddings(inv, input_tokens="many", dimensions=float("inf"),
                              response_model="\udcff" * 1000, cache_hit="yes")
    handler.finish_embeddings(inv)  # ending twice is harmless
    (span,) = tel.spans()
    assert span.name == "embeddings"
    assert "gen_ai.usage.input_tokens" not in span.attributes
    assert len(span.attributes["gen_ai.response.model"]) == 256
    assert span.attributes["agents.embeddings.cache_hit"] is True
    assert tel.points(TOKENS) == []
