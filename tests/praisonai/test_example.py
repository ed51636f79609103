"""The PraisonAI team demo runs offline and prints its span tree."""

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
    "invoke_workflow weather-desk",
    "  invoke_agent researcher",
    "    react step",
    "      chat gpt-4o-mini",
    "      execute_tool get_weather",
    "    react step",
    "      chat gpt-4o-mini",
    "  invoke_agent writer",
    "    react step",
    "      chat gpt-4o-mini",
]


def test_demo_prints_the_tree(tmp_path):
    text = run([sys.executable, str(EXAMPLES / "praisonai_team_demo.py")], tmp_path)
    assert "team answered: It is 21 degrees and sunny in Lisbon" in text
    assert printed_tree(text) == TREE
    lines = text.split("span tree:\n", 1)[1].strip().splitlines()
    assert "agents.react.rounds=2" in lines[1]
    assert "gen_ai.tool.call.id=call_research_0_0" in lines[4]
    assert "gen_ai.usage.input_tokens=95" in lines[9]


def test_demo_under_opentelemetry_instrument(tmp_path):
    text, spans = run_instrumented("praisonai_team_demo.py", tmp_path)
    assert "sunny in Lisbon" in text
    assert_one_trace(spans, TREE)
