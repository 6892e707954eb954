"""Receiving labels: a PO's cartons from its ship notices as GS1 carton labels, and a product label for every good
unit on its open receipt; decoded by a real barcode reader, as PDF and as ZPL."""

from __future__ import annotations

from datetime import date

import pytest

from oms import documents, purchasing
from oms.core.errors import InvalidInput
from oms.core.gs1 import sscc
from oms.purchasing import CartonInput, PoLineInput
from tests.conftest import ACTOR
from tests.documents.conftest import decode_pdf, decode_zpl

C1, C2 = sscc("0614141", 901), sscc("0614141", 902)


@pytest.fixture
def po(world):
    with world.write() as s:
        purchasing.add_supplier(s, ACTOR, "ACME", "Acme Ceramics")
        _id, number = purchasing.create_po(s, ACTOR, "ACME", "RNO", lines=[
            PoLineInput("MUG-RED", 10, "2.00", date(2026, 12, 20)), PoLineInput("LANTERN", 2, "9.00", date(2026, 12, 20))])
        purchasing.send_po(s, ACTOR, number)
        purchasing.record_asn(s, ACTOR, number, "SH-5", [CartonInput(C1, (("MUG-RED", 2),)),
                                                         CartonInput(C2, (("LANTERN", 1),))])
    return number


def test_carton_labels_carry_each_cartons_sscc_and_the_po(world, po):
    with world.read() as s:
        n, pdf = documents.receiving_labels(s, po, "cartons")
        _n, zpl = documents.receiving_labels(s, po, "cartons", "zpl", dpi=300)
    assert n == 2
    for pages in (decode_pdf(pdf, 203), decode_zpl(zpl, 300)):
        found = [r.text for page in pages for r in page]
        assert any(C1 in t for t in found) and any(C2 in t for t in found), found


def test_product_labels_one_per_good_unit_on_the_open_receipt(world, po):
    with world.read() as s:
        with pytest.raises(InvalidInput, match="Nothing good is on an open receipt"):
            documents.receiving_labels(s, po, "products")
    with world.write() as s:
        purchasing.receive_carton(s, ACTOR, C1)
        purchasing.receive_carton(s, ACTOR, C2)
    with world.read() as s:
        n, pdf = documents.receiving_labels(s, po, "products")
        with pytest.raises(InvalidInput, match="cartons or products"):
            documents.receiving_labels(s, po, "pallets")
    assert n == 3
    pages = decode_pdf(pdf, 203)
    texts = sorted(r.text for page in pages for r in page)
    assert len(pages) == 3 and texts.count("4006381333931") == 2 and texts.count("LANTERN") == 1, texts
