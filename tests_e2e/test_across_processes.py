"""One trace across three processes, read back from Phoenix.

`examples/across_processes/demo.py` runs an AgentScope agent that calls a
tool in an MCP server (a stdio subprocess) and a remote agent behind an
a2a-sdk server (an HTTP subprocess on 127.0.0.1); all three export to the
session's Phoenix. Phoenix must hold them as ONE trace: every span's parent
in it, one root, the remote sides under the caller's spans.
"""

from __future__ import annotations

import re
import sys

from .test_phoenix import EXAMPLES, expected, run

# AgentScope lists the MCP server's tools several times a reply (a
# `tools/list` client span, with the server's `tools/list` under it, each
# time); how many is AgentScope's business, so they are counted apart.
TREE = """
    invoke_agent coordinator [AGENT]
      react step [UNKNOWN]
        chat scripted-model [LLM]
        execute_tool ask_forecaster [TOOL]
          invoke_agent forecaster [AGENT]
            invoke_agent forecaster [AGENT]
              react step [UNKNOWN]
                chat scripted-model [LLM]
        execute_tool mcp__weather__get_weather [TOOL]
          tools/call get_weather [TOOL]
            tools/call get_weather [TOOL]
              lookup weather [UNKNOWN]
      react step [UNKNOWN]
        chat scripted-model [LLM]
"""


def _render(spans: list[dict]) -> str:
    ids = {s["context"]["span_id"] for s in spans}
    children: dict[str | None, list[dict]] = {}
    for span in spans:
        parent = span["parent_id"]
        assert parent is None or parent in ids, f"{span['name']}: parent {parent} not in trace"
        children.setdefault(parent, []).append(span)
    roots = children.get(None, [])
    assert len(roots) == 1, f"roots: {[r['name'] for r in roots]}"
    lines: list[str] = []

    def walk(span: dict, depth: int) -> None:
        assert span["status_code"] != "ERROR", span
        lines.append("  " * depth + f"{span['name']} [{span['span_kind']}]")
        for child in sorted(children.get(span["context"]["span_id"], []),
                            key=lambda s: (s["name"], s["start_time"])):
            walk(child, depth + 1)

    walk(roots[0], 0)
    return "\n".join(lines)


def test_one_trace_across_processes(phoenix, tmp_path):
    project = "agents-across-processes"
    stdout = run([sys.executable, str(EXAMPLES / "across_processes" / "demo.py"),
                  "--endpoint", phoenix.url, "--project", project], tmp_path)
    assert "coordinator: Sunny today; rain tomorrow." in stdout
    trace_ids = dict((name, trace_id) for trace_id, name in
                     re.findall(r"^  trace ([0-9a-f]{32})  (.+)$", stdout, re.MULTILINE))
    trace_id = trace_ids["invoke_agent coordinator"]

    def arrived(spans: list[dict]) -> bool:
        names = {s["name"] for s in spans}
        return {"lookup weather", "invoke_agent coordinator"} <= names and sum(
            s["name"] == "chat scripted-model" for s in spans) == 3

    spans = []
    for _ in range(120):
        spans = [s for s in phoenix.spans(project) if s["context"]["trace_id"] == trace_id]
        if arrived(spans):
            break
        import time

        time.sleep(0.5)
    listings = [s for s in spans if s["name"] == "tools/list"]
    shown = [s for s in spans if s["name"] != "tools/list"]
    assert _render(shown) == expected(TREE)
    # Each client listing has the server's listing under it, in the same trace.
    by_id = {s["context"]["span_id"]: s for s in spans}
    servers = [s for s in listings if by_id[s["parent_id"]]["name"] == "tools/list"]
    assert listings and len(servers) * 2 == len(listings)
    # Every process's spans are in this one trace.
    services = {s["attributes"].get("service.name") for s in spans} - {None}
    assert not services or services == {"coordinator", "mcp-weather", "a2a-forecaster"}
