"""The coverage table's Hermes Agent column against real Hermes runs on the
scripted server: every model API Hermes speaks (chat completions, Anthropic
messages, Responses), streamed and whole, with usage details and request
parameters, tools that succeed and fail, a failing model, the iteration-limit
summary; content and details events on."""

from __future__ import annotations

import time

from opentelemetry.instrumentation.agents.testing.openai_server import (
    ScriptedOpenAIServer,
    ToolCall,
    error,
    text,
    tool_calls,
)
from tests.hermes.support import NUMBERS, add_numbers, divide, tools
from tests.runtimes import loopback_only  # noqa: F401 - autouse fixture

from .support import assert_column_matches

MODES = {"chat_completions": ("custom", "fake-model"),
         "anthropic_messages": ("anthropic", "claude-sonnet-4-5"),
         "codex_responses": ("openai", "gpt-5-mini")}


def _agent(srv, mode: str, *, streaming: bool = True, toolsets=("otel_test",), **options):
    from run_agent import AIAgent

    provider, model = MODES[mode]
    base = srv.anthropic_base_url if mode == "anthropic_messages" else srv.base_url
    agent = AIAgent(base_url=base, api_key="sk-test", model=model, provider=provider,
                    api_mode=mode, enabled_toolsets=list(toolsets), tool_delay=0.0,
                    quiet_mode=True, skip_context_files=True, skip_memory=True, **options)
    if not streaming:
        agent._disable_streaming = True
    return agent


def _tool_rounds(mode: str, streaming: bool) -> None:
    script = [tool_calls([ToolCall("add_numbers", {"a": 2, "b": 3}),
                          ToolCall("divide", {"a": 1, "b": 0})], usage=(70, 3),
                         cache_read_tokens=40, cache_creation_tokens=20, reasoning_tokens=2),
              text("The sum is 5.", usage=(90, 4), cache_read_tokens=60, reasoning_tokens=1)]
    with ScriptedOpenAIServer(script) as srv, \
            tools(add_numbers=(add_numbers, NUMBERS), divide=(divide, NUMBERS)):
        _agent(srv, mode, streaming=streaming).run_conversation(f"2+3? [conv:{mode}]")


def _request_parameters() -> None:
    overrides = {"temperature": 0.25, "top_p": 0.5, "seed": 7, "stop": ["END"],
                 "frequency_penalty": 0.1, "presence_penalty": 0.2,
                 "response_format": {"type": "json_object"}}
    with ScriptedOpenAIServer([text("ok")]) as srv:
        _agent(srv, "chat_completions", max_tokens=64,
               request_overrides=overrides).run_conversation("hi")


def _failing_model() -> None:
    with ScriptedOpenAIServer([error(500, "the model is down")]) as srv:
        result = _agent(srv, "chat_completions").run_conversation("hi")
    assert result["failed"] is True


def _iteration_limit_summary() -> None:
    script = [tool_calls([ToolCall("add_numbers", {"a": 1, "b": 1})]), text("Summary.")]
    with ScriptedOpenAIServer(script) as srv, tools(add_numbers=(add_numbers, NUMBERS)):
        _agent(srv, "chat_completions", max_iterations=1).run_conversation("add forever")


def _delegated_subagent(collector) -> None:
    script = {"parent": [tool_calls([ToolCall("delegate_task",
                                              {"goal": "Add 2 and 3. [conv:child]"})]),
                         text("Delegated.")],
              "child": [text("5")]}
    with ScriptedOpenAIServer(script) as srv:
        _agent(srv, "chat_completions", toolsets=("delegation",)).run_conversation(
            "Delegate it. [conv:parent]")
        # A top-level agent delegates in the background: the child may finish later.
        deadline = time.monotonic() + 10
        while not any(s.name == "invoke_agent hermes-leaf" for s in collector.spans()):
            assert time.monotonic() < deadline, "the sub-agent never finished"
            time.sleep(0.02)


def test_the_hermes_column_says_what_hermes_emits(collector):
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    collector.instrument(HermesAgentInstrumentor)
    for mode in MODES:
        for streaming in (True, False):
            _tool_rounds(mode, streaming)
    _request_parameters()
    _failing_model()
    _iteration_limit_summary()
    _delegated_subagent(collector)

    names = {span.name.split(" ")[0] for span in collector.spans()}
    assert names == {"invoke_agent", "react", "chat", "execute_tool"}
    assert_column_matches("Hermes Agent", collector)
