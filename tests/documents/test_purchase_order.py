"""The purchase order PDF: what the supplier reads, page after page, and the PO number a scanner reads back."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest

from oms import catalog, documents, purchasing
from oms.core.settings import Settings
from oms.documents.barcodes import code128
from oms.purchasing import PoLineInput
from tests.conftest import ACTOR
from tests.documents.conftest import decode_pdf, expected
from tests.documents.test_pages import page_texts


@pytest.fixture
def po(world):
    with world.write() as s:
        purchasing.add_supplier(s, ACTOR, "ACME", "Acme Ceramics Ltd", email="orders@acme.example", currency="USD")
        _id, number = purchasing.create_po(s, ACTOR, "ACME", "RNO", note="Deliver to dock 2, weekdays 7–15.", lines=[
            PoLineInput("MUG-RED", 120, "2.35", date(2026, 12, 10)),
            PoLineInput("LANTERN", 6, "18.50", date(2026, 12, 14))])
        purchasing.send_po(s, ACTOR, number)
    return world, number


def test_the_po_pdf_says_what_is_ordered_and_its_barcode_reads_back_the_po_number(po):
    db, number = po
    with db.read() as s:
        pdf = documents.purchase_order(s, number, paper="A4", settings=Settings(company_name="Harbor & Pine Goods"))
    assert pdf.startswith(b"%PDF")
    (text,) = page_texts(pdf)
    for words in ("Harbor & Pine Goods", "PURCHASE ORDER", "PO-1001", "Acme Ceramics Ltd", "orders@acme.example",
                  "DELIVER TO", "Reno", "MUG-RED", "Mug, red", "120", "$2.35", "$282.00", "2026-12-10", "LANTERN",
                  "$18.50", "$111.00", "2026-12-14", "Total $393.00", "2 lines, 126 units", "sent",
                  "Deliver to dock 2, weekdays 7–15.", "Please quote PO-1001 on the delivery note and on every carton."):
        assert words in text, words
    assert decode_pdf(pdf, 203) == [[expected(code128("PO-1001"))]]
    if shutil.which("pdftotext"):  # the same text through poppler, as a person's viewer shows it
        plain = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert "PO-1001" in plain and "Total $393.00" in plain


def test_a_long_po_runs_over_pages_with_the_barcode_on_each(po):
    db, _number = po
    with db.write() as s:
        for i in range(45):
            catalog.add_product(s, ACTOR, f"BOLT-{i:03d}", f"Bolt number {i}")
        _id, number = purchasing.create_po(s, ACTOR, "ACME", "EWR", lines=[
            PoLineInput(f"BOLT-{i:03d}", i + 1, 10, date(2026, 12, 1)) for i in range(45)])
    with db.read() as s:
        pdf = documents.purchase_order(s, number, paper="Letter", settings=Settings())
    texts = page_texts(pdf)
    assert len(texts) >= 2 and "PO-1002, continued" in texts[1]
    joined = "\n".join(texts)
    assert all(f"BOLT-{i:03d}" in joined for i in range(45)) and "Total $103.50" in texts[-1] and "45 lines, 1035 units" in texts[-1]
    assert all(reads == [expected(code128("PO-1002"))] for reads in decode_pdf(pdf, 203))
