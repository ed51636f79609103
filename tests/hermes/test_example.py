"""examples/hermes_demo.py runs offline, explicitly instrumented and under opentelemetry-instrument."""

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
    "invoke_agent hermes",
    "  react step",
    "    chat scripted-gpt",
    "    execute_tool get_weather",
    "  react step",
    "    chat scripted-gpt",
]


def test_demo_prints_the_tree(tmp_path):
    text = run([sys.executable, str(EXAMPLES / "hermes_demo.py")], tmp_path)
    assert "agent answered: It is 21 degrees and sunny in Lisbon" in text
    assert printed_tree(text) == TREE
    assert "gen_ai.usage.input_tokens=273" in text.splitlines()[3]
    assert list(tmp_path.iterdir()) == [], "the demo wrote nothing outside its own temp home"


def test_demo_under_opentelemetry_instrument(tmp_path):
    text, spans = run_instrumented("hermes_demo.py", tmp_path)
    assert "It is 21 degrees and sunny in Lisbon" in text
    assert_one_trace(spans, TREE)
    assert list(tmp_path.iterdir()) == []
