"""An invoice for every shipment with the channel's shipping and tax; credit notes; the gap-free number series."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from oms import invoicing, orders
from oms.core import outbox
from oms.core.db import Database
from oms.core.errors import Conflict, InvalidInput
from oms.core.models import OutboxMessage
from oms.invoicing.models import CreditNote, Invoice
from oms.orders.models import SalesOrder
from oms.shipping import shipments
from tests.conftest import ACTOR
from tests.invoicing.helpers import confirm, pack, picked_order


def _invoice(db, number):
    with db.read() as s:
        return invoicing.invoice_view(s, number)


def test_each_shipment_is_invoiced_with_the_channels_shipping_and_tax_shared_to_the_cent(world):
    # 3 mugs and a lantern at 14.00: goods 56.00; shipping 5.00, discount 3.01 and tax 7.01 as the shop sent them.
    oid, (mugs, lantern) = picked_order(world, shipping_minor=500, tax_minor=701, discount_minor=301,
                                        subtotal_minor=5299, total_minor=5600 + 500 - 301 + 701)
    first = pack(world, oid, {mugs: 2})
    confirm(world, first)
    one = _invoice(world, "INV-000001")
    assert (one.goods_minor, one.shipping_minor, one.discount_minor, one.tax_minor) == (2800, 500, 151, 351)
    assert one.total_minor == 2800 + 500 - 151 + 351
    assert [(l.kind, l.sku, l.quantity, l.amount_minor) for l in one.lines] == [
        ("goods", "MUG-RED", 2, 2800), ("shipping", "", 1, 500), ("discount", "", 1, -151), ("tax", "", 1, 351)]
    assert one.shipment_id == first and one.order_number == "#1"
    second = pack(world, oid, {mugs: 1, lantern: 1})
    confirm(world, second)
    two = _invoice(world, "INV-000002")
    # The last shipment takes what is left: the two invoices add up to the order exactly.
    assert (two.goods_minor, two.shipping_minor, two.discount_minor, two.tax_minor) == (2800, 0, 150, 350)
    assert one.total_minor + two.total_minor == 5600 + 500 - 301 + 701
    with world.read() as s:
        assert [r.number for r in invoicing.invoices(s, order_id=oid)] == ["INV-000002", "INV-000001"]


def test_direct_and_wholesale_orders_are_invoiced_too(world):
    with world.write() as s:
        orders.add_channel(s, ACTOR, "phone", "Phone orders", "manual")
    oid, (line,) = picked_order(world, "D1", (("LANTERN", 2),), channel="phone", tax_minor=560)
    confirm(world, pack(world, oid, {line: 2}))
    wid, (wline,) = picked_order(world, "W1", (("MUG-BLU", 4),), channel="edi", order_type="wholesale")
    confirm(world, pack(world, wid, {wline: 4}))
    with world.read() as s:
        direct, wholesale = invoicing.invoices(s, order_id=oid), invoicing.invoices(s, order_id=wid)
        assert [(r.number, r.total_minor) for r in direct] == [("INV-000001", 2 * 1400 + 560)]
        assert [(r.number, r.total_minor) for r in wholesale] == [("INV-000002", 4 * 1400)]
        # The 810 still goes to the partner as before.
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == "invoice.create")) == 1


def test_a_shipment_is_invoiced_once(world):
    oid, (mugs, _lantern) = picked_order(world)
    sid = pack(world, oid, {mugs: 3})
    confirm(world, sid)
    with pytest.raises(Conflict, match="already has an invoice"):
        with world.write() as s:
            invoicing.invoice_shipment(s, ACTOR, s.get(SalesOrder, oid), sid, [invoicing.ShippedLine(mugs, 3)])
    with world.read() as s:
        assert s.scalar(select(func.count()).select_from(Invoice)) == 1


def test_credit_notes_give_back_part_of_an_invoice_and_never_more_than_it(world):
    oid, (mugs, lantern) = picked_order(world, shipping_minor=500, tax_minor=700)
    confirm(world, pack(world, oid, {mugs: 3, lantern: 1}))
    inv = _invoice(world, "INV-000001")
    assert (inv.goods_minor, inv.shipping_minor, inv.tax_minor, inv.total_minor) == (5600, 500, 700, 6800)
    with world.write() as s:
        cn1 = invoicing.issue_credit_note(s, ACTOR, "inv-000001", {"MUG-RED": 1}, reason="Damaged in transit")
    assert cn1 == "CN-000001"
    with world.read() as s:
        note = invoicing.credit_note_view(s, cn1)
    # 14.00 of goods out of a taxable 61.00 (goods and shipping): 7.00 of tax times 14/61 = 1.61.
    assert (note.goods_minor, note.shipping_minor, note.tax_minor, note.total_minor) == (1400, 0, 161, 1561)
    assert note.invoice_number == "INV-000001" and note.reason == "Damaged in transit"
    for bad, match in (({"MUG-RED": 3}, "2 of MUG-RED left"), ({"GHOST": 1}, "not a line of invoice"), ({}, "Say what")):
        with pytest.raises(InvalidInput, match=match):
            with world.write() as s:
                invoicing.issue_credit_note(s, ACTOR, "INV-000001", bad)
    with world.write() as s:  # the rest, and the shipping: everything invoiced is given back, to the cent
        cn2 = invoicing.issue_credit_note(s, ACTOR, "INV-000001", {"MUG-RED": 2, "LANTERN": 1}, shipping=True)
    assert cn2 == "CN-000002"  # the refused attempts used no number
    with world.read() as s:
        total = s.scalar(select(func.sum(CreditNote.total_minor)))
        assert total == inv.total_minor
    with pytest.raises(InvalidInput, match="no shipping left"):
        with world.write() as s:
            invoicing.issue_credit_note(s, ACTOR, "INV-000001", {}, shipping=True)


def test_voiding_a_shipped_shipment_credits_its_invoice(world):
    oid, (mugs, _lantern) = picked_order(world, shipping_minor=500, tax_minor=300)
    sid = pack(world, oid, {mugs: 3})
    confirm(world, sid)
    with world.write() as s:
        shipments.void(s, ACTOR, sid, reason="Wrong box")
    with world.read() as s:
        (note,) = s.scalars(select(CreditNote)).all()
        inv = s.scalar(select(Invoice))
        assert note.total_minor == inv.total_minor and "Wrong box" in note.reason


def test_invoices_shipments_and_credit_notes_are_published_to_subscribers(world):
    with world.write() as s:
        outbox.subscribe(s, "erp", ["invoice.issued", "credit_note.issued", "shipment.confirmed"])
    oid, (mugs, _lantern) = picked_order(world)
    sid = pack(world, oid, {mugs: 3})
    confirm(world, sid)
    with world.write() as s:
        invoicing.issue_credit_note(s, ACTOR, "INV-000001", {"MUG-RED": 1})
    with world.read() as s:
        rows = s.execute(select(OutboxMessage.topic, OutboxMessage.idempotency_key, OutboxMessage.payload)
                         .where(OutboxMessage.destination == "erp").order_by(OutboxMessage.id)).all()
    assert [(t, k) for t, k, _p in rows] == [("invoice.issued", "erp:invoice:INV-000001"),
                                           ("shipment.confirmed", f"erp:shipment:{sid}"),
                                           ("credit_note.issued", "erp:credit_note:CN-000001")]
    assert rows[0][2]["total_minor"] == 4200 and rows[0][2]["lines"][0]["sku"] == "MUG-RED"
    assert rows[1][2]["invoice_number"] == "INV-000001" and rows[1][2]["tracking_number"] == "1Z999AA10123456784"
    assert rows[2][2]["invoice_number"] == "INV-000001"


STATIONS, EACH = 2, 12


def test_two_stations_confirming_at_once_number_invoices_without_gaps_or_repeats(world):
    """Two stations (threads, each with its own engine: on PostgreSQL its own connections) confirm shipments at
    the same moment; every third one of one station fails after confirming and rolls back. The numbers kept
    are 1..N with none missing and none twice."""
    total = STATIONS * EACH
    oid, (line,) = picked_order(world, "BIG", (("LANTERN", total),), stock_each=total)
    sids = [pack(world, oid, {line: 1}) for _ in range(total)]
    start = threading.Barrier(STATIONS)
    errors: list[str] = []
    rolled_back = []

    def station(k: int) -> None:
        db = Database(world.url, schema=world.schema)
        try:
            start.wait()
            for i, sid in enumerate(sids[k::STATIONS]):
                try:
                    with db.write() as s:
                        shipments.confirm(s, ACTOR, sid, carrier="ups", tracking_number=f"T{sid}")
                        if k == 1 and i % 3 == 2:
                            raise RuntimeError("the station lost power before commit")
                except RuntimeError:
                    rolled_back.append(sid)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(repr(exc))
        finally:
            db.dispose()

    threads = [threading.Thread(target=station, args=(k,)) for k in range(STATIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with world.read() as s:
        numbers = sorted(s.scalars(select(Invoice.number)).all())
        invoiced = set(s.scalars(select(Invoice.shipment_id)).all())
    kept = total - len(rolled_back)
    assert len(rolled_back) == EACH // 3
    assert numbers == [f"INV-{n:06d}" for n in range(1, kept + 1)]
    assert invoiced == set(sids) - set(rolled_back)
