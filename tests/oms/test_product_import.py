"""Products from a CSV file: every problem named with its line, nothing written unless all of it can be."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from oms import check
from oms import inventory
from oms.catalog.models import Product
from oms.product_import import ImportProblems, import_products, read_products
from tests.conftest import ACTOR

ROOT = Path(__file__).resolve().parents[2]

GOOD = """SKU;Title;Barcodes;Bin;Stock
MUG-RED;Mug, red;4006381333931;A-01-1;12
MUG-BLU;Mug, blue;036000291452 BLU-CUSTOM;A-01-2;1,200
LANTERN;Storm lantern;;;
"""


def _count(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Product))


def test_a_spreadsheet_export_goes_in_with_its_stock_in_its_bins(db):
    rows = read_products(GOOD)
    assert [r.sku for r in rows] == ["MUG-RED", "MUG-BLU", "LANTERN"]
    assert rows[1].barcodes == (("upc", "036000291452"), ("custom", "BLU-CUSTOM")) and rows[1].stock == 1200
    with db.write() as s:
        report = import_products(s, ACTOR, rows)
    assert (report.products, report.units, report.bins, report.location) == (3, 1212, 2, "MAIN")
    with db.read() as s:
        assert inventory.product_id(s, "4006381333931") == inventory.product_id(s, "MUG-RED")
        (level,) = inventory.levels(s, inventory.product_id(s, "MUG-BLU"))
        assert (level.location_code, level.on_hand) == ("MAIN", 1200)
        assert check.run(s) == []  # the ledger and the levels agree


def test_every_problem_is_named_with_its_line_and_nothing_is_written(db):
    bad = ("sku,name,barcode,bin,qty\n"
           "MUG RED,Mug,4006381333932,A-1,3\n"  # a space in the SKU, a wrong check digit
           "MUG-BLU,,036000291452,,5\n"  # no title; stock but no bin
           "LANTERN,Lantern,036000291452,B-1,ten\n"  # the barcode again; stock not a number
           "LANTERN,Lantern again,,,\n")
    with pytest.raises(ImportProblems) as caught:
        read_products(bad)
    assert caught.value.problems == [
        "Line 2: the SKU 'MUG RED' contains a space.",
        "Line 2: the barcode 4006381333932 has a wrong check digit.",
        "Line 3: the title is empty.",
        "Line 3: 5 in stock but no bin to put them in.",
        "Line 4: the barcode 036000291452 is already on line 3.",
        "Line 4: the stock 'ten' is not a whole number of 0 or more.",
        "Line 5: the SKU LANTERN is already on line 4.",
    ]
    assert str(caught.value).startswith("Nothing was imported; fix the file and try again:\nLine 2:")
    with pytest.raises(ImportProblems, match="sku and title not found among: code, label"):
        read_products("code,label\nA,B\n")
    with pytest.raises(ImportProblems, match="The file is empty"):
        read_products("\ufeff  \n")
    assert _count(db) == 0


def test_what_the_database_refuses_stops_the_whole_file(world):
    rows = read_products("sku,title,barcodes,bin,stock\nNEW-1,New one,,X-1,4\nMUG-RED,Clash,,X-1,1\n")
    with pytest.raises(ImportProblems, match="Line 3: .*MUG-RED"):
        with world.write() as s:
            import_products(s, ACTOR, rows, location="RNO")
    with world.read() as s:
        assert s.scalar(select(Product.id).where(Product.sku == "NEW-1")) is None  # line 2 is not half-written


def test_the_import_command(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text(GOOD, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    run = lambda *a: subprocess.run([sys.executable, str(ROOT / "main.py"), *a], capture_output=True, text=True,
                                    cwd=ROOT, env=dict(os.environ), timeout=120)
    out = run("products", "import", str(path), "--db", url)
    assert out.returncode == 0, out.stderr
    assert "Imported 3 products with 1212 units in stock into MAIN (2 new bins)." in out.stdout
    again = run("--db", url, "products", "import", str(path))
    assert again.returncode == 2 and "Nothing was imported" in again.stderr and "MUG-RED" in again.stderr
