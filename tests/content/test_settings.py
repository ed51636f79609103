"""The capture switch, the length limit, serialization and the hook, runtime-independent."""

from __future__ import annotations

import json
import logging
import math

import pytest

from opentelemetry import context as otel_context
from opentelemetry.instrumentation import agents
from opentelemetry.instrumentation.agents import _settings, set_content_hook
from opentelemetry.instrumentation.agents._content import (
    TRUNCATION_MARK,
    UNSERIALIZABLE,
    to_json,
    truncate,
)
from opentelemetry.instrumentation.agents._handler import TelemetryHandler
from opentelemetry.instrumentation.agents._settings import (
    DEFAULT_MAX_LENGTH,
    capture_enabled,
    max_length,
)

from .support import CONTENT_KEYS, assert_no_content

EXPERIMENTAL = "gen_ai_latest_experimental"

# (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, OTEL_SEMCONV_STABILITY_OPT_IN,
#  content on spans?) -- read as opentelemetry-util-genai reads them.
MATRIX = [
    (None, None, False),
    ("", None, False),
    ("true", None, True),
    ("TRUE", None, True),
    ("True", None, True),
    ("false", None, False),
    ("1", None, False),
    ("yes", None, False),
    ("SPAN_ONLY", None, False),  # the enum needs the opt-in
    (None, EXPERIMENTAL, False),
    ("NO_CONTENT", EXPERIMENTAL, False),
    ("SPAN_ONLY", EXPERIMENTAL, True),
    ("span_only", EXPERIMENTAL, True),
    ("EVENT_ONLY", EXPERIMENTAL, False),  # we emit no events: nothing on spans
    ("SPAN_AND_EVENT", EXPERIMENTAL, True),
    ("Span_And_Event", EXPERIMENTAL, True),
    ("true", EXPERIMENTAL, False),  # not an enum value under the opt-in
    ("bogus", EXPERIMENTAL, False),
    ("SPAN_ONLY", "http, gen_ai_latest_experimental", True),
    ("SPAN_ONLY", "gen_ai_latest_experimental_x", False),
    ("true", "http", True),
]


def _set(monkeypatch, capture, stability):
    if capture is not None:
        monkeypatch.setenv(_settings.CAPTURE_ENV, capture)
    if stability is not None:
        monkeypatch.setenv(_settings.STABILITY_ENV, stability)


@pytest.mark.parametrize(("capture", "stability", "expected"), MATRIX)
def test_capture_switch_matrix(monkeypatch, capture, stability, expected):
    _set(monkeypatch, capture, stability)
    assert capture_enabled() is expected


@pytest.mark.parametrize(("capture", "stability", "expected"), MATRIX)
def test_capture_switch_on_spans(monkeypatch, provider, exporter, capture, stability,
                                 expected):
    _set(monkeypatch, capture, stability)
    handler = TelemetryHandler("test", provider)  # reads the switch here
    _one_round(handler)
    spans = exporter.get_finished_spans()
    if expected:
        assert {k for s in spans for k in CONTENT_KEYS if k in s.attributes} == set(CONTENT_KEYS)
    else:
        assert_no_content(spans)


@pytest.mark.parametrize(("capture", "stability"), [
    ("SPAN_ONLY", None), ("true", EXPERIMENTAL), ("bogus", EXPERIMENTAL), ("1", None),
    ("yes", None), ("on", None)])
def test_values_that_mean_nothing_here_are_warned_about_once(monkeypatch, caplog, capture,
                                                              stability):
    _set(monkeypatch, capture, stability)
    with caplog.at_level(logging.WARNING, logger="opentelemetry.instrumentation.agents"):
        for _ in range(3):
            assert capture_enabled() is False
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert _settings.CAPTURE_ENV in record.getMessage()
    if stability is None and capture != "SPAN_ONLY":
        assert "accepted values: true, false" in record.getMessage()


@pytest.mark.parametrize("capture", ["", "false", "FALSE", "true"])
def test_true_false_and_unset_are_not_warned_about(monkeypatch, caplog, capture):
    _set(monkeypatch, capture, None)
    with caplog.at_level(logging.WARNING, logger="opentelemetry.instrumentation.agents"):
        capture_enabled()
    assert caplog.records == []


