"""Span trees: build them from finished spans, render them, compare them.

An expected tree is written the way it is rendered, one span per line,
children indented by two spaces::

    invoke_agent helper
      react step {gen_ai.react.round=1}
        chat gpt-4o
        execute_tool get_weather *2
      react step {gen_ai.react.round=2}
        chat gpt-4o

``{key=value, ...}`` selects attributes to compare; every key named anywhere
in the expectation is compared on every span that has it, so name a key
consistently. ``status`` is a pseudo-attribute (``UNSET``, ``OK``, ``ERROR``).
``*N`` stands for N copies of that line and its subtree. Siblings are
compared as a multiset unless ``ordered=True`` (then by start time), since
concurrent tool calls may start in any order.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

STATUS_KEY = "status"


@dataclass
class SpanNode:
    """One span and the spans whose parent it is."""

    span: ReadableSpan
    children: list[SpanNode] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.span.name

    @property
    def attributes(self) -> dict[str, Any]:
        return dict(self.span.attributes or {})

    def walk(self) -> Iterable[SpanNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, name: str) -> list[SpanNode]:
        """Every node in this subtree with this exact span name."""
        return [node for node in self.walk() if node.name == name]


class TreeMismatch(AssertionError):
    """Raised when spans do not form the expected tree; its text is a diff."""


def build_trees(spans: Iterable[ReadableSpan]) -> list[SpanNode]:
    """One tree per root span, roots and children in start-time order.

    A span whose parent is not among `spans` counts as a root: a trace that
    lost its parent shows up as a second root rather than disappearing.
    """
    spans = list(spans)
    nodes = {span.context.span_id: SpanNode(span) for span in spans}
    roots: list[SpanNode] = []
    for span in spans:
        node = nodes[span.context.span_id]
        parent = span.parent
        parent_node = nodes.get(parent.span_id) if parent is not None else None
        if parent_node is not None and parent.trace_id == span.context.trace_id:
            parent_node.children.append(node)
        else:
            roots.append(node)
    for node in nodes.values():
        node.children.sort(key=_start)
    roots.sort(key=_start)
    return roots


def _start(node: SpanNode) -> int:
    return node.span.start_time or 0


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    return str(value)


def _label(node: SpanNode, keys: Sequence[str]) -> str:
    attrs = node.span.attributes or {}
    shown = []
    for key in keys:
        if key == STATUS_KEY:
            shown.append(f"{key}={node.span.status.status_code.name}")
        elif key in attrs:
            shown.append(f"{key}={_format_value(attrs[key])}")
    return node.name + (" {" + ", ".join(shown) + "}" if shown else "")


def _render_lines(node: SpanNode, keys: Sequence[str], ordered: bool, depth: int) -> list[str]:
    rendered = [_render_lines(child, keys, ordered, depth + 1) for child in node.children]
    if not ordered:
        rendered.sort(key=lambda lines: "\n".join(lines).lstrip())
    lines = ["  " * depth + _label(node, keys)]
    for child in rendered:
        lines.extend(child)
    return lines


def render(trees: SpanNode | Iterable[SpanNode] | Iterable[ReadableSpan],
           attributes: Sequence[str] = (), ordered: bool = True) -> str:
    """Indented text of one tree, or of every tree separated by blank lines."""
    if isinstance(trees, SpanNode):
        roots = [trees]
    else:
        items = list(trees)
        roots = items if all(isinstance(i, SpanNode) for i in items) else build_trees(items)
    return "\n\n".join("\n".join(_render_lines(r, attributes, ordered, 0)) for r in roots)


# -- expectations -----------------------------------------------------------

_LINE = re.compile(r"^(?P<name>.*?)\s*(?:\{(?P<attrs>[^}]*)\})?\s*(?:\*(?P<count>\d+))?\s*$")


@dataclass
class _Expected:
    label: str
    pairs: dict[str, str] = field(default_factory=dict)
    children: list[_Expected] = field(default_factory=list)
    count: int = 1

    def expanded(self) -> list[_Expected]:
        """This node `count` times, with its children expanded too."""
        children = [copy for child in self.children for copy in child.expanded()]
        return [_Expected(self.label, self.pairs, children) for _ in range(self.count)]


def _parse(text: str) -> tuple[list[_Expected], list[str]]:
    """The expected roots (multiplicities expanded) and the keys they name."""
    keys: list[str] = []
    lines = [line for line in text.splitlines() if line.strip()]
    roots: list[_Expected] = []
    stack: list[tuple[int, _Expected]] = []
    for line in lines:
        indent = len(line) - len(line.lstrip())
        match = _LINE.match(line.strip())
        assert match is not None  # the pattern accepts any line
        pairs = {}
        for item in (match.group("attrs") or "").split(","):
            if "=" in item:
                key, _, value = item.partition("=")
                pairs[key.strip()] = value.strip()
                if key.strip() not in keys:
                    keys.append(key.strip())
        node = _Expected(match.group("name").strip(), pairs,
                         count=int(match.group("count") or 1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((indent, node))
    return [copy for root in roots for copy in root.expanded()], keys


def _expected_lines(node: _Expected, keys: Sequence[str], ordered: bool,
                    depth: int) -> list[str]:
    shown = [f"{k}={node.pairs[k]}" for k in keys if k in node.pairs]
    label = node.label + (" {" + ", ".join(shown) + "}" if shown else "")
    rendered = [_expected_lines(c, keys, ordered, depth + 1) for c in node.children]
    if not ordered:
        rendered.sort(key=lambda lines: "\n".join(lines).lstrip())
    lines = ["  " * depth + label]
    for child in rendered:
        lines.extend(child)
    return lines


def _diff(expected: str, actual: str, what: str) -> str:
    diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                          "expected", "actual", lineterm=""))
    return f"{what}\n{diff}\n\nactual tree:\n{actual}"


def _as_trees(spans: Iterable[ReadableSpan] | Sequence[SpanNode]) -> list[SpanNode]:
    items = list(spans)
    if items and all(isinstance(i, SpanNode) for i in items):
        return items  # type: ignore[return-value]
    return build_trees(items)  # type: ignore[arg-type]


def match_tree(tree: SpanNode, expected: str, *, ordered: bool = False,
               attributes: Sequence[str] | None = None) -> str | None:
    """None when `tree` has the expected shape, else a readable diff."""
    roots, keys = _parse(expected)
    if attributes is not None:
        keys = list(attributes)
    if len(roots) != 1:
        raise ValueError("an expected tree has exactly one root line")
    want = "\n".join(_expected_lines(roots[0], keys, ordered, 0))
    have = "\n".join(_render_lines(tree, keys, ordered, 0))
    if want == have:
        return None
    return _diff(want, have, "span tree differs from the expected shape:")


def assert_tree(spans: Iterable[ReadableSpan] | Sequence[SpanNode], expected: str, *,
                ordered: bool = False, attributes: Sequence[str] | None = None) -> SpanNode:
    """Assert `spans` form exactly one tree of the expected shape; return it."""
    trees = _as_trees(spans)
    if len(trees) != 1:
        listing = render(trees, attributes or ())
        raise TreeMismatch(f"expected 1 root span, found {len(trees)}:\n{listing}")
    problem = match_tree(trees[0], expected, ordered=ordered, attributes=attributes)
    if problem is not None:
        raise TreeMismatch(problem)
    return trees[0]


def assert_isolated(spans: Iterable[ReadableSpan], expected: str, count: int, *,
                    ordered: bool = False,
                    attributes: Sequence[str] | None = None) -> list[SpanNode]:
    """Assert `count` concurrent runs left `count` separate, complete trees.

    Every trace must hold exactly one root, the number of traces must be
    `count`, and every tree must match `expected`. Spans that landed in
    another run's trace show up as a mismatch of that tree; spans that lost
    their parent show up as extra roots.
    """
    spans = list(spans)
    by_trace: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        by_trace.setdefault(span.context.trace_id, []).append(span)
    problems = []
    if len(by_trace) != count:
        problems.append(f"expected {count} traces, found {len(by_trace)}")
    trees = []
    for trace_id, members in by_trace.items():
        roots = build_trees(members)
        if len(roots) != 1:
            problems.append(f"trace {trace_id:032x} has {len(roots)} roots:\n"
                            + render(roots, attributes or ()))
            continue
        trees.append(roots[0])
        problem = match_tree(roots[0], expected, ordered=ordered, attributes=attributes)
        if problem is not None:
            problems.append(f"trace {trace_id:032x}: {problem}")
    if problems:
        shown = problems[:3]
        more = f"\n... and {len(problems) - 3} more problems" if len(problems) > 3 else ""
        raise TreeMismatch("\n\n".join(shown) + more)
    trees.sort(key=_start)
    return trees
