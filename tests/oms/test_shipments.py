"""Pack, ship confirm, void and tracking: stock leaves through the ledger and the channel hears of it."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from oms import check, orders
from oms.core.errors import Conflict, InvalidInput
from oms.core.models import OutboxMessage
from oms.inventory.models import StockLevel, StockMovement
from oms.orders.models import OrderLine, SalesOrder
from oms.shipping import shipments
from oms.shipping.shipments import PackageSpec, PackItem
from tests.conftest import ACTOR, make_order, ship_from, stock, take_in


def picked_order(db, lines=(("MUG-RED", 2),), channel="web", ext="1"):
    ship_from(db, "RNO")
    for sku, qty in lines:
        stock(db, sku, "RNO", 10, bin="A-01-1")
    with db.write() as s:
        (r,) = take_in(s, make_order(ext, lines, channel=channel, order_type="wholesale" if channel == "edi" else "dtc"))
        line_ids = s.scalars(select(OrderLine.id).where(OrderLine.order_id == r.order_id).order_by(OrderLine.id)).all()
        for lid, (_sku, qty) in zip(line_ids, lines):
            orders.record_pick(s, ACTOR, lid, qty, bin="A-01-1")
    return r.order_id, line_ids


def status(db, order_id):
    with db.read() as s:
        return s.get(SalesOrder, order_id).status


def test_pack_and_confirm_ships_through_the_ledger(world):
    oid, (line,) = picked_order(world)
    with world.write() as s:
        sid = shipments.pack(s, ACTOR, oid, [PackItem(line, 2)], [PackageSpec("M", 900)])
    assert status(world, oid) == "packed"
    with world.write() as s:
        shipments.confirm(s, ACTOR, sid, carrier="UPS", service="Ground", tracking_number="1Z999")
    assert status(world, oid) == "shipped"
    with world.read() as s:
        assert (s.scalar(select(StockLevel.on_hand)), s.scalar(select(StockLevel.allocated))) == (8, 0)
        assert s.scalar(select(func.sum(StockMovement.quantity))) == 8
        topics = sorted(s.scalars(select(OutboxMessage.topic)).all())
        assert topics == ["fulfillment.create", "payment.capture"]
        ful = s.scalar(select(OutboxMessage.payload).where(OutboxMessage.topic == "fulfillment.create"))
        assert ful["tracking_number"] == "1Z999" and ful["lines"][0]["quantity"] == 2
        assert check.run(s) == []
    with pytest.raises(Conflict, match="only a packed shipment"):
        with world.write() as s:
            shipments.confirm(s, ACTOR, sid)


def test_partial_shipment_then_rest(world):
    oid, (red, blue) = picked_order(world, (("MUG-RED", 2), ("MUG-BLU", 1)))
    with world.write() as s:
        sid = shipments.pack(s, ACTOR, oid, [PackItem(red, 2)])
        shipments.confirm(s, ACTOR, sid, tracking_number="T1")
    assert status(world, oid) == "picking"  # the blue mug is picked, waiting to be packed
    with world.write() as s:
        sid2 = shipments.pack(s, ACTOR, oid, [PackItem(blue, 1)])
        shipments.confirm(s, ACTOR, sid2, tracking_number="T2")
    assert status(world, oid) == "shipped"
    with world.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == "fulfillment.create")) == 2
        assert check.run(s) == []


def test_wholesale_shipment_raises_an_invoice(world):
    oid, (line,) = picked_order(world, channel="edi")
    with world.write() as s:
        sid = shipments.pack(s, ACTOR, oid, [PackItem(line, 2)])
        shipments.confirm(s, ACTOR, sid)
    with world.read() as s:
        inv = s.scalar(select(OutboxMessage.payload).where(OutboxMessage.topic == "invoice.create"))
        assert inv["amount_minor"] == 2 * 1400 and inv["currency"] == "USD"


def test_cannot_pack_more_than_picked_and_nothing_is_written(world):
    oid, (line,) = picked_order(world)
    with pytest.raises(Conflict, match="Only 2 of MUG-RED are picked"):
        with world.write() as s:
            shipments.pack(s, ACTOR, oid, [PackItem(line, 3)])
    with pytest.raises(InvalidInput, match="Nothing was scanned"):
        with world.write() as s:
            shipments.pack(s, ACTOR, oid, [])
    assert status(world, oid) == "picking"


def test_void_packed_and_shipped(world):
    oid, (line,) = picked_order(world)
    with world.write() as s:
        sid = shipments.pack(s, ACTOR, oid, [PackItem(line, 2)])
        shipments.void(s, ACTOR, sid, reason="wrong box")
    assert status(world, oid) == "picking"
    with world.write() as s:
        sid = shipments.pack(s, ACTOR, oid, [PackItem(line, 2)])
        shipments.confirm(s, ACTOR, sid, tracking_number="T9")
        shipments.void(s, ACTOR, sid, reason="label misprinted, not picked up")
    assert status(world, oid) == "picking"
    with world.read() as s:
        assert (s.scalar(select(StockLevel.on_hand)), s.scalar(select(StockLevel.allocated))) == (10, 2)
        assert s.scalar(select(OutboxMessage.topic).where(OutboxMessage.topic == "fulfillment.cancel"))
        assert check.run(s) == []


def test_tracking_delivers_once(world):
    oid, (line,) = picked_order(world)
    t = datetime(2026, 11, 21, 9, 58, tzinfo=timezone.utc)
    with world.write() as s:
        sid = shipments.pack(s, ACTOR, oid, [PackItem(line, 2)])
        shipments.confirm(s, ACTOR, sid, tracking_number="T1")
        assert shipments.add_tracking_event(s, ACTOR, sid, "in_transit", t)
        assert not shipments.add_tracking_event(s, ACTOR, sid, "in_transit", t)
        shipments.add_tracking_event(s, ACTOR, sid, "delivered", t + timedelta(days=1))
    assert status(world, oid) == "delivered"
    with pytest.raises(Conflict, match="already with the carrier"):
        with world.write() as s:
            shipments.void(s, ACTOR, sid, reason="too late")
    with pytest.raises(InvalidInput, match="not a tracking status"):
        with world.write() as s:
            shipments.add_tracking_event(s, ACTOR, sid, "teleported", t)
