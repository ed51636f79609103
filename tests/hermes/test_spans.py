"""Real Hermes agents and tools against a scripted model server: the trees."""

from __future__ import annotations

import json
import threading
import time

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry.instrumentation.agents.testing import assert_tree, build_trees
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    error,
    text,
    tool_calls,
)

from .http_spans import traced_http
from .support import MODEL, NUMBERS, add_numbers, divide, make_agent, tools

ONE_TOOL_ROUND = """
invoke_agent hermes {gen_ai.operation.name=invoke_agent, agents.react.rounds=2}
  react step {gen_ai.operation.name=react, gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls}
    chat fake-model {gen_ai.operation.name=chat, gen_ai.response.finish_reasons=[tool_calls]}
    execute_tool add_numbers {gen_ai.operation.name=execute_tool}
  react step {gen_ai.operation.name=react, gen_ai.react.round=2, gen_ai.react.finish_reason=stop}
    chat fake-model {gen_ai.operation.name=chat, gen_ai.response.finish_reasons=[stop]}
"""

CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
                "gen_ai.tool.call.arguments", "gen_ai.tool.call.result")


def _named(spans, name):
    return [s for s in spans if s.name == name]


def _add_script():
    return [tool_calls([ToolCall("add_numbers", {"a": 2, "b": 3})], usage=(7, 3)),
            text("The sum is 5.", usage=(11, 4))]


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
def test_single_conversation_tree(instrumented, exporter, detector, server, streaming):
    srv = server(_add_script())
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent = make_agent(srv.base_url, streaming=streaming)
        result = agent.run_conversation("What is 2+3? [conv:one]")

    assert result["final_response"] == "The sum is 5."
    assert [r.get("stream") for r in srv.requests] == [True, True] if streaming else [None, None]
    spans = exporter.get_finished_spans()
    tree = assert_tree(spans, ONE_TOOL_ROUND, ordered=True)
    detector.assert_all_ended()

    attrs = tree.attributes
    assert tree.span.kind is SpanKind.INTERNAL
    assert attrs["gen_ai.agent.name"] == "hermes"
    assert "gen_ai.agent.id" not in attrs  # a top-level Hermes agent has no stable id
    assert attrs["gen_ai.conversation.id"] == agent.session_id
    assert attrs["gen_ai.provider.name"] == "custom"
    assert attrs["gen_ai.request.model"] == MODEL
    assert attrs["agents.runtime"] == "hermes"
    assert attrs["agents.react.max_iterations"] == 10
    assert attrs["agents.react.max_iterations_reached"] is False
    assert attrs["agents.agent.finish_reason"] == "completed"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (18, 7)

    chat1, chat2 = _named(spans, f"chat {MODEL}")
    assert chat1.kind is SpanKind.CLIENT
    assert chat1.attributes["gen_ai.request.stream"] is streaming
    assert chat1.attributes["gen_ai.response.model"] == MODEL
    assert (chat1.attributes["gen_ai.usage.input_tokens"],
            chat1.attributes["gen_ai.usage.output_tokens"]) == (7, 3)
    assert (chat2.attributes["gen_ai.usage.input_tokens"],
            chat2.attributes["gen_ai.usage.output_tokens"]) == (11, 4)
    if streaming:
        # Hermes keeps no provider id after streaming, only one it made up.
        assert "gen_ai.response.id" not in chat1.attributes
    else:
        assert chat1.attributes["gen_ai.response.id"] == "chatcmpl-one-0"

    (tool,) = _named(spans, "execute_tool add_numbers")
    assert tool.attributes["gen_ai.tool.call.id"] == "call_one_0_0"
    assert tool.attributes["gen_ai.tool.name"] == "add_numbers"
    assert tool.attributes["gen_ai.tool.type"] == "function"
    for span in spans:
        assert span.status.status_code is StatusCode.UNSET
        assert not any(key in span.attributes for key in CONTENT_KEYS)


def test_chat_is_one_agent_span(instrumented, exporter, detector, server):
    srv = server(_add_script())
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent = make_agent(srv.base_url)
        assert agent.chat("What is 2+3?") == "The sum is 5."

    assert_tree(exporter.get_finished_spans(), ONE_TOOL_ROUND, ordered=True)
    detector.assert_all_ended()


