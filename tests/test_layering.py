"""The house rules, read from the source: no import cycles, imports only down the layers, SQL only in the
store, no module over 500 lines.

The rules hold for the whole package; ``CHECKED`` lists the parts this file holds to them (the coding and
analysis stages, the store and the base modules) and ``NOT_YET`` the parts of those still being moved, so
that a part joins once it follows them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "forumkit"
#: Layers, highest first: an import may only go down this list, or stay within a layer.
LAYERS = ("forumkit.__main__", "forumkit.cli", "forumkit.demo", "forumkit.study", "forumkit.analysis", "forumkit.coding", "forumkit.collect",
          "forumkit.store")
#: The modules held to the rules here (a name and everything below it), and the parts of them not yet.
CHECKED = ("forumkit",)
NOT_YET: tuple[str, ...] = ()
#: SQL as forumkit writes it (keywords in capitals): prose that says "select ... from" is not SQL.
_SQL = re.compile(r"\b(SELECT\b.+\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b",
                  re.DOTALL)


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


MODULES = _modules()


def _within(name: str, parts: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in parts)


def _checked(name: str) -> bool:
    return _within(name, CHECKED) and not _within(name, NOT_YET)


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (imports for type hints never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _imports(name: str) -> set[str]:
    """The forumkit modules ``name`` imports when it runs (at any depth of its code), with the packages whose
    ``__init__`` such an import runs first (except ``name``'s own packages, already running)."""
    path, is_package = MODULES[name]
    own = {".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 1)}
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = name.split(".") if is_package else name.split(".")[:-1]
            if node.level:
                base = base[:len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]
        else:
            continue
        for target in targets:
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != name:
                found.add(target)
                parts = target.split(".")
                found.update(p for p in (".".join(parts[:k]) for k in range(2, len(parts)))
                             if p in MODULES and p not in own)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    for root in GRAPH:
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def _layer(name: str) -> int:
    return next((i for i, layer in enumerate(LAYERS) if _within(name, (layer,))), len(LAYERS))


def test_the_checks_see_the_package():
    # the parser must find what is there, or the rules below would pass on nothing
    assert "forumkit.analysis.hubtrends" in GRAPH["forumkit.analysis.report.build"]
    assert "forumkit.store" in GRAPH["forumkit.coding.sampling.draw"]
    assert "forumkit.dates" in GRAPH["forumkit.store.base"]
    assert _SQL.search("SELECT id FROM topics") and _SQL.search("INSERT OR IGNORE INTO coded VALUES (?)")
    assert not _SQL.search("select the topics from a list")


def test_no_import_cycles():
    cycles = [c for c in _cycles() if any(_checked(m) for m in c)]
    assert cycles == [], f"import cycles: {cycles}"


def test_imports_only_go_down_the_layers():
    upward = [f"{name} -> {target}" for name, targets in GRAPH.items() if _checked(name)
              for target in sorted(targets) if _layer(target) < _layer(name)]
    assert upward == []


#: SQL that is not the store's: the aggregator's counting over a Parquet dataset, run by DuckDB or Spark.
DATASET_SQL = ("forumkit.analysis.aggregate.engines",)


def _is_store(node: ast.AST) -> bool:
    """Whether ``node`` names a store object (``store``, ``self.store``), whose ``.db`` is the SQLite connection."""
    return (isinstance(node, ast.Name) and node.id == "store") or \
        (isinstance(node, ast.Attribute) and node.attr == "store")


def test_sql_only_in_the_store():
    found = []
    for name, (path, _) in MODULES.items():
        if not _checked(name) or name.startswith("forumkit.store") or name in DATASET_SQL:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr == "db" and _is_store(node.value):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} (.db)")
    assert found == [], f"SQL outside forumkit/store: {found}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _checked(n)))
def test_no_module_over_500_lines(name):
    lines = MODULES[name][0].read_text(encoding="utf-8").count("\n")
    assert lines <= 500, f"{name} has {lines} lines"
