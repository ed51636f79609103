"""The testing kit checks itself: trees, diffs, isolation, open spans."""

from __future__ import annotations

import pytest

from opentelemetry import trace
from opentelemetry.instrumentation.agents.testing import (
    TreeMismatch,
    assert_isolated,
    assert_tree,
    build_trees,
    render,
)

SHAPE = """
invoke_agent bot
  react step {gen_ai.react.round=1}
    chat m
    execute_tool t *2
  react step {gen_ai.react.round=2}
    chat m
"""


def _emit(tracer, *, skip_tool=False, misplace_chat=False, tools=2):
    with tracer.start_as_current_span("invoke_agent bot"):
        with tracer.start_as_current_span("react step", attributes={"gen_ai.react.round": 1}):
            with tracer.start_as_current_span("chat m"):
                pass
            for _ in range(tools - (1 if skip_tool else 0)):
                with tracer.start_as_current_span("execute_tool t"):
                    pass
        with tracer.start_as_current_span("react step", attributes={"gen_ai.react.round": 2}):
            if not misplace_chat:
                with tracer.start_as_current_span("chat m"):
                    pass
        if misplace_chat:
            with tracer.start_as_current_span("chat m"):
                pass


def test_matching_tree_passes_and_renders(provider, exporter):
    _emit(provider.get_tracer("t"))
    tree = assert_tree(exporter.get_finished_spans(), SHAPE)
    assert render(tree, ["gen_ai.react.round"]) == (
        "invoke_agent bot\n"
        "  react step {gen_ai.react.round=1}\n"
        "    chat m\n"
        "    execute_tool t\n"
        "    execute_tool t\n"
        "  react step {gen_ai.react.round=2}\n"
        "    chat m")


def test_missing_span_fails_with_readable_diff(provider, exporter):
    _emit(provider.get_tracer("t"), skip_tool=True)
    with pytest.raises(TreeMismatch) as caught:
        assert_tree(exporter.get_finished_spans(), SHAPE)
    text = str(caught.value)
    assert "--- expected" in text and "+++ actual" in text
    assert "-    execute_tool t" in text  # the missing line is named
    assert "actual tree:" in text


def test_misplaced_span_fails_with_readable_diff(provider, exporter):
    _emit(provider.get_tracer("t"), misplace_chat=True)
    with pytest.raises(TreeMismatch) as caught:
        assert_tree(exporter.get_finished_spans(), SHAPE)
    text = str(caught.value)
    assert "-    chat m" in text and "+  chat m" in text  # expected deeper, found shallower


def test_wrong_attribute_and_extra_span_fail(provider, exporter):
    _emit(provider.get_tracer("t"), tools=3)
    with pytest.raises(TreeMismatch, match=r"\+    execute_tool t"):
        assert_tree(exporter.get_finished_spans(), SHAPE)
    with pytest.raises(TreeMismatch, match=r"gen_ai.react.round=3"):
        assert_tree(exporter.get_finished_spans(), SHAPE.replace("round=2", "round=3"))


def test_ordered_comparison_uses_start_order(provider, exporter):
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("root"):
        for name in ("b", "a"):
            with tracer.start_as_current_span(name):
                pass
    spans = exporter.get_finished_spans()
    assert_tree(spans, "root\n  a\n  b")  # unordered by default
    assert_tree(spans, "root\n  b\n  a", ordered=True)
    with pytest.raises(TreeMismatch):
        assert_tree(spans, "root\n  a\n  b", ordered=True)


def test_isolation_check_catches_foreign_and_orphan_spans(provider, exporter):
    tracer = provider.get_tracer("t")
    for _ in range(3):
        _emit(tracer)
    spans = exporter.get_finished_spans()
    assert len(assert_isolated(spans, SHAPE, 3)) == 3
    with pytest.raises(TreeMismatch, match="expected 4 traces, found 3"):
        assert_isolated(spans, SHAPE, 4)

    # A span of run 1 that landed in run 2's trace.
    exporter.clear()
    with tracer.start_as_current_span("invoke_agent bot") as first:
        pass
    ctx = trace.set_span_in_context(first)
    _emit(tracer)
    with tracer.start_as_current_span("chat m", context=ctx):
        pass
    with pytest.raises(TreeMismatch):
        assert_isolated(exporter.get_finished_spans(), SHAPE, 2)

    # A span that lost its parent is a second root in its trace.
    exporter.clear()
    _emit(tracer)
    orphan_parent = trace.NonRecordingSpan(trace.SpanContext(
        exporter.get_finished_spans()[0].context.trace_id, 0xABC, False,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED)))
    with tracer.start_as_current_span(
            "execute_tool t", context=trace.set_span_in_context(orphan_parent)):
        pass
    with pytest.raises(TreeMismatch, match="has 2 roots"):
        assert_isolated(exporter.get_finished_spans(), SHAPE, 1)
    assert len(build_trees(exporter.get_finished_spans())) == 2


def test_open_span_detector_catches_unended_span(provider, detector):
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("fine"):
        pass
    detector.assert_all_ended()
    leaked = tracer.start_span("leaked")
    with pytest.raises(AssertionError, match="1 span\\(s\\) never ended: leaked"):
        detector.assert_all_ended()
    leaked.end()
    detector.assert_all_ended()
    assert detector.started == detector.ended == 2


def test_pytest_plugin_fixtures_are_registered(pytestconfig):
    plugin = pytestconfig.pluginmanager.get_plugin("otel_agents")
    assert plugin is not None, "the pytest11 entry point registers the plugin"
