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
