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

import importlib
from typing import Any

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

# Loaded on first use: the tree helpers need the OpenTelemetry SDK, and the
# scripted server (`python -m ...testing.scripted_server`) and the pytest
# plugin must import without it.
_WHERE = {"OpenSpanDetector": ".open_spans", "ScriptedOpenAIServer": ".openai_server",
          **{name: ".trees" for name in ("SpanNode", "TreeMismatch", "assert_isolated",
                                         "assert_tree", "build_trees", "match_tree",
                                         "render")}}

SDK_MISSING = ("opentelemetry.instrumentation.agents.testing needs the OpenTelemetry SDK "
               "(opentelemetry-sdk), which is not installed: "
               "pip install 'opentelemetry-instrumentation-agents[testing]'")


def import_needing_sdk(module: str) -> Any:
    """`module` (relative to this package), or an ImportError that says what to install."""
    try:
        return importlib.import_module(module, __name__)
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("opentelemetry.sdk"):
            raise ImportError(SDK_MISSING, name=exc.name) from exc
        raise


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(name)
    return getattr(import_needing_sdk(_WHERE[name]), name)
