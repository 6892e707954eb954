"""The domain stays free of Qt, and of the sync and desktop packages; sync stays free of Qt; the import-linter
contracts in pyproject.toml hold, and would catch a break."""

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = {
    "oms": {"PySide6", "PyQt5", "PyQt6", "shiboken6", "desktop", "sync"},
    "sync": {"PySide6", "PyQt5", "PyQt6", "shiboken6", "desktop"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_respect_layers(package):
    folder = ROOT / package
    if not folder.exists():
        pytest.skip(f"{package}/ does not exist yet")
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & RULES[package])
        for path in folder.rglob("*.py")
        if imported_roots(path) & RULES[package]
    }
    assert offenders == {}


def test_checker_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtCore import QObject\nimport desktop.app\n")
    assert imported_roots(bad) >= {"PySide6", "desktop"}


LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_import_contracts_hold():
    out = lint_imports(ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "5 kept, 0 broken" in out.stdout


def _contracts() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return text[text.index("[tool.importlinter]"):]


def _oms_layers() -> list[str]:
    """The capability packages the contracts name, so the small tree has every layer."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c.get("containers") == ["oms"]]
    return [name.strip() for layer in layers for name in layer.split("|")]


def small_tree(root: Path) -> None:
    """Every package and layer the contracts name, empty, and the screenshot stager's allowed exception."""
    (root / "pyproject.toml").write_text(_contracts(), encoding="utf-8")
    for package in ("oms", "sync", "desktop"):
        (root / package).mkdir()
        (root / package / "__init__.py").write_text("")
    for layer in _oms_layers():
        (root / "oms" / layer).mkdir()
        (root / "oms" / layer / "__init__.py").write_text("")
    (root / "oms" / "orders" / "models.py").write_text("SalesOrder = object\n")
    (root / "sync" / "cli.py").write_text("")
    (root / "sync" / "engine.py").write_text("")
    (root / "desktop" / "screenshots.py").write_text("import sqlalchemy\nimport oms.orders.models\n")


@pytest.mark.parametrize("files,broken", [
    ({"oms/orders/__init__.py": "import desktop.screenshots\n"}, "Layers"),
    ({"sync/engine.py": "from PySide6 import QtCore\n"}, "never import Qt"),
    ({"desktop/screen.py": "from sqlalchemy import select\n"}, "The desktop runs no SQL"),
    ({"desktop/screen.py": "from oms.orders.models import SalesOrder\n"}, "The desktop runs no SQL"),
    ({"desktop/screen.py": "from sync import cli\n"}, "The desktop runs no SQL"),
    ({"oms/inventory/__init__.py": "from oms import routing\n"}, "capabilities stand on each other"),
    ({"sync/engine.py": "from sync import registry\n", "sync/registry.py": "from sync import engine\n"}, "No import circles"),
], ids=["upwards", "qt-in-sync", "sql-in-desktop", "models-in-desktop", "cli-in-desktop", "capability-upwards", "circle"])
def test_a_broken_contract_fails(tmp_path, files, broken):
    """The same contracts, on a small tree that breaks one of them: lint-imports fails and names it."""
    small_tree(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    out = lint_imports(tmp_path)
    assert out.returncode == 1, out.stdout
    assert [line for line in out.stdout.splitlines() if broken in line and "BROKEN" in line], out.stdout


def test_the_small_tree_alone_keeps_every_contract(tmp_path):
    """Without the break, the small tree passes: each failure above is the break's doing."""
    small_tree(tmp_path)
    out = lint_imports(tmp_path)
    assert out.returncode == 0, out.stdout
