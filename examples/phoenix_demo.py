"""Three real agents, traced into Arize Phoenix over OTLP/HTTP, offline.

Runs the AgentScope agent of `agentscope_demo.py`, the Hermes agent of
`hermes_demo.py` and the PraisonAI team of `praisonai_team_demo.py` (their
models are scripted, so no network and no API key), with spans exported by
OTLP/HTTP to a Phoenix server. Start one first, on 127.0.0.1:6006:

    python scripts/phoenix_server.py          # needs .venv-phoenix: `make phoenix` does both
    python examples/phoenix_demo.py           # then open http://127.0.0.1:6006

The collector is `--endpoint`, else `$PHOENIX_COLLECTOR_ENDPOINT` (a server's
base URL or its `/v1/traces`), else http://127.0.0.1:6006/v1/traces. Spans go
to the Phoenix project `--project` (resource attribute
`openinference.project.name`). The script prints each trace's id and exits
non-zero if Phoenix did not accept every span.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import shutil
import sys
import threading

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from opentelemetry.instrumentation.agents import AgentsInstrumentor
from opentelemetry.instrumentation.agents.testing.openai_server import ScriptedOpenAIServer

# The other demos live beside this file: reuse their agents as they are.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import agentscope_demo
import hermes_demo
import praisonai_team_demo

DEFAULT_ENDPOINT = "http://127.0.0.1:6006/v1/traces"
PROJECT_NAME_KEY = "openinference.project.name"  # how Phoenix picks a span's project
QUESTION = "What is the weather in Lisbon?"


def traces_endpoint(endpoint: str) -> str:
    """A collector address as Phoenix writes it (base URL) or as OTLP does (/v1/traces)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else endpoint + "/v1/traces"


class CheckedExporter(SpanExporter):
    """Forwards to the real exporter and remembers whether any batch failed."""

    def __init__(self, exporter: SpanExporter):
        self._exporter = exporter
        self.exported = 0
        self.failed = 0

    def export(self, spans):
        result = self._exporter.export(spans)
        if result is SpanExportResult.SUCCESS:
            self.exported += len(spans)
        else:
            self.failed += len(spans)
        return result

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


class RootSpans(SpanProcessor):
    """Records (name, trace id) of every root span, to print where each tree is."""

    def __init__(self):
        self.roots: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        if span.parent is None:
            with self._lock:
                self.roots.append((span.name, format(span.context.trace_id, "032x")))


def run_agentscope() -> str:
    return asyncio.run(agentscope_demo.ask(QUESTION))


def run_hermes(homes: list[str]) -> str:
    homes.append(hermes_demo.isolate_hermes())  # a throw-away HOME / HERMES_HOME
    return hermes_demo.ask(QUESTION)


def run_praisonai(homes: list[str]) -> str:
    with ScriptedOpenAIServer(praisonai_team_demo.SCRIPTS) as server:
        praisonai_team_demo._offline_environment(server.base_url)  # and a throw-away HOME
        homes.append(os.environ["HOME"])
        return praisonai_team_demo.run_team()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default=os.environ.get("PHOENIX_COLLECTOR_ENDPOINT")
                        or DEFAULT_ENDPOINT, help="OTLP/HTTP traces endpoint of Phoenix")
    parser.add_argument("--project", default=os.environ.get("PHOENIX_PROJECT_NAME")
                        or "agents-demo", help="Phoenix project to put the traces in")
    parser.add_argument("--service-name", default="agents-phoenix-demo")
    args = parser.parse_args(argv)
    endpoint = traces_endpoint(args.endpoint)

    exporter = CheckedExporter(OTLPSpanExporter(endpoint=endpoint, timeout=10))
    roots = RootSpans()
    provider = TracerProvider(resource=Resource.create({
        SERVICE_NAME: args.service_name, PROJECT_NAME_KEY: args.project}))
    provider.add_span_processor(roots)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    instrumentor = AgentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider)

    home, homes = os.environ.get("HOME"), []
    try:
        print(f"agentscope: {run_agentscope()}")
        print(f"hermes:     {run_hermes(homes)}")
        print(f"praisonai:  {run_praisonai(homes)}")
    finally:
        provider.force_flush()
        provider.shutdown()
        instrumentor.uninstrument()
        for temporary in homes:
            shutil.rmtree(temporary, ignore_errors=True)
        if home is not None:
            os.environ["HOME"] = home

    print(f"\n{exporter.exported} spans sent to {endpoint} (project {args.project}):")
    for name, trace_id in roots.roots:
        print(f"  trace {trace_id}  {name}")
    if exporter.failed or not exporter.exported:
        print(f"{exporter.failed} spans were not accepted by {endpoint}: is Phoenix running "
              "there? (`make phoenix` starts one on 127.0.0.1:6006)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
