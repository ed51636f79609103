from __future__ import annotations

import pytest

from tests.runtimes import installed_major, instrumented_with

# This directory exercises the 1.x line; an environment built for another
# line does not collect it (it is not a skip: those tests do not apply there).
if installed_major("agentscope") != 1:
    collect_ignore_glob = ["test_*.py", "support.py"]


@pytest.fixture
def instrumented(provider):
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    with instrumented_with(AgentScopeInstrumentor, provider) as instrumentor:
        yield instrumentor
