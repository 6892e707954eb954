"""The `supplier` and `po` commands, run as a real process against a real SQLite file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from sqlalchemy import func, select

from oms.core.db import Database
from oms.purchasing.models import PurchaseOrder
from tests.test_cli import run


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('po-cli') / 'po.sqlite3'}"
    run("seed", "--orders", "5", "--products", "20", "--db", url)
    return url


@pytest.fixture(scope="module")
def small_house(tmp_path_factory) -> Path:
    """A database with five products and the supplier ACME, copied for each test that may not change it."""
    path = tmp_path_factory.mktemp("po-bad") / "house.sqlite3"
    run("seed", "--orders", "0", "--products", "5", "--db", f"sqlite:///{path}")
    run("supplier", "add", "ACME", "--name", "Acme", "--db", f"sqlite:///{path}")
    return path


def test_a_po_from_draft_to_received_by_the_command_line(seeded, tmp_path):
    url = seeded
    assert run("supplier", "add", "ACME", "--name", "Acme Ceramics", "--tolerance", "10", "--db", url).stdout == "Supplier ACME added.\n"
    assert "ACME" in run("supplier", "list", db_url=url).stdout
    out = run("po", "add", "--supplier", "ACME", "--location", "RNO", "--line", "LANT-BLK-L:10:2.35:2026-12-20",
              "--line", "LANT-BLK-S:4:3:2026-12-22", "--db", url).stdout
    assert out == "PO-1001 created (draft).\n"
    # Options before and after the PO, --db before the command: all the same to the command line.
    run("--db", url, "po", "line", "--sku", "LANT-BRASS-L", "PO-1001", "--qty", "2", "--cost", "9.99", "--expected", "2026-12-24")
    pdf_path = tmp_path / "po.pdf"
    assert run("po", "send", "--out", str(pdf_path), "PO-1001", db_url=url).stdout == f"PO-1001 sent; its PDF is in {pdf_path}.\n"
    text = pdfium.PdfDocument(pdf_path.read_bytes())[0].get_textpage().get_text_range()
    assert "PO-1001" in text and "LANT-BRASS-L" in text and "Total $55.48" in text
    assert run("po", "confirm", "PO-1001", "--db", url).stdout == "PO-1001 is confirmed.\n"
    out = run("po", "receive", "--qty", "3", "PO-1001", "--bin", "A-01-1", "--sku", "LANT-BLK-L", "--db", url).stdout
    assert out == "LANT-BLK-L: 3 of 10\nPut away in A-01-1.\nPO-1001 is partly received.\n"
    out = run("po", "receive", "po-1001", "--sku", "LANT-BLK-L", "--qty", "7", "--damaged", "1", "--db", url).stdout
    assert out.splitlines() == ["LANT-BLK-L: 10 of 10", "LANT-BLK-L: 1 damaged, to quarantine (11 of 10 received)",
                                "PO-1001 is partly received."]
    shown = json.loads(run("po", "show", "PO-1001", "--json", "--db", url).stdout)
    assert shown["status"] == "partly_received" and shown["total"] == "$55.48"
    assert [(l["sku"], l["quantity"], l["received"], l["damaged"]) for l in shown["lines"]] == [
        ("LANT-BLK-L", 10, 11, 1), ("LANT-BLK-S", 4, 0, 0), ("LANT-BRASS-L", 2, 0, 0)]
    listed = run("po", "list", "--status", "partly_received", "--db", url).stdout
    assert listed.startswith("PO-1001") and "11/16" in listed
    assert run("po", "close", "PO-1001", "--reason", "rest discontinued", "--db", url).stdout == "PO-1001 is closed.\n"
    stock = json.loads(run("stock", "show", "LANT-BLK-L", "--json", "--db", url).stdout)
    assert {"location": "RNO", "bin": "A-01-1", "on_hand": 3} in stock["bins"]
    assert any(m["kind"] == "receipt" and m["reference"] == "PO-1001" and m["quantity"] == 7 for m in stock["movements"])
    assert run("check", "--db", url).returncode == 0


@pytest.mark.parametrize("args, message", [
    (("po", "receive", "PO-1001", "--sku", "X", "--qty", "two"), "argument --qty: the quantity must be a whole number, not “two”"),
    (("po", "add", "--supplier", "ACME", "--location", "RNO", "--line", "LANT-BLK-L:3"),
     "a line is SKU:QUANTITY:UNIT-COST:EXPECTED-DATE, like MUG-RED:120:2.35:2026-12-10, not “LANT-BLK-L:3”"),
    (("po", "add", "--supplier", "ACME", "--location", "RNO", "--line", "LANT-BLK-L:3:2.00:12/20/2026"),
     "“12/20/2026” is not a date; write it as YYYY-MM-DD, like 2026-12-12"),
    (("po", "add", "--supplier", "NOBODY", "--location", "RNO"), "error: There is no supplier NOBODY."),
    (("po", "add", "--supplier", "ACME", "--location", "RNO", "--line", "NO-SUCH:1:1.00:2026-12-20"),
     "error: There is no product NO-SUCH."),
    (("po", "add", "--supplier", "ACME", "--location", "RNO", "--send"), "has no lines; add what to order before sending it."),
    (("po", "show", "PO-9999"), "error: There is no purchase order PO-9999."),
    (("po", "receive", "PO-9999", "--sku", "LANT-BLK-L", "--qty", "0"), "Nothing to receive: give --qty, --damaged or both"),
])
def test_bad_input_is_named_and_nothing_is_written(small_house, tmp_path, args, message):
    for part in small_house.parent.glob(small_house.name + "*"):  # with its -wal, should one be left
        shutil.copy(part, tmp_path / part.name.replace(small_house.name, "bad.sqlite3"))
    url = f"sqlite:///{tmp_path / 'bad.sqlite3'}"
    proc = run(*args, "--db", url, check=False)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    db = Database(url)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(PurchaseOrder)) == 0
    db.dispose()


def test_a_suppliers_edi_partner_and_a_carton_received_by_its_sscc(small_house, tmp_path):
    from datetime import date

    from oms import purchasing
    from oms.catalog.models import Product
    from oms.core.audit import Actor
    from oms.core.gs1 import sscc

    path = tmp_path / "house.sqlite3"
    shutil.copy(small_house, path)
    url = f"sqlite:///{path}"
    bad = run("supplier", "edi", "ACME", "--partner", "nobody", "--db", url, check=False)
    assert bad.returncode != 0 and "There is no trading partner nobody" in bad.stderr
    assert run("supplier", "edi", "ACME", "--none", "--db", url).stdout == "ACME no longer trades EDI: its POs go by PDF.\n"
    db = Database(url)
    with db.write() as s:
        sku = s.scalar(select(func.min(Product.sku)))
        _id, number = purchasing.create_po(s, Actor("t", "t"), "ACME", "RNO", lines=[
            purchasing.PoLineInput(sku, 5, "1.00", date(2026, 12, 20))])
        purchasing.send_po(s, Actor("t", "t"), number)
        label = sscc("0614141", 77)
        purchasing.record_asn(s, Actor("t", "t"), number, "SH-1", [purchasing.CartonInput(label, ((sku, 5),))])
    db.dispose()
    assert f"{label}  expected  {sku} ×5" in run("po", "cartons", number, "--db", url).stdout
    out = run("po", "receive-carton", label, "--db", url).stdout
    assert out == f"Carton {label}: 5 units of 1 items received on {number}\n{number} is received.\n"
    again = run("po", "receive-carton", label, "--db", url, check=False)
    assert again.returncode != 0 and "was received already" in again.stderr
    assert f"{label}  received" in run("po", "cartons", number, "--db", url).stdout
    out_file = tmp_path / "labels.zpl"
    out = run("doc", "receiving-labels", number, "products", "--format", "zpl", "--out", str(out_file), "--db", url).stdout
    assert out.startswith(f"Wrote 5 labels to {out_file}") and out_file.read_bytes().count(b"^XA") == 5
    bad = run("doc", "receiving-labels", number, "--out", str(out_file), "--db", url, check=False)
    assert bad.returncode == 2 and "the following arguments are required: what" in bad.stderr