def test_setting_is_read_when_instrumenting(monkeypatch, provider, exporter):
    handler = TelemetryHandler("test", provider)
    monkeypatch.setenv(_settings.CAPTURE_ENV, "true")  # too late for that handler
    _one_round(handler)
    assert_no_content(exporter.get_finished_spans())


class Owner:
    pass


def _one_round(handler, *, arguments=None, result="found it", user="hi"):
    """Agent, chat and tool spans by hand, each given content."""
    frame = handler.start_agent(Owner(), "bot", input_value=[
        {"role": "user", "parts": [{"type": "text", "content": user}]}])
    token = otel_context.attach(frame.context)
    try:
        chat = handler.start_chat(
            request_model="m", input_messages=[
                {"role": "user", "parts": [{"type": "text", "content": user}]}],
            system_instructions=[{"type": "text", "content": "Be brief."}])
        handler.finish_chat(chat, output_messages=[
            {"role": "assistant", "finish_reason": "stop",
             "parts": [{"type": "text", "content": "ok"}]}])
        tool = handler.start_tool("search", arguments=arguments or {"q": user})
        handler.finish_tool(tool, result=result)
    finally:
        otel_context.detach(token)
    handler.finish_agent(frame, output_value=[
        {"role": "assistant", "finish_reason": "stop",
         "parts": [{"type": "text", "content": "ok"}]}])


# -- the length limit -------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    (None, DEFAULT_MAX_LENGTH), ("", DEFAULT_MAX_LENGTH), ("100", 100), ("1", 1),
    ("0", DEFAULT_MAX_LENGTH), ("-5", DEFAULT_MAX_LENGTH), ("lots", DEFAULT_MAX_LENGTH)])
def test_max_length_setting(monkeypatch, raw, expected):
    if raw is not None:
        monkeypatch.setenv(_settings.MAX_LENGTH_ENV, raw)
    assert max_length() == expected


@pytest.mark.parametrize("limit", [1, 5, len(TRUNCATION_MARK), len(TRUNCATION_MARK) + 1, 64])
def test_truncation_never_exceeds_the_limit(limit):
    cut = truncate("x" * 1000, limit)
    assert len(cut) == limit
    if limit > len(TRUNCATION_MARK):
        assert cut.endswith(TRUNCATION_MARK)
    assert truncate("short", 64) == "short"


def test_limit_applies_after_serialization(monkeypatch, provider, exporter):
    monkeypatch.setenv(_settings.CAPTURE_ENV, "true")
    monkeypatch.setenv(_settings.MAX_LENGTH_ENV, "120")
    handler = TelemetryHandler("test", provider)
    _one_round(handler, user="word " * 100)
    values = [s.attributes[k] for s in exporter.get_finished_spans() for k in CONTENT_KEYS
              if k in s.attributes]
    assert len(values) == 7
    assert all(len(v) <= 120 for v in values)
    # The limit holds for the JSON text; the cut is made inside the texts, so
    # these (500 characters of words each) are still JSON, their texts marked.
    users = [v for v in values if v.startswith(('[{"role":"user"', '{"q":"word'))]
    assert len(users) == 3
    for value in users:
        assert TRUNCATION_MARK in value
        json.loads(value)
    assert "found it" in values and '[{"type":"text","content":"Be brief."}]' in values


# -- serialization never raises -------------------------------------------------

class Unserializable:
    def __repr__(self):
        return "<Unserializable thing>"


class Hopeless:
    def __repr__(self):
        raise RuntimeError("no repr either")


class BrokenDump:
    def model_dump(self):
        raise RuntimeError("broken model_dump")

    def __repr__(self):
        return "BrokenDump()"


def test_to_json_placeholders():
    cyclic: list = []
    cyclic.append(cyclic)
    assert to_json(cyclic, 100) == UNSERIALIZABLE
    assert json.loads(to_json({"x": Unserializable()}, 100)) == {"x": "<Unserializable thing>"}
    assert json.loads(to_json([Hopeless()], 100)) == [UNSERIALIZABLE]
    assert json.loads(to_json(BrokenDump(), 100)) == "BrokenDump()"
    assert json.loads(to_json({"b": b"\x00" * 3, "s": {1}}, 100)) == {"b": "<3 bytes>",
                                                                      "s": [1]}
    assert to_json("plain text stays text", 100) == "plain text stays text"
    assert to_json("lone \udcff surrogate", 100).encode("utf-8")
    assert to_json({(1, 2): "tuple keys"}, 100) == UNSERIALIZABLE
    assert "NaN" in to_json([math.nan], 100)