def test_parallel_tool_calls_in_one_step(instrumented, exporter, detector, server, monkeypatch):
    import agent.tool_dispatch_helpers as dispatch

    # Hermes runs a batch concurrently only when every tool in it is on its
    # read-only list; our test tools join the list for this test.
    monkeypatch.setattr(dispatch, "_PARALLEL_SAFE_TOOLS",
                        dispatch._PARALLEL_SAFE_TOOLS | {"slow_add"})
    barrier = threading.Barrier(2)
    threads = []

    def slow_add(args):
        threads.append(threading.current_thread().name)
        barrier.wait(timeout=5)  # both calls are running at the same time
        return add_numbers(args)

    srv = server([tool_calls([ToolCall("slow_add", {"a": 1, "b": 2}),
                              ToolCall("slow_add", {"a": 3, "b": 4})]),
                  text("3 and 7.")])
    with tools(slow_add=(slow_add, NUMBERS)):
        agent = make_agent(srv.base_url)
        result = agent.run_conversation("Add both. [conv:par]")

    assert result["final_response"] == "3 and 7."
    assert len(set(threads)) == 2 and threading.current_thread().name not in threads
    spans = exporter.get_finished_spans()
    assert_tree(spans, """
        invoke_agent hermes
          react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls}
            chat fake-model
            execute_tool slow_add
            execute_tool slow_add
          react step {gen_ai.react.round=2, gen_ai.react.finish_reason=stop}
            chat fake-model
    """)
    detector.assert_all_ended()
    assert sorted(s.attributes["gen_ai.tool.call.id"]
                  for s in _named(spans, "execute_tool slow_add")) == ["call_par_0_0",
                                                                       "call_par_0_1"]


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "concurrent"])
def test_failing_tool_is_an_error_span(instrumented, exporter, detector, server, monkeypatch,
                                       parallel):
    import agent.tool_dispatch_helpers as dispatch

    if parallel:
        monkeypatch.setattr(dispatch, "_PARALLEL_SAFE_TOOLS",
                            dispatch._PARALLEL_SAFE_TOOLS | {"divide", "lookup"})

    def lookup(args):
        # Fails without raising: Hermes's error convention for tool results.
        return json.dumps({"error": f"no such key: {args['key']}"})

    srv = server([tool_calls([ToolCall("divide", {"a": 1, "b": 0}),
                              ToolCall("lookup", {"key": "k"})]),
                  text("Neither worked.")])
    with tools(divide=(divide, NUMBERS), lookup=(lookup, {"key": "string"})):
        agent = make_agent(srv.base_url)
        result = agent.run_conversation("Try both. [conv:fail]")

    # Hermes handed the failures to the model as results and carried on.
    assert result["final_response"] == "Neither worked." and result["completed"] is True
    tool_messages = [m["content"] for m in result["messages"] if m.get("role") == "tool"]
    assert "ZeroDivisionError" in tool_messages[0]
    spans = exporter.get_finished_spans()
    assert_tree(spans, """
        invoke_agent hermes {status=UNSET}
          react step {gen_ai.react.finish_reason=tool_calls, status=UNSET}
            chat fake-model {status=UNSET}
            execute_tool divide {status=ERROR, error.type=ZeroDivisionError}
            execute_tool lookup {status=ERROR, error.type=tool_error}
          react step {gen_ai.react.finish_reason=stop, status=UNSET}
            chat fake-model {status=UNSET}
    """)
    detector.assert_all_ended()


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
def test_model_endpoint_failing(provider, exporter, detector, server, streaming):
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    srv = server([error(500, "the model is down")])
    untraced = make_agent(srv.base_url, streaming=streaming).run_conversation("hi [conv:down]")
    instrumentor = HermesAgentInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        result = make_agent(srv.base_url, streaming=streaming).run_conversation("hi [conv:down]")
    finally:
        instrumentor.uninstrument()

    # Hermes reports the failure in its result, exactly as without us.
    assert result["failed"] is True and result["completed"] is False
    assert {k: v for k, v in result.items() if k != "messages"} == \
        {k: v for k, v in untraced.items() if k != "messages"}
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent hermes {status=ERROR, error.type=openai.InternalServerError, agents.agent.finish_reason=error}
          react step {status=ERROR, error.type=openai.InternalServerError, gen_ai.react.finish_reason=error}
            chat fake-model {status=ERROR, error.type=openai.InternalServerError}
    """)
    detector.assert_all_ended()


def test_iteration_limit_reached(instrumented, exporter, detector, server):
    srv = server([tool_calls([ToolCall("add_numbers", {"a": 1, "b": 1})], usage=(5, 1)),
                  tool_calls([ToolCall("add_numbers", {"a": 2, "b": 2})], usage=(6, 1)),
                  text("Summary: 2 and 4.", usage=(9, 3))])
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent = make_agent(srv.base_url, max_iterations=2)
        result = agent.run_conversation("Keep adding. [conv:limit]")

    assert result["turn_exit_reason"].startswith("max_iterations_reached")
    assert result["final_response"].startswith("Summary: 2 and 4.")
    # The summary request is Hermes's own: non-streaming, and no tools offered.
    assert srv.requests[-1].get("stream") is None and not srv.requests[-1].get("tools")
    spans = exporter.get_finished_spans()
    tree = assert_tree(spans, """
        invoke_agent hermes {gen_ai.usage.input_tokens=20, agents.react.rounds=2, agents.react.max_iterations=2, agents.react.max_iterations_reached=true, agents.agent.finish_reason=max_iterations, status=UNSET}
          react step {gen_ai.react.round=1, gen_ai.react.finish_reason=tool_calls, status=UNSET}
            chat fake-model {gen_ai.usage.input_tokens=5, status=UNSET}
            execute_tool add_numbers {status=UNSET}
          react step {gen_ai.react.round=2, gen_ai.react.finish_reason=tool_calls, status=UNSET}
            chat fake-model {gen_ai.usage.input_tokens=6, status=UNSET}
            execute_tool add_numbers {status=UNSET}
          chat fake-model {gen_ai.usage.input_tokens=9, status=UNSET}
    """, ordered=True)
    detector.assert_all_ended()
    summary = tree.children[-1]
    assert summary.attributes["gen_ai.request.stream"] is False
    assert summary.attributes["gen_ai.usage.output_tokens"] == 3
    assert summary.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert (tree.attributes["gen_ai.usage.input_tokens"],
            tree.attributes["gen_ai.usage.output_tokens"]) == (20, 5)


def test_failed_summary_call_is_an_error_span(instrumented, exporter, detector, server):
    srv = server([tool_calls([ToolCall("add_numbers", {"a": 1, "b": 1})]),
                  error(400, "context too long")])
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent = make_agent(srv.base_url, max_iterations=1)
        result = agent.run_conversation("Keep adding. [conv:nosum]")

    assert "couldn't summarize" in result["final_response"]
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent hermes {agents.react.max_iterations_reached=true, status=UNSET}
          react step {status=UNSET}
            chat fake-model {status=UNSET}
            execute_tool add_numbers {status=UNSET}
          chat fake-model {status=ERROR, error.type=_OTHER}
    """)
    detector.assert_all_ended()


