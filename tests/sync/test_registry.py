"""The connector registry: connectors declare themselves; the engine, CLI, Settings and Sync screens read them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from oms.core.errors import InvalidInput
from sync import registry

ROOT = Path(__file__).resolve().parents[2]


def test_each_connector_package_declares_its_spec():
    assert [(s.kind, s.role, s.title) for s in registry.specs()] == [("threepl_json", "threepl", "3PL over JSON REST"),
                                                                    ("amazon", "channel", "Amazon"),
                                                                    ("file-drop", "erp", "ERP file drop"),
                                                                    ("webhook", "erp", "ERP webhook"),
                                                                    ("easypost", "carrier", "EasyPost"),
                                                                    ("shopify", "channel", "Shopify"),
                                                                    ("woocommerce", "channel", "WooCommerce")]
    assert registry.kinds("channel") == ["amazon", "shopify", "woocommerce"] and registry.kinds("carrier") == ["easypost"]
    assert registry.kinds("erp") == ["file-drop", "webhook"]
    assert registry.spec("webhook").subscribes == ("invoice.issued", "credit_note.issued", "shipment.confirmed")
    assert not registry.spec("file-drop").needs_secret
    assert registry.kinds("threepl") == ["threepl_json"] and registry.spec("threepl_json").needs_db
    shop = registry.spec("shopify", "channel")
    assert shop.address_title == "Shop address" and shop.secret_hint.startswith("Admin API access token")
    assert registry.spec("easypost").default_address == "https://api.easypost.com"
    assert registry.demo("channel") is shop and registry.demo("carrier").kind == "easypost"


def test_an_unknown_kind_is_refused_in_words():
    with pytest.raises(InvalidInput, match="Quayside connects to amazon, shopify, woocommerce as a sales channel, not 'ebay'"):
        registry.spec("ebay", "channel")
    with pytest.raises(InvalidInput, match="not 'shopify'"):
        registry.spec("shopify", "carrier")
    assert registry.title("ebay") == "ebay"  # a connection of a kind since removed is still listed


def test_every_spec_builds_its_connector_and_emulator():
    for spec in registry.specs():
        address = spec.parse_address("/tmp") if spec.kind == "file-drop" else "http://127.0.0.1:9"
        built = spec.build("c1", address, "secret", dict(spec.options), max_attempts=1)
        assert built.code == "c1"
        if spec.emulator is None:  # a folder on this machine needs none
            continue
        emulator = spec.emulator("secret")
        assert hasattr(emulator, "start") and hasattr(emulator, "stop")


def _named_in_code(path: Path, words: list[str]) -> list[str]:
    """Where code (names and strings, not comments or docstrings) says one of ``words``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        text = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else (
            node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            else None)
        if text and any(re.search(rf"\b{w}\b", text, re.I) for w in words):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text[:60]}")
    return found


# Not what a new connector changes: the screenshot stager and old migrations; the demo data's own channels
# (a "shopify" web shop); the demo carrier connection's code, kept from the first version so existing demo
# databases keep their carrier.
EXEMPT = {"desktop/screenshots.py", "oms/seed.py"}
EXEMPT_LINES = {"desktop/demo.py: CARRIER = \"easypost\""}


@pytest.mark.parametrize("path", ["sync/engine.py", "sync/cli.py", "sync/connectors.py", "oms", "desktop"])
def test_no_kind_of_connector_is_named_outside_its_package(path):
    """Adding a connector touches no engine, CLI, Settings or domain code: none of them names a kind."""
    kinds = [s.kind for s in registry.specs()]
    files = [ROOT / path] if path.endswith(".py") else sorted((ROOT / path).rglob("*.py"))
    named = []
    for f in files:
        rel = str(f.relative_to(ROOT))
        if rel in EXEMPT or "migrations" in f.parts:
            continue
        lines = f.read_text(encoding="utf-8").splitlines()
        named += [hit for hit in _named_in_code(f, kinds)
                  if f"{rel}: {lines[int(hit.split(':')[1]) - 1].strip()}" not in EXEMPT_LINES]
    assert named == []
