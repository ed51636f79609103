"""The package's import graph, read from the source (AST), without importing it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "opentelemetry.instrumentation.agents"
ROOT = Path(__file__).resolve().parents[2] / "src" / Path(*PACKAGE.split("."))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports(module: str, path: Path, known: dict[str, Path],
            top_level_only: bool = False) -> Iterator[tuple[str, int]]:
    """(imported module, line) for each import in `path`; `from pkg import sub`
    counts as importing `pkg.sub` where that is a module. With
    `top_level_only`, only the imports run when the module is imported:
    those inside functions (run lazily) and `if TYPE_CHECKING:` are left out."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in _flatten(nodes) if top_level_only else nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in known else base), node.lineno


def _type_checking(node: ast.stmt) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _flatten(nodes: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run when the module is imported: the module level, looking
    inside `if` / `try` blocks, but not inside `if TYPE_CHECKING:` (never run)."""
    for node in nodes:
        yield node
        if isinstance(node, (ast.If, ast.Try)):
            body = [] if _type_checking(node) else node.body
            for block in (body, node.orelse, *(h.body for h in getattr(node, "handlers", ())),
                          getattr(node, "finalbody", [])):
                yield from _flatten(block)