def test_nested_agent_runs_under_its_tool_span(instrumented, exporter, detector, server):
    srv = server({
        "outer": [tool_calls([ToolCall("ask_expert", {"question": "2+3?"})]),
                  text("The expert says 5.")],
        "inner": [text("5")],
    })

    def ask_expert(args):
        expert = make_agent(srv.base_url, toolsets=())
        return expert.chat(f"{args['question']} [conv:inner]")

    with tools(ask_expert=(ask_expert, {"question": "string"})):
        agent = make_agent(srv.base_url)
        result = agent.run_conversation("Ask the expert. [conv:outer]")

    assert result["final_response"] == "The expert says 5."
    spans = exporter.get_finished_spans()
    assert_tree(spans, """
        invoke_agent hermes {agents.react.rounds=2}
          react step
            chat fake-model
            execute_tool ask_expert
              invoke_agent hermes {agents.react.rounds=1}
                react step
                  chat fake-model
          react step
            chat fake-model
    """, ordered=True)
    detector.assert_all_ended()
    outer, inner = sorted(_named(spans, "invoke_agent hermes"), key=lambda s: s.start_time)
    # Each agent counts its own model calls only.
    assert outer.attributes["gen_ai.usage.input_tokens"] == 20
    assert inner.attributes["gen_ai.usage.input_tokens"] == 10


