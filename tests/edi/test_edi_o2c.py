"""The order-to-cash view follows a wholesale invoice end to end over the folder transport: the shipment's invoice
is issued at ship confirm, its 810 waits in the outbox, is sent, and the partner's 997 for it arrives."""

from __future__ import annotations

from sqlalchemy import select

from oms import fulfilment, reports
from oms.invoicing.models import Invoice
from oms.orders.models import SalesOrder
from oms.partners.models import EdiDocument
from oms.shipping import shipments
from oms.shipping.shipments import PackageSpec
from sync.channels.edi_x12.x12 import Group, Segment, Transaction, write_interchange
from sync.engine import Engine
from tests.conftest import ACTOR
from tests.edi.test_edi_flow import WHEN, an_850, partner_db  # noqa: F401 - the fixture


def _edi(db):
    with db.read() as s:
        return reports.order_to_cash(s).edi_invoices


def test_an_810_is_followed_from_the_outbox_to_its_997(partner_db):  # noqa: F811 - the fixture
    db, channel = partner_db
    (channel.inbox / "po1.x12").write_text(an_850(lines=[("1", 4, "UP", "036000291452", "19.50")]))
    engine = Engine(db, {"northwind": channel})
    engine.run_once()
    with db.write() as s:
        o = s.scalars(select(SalesOrder)).one()
        w = fulfilment.build_wave(s, ACTOR, "RNO")
        for t in fulfilment.open_tasks(s, w.wave_id):
            fulfilment.confirm_pick(s, ACTOR, t.task_id, t.quantity, bin_code=t.bin_code, item_code=t.sku)
        (line,) = fulfilment.packing_view(s, o.id).lines
        res = fulfilment.complete_packing(s, ACTOR, o.id, [fulfilment.PackedBox(PackageSpec("CTN", 4000), {line.line_id: 4})],
                                          company_prefix="0614141")
        shipments.confirm(s, ACTOR, res.shipment_id, carrier="ACME", tracking_number="BOL1")
    with db.read() as s:
        invoice = s.scalars(select(Invoice)).one()
        assert (invoice.number, invoice.total_minor) == ("INV-000001", 4 * 1950)
    (row,) = _edi(db)
    assert (row.partner, row.order_number, row.invoice_number, row.state) == ("northwind", "PO4500123", "INV-000001",
                                                                              "waiting to be sent")
    engine.run_once()
    (row,) = _edi(db)
    assert row.state == "sent: awaiting 997" and row.sent_at is not None and not row.overdue
    with db.read() as s:
        sent = s.scalars(select(EdiDocument).where(EdiDocument.direction == "out", EdiDocument.doc_type == "810")).one()
    # The 810 the partner pays against carries the invoice's own number.
    assert "BIG*" in sent.raw and "*INV-000001*" in sent.raw.split("BIG*", 1)[1].split("~", 1)[0] + "*"
    ack = Group(functional_id="FA", sender="NORTHWIND", receiver="QUAYSIDE", control="61", transactions=(
        Transaction(set_id="997", control="0001", segments=(Segment("AK1", ("IN", sent.gs_control)),
                                                            Segment("AK9", ("A", "1", "1", "1")))),))
    (channel.inbox / "ack.x12").write_text(write_interchange([ack], sender_id="NORTHWIND", receiver_id="QUAYSIDE",
                                                             control=61, when=WHEN, newline=True))
    engine.run_once()
    (row,) = _edi(db)
    assert row.state == "997 arrived" and row.acknowledged_at is not None and row.invoice_number == "INV-000001"
