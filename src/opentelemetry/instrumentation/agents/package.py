"""The runtimes this distribution instruments, as requirement strings.

`BaseInstrumentor` checks these against what is installed before it patches
anything, so an instrumentor stays inert where its runtime is missing.

The supported versions have one source: the extras of ``pyproject.toml``
(``agentscope``, ``agentscope1``, ``hermes``, ``praisonai``), read here from
our own distribution's metadata. Where that cannot be read (a source tree
on ``sys.path`` without the distribution installed), each runtime's whole
major range is accepted instead (`_FALLBACK`).
"""

from __future__ import annotations

from importlib import metadata

from packaging.requirements import Requirement
from packaging.version import Version

_DISTRIBUTION = "opentelemetry-instrumentation-agents"

# Extra -> the runtime distribution it pins.
_EXTRAS = {"agentscope": "agentscope", "agentscope1": "agentscope",
           "hermes": "hermes-agent", "praisonai": "praisonaiagents"}
_FALLBACK = {"agentscope": "agentscope >= 1.0, < 3", "hermes-agent": "hermes-agent >= 0.13, < 1",
             "praisonaiagents": "praisonaiagents >= 1.7, < 2"}


def _extras() -> dict[str, list[Requirement]]:
    """The runtime requirements of our extras, by runtime distribution."""
    found: dict[str, list[Requirement]] = {}
    try:
        requires = metadata.requires(_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return found
    for line in requires:
        try:
            requirement = Requirement(line)
        except Exception:  # noqa: BLE001 - a line we cannot read is not ours to judge
            continue
        marker = requirement.marker
        for extra, runtime in _EXTRAS.items():
            if requirement.name == runtime and marker is not None \
                    and marker.evaluate({"extra": extra}) and not marker.evaluate({"extra": ""}):
                found.setdefault(runtime, []).append(requirement)
    return found


def _bound(specs: list, operator: str, pick) -> str | None:
    versions = [spec.version for spec in specs if spec.operator == operator]
    return pick(versions, key=Version) if versions else None


def _requirement(runtime: str, found: dict[str, list[Requirement]]) -> str:
    """`runtime`'s supported range: from the lowest lower bound of its extras
    to the highest upper bound (AgentScope's two lines make one range)."""
    specs = [spec for requirement in found.get(runtime, ()) for spec in requirement.specifier]
    low, high = _bound(specs, ">=", min), _bound(specs, "<", max)
    if low is None or high is None:
        return _FALLBACK[runtime]
    return f"{runtime} >= {low}, < {high}"


_found = _extras()
AGENTSCOPE = _requirement("agentscope", _found)
HERMES_AGENT = _requirement("hermes-agent", _found)
PRAISONAI_AGENTS = _requirement("praisonaiagents", _found)

_instruments = (AGENTSCOPE, HERMES_AGENT, PRAISONAI_AGENTS)
MCP = "mcp >= 1.0, < 3"
A2A_SDK = "a2a-sdk >= 1.0, < 2"
