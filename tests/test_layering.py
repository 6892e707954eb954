"""The domain stays free of Qt, and of the sync and desktop packages; sync stays free of Qt."""

import ast
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
