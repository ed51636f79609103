"""The PraisonAI team demo runs offline and prints its span tree."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "praisonai_team_demo.py"

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


def _run(args, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OTEL_"))}
    env["HOME"] = str(tmp_path)
    out = subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=tmp_path,
                         env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_demo_prints_the_tree(tmp_path):
    text = _run([sys.executable, str(DEMO)], tmp_path)
    assert "team answered: It is 21 degrees and sunny in Lisbon" in text
    lines = text.split("span tree:\n", 1)[1].strip().splitlines()
    assert [re.sub(r" \{.*\}$", "", line) for line in lines] == TREE
    assert "agents.react.rounds=2" in lines[1]
    assert "gen_ai.tool.call.id=call_research_0_0" in lines[4]
    assert "gen_ai.usage.input_tokens=95" in lines[9]


def test_demo_under_opentelemetry_instrument(tmp_path):
    # The launcher configures an SDK only through opentelemetry-distro, which
    # the test environment installs (requirements-dev.txt).
    launcher = pathlib.Path(sys.executable).with_name("opentelemetry-instrument")
    text = _run([str(launcher), "--traces_exporter", "console", "--metrics_exporter", "none",
                 "--logs_exporter", "none", sys.executable, str(DEMO)], tmp_path)
    assert "sunny in Lisbon" in text
    spans = []
    decoder = json.JSONDecoder()
    index = text.find("{")
    while index != -1:
        span, end = decoder.raw_decode(text, index)
        spans.append(span)
        index = text.find("{", end)
    assert sorted(s["name"] for s in spans) == sorted(line.strip() for line in TREE)
    roots = [s for s in spans if s["parent_id"] is None]
    assert [r["name"] for r in roots] == ["invoke_workflow weather-desk"]
    assert len({s["context"]["trace_id"] for s in spans}) == 1
