"""The package's layout: no import cycles, a small top level, no callable-module hacks.

Every module of ``langevin_sim`` is parsed with ``ast`` (nothing is imported), and every
``import`` / ``from ... import`` of the package is an edge, those inside functions included (a
function-local import that closes a circle is still a circle, only a delayed one).
"""

from __future__ import annotations

import ast
import pathlib
import tomllib

import langevin_sim

PACKAGE = pathlib.Path(langevin_sim.__file__).parent
MAX_TOP_LEVEL_MODULES = 8


def _modules() -> dict[str, tuple[pathlib.Path, bool]]:
    """``{dotted name: (file, is a package)}`` of every module of the package."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def import_graph() -> dict[str, set[str]]:
    """``{module: modules of the package it imports}``, function-local imports included.

    ``from X import name`` is an edge to ``X.name`` when that is a module of the package, else
    to ``X``; a relative import is resolved against the importing module's package.
    """
    modules = _modules()
    graph = {}
    for name, (path, is_package) in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name.split(".")[0] == "langevin_sim"}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[:len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != "langevin_sim":
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edges.add(sub if sub in modules else target)
        unknown = edges - set(modules)
        assert not unknown, f"{name} imports modules that do not exist: {sorted(unknown)}"
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_planted_cycle():
    # negative control: the finder must see a circle, a function-local one included
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_local_imports():
    graph = import_graph()
    # cli.main imports its commands at module level; a command imports its analysis inside
    # run(): both must be edges
    assert "langevin_sim.cli.steady" in graph["langevin_sim.cli.main"]
    assert "langevin_sim.analyses.steady" in graph["langevin_sim.cli.steady"]


def test_no_import_cycles():
    found = cycles(import_graph())
    assert found == [], f"import cycles: {found}"


def test_at_most_eight_plain_modules_at_the_top_level():
    plain = sorted(p.name for p in PACKAGE.glob("*.py")
                   if p.name not in ("__init__.py", "__main__.py"))
    assert len(plain) <= MAX_TOP_LEVEL_MODULES, plain


def test_no_callable_module_hacks_and_no_root_getattr():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "_CallableModule" not in text and ".__class__ = " not in text, path
    root = ast.parse((PACKAGE / "__init__.py").read_text())
    assert "__getattr__" not in {n.name for n in root.body if isinstance(n, ast.FunctionDef)}


def test_the_version_is_the_one_of_pyproject():
    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    assert langevin_sim.__version__ == pyproject["project"]["version"]
