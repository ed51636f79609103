from __future__ import annotations

from importlib import metadata

import pytest


def _agentscope_major() -> int | None:
    try:
        return int(metadata.version("agentscope").split(".")[0])
    except metadata.PackageNotFoundError:
        return None


# This directory exercises the 1.x line; an environment built for another
# line does not collect it (it is not a skip: those tests do not apply there).
if _agentscope_major() != 1:
    collect_ignore_glob = ["test_*.py", "support.py"]


@pytest.fixture
def instrumented(provider):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()
