"""The import graph of the package: imports only go down the layer order of docs/ARCHITECTURE.md,
and no module imports itself through others (no cycles). Function-level (lazy) imports count too:
a lazy import is still a dependency, only a later one.

Layers, bottom first (a module may import its own layer and any layer below):

    0  benchseal (the package), schema, errors, io, bundle, redact, config
    1  hw
    2  bench.model | bench.perf        (siblings: they never import each other)
    3  bench.utilisation
    4  evaluators
    5  claims
    6  reports.seal
    7  reports.render
    8  reports.verify
    9  testing                           (the test server, tiny models: used by tests, the demo, scripts)
    10 pipeline
    11 commands, cli, __main__
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO

PKG = REPO / "benchseal"

LAYERS: list[tuple[int, str]] = [  # (layer, module prefix), most specific first
    (3, "benchseal.bench.utilisation"), (2, "benchseal.bench.model"), (2, "benchseal.bench.perf"),
    (8, "benchseal.reports.verify"), (7, "benchseal.reports.render"), (6, "benchseal.reports.seal"),
    (1, "benchseal.hw"), (4, "benchseal.evaluators"), (5, "benchseal.claims"), (9, "benchseal.testing"),
    (10, "benchseal.pipeline"), (11, "benchseal.commands"), (11, "benchseal.cli"), (11, "benchseal.__main__"),
    (0, "benchseal.schema"), (0, "benchseal.errors"), (0, "benchseal.io"), (0, "benchseal.bundle"),
    (0, "benchseal.redact"), (0, "benchseal.config"),
    (0, "benchseal.bench"), (0, "benchseal.reports"),  # the family packages' own __init__ (docstrings only)
    (0, "benchseal"),
]
SIBLINGS = {frozenset({"benchseal.bench.model", "benchseal.bench.perf"})}


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The benchseal module an import names (the longest existing prefix), or None if external."""
    if not (name == "benchseal" or name.startswith("benchseal.")):
        return None
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported benchseal module, line) for every import in the file, lazy ones included."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # "from pkg import module" names a module; "from module import name" names the module
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for n in names:
            target = _resolve(n, modules)
            if target and target != me:
                out.append((target, node.lineno))
    return out


def layer_of(module: str) -> tuple[int, str]:
    for layer, prefix in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return layer, prefix
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/ARCHITECTURE.md")


def graph() -> dict[str, list[tuple[str, int]]]:
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def upward_imports(g: dict[str, list[tuple[str, int]]]) -> list[str]:
    bad = []
    for mod, deps in g.items():
        lm, pm = layer_of(mod)
        for dep, line in deps:
            ld, pd = layer_of(dep)
            if ld > lm or (frozenset({pm, pd}) in SIBLINGS):
                bad.append(f"{mod}:{line} imports {dep} (layer {ld} {pd}) from layer {lm} {pm}")
    return bad


def cycles(g: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w, _ in g.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_every_module_has_a_layer():
    for mod in _modules():
        layer_of(mod)


def test_no_upward_import():
    assert upward_imports(graph()) == []


def test_no_import_cycle():
    assert cycles(graph()) == []


@pytest.mark.parametrize("src, kind", [
    ({"benchseal.hw.a": [("benchseal.claims", 1)], "benchseal.claims": []}, "upward"),
    ({"benchseal.bench.model.a": [("benchseal.bench.perf.b", 3)], "benchseal.bench.perf.b": []}, "upward"),
    ({"benchseal.claims.a": [("benchseal.claims.b", 1)], "benchseal.claims.b": [("benchseal.claims.a", 2)]}, "cycle"),
])
def test_the_checks_catch_what_they_claim(src, kind):
    """The two checks fail on a planted upward import, a sibling import and a cycle."""
    if kind == "upward":
        assert upward_imports(src)
    else:
        assert cycles(src) == [sorted(src)]
