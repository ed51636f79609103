"""Assert agent span trees in your own tests.

    from opentelemetry.instrumentation.agents.testing import assert_tree

    assert_tree(exporter.get_finished_spans(), '''
        invoke_agent helper
          react step {gen_ai.react.round=1}
            chat gpt-4o
            execute_tool get_weather
          react step {gen_ai.react.round=2}
            chat gpt-4o
    ''')

Needs `opentelemetry-sdk` (install the ``testing`` extra). The pytest plugin
(`opentelemetry.instrumentation.agents.testing.pytest_plugin`, registered
automatically) offers fixtures built on these helpers, and
`ScriptedOpenAIServer` runs agents that speak the OpenAI chat API offline.
"""

from __future__ import annotations

from typing import Any

from .open_spans import OpenSpanDetector
from .trees import (
    SpanNode,
    TreeMismatch,
    assert_isolated,
    assert_tree,
    build_trees,
    match_tree,
    render,
)

__all__ = [
    "OpenSpanDetector",
    "ScriptedOpenAIServer",
    "SpanNode",
    "TreeMismatch",
    "assert_isolated",
    "assert_tree",
    "build_trees",
    "match_tree",
    "render",
]


def __getattr__(name: str) -> Any:
    # The server pulls in http.server and friends; load it only when asked.
    if name == "ScriptedOpenAIServer":
        from .openai_server import ScriptedOpenAIServer

        return ScriptedOpenAIServer
    raise AttributeError(name)