def test_unserializable_tool_arguments_recorded_as_placeholder(monkeypatch, provider, exporter,
                                                               detector):
    monkeypatch.setenv(_settings.CAPTURE_ENV, "true")
    handler = TelemetryHandler("test", provider)
    cyclic: dict = {}
    cyclic["self"] = cyclic
    _one_round(handler, arguments={"thing": Hopeless()}, result=cyclic)
    (tool,) = [s for s in exporter.get_finished_spans() if s.name == "execute_tool search"]
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"thing": UNSERIALIZABLE}
    assert tool.attributes["gen_ai.tool.call.result"] == UNSERIALIZABLE
    detector.assert_all_ended()


# -- the hook ---------------------------------------------------------------------

def test_hook_is_exported_from_the_package_root():
    assert agents.set_content_hook is set_content_hook
    assert "set_content_hook" in agents.__all__


def test_hook_sees_kind_key_and_a_plain_copy(monkeypatch, provider, exporter):
    monkeypatch.setenv(_settings.CAPTURE_ENV, "true")
    seen = []
    arguments = {"q": "secret", "obj": Unserializable()}

    def hook(kind, key, value):
        seen.append((kind, key))
        if key == "gen_ai.tool.call.arguments":
            assert value == {"q": "secret", "obj": "<Unserializable thing>"}  # plain JSON data
            value["q"] = "***"  # a copy: the caller's dict is untouched
            return value
        if key == "gen_ai.tool.call.result":
            return None  # dropped
        return value

    set_content_hook(hook)
    _one_round(TelemetryHandler("test", provider), arguments=arguments)
    assert arguments["q"] == "secret"
    assert sorted(seen) == sorted([
        ("agent", "gen_ai.input.messages"), ("chat", "gen_ai.input.messages"),
        ("chat", "gen_ai.system_instructions"), ("chat", "gen_ai.output.messages"),
        ("tool", "gen_ai.tool.call.arguments"), ("tool", "gen_ai.tool.call.result"),
        ("agent", "gen_ai.output.messages")])
    (tool,) = [s for s in exporter.get_finished_spans() if s.name == "execute_tool search"]
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"])["q"] == "***"
    assert "gen_ai.tool.call.result" not in tool.attributes


def test_hook_may_return_text_or_anything_serializable(monkeypatch, provider, exporter):
    monkeypatch.setenv(_settings.CAPTURE_ENV, "true")
    set_content_hook(lambda kind, key, value: "[hidden]" if kind == "chat" else {"n": 1})
    _one_round(TelemetryHandler("test", provider))
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["chat m"].attributes["gen_ai.input.messages"] == "[hidden]"
    assert spans["invoke_agent bot"].attributes["gen_ai.output.messages"] == '{"n":1}'


def test_raising_hook_drops_values_and_logs_once(monkeypatch, provider, exporter, detector,
                                                 caplog):
    monkeypatch.setenv(_settings.CAPTURE_ENV, "true")

    def hook(kind, key, value):
        raise ValueError("hook bug")

    set_content_hook(hook)
    handler = TelemetryHandler("test", provider)
    with caplog.at_level(logging.WARNING):
        _one_round(handler)
        _one_round(handler)
    assert len(exporter.get_finished_spans()) == 8  # agent, chat, round, tool; twice
    assert_no_content(exporter.get_finished_spans())
    warnings = [r for r in caplog.records if "content hook raised" in r.getMessage()]
    assert len(warnings) == 1
    detector.assert_all_ended()

    # A new hook (even the same one again) gets its own first warning.
    set_content_hook(hook)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _one_round(handler)
    assert len([r for r in caplog.records if "content hook raised" in r.getMessage()]) == 1


def test_removing_the_hook(monkeypatch, provider, exporter):
    monkeypatch.setenv(_settings.CAPTURE_ENV, "true")
    set_content_hook(lambda kind, key, value: None)
    set_content_hook(None)
    _one_round(TelemetryHandler("test", provider))
    (chat,) = [s for s in exporter.get_finished_spans() if s.name == "chat m"]
    assert json.loads(chat.attributes["gen_ai.input.messages"])[0]["role"] == "user"
