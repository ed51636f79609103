"""AgentScope 1.x beside the provider-level GenAI instrumentations (`make test`
runs this directory in `.venv-genai-agentscope1`, built from
requirements-genai-agentscope1.txt on top of `.venv-agentscope1`).

An environment without AgentScope 1.x, opentelemetry-util-genai and the
provider instrumentations does not collect these tests (it is not a skip:
they do not apply there).
"""

from __future__ import annotations

from tests.genai_stack.conftest import _NEEDED, _installed
from tests.runtimes import installed_major

if installed_major("agentscope") == 1 and all(_installed(name) for name in _NEEDED):
    from tests.genai_stack.conftest import (  # noqa: F401 - fixtures
        meter_provider,
        metric_reader,
        stack,
    )
else:
    collect_ignore_glob = ["test_*.py"]
