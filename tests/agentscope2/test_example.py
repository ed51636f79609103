"""The AgentScope demo runs offline, instrumented explicitly and by opentelemetry-instrument."""

from __future__ import annotations

import sys

from tests.examples_support import (
    EXAMPLES,
    assert_one_trace,
    printed_tree,
    run,
    run_instrumented,
)

TREE = [
    "invoke_agent weather-assistant",
    "  react step",
    "    chat scripted-gpt",
    "    execute_tool get_weather",
    "  react step",
    "    chat scripted-gpt",
]


def test_demo_prints_the_tree(tmp_path):
    assert printed_tree(run([sys.executable, str(EXAMPLES / "agentscope_demo.py")],
                            tmp_path)) == TREE


def test_demo_under_opentelemetry_instrument(tmp_path):
    text, spans = run_instrumented("agentscope_demo.py", tmp_path)
    assert "sunny in Lisbon" in text
    assert_one_trace(spans, TREE)
