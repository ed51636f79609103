"""No import cycle in src: the imports run when a module is imported form a DAG.

Imports inside functions run lazily, and `if TYPE_CHECKING:` imports never
run; neither can deadlock or half-initialize a module, so neither counts.
"""

from __future__ import annotations

from .imports import PACKAGE, imports, modules


def _graph(known):
    graph = {}
    for module, path in known.items():
        graph[module] = sorted({t for t, _ in imports(module, path, known, top_level_only=True)
                                if t in known and t != module and t != PACKAGE})
    return graph


def _cycles(graph) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:  # Tarjan
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_in_src():
    assert _cycles(_graph(modules())) == []


def test_a_planted_cycle_is_found(tmp_path):
    """A test that cannot fail is a defect: two modules importing each other."""
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text("from . import second\n")
    second.write_text("try:\n    from .first import thing\nexcept ImportError:\n    pass\n")
    known = {**modules(), f"{PACKAGE}.first": first, f"{PACKAGE}.second": second}
    assert [f"{PACKAGE}.first", f"{PACKAGE}.second"] in _cycles(_graph(known))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
