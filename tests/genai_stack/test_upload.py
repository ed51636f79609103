"""Content to external storage through util-genai's completion hook (`upload`,
fsspec), with a local directory as the store: a real AgentScope 2.x agent
(scripted model, real tool), instrumented after the environment is set."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)
from tests.agentscope2.support import get_weather, make_agent, user

QUESTION = "What is the weather in Lima?"
ANSWER = "It is sunny in Lima."
CONTENT_KEYS = {"gen_ai.input.messages", "gen_ai.output.messages",
                "gen_ai.system_instructions", "gen_ai.tool.definitions"}
REF_KEYS = {"gen_ai.input.messages_ref", "gen_ai.output.messages_ref",
            "gen_ai.system_instructions_ref", "gen_ai.tool.definitions_ref"}


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The upload hook switched on, writing under a fresh directory; no
    content capture setting from the developer's shell."""
    for name in ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
                 "OTEL_SEMCONV_STABILITY_OPT_IN", "OTEL_INSTRUMENTATION_GENAI_UPLOAD_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK", "upload")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_UPLOAD_BASE_PATH", str(tmp_path))
    return tmp_path


@pytest.fixture
def run(provider, exporter):
    instrumentors = []

    async def go():
        from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

        instrumentor = AgentScopeInstrumentor()
        instrumentor.instrument(tracer_provider=provider)
        instrumentors.append(instrumentor)
        model = ScriptedChatModel([call_tools(("get_weather", {"city": "Lima"}), usage=(7, 3)),
                                   say(ANSWER, usage=(11, 4))])
        result = await make_agent(model, [get_weather]).reply(user(QUESTION))
        assert result.get_text_content() == ANSWER
        return exporter.get_finished_spans()

    yield go
    for instrumentor in instrumentors:
        instrumentor.uninstrument()


def _uploaded(ref: str, deadline: float = 10.0):
    """The JSON the hook wrote at `ref` (its uploads run on its own threads:
    wait for the file, bounded)."""
    path = Path(ref.removeprefix("file://"))
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if path.exists() and path.stat().st_size:
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except ValueError:  # still being written
                pass
        time.sleep(0.01)
    raise AssertionError(f"{ref} was never written")


def _texts(messages) -> list[str]:
    return [part["content"] for message in messages for part in message["parts"]
            if part.get("type") == "text"]


async def test_content_goes_to_the_store_and_the_spans_carry_references(store, run):
    spans = await run()
    chats = [s for s in spans if s.name.startswith("chat ")]
    (agent,) = [s for s in spans if s.name.startswith("invoke_agent")]
    assert len(chats) == 2
    for span in [*chats, agent]:
        keys = set(span.attributes)
        # NO_CONTENT (the default): content goes to the store only.
        assert keys & CONTENT_KEYS == set(), span.name
        assert {"gen_ai.input.messages_ref", "gen_ai.output.messages_ref"} <= keys, span.name

    first, second = chats
    assert REF_KEYS <= set(first.attributes)  # the system prompt and the tool offered
    inputs = _uploaded(first.attributes["gen_ai.input.messages_ref"])
    assert QUESTION in _texts(inputs)
    calls = [p for m in _uploaded(first.attributes["gen_ai.output.messages_ref"])
             for p in m["parts"] if p["type"] == "tool_call"]
    assert [(c["name"], c["arguments"]) for c in calls] == [("get_weather", {"city": "Lima"})]
    tools = _uploaded(first.attributes["gen_ai.tool.definitions_ref"])
    assert [t["name"] for t in tools] == ["get_weather"]
    system = _uploaded(first.attributes["gen_ai.system_instructions_ref"])
    assert system and system[0]["type"] == "text"

    second_inputs = _uploaded(second.attributes["gen_ai.input.messages_ref"])
    assert any(p["type"] == "tool_call_response" for m in second_inputs for p in m["parts"])
    assert _texts(_uploaded(second.attributes["gen_ai.output.messages_ref"])) == [ANSWER]

    assert QUESTION in _texts(_uploaded(agent.attributes["gen_ai.input.messages_ref"]))
    assert _texts(_uploaded(agent.attributes["gen_ai.output.messages_ref"])) == [ANSWER]
    # Every reference points into the store.
    for span in [*chats, agent]:
        for key in REF_KEYS & set(span.attributes):
            assert Path(span.attributes[key].removeprefix("file://")).parent == store


async def test_with_content_on_spans_too(store, run, monkeypatch):
    """SPAN_ONLY and the hook: the content on the span and in the store."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    spans = await run()
    second = [s for s in spans if s.name.startswith("chat ")][1]
    on_span = json.loads(second.attributes["gen_ai.output.messages"])
    assert _texts(on_span) == [ANSWER]
    assert _texts(_uploaded(second.attributes["gen_ai.output.messages_ref"])) == [ANSWER]


async def test_no_hook_no_references(run, monkeypatch, tmp_path):
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK", raising=False)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_UPLOAD_BASE_PATH", str(tmp_path))
    spans = await run()
    assert all(not set(s.attributes) & (REF_KEYS | CONTENT_KEYS) for s in spans)
    assert list(tmp_path.iterdir()) == []


async def test_an_unknown_hook_name_is_no_hook(store, run, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK", "no-such-hook")
    spans = await run()
    assert all(not set(s.attributes) & (REF_KEYS | CONTENT_KEYS) for s in spans)
    assert list(store.iterdir()) == []


def test_without_the_variable_util_genai_is_not_looked_up(monkeypatch):
    """No hook variable: the loader returns at once, importing nothing."""
    import sys

    from opentelemetry.instrumentation.agents import _completion

    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK", raising=False)
    monkeypatch.delitem(sys.modules, "opentelemetry.util.genai.completion_hook", raising=False)
    assert _completion.load_hook() is None
    assert "opentelemetry.util.genai.completion_hook" not in sys.modules
