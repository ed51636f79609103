"""Instrument, uninstrument, twice, late, suppressed; nothing imported early."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

from opentelemetry.instrumentation.utils import suppress_instrumentation

from opentelemetry.instrumentation.agents._patching import is_ours
from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor
from opentelemetry.instrumentation.agents.hermes._threads import ThreadingWithContext
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)

from .support import NUMBERS, TOOL_ROUND_TREE, add_numbers, make_agent, tools


def _script():
    return [tool_calls([ToolCall("add_numbers", {"a": 1, "b": 2})]), text("3")]


def _patch_points():
    import model_tools
    import run_agent
    from agent import chat_completion_helpers, tool_executor
    from agent.transports import anthropic, chat_completions, codex
    from tools import checkpoint_manager, delegate_tool

    agent_class = run_agent.AIAgent
    return [
        (agent_class, "run_conversation"),
        (agent_class, "_interruptible_streaming_api_call"),
        (agent_class, "_interruptible_api_call"),
        (agent_class, "_handle_max_iterations"),
        (agent_class, "_invoke_tool"),
        (run_agent, "handle_function_call"),
        (tool_executor, "_run_agent_tool_execution_middleware"),
        (checkpoint_manager.CheckpointManager, "new_turn"),
        (delegate_tool, "_build_child_agent"),
        (model_tools, "_sanitize_tool_error"),
        (chat_completions.ChatCompletionsTransport, "normalize_response"),
        (anthropic.AnthropicTransport, "normalize_response"),
        (codex.ResponsesApiTransport, "normalize_response"),
    ], chat_completion_helpers


def _current(points):
    return {(owner, name): vars(owner)[name] for owner, name in points}


def test_uninstrument_restores_everything(provider, exporter, server):
    points, helpers = _patch_points()
    before = _current(points)
    srv = server(_script() * 2)
    instrumentor = HermesAgentInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with tools(add_numbers=(add_numbers, NUMBERS)):
            agent = make_agent(srv.base_url)
            assert all(is_ours(wrapper) for wrapper in _current(points).values())
            assert isinstance(helpers.threading, ThreadingWithContext)
            agent.run_conversation("[conv:a]")
            assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    finally:
        instrumentor.uninstrument()

    after = _current(points)
    assert all(after[key] is before[key] for key in before), "every original is back"
    assert helpers.threading is threading
    exporter.clear()
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent.run_conversation("[conv:b]")  # the same live agent, untraced now
    assert exporter.get_finished_spans() == ()


def test_agent_built_before_instrument_is_traced(provider, exporter, detector, server):
    srv = server(_script())
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent = make_agent(srv.base_url)
        instrumentor = HermesAgentInstrumentor()
        instrumentor.instrument(tracer_provider=provider)
        try:
            agent.run_conversation("[conv:late]")
        finally:
            instrumentor.uninstrument()
    assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    detector.assert_all_ended()


def test_double_instrument_never_double_patches(provider, exporter, server):
    points, _ = _patch_points()
    first = HermesAgentInstrumentor()
    first.instrument(tracer_provider=provider)
    try:
        HermesAgentInstrumentor().instrument(tracer_provider=provider)  # the singleton: no-op
        for (owner, name), wrapper in _current(points).items():
            assert not is_ours(wrapper.__wrapped__), f"{owner.__name__}.{name} wrapped twice"
        srv = server(_script())
        with tools(add_numbers=(add_numbers, NUMBERS)):
            make_agent(srv.base_url).run_conversation("[conv:twice]")
        assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    finally:
        first.uninstrument()


def test_reinstrument_after_uninstrument(provider, exporter, server):
    srv = server(_script())
    instrumentor = HermesAgentInstrumentor()
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent = make_agent(srv.base_url)
        for conv in ("r1", "r2"):
            instrumentor.instrument(tracer_provider=provider)
            agent.run_conversation(f"[conv:{conv}]")
            instrumentor.uninstrument()
    assert len([s for s in exporter.get_finished_spans() if s.name == "invoke_agent hermes"]) == 2


def test_suppressed_instrumentation_emits_nothing(instrumented, exporter, server):
    srv = server(_script())
    with tools(add_numbers=(add_numbers, NUMBERS)):
        agent = make_agent(srv.base_url)
        with suppress_instrumentation():
            result = agent.run_conversation("[conv:quiet]")
    assert result["final_response"] == "3"
    assert exporter.get_finished_spans() == ()


def test_instrumenting_imports_no_hermes_module(tmp_path):
    code = textwrap.dedent("""
        import sys
        from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor
        HermesAgentInstrumentor().instrument()
        hermes = ("run_agent", "model_tools", "agent", "tools", "hermes_cli")
        print(sorted(m for m in sys.modules if m.split(".")[0] in hermes))
        import run_agent
        print(type(vars(run_agent.AIAgent)["run_conversation"]).__name__)
    """)
    env = dict(os.environ, HOME=str(tmp_path), HERMES_HOME=str(tmp_path / ".hermes"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "[]", "instrument() imported Hermes itself"
    assert lines[-1] == "FunctionWrapper", "the import that came later was patched"
