"""The coverage table itself: complete for the installed semantic conventions,
nothing else in it, and every convention key our code can set listed."""

from __future__ import annotations

import re
from pathlib import Path

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics

from opentelemetry.instrumentation.agents import attributes as A

from .support import BEGIN, END, HEADER, RUNTIMES, table

SRC = Path(A.__file__).resolve().parent
# Keys of other conventions the table covers, as the issue asks.
EXTRA = {"server.address", "server.port", "error.type", "exception.type",
         "exception.message", "exception.stacktrace"}
# Keys of the ReAct extension other agent instrumentations emit (`attributes.py`).
REACT = {A.REACT_ROUND, A.REACT_FINISH_REASON}
# Keys of the current GenAI conventions (what opentelemetry-util-genai 1.3b0
# emits) that the installed semantic-conventions package has no constant for yet.
CURRENT_ATTRIBUTES = {A.RETRIEVAL_TOP_K, A.USAGE_CACHE_WRITE_INPUT_TOKENS}
CURRENT_METRICS = {A.METRIC_INVOKE_AGENT_DURATION, A.METRIC_EXECUTE_TOOL_DURATION,
                   A.METRIC_INVOKE_WORKFLOW_DURATION}
# The GenAI events' names, constants of `attributes.py` and not attributes.
EVENTS = {A.EVENT_INFERENCE_DETAILS, A.EVENT_EVALUATION_RESULT}


def _constants(module) -> set[str]:
    return {value for name, value in vars(module).items()
            if name.isupper() and isinstance(value, str)}


def _convention_attributes() -> set[str]:
    return {v for v in _constants(gen_ai_attributes) if v.startswith("gen_ai.")}


def _convention_metrics() -> set[str]:
    return {v for v in _constants(gen_ai_metrics) if v.startswith("gen_ai.")}


def test_the_table_lists_every_genai_key_of_the_installed_conventions_and_nothing_else():
    rows = table()
    attributes = {k for k, r in rows.items() if r.kind == "attribute"}
    metrics = {k for k, r in rows.items() if r.kind == "metric"}
    assert _convention_attributes() | EXTRA | REACT | CURRENT_ATTRIBUTES == attributes
    assert _convention_metrics() | CURRENT_METRICS == metrics


def test_every_convention_key_our_code_names_is_in_the_table():
    """Every key `attributes.py` takes from the GenAI (and server, error)
    conventions, or adds to their namespace, is a row; and no row says yes for
    a key our code cannot set."""
    rows = table()
    ours = {v for v in _constants(A)
            if v.startswith("gen_ai.") or v in EXTRA} - EVENTS
    assert ours - set(rows) == set()
    said = {k for k, r in rows.items() if any(r.emitted(rt) for rt in RUNTIMES)}
    assert said - ours == set(), "yes for a key no constant of ours names"


def test_convention_keys_are_only_named_in_attributes_py():
    """So the check above sees every key: no other module of ours spells one."""
    pattern = re.compile(r"""["'](gen_ai|server|error)\.[a-z_.]+["']""")
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "attributes.py" or "testing" in path.relative_to(SRC).parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_parser_is_strict():
    good = "\n".join([BEGIN, "| " + " | ".join(HEADER) + " |",
                      "|" + "---|" * len(HEADER),
                      "| `gen_ai.x` | attribute | chat | yes | no: none | yes | no: none |",
                      END])
    assert table(good)["gen_ai.x"].emitted("AgentScope 2.x")
    assert not table(good)["gen_ai.x"].emitted("AgentScope 1.x")
    for bad in (good.replace("no: none |", "no |", 1),      # a no without its reason
                good.replace("| yes | no", "| maybe | no"),  # neither yes nor no
                good.replace("`gen_ai.x`", "gen_ai.x"),      # not a key
                good.replace("attribute", "atribute"),
                good.replace(END, ""),
                good.replace("| chat |", "|")):
        try:
            table(bad)
        except AssertionError:
            continue
        raise AssertionError(f"accepted: {bad}")