def test_delegated_subagent_nests_under_delegate_task(instrumented, exporter, detector, server):
    srv = server({
        "parent": [tool_calls([ToolCall("delegate_task", {"goal": "Add 2 and 3. [conv:child]"})]),
                   text("Delegated.")],
        "child": [text("5")],
    })
    agent = make_agent(srv.base_url, toolsets=("delegation",))

    result = agent.run_conversation("Delegate it. [conv:parent]")

    assert result["final_response"] == "Delegated."
    # A top-level agent delegates in the background: the child may finish later.
    deadline = time.monotonic() + 10
    while len([s for s in exporter.get_finished_spans() if s.name.startswith("invoke_agent")]) < 2:
        assert time.monotonic() < deadline, "the sub-agent never finished"
        time.sleep(0.02)
    spans = exporter.get_finished_spans()
    assert_tree(spans, """
        invoke_agent hermes
          react step
            chat fake-model
            execute_tool delegate_task
              invoke_agent hermes-leaf
                react step
                  chat fake-model
          react step
            chat fake-model
    """)
    (child,) = _named(spans, "invoke_agent hermes-leaf")
    assert child.attributes["gen_ai.agent.id"].startswith("sa-")
    detector.assert_all_ended()


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
def test_request_path_spans_nest_under_chat(instrumented, exporter, detector, server, provider,
                                            streaming):
    srv = server(_add_script())
    with tools(add_numbers=(add_numbers, NUMBERS)), traced_http(provider) as threads:
        agent = make_agent(srv.base_url, streaming=streaming)
        agent.run_conversation("What is 2+3? [conv:http]")

    # Hermes sent each model request from a worker thread of its own...
    assert len(threads) == 2 and threading.current_thread().name not in threads
    # ...and the client's spans there still sit under our chat spans.
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent hermes
          react step
            chat fake-model
              POST /v1/chat/completions
            execute_tool add_numbers
          react step
            chat fake-model
              POST /v1/chat/completions
    """, ordered=True)
    detector.assert_all_ended()


def test_cron_platform_nesting_gives_one_chat_span(instrumented, exporter, detector, server):
    srv = server(_add_script())
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent = make_agent(srv.base_url, platform="cron")
        agent.run_conversation("What is 2+3? [conv:cron]")

    # Cron sends the streaming method on to the non-streaming one: still one
    # model call, one span.
    assert [r.get("stream") for r in srv.requests] == [None, None]
    assert_tree(exporter.get_finished_spans(), ONE_TOOL_ROUND, ordered=True)
    detector.assert_all_ended()


def test_message_content_when_enabled(provider, exporter, detector, server, monkeypatch):
    from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    instrumentor = HermesAgentInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        srv = server(_add_script())
        with tools(add_numbers=(add_numbers, NUMBERS)):
            make_agent(srv.base_url).run_conversation("What is 2+3? [conv:content]")
    finally:
        instrumentor.uninstrument()

    spans = exporter.get_finished_spans()
    detector.assert_all_ended()
    (agent_span,) = _named(spans, "invoke_agent hermes")
    assert json.loads(agent_span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "What is 2+3? [conv:content]"}]}]
    assert json.loads(agent_span.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "The sum is 5."}],
         "finish_reason": "stop"}]
    chat1, chat2 = _named(spans, f"chat {MODEL}")
    assert json.loads(chat1.attributes["gen_ai.system_instructions"])[0]["type"] == "text"
    assert json.loads(chat1.attributes["gen_ai.input.messages"])[-1]["parts"][0]["content"] \
        .endswith("[conv:content]")
    (call,) = json.loads(chat1.attributes["gen_ai.output.messages"])[0]["parts"]
    assert call == {"type": "tool_call", "id": "call_content_0_0", "name": "add_numbers",
                    "arguments": {"a": 2, "b": 3}}
    tool_result = json.loads(chat2.attributes["gen_ai.input.messages"])[-1]
    assert tool_result["role"] == "tool" and tool_result["parts"][0]["id"] == "call_content_0_0"
    (tool,) = _named(spans, "execute_tool add_numbers")
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"a": 2, "b": 3}
    assert tool.attributes["gen_ai.tool.call.result"] == '{"result": 5}'
    assert len(build_trees(spans)) == 1
    assert all(s.status.status_code is StatusCode.UNSET for s in spans)
