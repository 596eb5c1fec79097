"""The engine's modules import one another in one direction only: a cycle (even hidden inside a function) is a layer
crossed, and this test names it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO_ROOT

SRC = REPO_ROOT / "src"


def module_graph(package: str, src: Path = SRC) -> dict[str, set[str]]:
    """module -> the modules of `package` it imports anywhere in its file (top level or inside a function)."""
    files = {}
    for path in (src / package).rglob("*.py"):
        name = ".".join(path.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        files[name] = path
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package_of = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                graph[name] |= {alias.name for alias in node.names if alias.name in files}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package_of.split(".")[: len(package_of.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                graph[name] |= {base} & files.keys()
                graph[name] |= {f"{base}.{alias.name}" for alias in node.names} & files.keys()
        graph[name].discard(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_engine_has_no_import_cycle() -> None:
    assert cycles(module_graph("retrain")) == []


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    """The check can fail: two modules importing each other, one of them only inside a function."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "steps.py").write_text("def later():\n    from pkg import origin\n")
    (package / "origin.py").write_text("from pkg.steps import later\n")
    (package / "report.py").write_text("from . import origin\n")
    assert cycles(module_graph("pkg", tmp_path)) == [["pkg.origin", "pkg.steps"]]
