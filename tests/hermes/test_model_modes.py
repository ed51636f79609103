"""Hermes's other model APIs: `api_mode="anthropic_messages"` and `"codex_responses"`.

The same agent loop, against the scripted server's Anthropic Messages and
OpenAI Responses endpoints: chat spans name the provider, carry the
response id, finish reasons and usage (cache and reasoning counts in the
scripted responses), for tool rounds, streamed and not, and for the summary
call made when the iteration limit is hit.
"""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)
from tests.runtimes import loopback_only  # noqa: F401 - autouse fixture

from .support import NUMBERS, add_numbers, tools

MODES = {
    # api_mode: (Hermes provider, model, which base URL, span provider)
    "anthropic_messages": ("anthropic", "claude-sonnet-4-5", "anthropic", "anthropic"),
    "codex_responses": ("openai", "gpt-5-mini", "openai", "openai"),
}


def mode_agent(server, mode: str, *, streaming: bool, max_iterations: int = 10):
    from run_agent import AIAgent

    provider, model, endpoint, _ = MODES[mode]
    base = server.anthropic_base_url if endpoint == "anthropic" else server.base_url
    agent = AIAgent(base_url=base, api_key="sk-test", model=model, provider=provider,
                    api_mode=mode, enabled_toolsets=["otel_test"],
                    max_iterations=max_iterations, tool_delay=0.0, quiet_mode=True,
                    skip_context_files=True, skip_memory=True)
    assert agent.api_mode == mode
    if not streaming:
        agent._disable_streaming = True
    return agent


SCRIPT = [tool_calls([ToolCall("add_numbers", {"a": 2, "b": 3})], usage=(7, 3),
                     cache_read_tokens=4, cache_creation_tokens=2, reasoning_tokens=1),
          text("The sum is 5.", usage=(11, 4))]


def one_round_tree(mode: str, stream: bool) -> str:
    _, model, _, provider = MODES[mode]
    ids = ("msg_one_0", "msg_one_1") if mode == "anthropic_messages" else ("resp_one_0",
                                                                           "resp_one_1")
    stops = ("tool_use", "end_turn") if mode == "anthropic_messages" else ("tool_calls", "stop")
    call_id = "toolu_one_0_0" if mode == "anthropic_messages" else "call_one_0_0"
    # Anthropic's input count leaves out the 4 cached and 2 cache-written
    # tokens of the first response; the span's includes them (the conventions').
    first_input = 13 if mode == "anthropic_messages" else 7
    chat = (f"gen_ai.operation.name=chat, gen_ai.provider.name={provider}, "
            f"gen_ai.request.model={model}, gen_ai.response.model={model}, "
            f"gen_ai.request.stream={str(stream).lower()}")
    return f"""
invoke_agent hermes {{gen_ai.operation.name=invoke_agent, gen_ai.provider.name={provider}, gen_ai.request.model={model}, agents.react.rounds=2, gen_ai.usage.input_tokens={first_input + 11}, gen_ai.usage.output_tokens=7, status=UNSET}}
  react step {{gen_ai.operation.name=react, gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls, status=UNSET}}
    chat {model} {{{chat}, gen_ai.response.id={ids[0]}, gen_ai.response.finish_reasons=[{stops[0]}], gen_ai.usage.input_tokens={first_input}, gen_ai.usage.output_tokens=3, status=UNSET}}
    execute_tool add_numbers {{gen_ai.operation.name=execute_tool, gen_ai.tool.call.id={call_id}, status=UNSET}}
  react step {{gen_ai.operation.name=react, gen_ai.react.round=2, gen_ai.react.finish_reason=stop, status=UNSET}}
    chat {model} {{{chat}, gen_ai.response.id={ids[1]}, gen_ai.response.finish_reasons=[{stops[1]}], gen_ai.usage.input_tokens=11, gen_ai.usage.output_tokens=4, status=UNSET}}
"""


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
@pytest.mark.parametrize("mode", list(MODES))
def test_tool_round(mode, streaming, instrumented, exporter, detector, server):
    srv = server(SCRIPT)
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent = mode_agent(srv, mode, streaming=streaming)
        result = agent.run_conversation("What is 2+3? [conv:one]")

    assert result["final_response"] == "The sum is 5."
    api = "messages" if mode == "anthropic_messages" else "responses"
    requests = srv.requests_for("one", api=api)
    assert len(requests) == 2
    if mode == "anthropic_messages":
        assert [r.get("stream") is True for r in requests] == [streaming] * 2
    else:
        # Hermes reads the Responses API as a stream on both of its paths;
        # the span says which of Hermes's model-call paths ran.
        assert all(r.get("stream") is True for r in requests)
    assert_tree(exporter.get_finished_spans(), one_round_tree(mode, streaming), ordered=True)
    detector.assert_all_ended()


@pytest.mark.parametrize("mode", list(MODES))
def test_iteration_limit_summary(mode, instrumented, exporter, detector, server):
    _, model, _, provider = MODES[mode]
    srv = server([tool_calls([ToolCall("add_numbers", {"a": 1, "b": 1})], usage=(5, 1)),
                  tool_calls([ToolCall("add_numbers", {"a": 2, "b": 2})], usage=(6, 1)),
                  text("Summary: 2 and 4.", usage=(9, 3))])
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent = mode_agent(srv, mode, streaming=True, max_iterations=2)
        result = agent.run_conversation("Keep adding. [conv:limit]")

    assert result["turn_exit_reason"].startswith("max_iterations_reached")
    assert result["final_response"].startswith("Summary: 2 and 4.")
    summary_id = "msg_limit_2" if mode == "anthropic_messages" else "resp_limit_2"
    stop = "end_turn" if mode == "anthropic_messages" else "stop"
    tree = assert_tree(exporter.get_finished_spans(), f"""
        invoke_agent hermes {{gen_ai.provider.name={provider}, gen_ai.usage.input_tokens=20, gen_ai.usage.output_tokens=5, agents.react.rounds=2, agents.react.max_iterations_reached=true, agents.agent.finish_reason=max_iterations, status=UNSET}}
          react step {{gen_ai.react.round=1, status=UNSET}}
            chat {model} {{gen_ai.provider.name={provider}, gen_ai.usage.input_tokens=5, gen_ai.usage.output_tokens=1, status=UNSET}}
            execute_tool add_numbers {{status=UNSET}}
          react step {{gen_ai.react.round=2, status=UNSET}}
            chat {model} {{gen_ai.provider.name={provider}, gen_ai.usage.input_tokens=6, gen_ai.usage.output_tokens=1, status=UNSET}}
            execute_tool add_numbers {{status=UNSET}}
          chat {model} {{gen_ai.provider.name={provider}, gen_ai.usage.input_tokens=9, gen_ai.usage.output_tokens=3, status=UNSET}}
    """, ordered=True)
    summary = tree.children[-1]
    assert summary.attributes["gen_ai.usage.output_tokens"] == 3
    assert summary.attributes.get("gen_ai.response.id") == summary_id
    assert summary.attributes["gen_ai.response.finish_reasons"] == (stop,)
    detector.assert_all_ended()
