"""The demos' traces as Arize Phoenix stores and classifies them.

Each test runs a demo as a user would (a subprocess with this environment's
interpreter, offline, exporting OTLP/HTTP to the Phoenix server of the
session), then reads the spans back through Phoenix's REST API
(`GET /v1/projects/{project}/spans`) and compares whole trees: names, parent
links, and the span kind Phoenix gives each span.

Phoenix (20.26) derives the kind from `gen_ai.operation.name` when a span has
no `openinference.span.kind` of its own (phoenix/trace/gen_ai/conversion.py):
invoke_agent -> AGENT, chat -> LLM, execute_tool -> TOOL; any other operation
(our `react` steps, `invoke_workflow`) -> UNKNOWN. It also copies
`gen_ai.usage.*` to `llm.token_count.*` (on agent spans too; its trace token
totals add up LLM spans only) and, on TOOL spans, `gen_ai.tool.name` to
`tool.name`: what its UI reads.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# One span per line: name [the span kind Phoenix gives it] {attributes Phoenix
# derived: tokens=llm.token_count.prompt/llm.token_count.completion, tool.name}.

AGENTSCOPE = """
    invoke_agent weather-assistant [AGENT] {tokens=273/42}
      react step [UNKNOWN]
        chat scripted-gpt [LLM] {tokens=112/18}
        execute_tool get_weather [TOOL] {tool.name=get_weather}
      react step [UNKNOWN]
        chat scripted-gpt [LLM] {tokens=161/24}
"""

HERMES = """
    invoke_agent hermes [AGENT] {tokens=273/42}
      react step [UNKNOWN]
        chat scripted-gpt [LLM] {tokens=112/18}
        execute_tool get_weather [TOOL] {tool.name=get_weather}
      react step [UNKNOWN]
        chat scripted-gpt [LLM] {tokens=161/24}
"""

PRAISONAI = """
    invoke_workflow weather-desk [UNKNOWN]
      invoke_agent researcher [AGENT] {tokens=273/30}
        react step [UNKNOWN]
          chat gpt-4o-mini [LLM] {tokens=112/18}
          execute_tool get_weather [TOOL] {tool.name=get_weather}
        react step [UNKNOWN]
          chat gpt-4o-mini [LLM] {tokens=161/12}
      invoke_agent writer [AGENT] {tokens=95/17}
        react step [UNKNOWN]
          chat gpt-4o-mini [LLM] {tokens=95/17}
"""


def run(args: list[str], home: pathlib.Path, **env: str) -> str:
    """Run a command offline with `home` as HOME and cwd; return its stdout."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("OPENAI_", "OTEL_", "HERMES_", "PHOENIX_"))}
    clean.update(env, HOME=str(home))
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=home, env=clean)
    assert out.returncode == 0, f"{args} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def by_trace(spans: list[dict]) -> dict[str, list[dict]]:
    traces: dict[str, list[dict]] = {}
    for span in spans:
        traces.setdefault(span["context"]["trace_id"], []).append(span)
    return traces


def render(spans: list[dict]) -> str:
    """One trace as text; checks its parent links on the way."""
    ids = {s["context"]["span_id"] for s in spans}
    assert len(ids) == len(spans), "duplicate span ids"
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
        attributes = span["attributes"]
        shown = []
        if "llm.token_count.prompt" in attributes:
            shown.append(f"tokens={attributes['llm.token_count.prompt']}"
                         f"/{attributes['llm.token_count.completion']}")
        if "tool.name" in attributes:
            shown.append(f"tool.name={attributes['tool.name']}")
        lines.append("  " * depth + f"{span['name']} [{span['span_kind']}]"
                     + (" {" + ", ".join(shown) + "}" if shown else ""))
        for child in sorted(children.get(span["context"]["span_id"], []),
                            key=lambda s: s["start_time"]):
            walk(child, depth + 1)

    walk(roots[0], 0)
    assert len(lines) == len(spans)
    return "\n".join(lines)


def expected(tree: str) -> str:
    return textwrap.dedent(tree).strip()


ROOT_SPAN = """
query ($project: ID!, $trace: ID!) {
  node(id: $project) {
    ... on Project {
      trace(traceId: $trace) { rootSpan { name spanKind cumulativeTokenCountTotal } }
    }
  }
}
"""


def root_span(phoenix, project_id: str, trace_id: str) -> dict:
    data = phoenix.graphql(ROOT_SPAN, project=project_id, trace=trace_id)
    return data["node"]["trace"]["rootSpan"]


def test_phoenix_demo_traces(phoenix, tmp_path):
    project = "agents-e2e"
    stdout = run([sys.executable, str(EXAMPLES / "phoenix_demo.py"),
                  "--endpoint", phoenix.url, "--project", project], tmp_path)
    printed = dict((name, trace_id) for trace_id, name in
                   re.findall(r"^  trace ([0-9a-f]{32})  (.+)$", stdout, re.MULTILINE))
    assert sorted(printed) == ["invoke_agent hermes", "invoke_agent weather-assistant",
                               "invoke_workflow weather-desk"]
    assert "22 spans sent" in stdout

    spans = phoenix.wait_for_spans(project, 22)
    assert len(spans) == 22
    traces = by_trace(spans)
    assert set(traces) == set(printed.values())
    assert render(traces[printed["invoke_agent weather-assistant"]]) == expected(AGENTSCOPE)
    assert render(traces[printed["invoke_agent hermes"]]) == expected(HERMES)
    assert render(traces[printed["invoke_workflow weather-desk"]]) == expected(PRAISONAI)

    # Phoenix's trace token totals (GraphQL, what its UI shows) add up the LLM
    # spans only: the sums on our agent spans are not counted twice.
    project_id = phoenix.get_json(f"/v1/projects/{project}")["data"]["id"]
    totals = {name: root_span(phoenix, project_id, trace_id)["cumulativeTokenCountTotal"]
              for name, trace_id in printed.items()}
    assert totals == {"invoke_agent weather-assistant": 112 + 18 + 161 + 24,
                      "invoke_agent hermes": 112 + 18 + 161 + 24,
                      "invoke_workflow weather-desk": 112 + 18 + 161 + 12 + 95 + 17}

    # The resource attribute put them in their project, not Phoenix's default one.
    assert phoenix.spans("default") == []
    agents = {s["attributes"]["gen_ai.agent.name"]: s for s in spans if s["span_kind"] == "AGENT"}
    assert {name: s["attributes"]["agents.runtime"] for name, s in agents.items()} == {
        "weather-assistant": "agentscope", "hermes": "hermes",
        "researcher": "praisonai", "writer": "praisonai"}


def test_zero_code_otlp_into_phoenix(phoenix, tmp_path):
    """`opentelemetry-instrument` with the OTLP/HTTP exporter, nothing in the code."""
    project = "agents-e2e-zero-code"
    launcher = pathlib.Path(sys.executable).with_name("opentelemetry-instrument")
    run([str(launcher), sys.executable, str(EXAMPLES / "agentscope_demo.py")], tmp_path,
        OTEL_TRACES_EXPORTER="otlp_proto_http", OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=phoenix.otlp_endpoint,
        OTEL_SERVICE_NAME="agents-zero-code",
        OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={project}")

    spans = phoenix.wait_for_spans(project, 6)
    traces = by_trace(spans)
    assert len(traces) == 1
    assert render(next(iter(traces.values()))) == expected(AGENTSCOPE)
