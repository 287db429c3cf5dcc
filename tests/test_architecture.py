"""The layering rules of the architecture, checked."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_CORE = ("flask", "sqlalchemy", "geoalchemy2", "folium", "webapp")


def test_core_imports_no_web_or_database_stack():
    """Importing every module of gridmgmt.core pulls in no Flask/SQLAlchemy/GeoAlchemy2/folium."""
    code = (
        "import importlib, pkgutil, sys, gridmgmt.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'gridmgmt.core.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN_IN_CORE!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"gridmgmt.core imported: {out.stdout.strip()}"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_store_imports_sqlalchemy():
    """SQLAlchemy/GeoAlchemy2/Alembic appear only under gridmgmt/store."""
    offenders = []
    for path in (REPO / "gridmgmt").rglob("*.py"):
        if "store" in path.relative_to(REPO / "gridmgmt").parts[:1]:
            continue
        bad = _imports(path) & {"sqlalchemy", "geoalchemy2", "alembic"}
        if bad:
            offenders.append(f"{path.relative_to(REPO)}: {sorted(bad)}")
    assert offenders == []


def test_core_source_has_no_forbidden_imports():
    """Also statically, including imports inside functions."""
    offenders = []
    for path in (REPO / "gridmgmt" / "core").rglob("*.py"):
        bad = _imports(path) & set(FORBIDDEN_IN_CORE)
        if bad:
            offenders.append(f"{path.relative_to(REPO)}: {sorted(bad)}")
    assert offenders == []


# --- module-level limits: size, cycles, private names -------------------------

MAX_LINES = 800
PACKAGES = ("gridmgmt", "webapp")


def _modules() -> dict[str, Path]:
    """Dotted name -> file of every module in the project's packages (migrations aside)."""
    found = {}
    for pkg in PACKAGES:
        for path in (REPO / pkg).rglob("*.py"):
            rel = path.relative_to(REPO).with_suffix("")
            if "migrations" in rel.parts:
                continue
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _project_imports(modules: dict[str, Path]):
    """For each module: (imported project module, names imported from it, line)."""
    result = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        edges = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in PACKAGES:
                        edges.append((alias.name, (), node.lineno))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(name, node, is_package)
                if target.split(".")[0] not in PACKAGES:
                    continue
                names = []
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in modules:  # ``from pkg import module``
                        edges.append((sub, (), node.lineno))
                    else:
                        names.append(alias.name)
                edges.append((target, tuple(names), node.lineno))
        result[name] = edges
    return result


def test_no_module_over_800_lines():
    """One concept per module: no module in gridmgmt/ or webapp/ over 800 lines."""
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_private_name_imported_from_another_module():
    """``from x import _name`` across modules borrows what x keeps to itself."""
    modules = _modules()
    offenders = [
        f"{name}:{line} imports {target}.{n}"
        for name, edges in _project_imports(modules).items()
        for target, names, line in edges
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert offenders == []


def test_no_private_attribute_of_another_module():
    """``module._name`` on an imported project module is a borrowed private name."""
    offenders = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] in PACKAGES and a.asname:
                        aliases[a.asname] = a.name
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(name, node, path.name == "__init__.py")
                for a in node.names:
                    if f"{target}.{a.name}" in _modules():
                        aliases[a.asname or a.name] = f"{target}.{a.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                offenders.append(f"{name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert offenders == []


def test_no_import_cycles_between_modules():
    """The module import graph (function-level imports included) has no cycles."""
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, edges in _project_imports(modules).items():
        for target, _names, _line in edges:
            # importing a.b.c runs a and a.b first: a package's __init__ is an edge too,
            # but only its own module counts (not the parents every import passes).
            if target in modules and target != name and not name.startswith(target + "."):
                graph[name].add(target)
    # Tarjan's strongly connected components
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []
