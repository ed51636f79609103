"""Hermes Agent with hostile input, message content captured.

Tool arguments, results and ids from the model that are huge, nested or not
valid UTF-8; tool results that are not strings; user messages and histories
of every awkward kind; a model name that is huge. Each case runs
uninstrumented, then instrumented, each time on a fresh agent and server:
the host gets the same result and the same message list (we never change
Hermes's objects), and every span survives OTLP encoding with no string over
the configured limit.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    text,
    tool_calls,
)
from tests.hermes.support import make_agent, tools

from .checks import assert_all_ended_once, assert_exportable, normalize, outcome

LIMIT = 1000
HUGE = 10_000_000


def _cyclic() -> dict[str, Any]:
    value: dict[str, Any] = {"name": "loop"}
    value["self"] = value
    return value


def _compare(case, instrument, capture, exporter, detector) -> dict[str, Any]:
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    plain = case()
    capture(max_length=LIMIT)
    instrument(HermesAgentInstrumentor)
    traced = case()

    assert traced == plain
    spans = exporter.get_finished_spans()
    assert spans
    assert_exportable(spans, LIMIT)
    assert_all_ended_once(detector)
    return plain


def _conversation(script, handler=None, message: Any = "Go. [conv:x]", history=None,
                  server_options=None):
    """A case: one conversation against `script`, the `work` tool doing `handler`."""
    def work(args):
        return handler(args) if handler is not None else json.dumps({"ok": True})

    def case() -> dict[str, Any]:
        with ScriptedOpenAIServer(script, **(server_options or {})) as srv, \
                tools(work=(work, {"text": "string"})):
            agent = make_agent(srv.base_url, streaming=False)
            given = copy.deepcopy(history)
            result = outcome(lambda: agent.run_conversation(message, conversation_history=given))
            # Hermes repairs a history it is given in place (broken tool-call
            # arguments become "{}"): whatever it does, it does the same traced.
            return {**result, "history afterwards": normalize(given)}

    return case


def _work(arguments: Any, call_id: str | None = None) -> list:
    return [tool_calls([ToolCall("work", arguments, id=call_id)]), text("done")]


TOOL_RESULTS = {
    "10 MB string": lambda args: "r" * HUGE,
    "lone surrogate": lambda args: "bad \ud800 text",
    "a dict": lambda args: {"not": "a string"},
    "cyclic": lambda args: _cyclic(),
    "bytes": lambda args: b"\x00\xff",
    "None": lambda args: None,
    "an error dict": lambda args: json.dumps({"error": "bad \udc80 thing"}),
}


@pytest.mark.parametrize("name", list(TOOL_RESULTS))
def test_tool_results(name, instrument, capture, exporter, detector):
    _compare(_conversation(_work({"text": "t"}), TOOL_RESULTS[name]),
             instrument, capture, exporter, detector)


TOOL_ARGUMENTS = {
    "10 MB string": {"text": "a" * HUGE},
    "lone surrogate": {"text": "arg \udc80"},
    "deeply nested": {"text": [[[[[[[[["deep"]]]]]]]]]},
    "not JSON": "{this is not json",
    "not an object": "[1, 2, 3]",
}


@pytest.mark.parametrize("name", list(TOOL_ARGUMENTS))
def test_tool_arguments(name, instrument, capture, exporter, detector):
    _compare(_conversation(_work(TOOL_ARGUMENTS[name])), instrument, capture, exporter,
             detector)


@pytest.mark.parametrize("call_id", ["call \ud800", "c" * 100_000, " "])
def test_tool_call_ids(call_id, instrument, capture, exporter, detector):
    _compare(_conversation(_work({"text": "t"}, call_id=call_id)), instrument, capture,
             exporter, detector)


@pytest.mark.parametrize("model", ["m" * 100_000, "model \udc80", ""])
def test_response_model_names(model, instrument, capture, exporter, detector):
    _compare(_conversation(_work({"text": "t"}), server_options={"response_model": model}),
             instrument, capture, exporter, detector)


MESSAGES = {
    "10 MB": "m" * HUGE + " [conv:x]",
    "a lone surrogate": "hi \ud83d [conv:x]",
    "empty": "",
    "None": None,
    "a list of parts": [{"type": "text", "text": "look [conv:x]"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                        {"type": "mystery", "payload": "?"}],
}


@pytest.mark.parametrize("name", list(MESSAGES))
def test_user_messages(name, instrument, capture, exporter, detector):
    _compare(_conversation([text("hello")] * 2, message=MESSAGES[name]), instrument, capture,
             exporter, detector)


HISTORIES = {
    "unknown roles and parts": [
        {"role": "alien", "content": "greetings"},
        {"role": "user", "content": [{"type": "hologram", "data": "?"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "old", "type": "function",
             "function": {"name": "work", "arguments": "{broken"}}]},
        {"role": "tool", "tool_call_id": "old", "content": "bad \udc80 result"},
    ],
    "huge": [{"role": "user", "content": "h" * HUGE},
             {"role": "assistant", "content": "ok"}],
}


@pytest.mark.parametrize("name", list(HISTORIES))
def test_conversation_histories(name, instrument, capture, exporter, detector):
    _compare(_conversation([text("hello")] * 3, history=HISTORIES[name]), instrument, capture,
             exporter, detector)


def test_the_result_is_the_same_messages(instrument, capture, exporter, detector):
    """A normal run: Hermes's own message list is identical with content captured."""
    result = _compare(_conversation(_work({"text": "t"}), lambda args: "worked"),
                      instrument, capture, exporter, detector)
    assert normalize(result)["returned"]["final_response"] == "done"
