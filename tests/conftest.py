"""Shared fixtures: an SDK tracer provider feeding an in-memory exporter and
an open-span detector. The testing kit's own pytest plugin is loaded through
its entry point once the package is installed; these fixtures are the ones
our suite uses directly."""

from __future__ import annotations

import os
import tempfile

import pytest

# Nothing under test may write to the real home directory.
_HOME = tempfile.mkdtemp(prefix="otel-agents-home-")
os.environ["HOME"] = _HOME
os.environ["HERMES_HOME"] = os.path.join(_HOME, ".hermes")
# LiteLLM (PraisonAI's LLM class) would fetch its model cost map from GitHub
# on import; the copy it ships is enough.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"


@pytest.fixture(autouse=True)
def _fresh_fault_log(monkeypatch):
    """Each test sees our first-fault warnings afresh (they are once per place)."""
    from opentelemetry.instrumentation.agents import _safety

    monkeypatch.setattr(_safety, "_seen", set())


@pytest.fixture
def exporter(span_exporter):
    return span_exporter


@pytest.fixture
def detector(open_span_detector):
    return open_span_detector


@pytest.fixture
def provider(agents_tracer_provider):
    return agents_tracer_provider
