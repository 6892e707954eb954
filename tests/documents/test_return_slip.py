"""The return slip PDF: what the customer reads, and the RMA number the returns dock scans back off it."""

from __future__ import annotations

from oms import documents, returns
from oms.core.settings import Settings
from oms.documents.barcodes import code128
from tests.conftest import ACTOR
from tests.documents.conftest import decode_pdf, expected
from tests.documents.test_pages import page_texts
from tests.oms.test_returns import shipped_order


def test_the_return_slip_says_what_comes_back_and_its_barcode_reads_back_the_rma(world):
    _oid, number = shipped_order(world, (("MUG-RED", 2), ("LANTERN", 1)))
    with world.write() as s:
        _id, rma = returns.create_rma(s, ACTOR, number, [returns.RmaLineInput("MUG-RED", 2), returns.RmaLineInput("LANTERN", 1)],
                                      reason="NOT_AS_DESCRIBED", note="The red is more of an orange.", resolution="exchange")
    with world.read() as s:
        pdf = documents.return_slip(s, rma, paper="A4", settings=Settings(company_name="Harbor & Pine Goods"))
    assert pdf.startswith(b"%PDF")
    (text,) = page_texts(pdf)
    for words in ("Harbor & Pine Goods", "RETURN SLIP", "RMA-1001", "Ada Lovelace", f"Order {number}", "SEND TO", "Reno",
                  "Not as described", "exchange", "MUG-RED", "LANTERN", "Storm lantern", "The red is more of an orange.",
                  "please quote RMA-1001"):
        assert words in text, words
    assert decode_pdf(pdf, 203) == [[expected(code128("RMA-1001"))]]
