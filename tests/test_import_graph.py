"""The import rule, read from the source (ast): dependencies point one way and never in a circle.

Every import counts: at module level, inside a function, under `if TYPE_CHECKING:`; importing
`a.b.c` also runs the packages `a` and `a.b`, so those count too. A circle is a knot a
newcomer cannot cut (which module comes first?), and a late import that hides one only moves
the failure to run time. The layers: the core (`clerk_app`) imports neither `sync`, `ui` nor
Qt; `sync` imports no `ui` and no Qt; nothing loads a module by name (`importlib`) to dodge a
cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` under `root`, by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported_names(name: str, path: Path) -> Iterator[str]:
    """The dotted names one module imports, wherever in it the import statement stands."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                here = here[:len(here) - node.level + 1]
                base = ".".join([*here, base] if base else here)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package that importing it runs (parents included)."""
    known = modules(root, package)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for imported in imported_names(name, path):
            parts = imported.split(".")
            targets.update(".".join(parts[:i]) for i in range(1, len(parts) + 1)
                           if ".".join(parts[:i]) in known)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def foreign_imports(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """`module: name` for every import of `package` that starts with a forbidden name."""
    return [f"{name}: {imported}" for name, path in modules(ROOT, package).items()
            for imported in imported_names(name, path)
            if imported.split(".")[0] in forbidden]


@pytest.mark.parametrize("package", ["clerk_app", "sync"])
def test_no_import_cycles(package: str) -> None:
    assert cycles(import_graph(ROOT, package)) == []


def test_a_cycle_is_found_even_through_a_late_import_or_a_package(tmp_path: Path) -> None:
    pkg = tmp_path / "knot"
    (pkg / "inner").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "inner" / "__init__.py").write_text("from knot.inner import b\n")
    (pkg / "a.py").write_text("from knot.inner.b import thing\n")
    (pkg / "inner" / "b.py").write_text("def thing():\n    from .. import a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n    from knot import d\n")
    (pkg / "d.py").write_text("import knot.c\n")
    assert sorted(cycles(import_graph(tmp_path, "knot"))) == [
        ["knot.a", "knot.inner", "knot.inner.b"], ["knot.c", "knot.d"]]


def test_the_core_imports_no_outer_layer_and_no_qt() -> None:
    assert foreign_imports("clerk_app", ("ui", "sync", "PySide6", "shiboken6")) == []


def test_the_sync_layer_imports_no_ui_and_no_qt() -> None:
    assert foreign_imports("sync", ("ui", "PySide6", "shiboken6")) == []


def test_nothing_in_the_core_is_loaded_by_name() -> None:
    """`importlib.import_module` (or `__import__`) of a sibling hides a cycle from this test."""
    loaders = [f"{path.relative_to(ROOT)}:{node.lineno}"
               for path in modules(ROOT, "clerk_app").values()
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.Attribute | ast.Name)
               and getattr(node, "attr", getattr(node, "id", None)) in ("import_module",
                                                                      "__import__")]
    assert loaders == []
