"""The invoice and credit note PDFs: their text read back, and the number's barcode decoded as a scanner would."""

from __future__ import annotations

import pypdfium2 as pdfium

from oms import documents, invoicing
from oms.core.settings import Settings
from oms.documents.barcodes import code128
from tests.conftest import ACTOR
from tests.documents.conftest import decode_pdf, expected
from tests.invoicing.helpers import confirm, pack, picked_order


def _text(pdf: bytes) -> str:
    return "\n".join(p.get_textpage().get_text_range() for p in pdfium.PdfDocument(pdf))


def test_invoice_pdf_says_what_is_owed_and_its_number_scans(world):
    oid, (mugs, lantern) = picked_order(world, shipping_minor=595, tax_minor=812)
    confirm(world, pack(world, oid, {mugs: 3, lantern: 1}))
    settings = Settings(company_name="Quayside Goods Ltd", return_address="1 Harbour Road\nPortsmouth")
    with world.read() as s:
        pdf = documents.invoice_pdf(s, "INV-000001", paper="A4", settings=settings)
    text = _text(pdf)
    for words in ("INVOICE INV-000001", "Quayside Goods Ltd", "1 Harbour Road", "BILL TO", "Ada Lovelace", "Order", "#1",
                  "MUG-RED", "LANTERN", "Shipping", "5.95", "Tax", "8.12", "Goods", "56.00", "Total due", "70.07 USD",
                  "Page 1 of 1"):
        assert words in text, words
    assert decode_pdf(pdf, 203)[0] == [expected(code128("INV-000001"))]


def test_credit_note_pdf_names_its_invoice_and_reason(world):
    oid, (mugs, _lantern) = picked_order(world, tax_minor=700)
    confirm(world, pack(world, oid, {mugs: 3}))
    with world.write() as s:
        number = invoicing.issue_credit_note(s, ACTOR, "INV-000001", {"MUG-RED": 1}, reason="Chipped handle")
    with world.read() as s:
        pdf = documents.credit_note_pdf(s, number, settings=Settings(company_name="Quayside Goods Ltd"))
    text = _text(pdf)
    for words in ("CREDIT NOTE CN-000001", "Against invoice", "INV-000001", "Chipped handle", "MUG-RED", "Total credited"):
        assert words in text, words
    assert decode_pdf(pdf, 203)[0] == [expected(code128("CN-000001"))]


def test_a_long_invoice_runs_onto_more_pages_with_every_line(world):
    skus = [(f"SKU-{i:03d}", 1) for i in range(60)]
    from oms import catalog

    with world.write() as s:
        for sku, _q in skus:
            catalog.add_product(s, ACTOR, sku, f"Product {sku}", price="1.00")
    oid, line_ids = picked_order(world, "L", tuple(skus))
    confirm(world, pack(world, oid, {lid: 1 for lid in line_ids}))
    with world.read() as s:
        pdf = documents.invoice_pdf(s, "INV-000001", paper="Letter", settings=Settings(company_name="Q"))
    pages = [p.get_textpage().get_text_range() for p in pdfium.PdfDocument(pdf)]
    assert len(pages) >= 2 and f"Page 1 of {len(pages)}" in pages[0]
    joined = "\n".join(pages)
    assert all(sku in joined for sku, _q in skus)
    assert "Total due" in pages[-1]
