"""Running the examples as a user would: as scripts, and under opentelemetry-instrument."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def run(args: list[str], home: pathlib.Path) -> str:
    """Run a command offline with `home` as HOME and cwd; return its stdout."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "OTEL_", "HERMES_"))}
    env["HOME"] = str(home)
    out = subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=home, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def printed_tree(stdout: str) -> list[str]:
    """The span tree a demo printed, attributes left out."""
    lines = stdout.split("span tree:\n", 1)[1].strip().splitlines()
    return [re.sub(r" \{.*\}$", "", line) for line in lines]


def run_instrumented(demo: str, home: pathlib.Path) -> tuple[str, list[dict]]:
    """Run a demo under opentelemetry-instrument with the console exporter.

    The launcher configures an SDK only through opentelemetry-distro, which the
    test environment installs (requirements-dev.txt). Returns stdout and the
    spans it printed as JSON.
    """
    launcher = pathlib.Path(sys.executable).with_name("opentelemetry-instrument")
    text = run([str(launcher), "--traces_exporter", "console", "--metrics_exporter", "none",
                "--logs_exporter", "none", sys.executable, str(EXAMPLES / demo)], home)
    spans = []
    decoder = json.JSONDecoder()
    index = text.find("{")
    while index != -1:
        span, end = decoder.raw_decode(text, index)
        spans.append(span)
        index = text.find("{", end)
    return text, spans


def assert_one_trace(spans: list[dict], tree: list[str]) -> None:
    """The spans are exactly the tree's, in one trace, under its first line."""
    assert sorted(s["name"] for s in spans) == sorted(line.strip() for line in tree)
    ids = {s["context"]["span_id"] for s in spans}
    roots = [s for s in spans if s["parent_id"] is None]
    assert [r["name"] for r in roots] == [tree[0]]
    assert all(s["parent_id"] in ids for s in spans if s["parent_id"] is not None)
    assert len({s["context"]["trace_id"] for s in spans}) == 1
