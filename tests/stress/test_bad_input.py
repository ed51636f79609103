"""The handler with hostile values, whatever runtime hands them over.

Names, ids, models, token counts, finish reasons, messages, tool arguments and
results of every awkward kind: nothing raises, every span ends, every span
survives OTLP encoding, no string is longer than the configured limit, and
the values handed in are left exactly as they were.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from opentelemetry import context as otel_context
from opentelemetry.instrumentation.agents._handler import TelemetryHandler

from .checks import assert_all_ended_once, assert_exportable, warnings_from_us

LIMIT = 1000
HUGE = 10_000_000


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


class Exploding:
    """Every attribute access raises (a proxy gone wrong)."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"no {name}")


def _cyclic() -> Any:
    value: dict[str, Any] = {"name": "loop", "items": []}
    value["items"].append(value)
    return value


NAMES = {
    "None": None,
    "empty": "",
    "blank": " \t\n",
    "huge": "n" * 100_000,
    "lone surrogate": "name \ud800",
    "emoji": "name \U0001f916",
    "an int": 42,
    "bytes": b"name",
    "unprintable": Unprintable(),
    "exploding": Exploding(),
}

VALUES = {
    "None": None,
    "bytes": b"\x00\xff" * 10,
    "bytearray": bytearray(b"abc"),
    "cyclic": _cyclic(),
    "10 MB string": "v" * HUGE,
    "lone surrogate": "value \udfff",
    "surrogate in a key": {"key \ud800": "value"},
    "unprintable": Unprintable(),
    "exploding": Exploding(),
    "NaN and infinity": [math.nan, math.inf, -math.inf],
    "set": {1, 2, 3},
    "deeply nested": [[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]],
    "messages of unknown kinds": [{"role": "alien", "parts": [{"type": "hologram"}]},
                                  {"type": "mystery", "payload": b"\x00"}, 7, None],
    "a generator": (i for i in range(3)),
}


class Owner:
    pass


@pytest.fixture
def handler(provider, capture):
    capture(max_length=LIMIT)
    return TelemetryHandler("test", provider)


def _snapshot(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - some values cannot be copied; compare by identity
        return value


def _unchanged(before: Any, after: Any) -> bool:
    if before is after:
        return True
    try:
        return repr(before) == repr(after)
    except Exception:  # noqa: BLE001
        return True


def _one_of_everything(handler: TelemetryHandler, name: Any, value: Any) -> None:
    """One agent invocation with a step, a model call and a tool call, all given `name`/`value`."""
    frame = handler.start_agent(Owner(), name, agent_id=name, conversation_id=name,
                                description=name, provider=name, request_model=name,
                                max_iterations=name, input_value=value)
    assert frame is not None
    token = otel_context.attach(frame.context)
    try:
        handler.start_step(frame)
        chat = handler.start_chat(request_model=name, provider=name, stream=True,
                                  input_messages=value, system_instructions=value)
        handler.finish_chat(chat, response_model=name, response_id=name, finish_reasons=name,
                            input_tokens=name, output_tokens=name, output_messages=value,
                            step_finish_reason=name)
        tool = handler.start_tool(name, call_id=name, description=name, arguments=value)
        handler.finish_tool(tool, result=value)
        tool = handler.start_tool(name, call_id=name, arguments=value)
        handler.finish_tool(tool, error=ValueError(f"failed with {value!r:.50}"
                                                   if isinstance(value, str) else "failed"))
    finally:
        otel_context.detach(token)
    handler.finish_agent(frame, output_value=value)
    workflow = handler.start_workflow(name)
    handler.finish_workflow(workflow, error=RuntimeError("bad \udc80 message"))


@pytest.mark.parametrize("name", list(NAMES))
def test_hostile_names_and_ids(name, handler, exporter, detector, caplog):
    _one_of_everything(handler, NAMES[name], "plain")
    assert not warnings_from_us(caplog), "none of this is a fault of ours"
    spans = exporter.get_finished_spans()
    assert len(spans) == 6
    assert_exportable(spans, LIMIT)
    assert_all_ended_once(detector)


@pytest.mark.parametrize("kind", list(VALUES))
def test_hostile_content(kind, handler, exporter, detector, caplog):
    value = VALUES[kind]
    before = _snapshot(value)
    _one_of_everything(handler, "plain", value)
    assert not warnings_from_us(caplog), "none of this is a fault of ours"
    spans = exporter.get_finished_spans()
    assert len(spans) == 6
    assert_exportable(spans, LIMIT)
    assert_all_ended_once(detector)
    assert _unchanged(before, value), "the caller's value was changed"


def test_token_counts_and_reasons_of_the_wrong_type(handler, exporter, detector, caplog):
    frame = handler.start_agent(Owner(), "agent")
    token = otel_context.attach(frame.context)
    try:
        for tokens, reasons in (("12", "stop"), (math.nan, 5), (Exploding(), [None, b"x"]),
                                (10**40, ("a" * 5000,)), (-3, [])):
            chat = handler.start_chat(request_model="m")
            handler.finish_chat(chat, input_tokens=tokens, output_tokens=tokens,
                                finish_reasons=reasons)
    finally:
        otel_context.detach(token)
    handler.finish_agent(frame)
    assert not warnings_from_us(caplog), "none of this is a fault of ours"
    spans = exporter.get_finished_spans()
    assert len(spans) == 6
    assert_exportable(spans, LIMIT)
    assert_all_ended_once(detector)
    by_name = [s for s in spans if s.name == "chat m"]
    assert by_name[0].attributes["gen_ai.usage.input_tokens"] == 12
    assert by_name[0].attributes["gen_ai.response.finish_reasons"] == ("stop",)
