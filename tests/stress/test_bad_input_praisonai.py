"""PraisonAI Agents with hostile input, message content captured.

Tool arguments, results and ids that are huge, cyclic, binary or not valid
UTF-8; agent names that are empty, blank or huge; prompts of every awkward
kind. Each case runs uninstrumented, then instrumented, each time on a fresh
agent and server: the host gets the same answer and the agent the same chat
history (we never change PraisonAI's objects), and every span survives OTLP
encoding with no string over the configured limit.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    text,
    tool_calls,
)
from tests.praisonai.support import make_agent

from .checks import assert_all_ended_once, assert_exportable, async_outcome, normalize, outcome

pytestmark = pytest.mark.usefixtures("praisonai_offline")

LIMIT = 1000
HUGE = 10_000_000


def _cyclic() -> dict[str, Any]:
    value: dict[str, Any] = {"name": "loop"}
    value["self"] = value
    return value


def _case(script, *, result=None, prompt: Any = "Go. [conv:x]", name: str = "helper",
          use_async: bool = False, server_options=None):
    """One turn against `script`; the `work` tool returns `result()` if given."""
    def work(text: Any) -> Any:
        """Do some work.

        Args:
            text: The text.
        """
        return result() if result is not None else f"worked on {len(str(text))} characters"

    def case() -> dict[str, Any]:
        saved = os.environ.get("OPENAI_BASE_URL")
        with ScriptedOpenAIServer(script, marker="last", **(server_options or {})) as srv:
            os.environ["OPENAI_BASE_URL"] = srv.base_url
            try:
                agent = make_agent([work], name=name)
                if use_async:
                    seen = asyncio.run(async_outcome(lambda: agent.achat(prompt)))
                else:
                    seen = outcome(lambda: agent.chat(prompt))
            finally:
                if saved is None:
                    os.environ.pop("OPENAI_BASE_URL", None)
                else:
                    os.environ["OPENAI_BASE_URL"] = saved
        return {**seen, "history": normalize(agent.chat_history)}

    return case


def _compare(case, instrument, capture, exporter, detector) -> dict[str, Any]:
    from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

    plain = case()
    capture(max_length=LIMIT)
    instrument(PraisonAIInstrumentor)
    traced = case()

    assert traced == plain
    spans = exporter.get_finished_spans()
    assert spans
    assert_exportable(spans, LIMIT)
    assert_all_ended_once(detector)
    return plain


def _work(arguments: Any, call_id: str | None = None) -> list:
    return [tool_calls([ToolCall("work", arguments, id=call_id)]), text("done")]


TOOL_RESULTS = {
    "10 MB string": lambda: "r" * HUGE,
    "lone surrogate": lambda: "bad \ud800 text",
    "cyclic": _cyclic,
    "bytes": lambda: b"\x00\xff",
    "None": lambda: None,
}


@pytest.mark.parametrize("use_async", [False, True], ids=["chat", "achat"])
@pytest.mark.parametrize("name", list(TOOL_RESULTS))
def test_tool_results(name, use_async, instrument, capture, exporter, detector):
    _compare(_case(_work({"text": "t"}), result=TOOL_RESULTS[name], use_async=use_async),
             instrument, capture, exporter, detector)


TOOL_ARGUMENTS = {
    "10 MB string": {"text": "a" * HUGE},
    "lone surrogate": {"text": "arg \udc80"},
    "deeply nested": {"text": [[[[[[[[["deep"]]]]]]]]]},
    "not JSON": "{this is not json",
}


@pytest.mark.parametrize("name", list(TOOL_ARGUMENTS))
def test_tool_arguments(name, instrument, capture, exporter, detector):
    _compare(_case(_work(TOOL_ARGUMENTS[name])), instrument, capture, exporter, detector)


@pytest.mark.parametrize("call_id", ["call \ud800", "c" * 100_000])
def test_tool_call_ids(call_id, instrument, capture, exporter, detector):
    _compare(_case(_work({"text": "t"}, call_id=call_id)), instrument, capture, exporter,
             detector)


@pytest.mark.parametrize("name", ["", "   ", "n" * 100_000, "agent \udcff"])
def test_agent_names(name, instrument, capture, exporter, detector):
    _compare(_case([text("hello")], name=name), instrument, capture, exporter, detector)


@pytest.mark.parametrize("model", ["m" * 100_000, "model \udc80"])
def test_response_model_names(model, instrument, capture, exporter, detector):
    _compare(_case([text("hello")], server_options={"response_model": model}),
             instrument, capture, exporter, detector)


PROMPTS = {
    "10 MB": "p" * HUGE + " [conv:x]",
    "a lone surrogate": "hi \ud83d [conv:x]",
    "empty": "",
    "a list of parts": [{"type": "text", "text": "look [conv:x]"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                        {"type": "mystery", "payload": "?"}],
    "a dict": {"role": "user", "content": "dict prompt [conv:x]"},
}


@pytest.mark.parametrize("name", list(PROMPTS))
def test_prompts(name, instrument, capture, exporter, detector):
    _compare(_case([text("hello")] * 2, prompt=PROMPTS[name]), instrument, capture, exporter,
             detector)
