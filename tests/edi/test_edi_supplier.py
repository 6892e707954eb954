"""EDI with a supplier over the folder transport: our PO out as an 850 when it is sent; their 855 confirms
quantities and dates; their 856 becomes an expected receipt whose cartons are received by their SSCC labels."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from oms import catalog, inventory, purchasing
from oms.core.gs1 import sscc
from oms.partners import edi
from oms.partners.models import EdiDocument
from oms.purchasing import PoLineInput
from oms.purchasing.models import PurchaseOrderLine
from sync.channels.edi_x12.docs import LineAck, build_855, build_856, read_850
from sync.channels.edi_x12.folder import EdiFolderChannel
from sync.channels.edi_x12.x12 import Group, Transaction, parse_interchanges, write_interchange
from sync.engine import Engine
from tests.conftest import ACTOR

WHEN = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
C1, C2 = sscc("0614141", 501), sscc("0614141", 502)


@pytest.fixture
def acme(db, tmp_path):
    with db.write() as s:
        lid = inventory.add_location(s, ACTOR, "RNO", "Reno", address1="1 Dock St", city="Reno")
        inventory.add_bins(s, lid, ["A-01-1"])
        catalog.add_product(s, ACTOR, "MUG-RED", "Mug, red", barcodes=[("ean", "4006381333931")])
        catalog.add_product(s, ACTOR, "TOTE-NAT", "Canvas tote")
        edi.add_partner(s, ACTOR, code="acme-edi", name="Acme Ceramics", our_id="QUAYSIDE", their_id="ACMECER",
                        transport={"kind": "folder", "path": str(tmp_path / "acme")})
        purchasing.add_supplier(s, ACTOR, "ACME", "Acme Ceramics")
        purchasing.set_supplier_edi(s, ACTOR, "ACME", "acme-edi")
        _id, number = purchasing.create_po(s, ACTOR, "ACME", "RNO", lines=[
            PoLineInput("MUG-RED", 24, "2.35", date(2026, 12, 14)), PoLineInput("TOTE-NAT", 10, "4.00", date(2026, 12, 14))])
    return db, EdiFolderChannel("acme-edi", db, tmp_path / "acme"), number


def _from_supplier(set_id: str, functional: str, body, control: int) -> str:
    group = Group(functional_id=functional, sender="ACMECER", receiver="QUAYSIDE", control=str(control),
                  transactions=(Transaction(set_id=set_id, control="0001", segments=tuple(body)),))
    return write_interchange([group], sender_id="ACMECER", receiver_id="QUAYSIDE", control=control, when=WHEN,
                             newline=True)


def _sent(channel) -> dict[str, list]:
    out: dict[str, list] = {}
    for path in sorted(channel.outbox.iterdir()):
        for ic in parse_interchanges(path.read_text()):
            for _g, tx in ic.transactions():
                out.setdefault(tx.set_id, []).append(tx)
    return out


def test_a_po_goes_out_as_an_850_and_the_855_and_856_come_back(acme):
    db, channel, number = acme
    with db.write() as s:
        purchasing.send_po(s, ACTOR, number)
    engine = Engine(db, {"acme-edi": channel})
    engine.run_once()
    [tx850] = _sent(channel)["850"]
    po = read_850(tx850)
    assert po.po_number == number
    assert [(l.line_id, l.quantity, l.product_ids.get("BP"), str(l.unit_price)) for l in po.lines] == [
        ("1", 24, "MUG-RED", "2.35"), ("2", 10, "TOTE-NAT", "4.00")]
    assert po.lines[0].product_ids.get("EN") == "4006381333931"
    with db.read() as s:
        assert s.scalar(select(EdiDocument.status).where(EdiDocument.doc_type == "850")) == "sent"

    # Acme confirms: all the mugs on the 16th, 6 of the 10 totes (4 rejected).
    ack = build_855(po, {"1": LineAck("IA", 24, date(2026, 12, 16)),
                         "2": [LineAck("IA", 6, date(2026, 12, 18)), LineAck("IR", 4)]}, ack_date=date(2026, 12, 7))
    (channel.inbox / "855.x12").write_text(_from_supplier("855", "PR", ack, 41))
    engine.run_once()
    with db.read() as s:
        lines = s.execute(select(PurchaseOrderLine.sku, PurchaseOrderLine.confirmed_quantity,
                                 PurchaseOrderLine.confirmed_date, PurchaseOrderLine.expected_date)
                          .order_by(PurchaseOrderLine.line_no)).all()
        detail = purchasing.po_detail(s, number)
        assert detail.status == "confirmed"
        assert [(l.confirmed_quantity, l.confirmed_date) for l in detail.lines] == [
            (24, date(2026, 12, 16)), (6, date(2026, 12, 18))]
    assert lines == [("MUG-RED", 24, date(2026, 12, 16), date(2026, 12, 16)),
                     ("TOTE-NAT", 6, date(2026, 12, 18), date(2026, 12, 18))]

    # Their 856: two cartons.
    asn = {"shipment_id": 8812, "shipped_at": WHEN, "po_number": number, "carrier": "UPS",
           "cartons": [{"package_id": 1, "sscc": C1, "items": [{"sku": "VENDOR-MUG", "quantity": 12,
                                                                "product_ids": {"BP": "MUG-RED"}}]},
                       {"package_id": 2, "sscc": C2, "items": [{"sku": "VENDOR-MUG", "quantity": 12,
                                                                "product_ids": {"BP": "MUG-RED"}},
                                                               {"sku": "VENDOR-TOTE", "quantity": 6,
                                                                "product_ids": {"BP": "TOTE-NAT"}}]}]}
    (channel.inbox / "856.x12").write_text(_from_supplier("856", "SH", build_856(asn), 42))
    engine.run_once()
    with db.read() as s:
        (view,) = purchasing.expected_receipts(s, number)
    assert view.asn_number == "8812" and view.shipped_on == date(2026, 12, 7)
    assert [(c.sscc, c.lines) for c in view.cartons] == [(C1, (("MUG-RED", 12),)),
                                                          (C2, (("MUG-RED", 12), ("TOTE-NAT", 6)))]
    with db.write() as s:
        got = purchasing.receive_carton(s, ACTOR, C2)
    assert got.message == f"Carton {C2}: 18 units of 2 items received on {number}"
    acks = _sent(channel)["997"]
    assert len(acks) == 2 and all(tx.segments[1].el(1) == "A" for tx in acks if tx.segments[1].tag == "AK9")


def test_an_856_for_a_po_not_sent_to_that_supplier_is_refused_and_quarantined(acme):
    db, channel, number = acme
    with db.write() as s:
        purchasing.add_supplier(s, ACTOR, "OTHER", "Other Co")
        _id, theirs = purchasing.create_po(s, ACTOR, "OTHER", "RNO", lines=[
            PoLineInput("MUG-RED", 5, "2.00", date(2026, 12, 20))])
        purchasing.send_po(s, ACTOR, theirs)
    asn = {"shipment_id": 9, "shipped_at": WHEN, "po_number": theirs,
           "cartons": [{"package_id": 1, "sscc": C1, "items": [{"sku": "MUG-RED", "quantity": 5}]}]}
    (channel.inbox / "856.x12").write_text(_from_supplier("856", "SH", build_856(asn), 43))
    Engine(db, {"acme-edi": channel}).run_once()
    with db.read() as s:
        doc = s.scalars(select(EdiDocument).where(EdiDocument.doc_type == "856")).one()
        assert doc.status == "rejected" and f"{theirs} was not sent to acme-edi" in doc.error
        assert purchasing.expected_receipts(s, theirs) == []
    acks = _sent(channel)["997"]
    assert any(seg.tag == "AK9" and seg.el(1) == "R" for tx in acks for seg in tx.segments)
