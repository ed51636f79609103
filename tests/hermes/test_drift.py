"""Drift: a call point we patch, missing from the installed Hermes release."""

from __future__ import annotations

import run_agent

from opentelemetry.instrumentation.agents.hermes import HermesAgentInstrumentor
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)
from tests.runtimes import drifted

from .support import NUMBERS, TOOL_ROUND_TREE, add_numbers, make_agent, tools

# `AIAgent._handle_max_iterations` (only reached at the iteration limit) is
# the one a release "drops" here; these stay.
KEPT = ["run_conversation", "_interruptible_streaming_api_call", "_interruptible_api_call",
        "_invoke_tool"]


def test_missing_method_warns_once_and_the_rest_is_traced(provider, exporter, caplog,
                                                           monkeypatch, detector, server):
    agent_class = run_agent.AIAgent
    srv = server([tool_calls([ToolCall("add_numbers", {"a": 1, "b": 2})]), text("3")])
    with drifted(HermesAgentInstrumentor, provider, caplog, monkeypatch,
                 dropped=(agent_class, "_handle_max_iterations"),
                 kept=[(agent_class, name) for name in KEPT],
                 warns="run_agent.AIAgent._handle_max_iterations"), \
            tools(add_numbers=(add_numbers, NUMBERS)):
        make_agent(srv.base_url).run_conversation("[conv:drift]")

    assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    detector.assert_all_ended()
