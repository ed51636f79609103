"""The coverage table: parsed from docs/coverage.md, compared with what runs emit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "docs" / "coverage.md"
BEGIN = "<!-- semconv-coverage:begin -->"
END = "<!-- semconv-coverage:end -->"
RUNTIMES = ("AgentScope 2.x", "AgentScope 1.x", "Hermes Agent", "PraisonAI Agents")
HEADER = ("key", "kind", "operations", *RUNTIMES)
KINDS = ("attribute", "metric")
SCOPE = "opentelemetry.instrumentation.agents"
# Our own extension namespace: listed in the README's attribute section, not here.
OWN = "agents."


@dataclass(frozen=True)
class Row:
    key: str
    kind: str
    operations: str
    cells: dict[str, str] = field(hash=False)

    def emitted(self, runtime: str) -> bool:
        return self.cells[runtime].split(":", 1)[0].strip() == "yes"


def _cells(line: str) -> list[str]:
    assert line.startswith("|") and line.endswith("|"), line
    return [cell.strip() for cell in line[1:-1].split("|")]


def table(text: str | None = None) -> dict[str, Row]:
    """The table between the marker comments, strictly read: the header as
    `HEADER`, one row per key, every runtime cell ``yes`` or ``no``, each
    optionally followed by ``: why``."""
    text = README.read_text(encoding="utf-8") if text is None else text
    assert text.count(BEGIN) == 1 and text.count(END) == 1, "the table's markers"
    body = text.split(BEGIN, 1)[1].split(END, 1)[0]
    lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
    assert tuple(_cells(lines[0])) == HEADER, lines[0]
    assert set(lines[1].replace("|", "").replace("-", "").replace(":", "")) <= {" ", ""}
    rows: dict[str, Row] = {}
    for line in lines[2:]:
        cells = _cells(line)
        assert len(cells) == len(HEADER), line
        match = re.fullmatch(r"`([a-z0-9_.]+)`", cells[0])
        assert match, f"a key in backticks: {cells[0]}"
        key = match.group(1)
        assert key not in rows, f"{key} listed twice"
        assert cells[1] in KINDS, line
        runtime_cells = dict(zip(RUNTIMES, cells[3:], strict=True))
        for runtime, cell in runtime_cells.items():
            verdict = cell.split(":", 1)[0].strip()
            assert verdict in ("yes", "no"), f"{key}, {runtime}: {cell!r}"
            if verdict == "no":
                assert cell.split(":", 1)[1:] and cell.split(":", 1)[1].strip(), \
                    f"{key}, {runtime}: a 'no' says why"
        rows[key] = Row(key, cells[1], cells[2], runtime_cells)
    assert rows, "an empty table"
    return rows


def _attribute_keys(attributes: Any) -> set[str]:
    return set(attributes or ())


class Collector:
    """Instruments runtimes with in-memory providers and reads back every key:
    span attributes, span event attributes, metric names and their points'
    attributes, log record (details event) attributes."""

    def __init__(self, tracer_provider: Any, meter_provider: Any, logger_provider: Any,
                 exporter: Any, reader: Any, logs: Any) -> None:
        self.providers = {"tracer_provider": tracer_provider,
                          "meter_provider": meter_provider,
                          "logger_provider": logger_provider}
        self.exporter, self.reader, self.logs = exporter, reader, logs
        self.active: list[Any] = []

    def instrument(self, instrumentor_class: Any) -> Any:
        instrumentor = instrumentor_class()
        instrumentor.instrument(**self.providers)
        self.active.append(instrumentor)
        return instrumentor

    def uninstrument(self) -> None:
        while self.active:
            self.active.pop().uninstrument()

    def spans(self) -> list[Any]:
        return list(self.exporter.get_finished_spans())

    def attribute_keys(self) -> set[str]:
        keys: set[str] = set()
        for span in self.spans():
            keys |= _attribute_keys(span.attributes)
            for event in span.events:
                keys |= _attribute_keys(event.attributes)
        for points in self.metrics().values():
            for point in points:
                keys |= _attribute_keys(point.attributes)
        for data in self.logs.get_finished_logs():
            keys |= _attribute_keys(data.log_record.attributes)
        return keys

    def metrics(self) -> dict[str, list[Any]]:
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                if scope_metrics.scope.name == SCOPE:
                    for metric in scope_metrics.metrics:
                        found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found


def assert_column_matches(runtime: str, collector: Collector) -> None:
    """The runtime's column says exactly what the runs emitted: every key seen
    (outside our own namespace) is a row marked yes, every row marked yes was
    seen. The runs must have produced spans at all."""
    spans = collector.spans()
    assert len(spans) >= 10, "representative runs made spans"
    rows = table()
    seen = {k for k in collector.attribute_keys() if not k.startswith(OWN)}
    metrics = {m for m in collector.metrics() if not m.startswith(OWN)}
    unlisted = sorted((seen | metrics) - set(rows))
    assert not unlisted, f"emitted but not in the coverage table (docs/coverage.md): {unlisted}"
    for kind, found in (("attribute", seen), ("metric", metrics)):
        listed = {key for key, row in rows.items() if row.kind == kind}
        wrong_kind = sorted(found - listed)
        assert not wrong_kind, f"emitted as {kind}, listed as another kind: {wrong_kind}"
        said = {key for key in listed if rows[key].emitted(runtime)}
        assert not sorted(found - said), (
            f"{runtime} emits {kind}s its column says it does not: {sorted(found - said)}")
        assert not sorted(said - found), (
            f"{runtime}'s column says yes, no run emitted: {sorted(said - found)}")
