"""The `rma` commands and `doc return-slip`, run as a real process against a real SQLite file."""

from __future__ import annotations

import json
import shutil

import pypdfium2 as pdfium
import pytest
from sqlalchemy import func, select

from oms.core.db import Database
from oms.orders.models import OrderLine, SalesOrder
from oms.returns.models import Rma
from tests.test_cli import run


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    path = tmp_path_factory.mktemp("rma-cli") / "rma.sqlite3"
    run("seed", "--orders", "40", "--products", "20", "--db", f"sqlite:///{path}")
    return path


def _shipped_line(url: str) -> tuple[str, str, int]:
    """(order number, SKU, units shipped) of a shipped order's line."""
    db = Database(url)
    with db.read() as s:
        row = s.execute(select(SalesOrder.number, OrderLine.sku, OrderLine.shipped).join(OrderLine, OrderLine.order_id == SalesOrder.id)
                        .where(OrderLine.shipped > 0, OrderLine.returned == 0).order_by(SalesOrder.id)).first()
    db.dispose()
    assert row is not None, "the demo data has a shipped order"
    return row[0], row[1], row[2]


def _copy(seeded, tmp_path) -> str:
    for part in seeded.parent.glob(seeded.name + "*"):
        shutil.copy(part, tmp_path / part.name.replace(seeded.name, "house.sqlite3"))
    return f"sqlite:///{tmp_path / 'house.sqlite3'}"


def test_an_rma_from_request_to_close_by_the_command_line(seeded, tmp_path):
    url = _copy(seeded, tmp_path)
    order, sku, shipped = _shipped_line(url)
    assert "DAMAGED" in run("rma", "reasons", "--db", url).stdout
    out = run("rma", "add", "--order", order, "--line", f"{sku}:1", "--reason", "damaged", "--note", "Box was crushed",
              "--fee", "2.50", "--db", url).stdout
    assert out == f"RMA-1001 opened on order {order} (requested).\n"
    assert run("rma", "approve", "rma-1001", "--db", url).stdout == "RMA-1001 is approved.\n"
    slip = tmp_path / "slip.pdf"
    run("doc", "return-slip", "--rma", "RMA-1001", "--out", str(slip), "--db", url)
    text = pdfium.PdfDocument(slip.read_bytes())[0].get_textpage().get_text_range()
    assert "RMA-1001" in text and sku in text and "Box was crushed" in text
    out = run("rma", "receive", "RMA-1001", "--sku", sku, "--qty", "1", "--disposition", "restock", "--note", "fine",
              "--db", url).stdout.splitlines()
    assert out[0].startswith(f"{sku}: 1 of 1 back — restock → ") and out[1] == "RMA-1001 is received."
    listed = run("rma", "list", "--open", "--db", url).stdout
    assert listed.startswith("RMA-1001") and "1/1" in listed
    shown = json.loads(run("rma", "show", "RMA-1001", "--json", "--db", url).stdout)
    assert shown["status"] == "received" and shown["restocking_fee"] == "$2.50"
    assert [(u["sku"], u["disposition"], u["note"]) for u in shown["units"]] == [(sku, "restock", "fine")]
    assert [e["action"] for e in shown["timeline"]][:2] == ["rma.requested", "rma.approved"]
    out = run("rma", "resolve", "RMA-1001", "--refund", "10.00", "--db", url).stdout
    assert out == "RMA-1001 is resolved: refund of $10.00; credit note CN-000001.\n"  # the demo orders were invoiced
    assert json.loads(run("rma", "show", "RMA-1001", "--json", "--db", url).stdout)["credit_notes"] == "CN-000001"
    assert run("rma", "close", "RMA-1001", "--db", url).stdout == "RMA-1001 is closed.\n"
    assert run("check", "--db", url).returncode == 0
    rows = json.loads(run("rma", "list", "--json", "--db", url).stdout)
    assert [(r["number"], r["status"]) for r in rows] == [("RMA-1001", "closed")]


@pytest.mark.parametrize("args, message", [
    (("rma", "add", "--order", "{order}", "--line", "{sku}", "--reason", "DAMAGED"), "a line is SKU:QUANTITY, like MUG-RED:2"),
    (("rma", "add", "--order", "{order}", "--line", "{sku}:two", "--reason", "DAMAGED"),
     "the quantity must be a whole number, not “two”"),
    (("rma", "add", "--order", "{order}", "--line", "{sku}:1", "--reason", "BORED"), "error: BORED is not a reason code; use one of"),
    (("rma", "add", "--order", "{order}", "--line", "{sku}:999", "--reason", "DAMAGED"), "can be returned"),
    (("rma", "add", "--order", "{order}", "--line", "{sku}:1", "--reason", "DAMAGED", "--resolution", "cash"),
     "the resolution is refund, exchange or store-credit, not “cash”"),
    (("rma", "add", "--order", "NO-SUCH", "--line", "{sku}:1", "--reason", "DAMAGED"), "error: There is no order NO-SUCH."),
    (("rma", "show", "RMA-9999"), "error: There is no RMA RMA-9999."),
    (("rma", "receive", "RMA-9999", "--sku", "{sku}", "--qty", "1", "--disposition", "bin"),
     "restock, quarantine, refurbish, scrap, vendor"),
    (("rma", "approve", "RMA-9999"), "error: There is no RMA RMA-9999."),
    (("rma", "label", "RMA-9999", "--carrier", "nope"), "error: There is no carrier connection nope; add one with `carrier add`."),
])
def test_bad_input_is_named_and_nothing_is_written(seeded, tmp_path, args, message):
    url = _copy(seeded, tmp_path)
    order, sku, _shipped = _shipped_line(url)
    proc = run(*(a.format(order=order, sku=sku) for a in args), "--db", url, check=False)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    db = Database(url)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Rma)) == 0
    db.dispose()
