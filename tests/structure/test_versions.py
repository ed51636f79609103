"""One source of truth for the supported runtime versions: the extras of pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from opentelemetry.instrumentation.agents import package

ROOT = Path(__file__).resolve().parents[2]


def _extras() -> dict[str, Requirement]:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    return {name: Requirement(extras[name][0])
            for name in ("agentscope", "agentscope1", "hermes", "praisonai")}


def _range(requirement: str) -> tuple[str, str]:
    specs = {spec.operator: spec.version for spec in Requirement(requirement).specifier}
    return specs[">="], specs["<"]


def test_the_instrumentors_check_the_extras_ranges():
    extras = _extras()
    assert _range(package.HERMES_AGENT) == _range(str(extras["hermes"]))
    assert _range(package.PRAISONAI_AGENTS) == _range(str(extras["praisonai"]))
    # AgentScope's two lines, one range: from 1.x's lower bound to 2.x's upper.
    assert _range(package.AGENTSCOPE) == (_range(str(extras["agentscope1"]))[0],
                                          _range(str(extras["agentscope"]))[1])


def test_the_compatibility_page_states_the_extras_ranges():
    compatibility = (ROOT / "docs" / "compatibility.md").read_text()
    stated = set(re.findall(r"`([a-z-]+>=[^`]+)`", compatibility))
    for requirement in _extras().values():
        ordered = f"{requirement.name}>={_range(str(requirement))[0]},<{_range(str(requirement))[1]}"
        assert ordered in stated, f"docs/compatibility.md does not state {ordered}"
