"""The AgentScope demo runs offline, instrumented explicitly and by opentelemetry-instrument."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "agentscope_demo.py"



def _run(args, tmp_path):
    env = dict(os.environ, HOME=str(tmp_path))
    out = subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=tmp_path,
                         env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_demo_prints_the_tree(tmp_path):
    text = _run([sys.executable, str(DEMO)], tmp_path)
    tree = [re.sub(r" \{.*\}$", "", line) for line in
            text.split("span tree:\n", 1)[1].strip().splitlines()]
    assert tree == [
        "invoke_agent weather-assistant",
        "  react step",
        "    chat scripted-gpt",
        "    execute_tool get_weather",
        "  react step",
        "    chat scripted-gpt",
    ]


def test_demo_under_opentelemetry_instrument(tmp_path):
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
    names = sorted(s["name"] for s in spans)
    assert names == sorted(["invoke_agent weather-assistant", "react step", "react step",
                            "chat scripted-gpt", "chat scripted-gpt",
                            "execute_tool get_weather"])
    ids = {s["context"]["span_id"] for s in spans}
    roots = [s for s in spans if s["parent_id"] is None]
    assert [r["name"] for r in roots] == ["invoke_agent weather-assistant"]
    assert all(s["parent_id"] in ids for s in spans if s["parent_id"] is not None)
    assert len({s["context"]["trace_id"] for s in spans}) == 1
