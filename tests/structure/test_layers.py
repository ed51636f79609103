"""The layering rule, enforced on the source: adapters say where, the core says what.

An adapter (agentscope/, hermes/, praisonai/, mcp/, a2a/) reaches the core only
through the handler and the modules public to adapters, never through
`_operations` (the handler's private implementation). A new core module an
adapter needs is added to `ADAPTER_MAY_IMPORT` on purpose, not by accident.
"""

from __future__ import annotations

from .imports import PACKAGE, imports, modules

ADAPTERS = ("agentscope", "hermes", "praisonai", "mcp", "a2a")

# The core as adapters see it (see docs/architecture.md).
ADAPTER_MAY_IMPORT = frozenset(f"{PACKAGE}.{name}" for name in (
    "_handler", "_context", "_values", "_invocations", "_patching", "attributes",
    # shared helpers for the runtime-facing side: message shapes, request and
    # usage reading, streams, the per-agent registry, propagation, safety,
    # settings, the instrumentor base and the version requirements.
    "_genai_messages", "_content", "_request", "_usage", "_streams", "_registry",
    "_propagation", "_safety", "_settings", "_instrumentor", "package",
))

# Adapters that build on another adapter's public layer (the MCP and A2A
# spans of a runtime's own MCP client / A2A agent).
CROSS_ADAPTER = frozenset({
    ("agentscope", f"{PACKAGE}.mcp._client"),
    ("praisonai", f"{PACKAGE}.mcp._client"),
})


def _violations(known) -> list[str]:
    found = []
    for module, path in known.items():
        adapter = module[len(PACKAGE) + 1:].split(".")[0]
        if adapter not in ADAPTERS:
            continue
        for target, line in imports(module, path, known):
            if not target.startswith(PACKAGE + ".") or target == PACKAGE:
                continue  # the runtime, the API, the standard library
            if target.startswith(f"{PACKAGE}.{adapter}.") or target == f"{PACKAGE}.{adapter}":
                continue  # its own package
            if target in ADAPTER_MAY_IMPORT or (adapter, target) in CROSS_ADAPTER:
                continue
            found.append(f"{path.name}:{line} ({module}) imports {target}")
    return found


def test_adapters_reach_the_core_only_through_the_handler_and_its_public_helpers():
    assert _violations(modules()) == []


def test_the_rule_sees_a_reach_into_operations(tmp_path):
    """A test that cannot fail is a defect: a planted violation is found."""
    planted = tmp_path / "_planted.py"
    planted.write_text("from .._operations._base import HandlerBase\n"
                       "from .. import _operations\n"
                       "from opentelemetry.instrumentation.agents._operations import chat\n")
    known = {**modules(), f"{PACKAGE}.a2a._planted": planted}
    found = [v for v in _violations(known) if "_planted" in v]
    assert len(found) == 3 and all("_operations" in v for v in found)
