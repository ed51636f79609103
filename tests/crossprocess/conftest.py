from __future__ import annotations

import os
from importlib import util

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from opentelemetry.instrumentation.agents.testing.otlp_receiver import OTLPReceiver
from tests.runtimes import installed_major

# a2a-sdk's own per-method spans are beside the point of these trees (read
# when a2a is first imported).
os.environ["OTEL_INSTRUMENTATION_A2A_SDK_ENABLED"] = "false"

# The AgentScope parts are 2.x; the 1.x environment runs its own directory.
collect_ignore_glob = []
if installed_major("agentscope") != 2:
    collect_ignore_glob.append("test_*agentscope2*.py")
if util.find_spec("praisonaiagents") is None:
    collect_ignore_glob.append("test_*praisonai*.py")


@pytest.fixture
def receiver():
    with OTLPReceiver() as receiver:
        yield receiver


@pytest.fixture
def host_provider(provider, receiver):
    """The test process's provider, exporting to the receiver as the servers do."""
    processor = SimpleSpanProcessor(OTLPSpanExporter(endpoint=receiver.traces_url, timeout=5))
    provider.add_span_processor(processor)
    yield provider
    processor.shutdown()
