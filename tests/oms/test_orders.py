"""Order import (alone and through the intake door, which routes), holds and cancellation through the services."""

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from oms import check, orders, routing
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.models import AuditEvent, OutboxMessage
from oms.inventory.models import StockLevel
from oms.orders.contract import Address, NormalizedLine
from oms.orders.models import OrderLine, SalesOrder
from tests.conftest import ACTOR, make_order, ship_from, stock, take_in


def load(db, order_id):
    with db.read() as s:
        o = s.get(SalesOrder, order_id)
        return o, list(o.lines)


def test_import_creates_order_lines_and_audit(world):
    with world.write() as s:
        r = orders.import_order(s, ACTOR, make_order("1001", [("MUG-RED", 2), ("LANTERN", 1)]))
    assert r.outcome == "created"
    o, lines = load(world, r.order_id)
    assert (o.status, o.line_count, o.unit_count, o.number) == ("new", 2, 3, "#1001")
    assert o.placed_at.tzinfo is not None
    assert [(l.sku, l.quantity) for l in lines] == [("MUG-RED", 2), ("LANTERN", 1)]
    with world.read() as s:
        assert s.scalar(select(AuditEvent.summary).where(AuditEvent.order_id == r.order_id)).startswith("Imported with 2 lines")


def test_same_payload_twice_changes_nothing(world):
    order = make_order("1001", [("MUG-RED", 2)])
    with world.write() as s:
        first = orders.import_order(s, ACTOR, order)
    with world.read() as s:
        before = (s.scalar(select(func.count()).select_from(AuditEvent)), s.get(SalesOrder, first.order_id).updated_at)
    with world.write() as s:
        again = orders.import_order(s, ACTOR, order)
    assert again == orders.ImportResult(first.order_id, "unchanged")
    with world.read() as s:
        assert (s.scalar(select(func.count()).select_from(AuditEvent)), s.get(SalesOrder, first.order_id).updated_at) == before
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 1


def test_import_alone_reserves_nothing(world):
    stock(world, "MUG-RED", "RNO", 3)
    with world.write() as s:
        r = orders.import_order(s, ACTOR, make_order("1", [("MUG-RED", 2)]))
    o, lines = load(world, r.order_id)
    assert (o.status, o.location_id, [(l.allocated, l.backordered) for l in lines]) == ("new", None, [(0, 0)])
    with world.read() as s:
        assert s.scalar(select(StockLevel.allocated)) == 0


def test_intake_reserves_and_backorders(world):
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 3)
    with world.write() as s:
        a, b = take_in(s, make_order("1", [("MUG-RED", 2)]), make_order("2", [("MUG-RED", 2), ("LANTERN", 1)]))
    assert load(world, a.order_id)[0].status == "allocated"
    o, lines = load(world, b.order_id)
    assert o.status == "backordered"
    assert [(l.allocated, l.backordered) for l in lines] == [(0, 2), (0, 1)]
    # Stock arriving releases the backorder on its own (routing); routing it again then has nothing to do.
    stock(world, "MUG-RED", "RNO", 5)
    stock(world, "LANTERN", "RNO", 5)
    o, lines = load(world, b.order_id)
    assert o.status == "allocated" and [(l.allocated, l.backordered) for l in lines] == [(2, 0), (1, 0)]
    with world.write() as s:
        assert routing.route_order(s, ACTOR, b.order_id).outcome == "skipped"
    with world.read() as s:
        assert sorted(s.scalars(select(StockLevel.allocated))) == [1, 4]
        assert check.run(s) == []


def test_partial_allocation_status(world):
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 5)
    with world.write() as s:
        (r,) = take_in(s, make_order("1", [("MUG-RED", 2), ("LANTERN", 1)]))
    o, lines = load(world, r.order_id)
    assert o.status == "partially_allocated"
    assert [(l.allocated, l.backordered) for l in lines] == [(2, 0), (0, 1)]


def test_unknown_sku_is_imported_flagged_and_held(world):
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 5)
    with world.write() as s:
        (r,) = take_in(s, make_order("7", [("MUG-RED", 1), ("GHOST-1", 2)]))
    o, lines = load(world, r.order_id)
    assert o.status == "on_hold" and o.hold_reason == "Unknown SKU GHOST-1"
    assert [(l.sku, l.unknown_sku, l.product_id is None) for l in lines] == [("MUG-RED", False, False), ("GHOST-1", True, True)]
    assert [l.allocated for l in lines] == [0, 0]  # a held order is not routed: nothing reserved
    with pytest.raises(Conflict, match="unknown SKUs"):
        with world.write() as s:
            orders.release_hold(s, ACTOR, r.order_id)
    with world.write() as s:
        orders.cancel_line(s, ACTOR, lines[1].id, reason="discontinued")
        orders.release_hold(s, ACTOR, r.order_id)
    assert load(world, r.order_id)[0].status == "new"


@pytest.mark.parametrize("change, message", [
    (dict(external_id=""), "channel order id of order #1001 is required"),
    (dict(currency="US"), "not a currency code"),
    (dict(order_type="retail"), "order type 'retail'"),
    (dict(lines=()), "has no lines"),
    (dict(lines=(NormalizedLine("1", "MUG-RED", 0),)), "quantity of line 1 of order #1001 must be more than zero"),
    (dict(lines=(NormalizedLine("1", "MUG-RED", -2),)), "must be more than zero"),
    (dict(lines=(NormalizedLine("1", "MUG-RED", 1, unit_price_minor=12.5),)), "unit price of line 1"),
    (dict(lines=(NormalizedLine("1", "MUG-RED", 1), NormalizedLine("1", "LANTERN", 1))), "two lines with the id 1"),
    (dict(total_minor="12.00"), "total of order #1001 must be an amount in minor units"),
    (dict(customer_name="x" * 500), "customer name of order #1001 is 500 characters long; at most 200 fit"),
    (dict(ship_to=Address(country="USA")), "two-letter code"),
])
def test_bad_orders_are_refused_and_nothing_is_written(world, change, message):
    good = make_order("1000")
    bad = replace(make_order("1001"), **change)
    with pytest.raises(InvalidInput, match=message):
        with world.write() as s:
            orders.import_orders(s, ACTOR, [good, bad])
    with world.read() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 0


def test_unknown_channel(world):
    with pytest.raises(NotFound, match="no sales channel ebay"):
        with world.write() as s:
            orders.import_order(s, ACTOR, make_order(channel="ebay"))


def test_changed_payload_updates_and_records_difference(world):
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 10)
    with world.write() as s:
        (r,) = take_in(s, make_order("9", [("MUG-RED", 2)]))
    edited = make_order("9", [("MUG-RED", 3), ("LANTERN", 1)],
                        ship_to=Address("Ada Lovelace", "", "2 Side St", "", "Seattle", "WA", "98102", "US"))
    with world.write() as s:
        (res,) = take_in(s, edited)
    assert res.outcome == "updated"
    assert "ship-to address" in res.changes and "MUG-RED quantity 2 → 3" in res.changes
    o, lines = load(world, r.order_id)
    assert o.ship_address1 == "2 Side St" and [l.quantity for l in lines] == [3, 1]
    # Routed again for what it now needs: the third mug is reserved, the lantern (none in stock) waits.
    assert [(l.allocated, l.backordered) for l in lines] == [(3, 0), (0, 1)]
    assert o.status == "partially_allocated"
    with world.read() as s:
        summary = s.scalars(select(AuditEvent.summary).where(AuditEvent.action == "order.updated")).one()
    assert "ship-to address" in summary
    with world.write() as s:
        assert take_in(s, edited)[0].outcome == "unchanged"


def test_shrinking_a_line_gives_stock_back(world):
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 10)
    with world.write() as s:
        (r,) = take_in(s, make_order("9", [("MUG-RED", 4)]))
    with world.read() as s:
        assert s.scalar(select(StockLevel.allocated)) == 4
    with world.write() as s:
        take_in(s, make_order("9", [("MUG-RED", 1)]))
    with world.read() as s:
        assert s.scalar(select(StockLevel.allocated)) == 1
        assert check.run(s) == []
    assert load(world, r.order_id)[0].status == "allocated"


def test_address_change_after_picking_is_refused_and_held(world):
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 10, bin="A-01-1")
    with world.write() as s:
        (r,) = take_in(s, make_order("9", [("MUG-RED", 1)]))
        line_id = s.scalar(select(OrderLine.id))
        orders.record_pick(s, ACTOR, line_id, 1, bin="A-01-1")
    with world.write() as s:
        (res,) = take_in(s, make_order("9", [("MUG-RED", 1)], ship_to=Address("Ada", city="Tacoma", country="US")))
    assert any("not applied: ship-to address" in c for c in res.changes)
    o, _ = load(world, r.order_id)
    assert o.on_hold and "ship-to address" in o.hold_reason and o.ship_city == "Seattle"


def test_hold_and_release(world):
    with world.write() as s:
        r = orders.import_order(s, ACTOR, make_order("5"))
    with world.write() as s:
        orders.hold(s, ACTOR, r.order_id, "fraud check")
    assert load(world, r.order_id)[0].status == "on_hold"
    with pytest.raises(InvalidInput):
        with world.write() as s:
            orders.hold(s, ACTOR, r.order_id, "   ")
    with world.write() as s:
        orders.release_hold(s, ACTOR, r.order_id, "cleared")
    o, _ = load(world, r.order_id)
    assert (o.status, o.on_hold, o.hold_reason) == ("new", False, "")
    with pytest.raises(Conflict, match="not on hold"):
        with world.write() as s:
            orders.release_hold(s, ACTOR, r.order_id)


def test_cancel_order_releases_stock_and_tells_channel(world):
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 10)
    with world.write() as s:
        (r,) = take_in(s, make_order("5", [("MUG-RED", 3)]))
    with world.write() as s:
        orders.cancel_order(s, ACTOR, r.order_id, reason="customer asked")
    o, lines = load(world, r.order_id)
    assert o.status == "cancelled" and o.cancelled_at is not None and lines[0].cancelled == 3
    with world.read() as s:
        assert s.scalar(select(StockLevel.allocated)) == 0
        msg = s.scalars(select(OutboxMessage)).one()
        assert (msg.destination, msg.topic, msg.payload["external_id"]) == ("web", "order.cancelled", "5")
        assert check.run(s) == []
    with pytest.raises(Conflict, match="already cancelled"):
        with world.write() as s:
            orders.cancel_order(s, ACTOR, r.order_id, reason="again")


def test_cancel_line_partially(world):
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 10)
    with world.write() as s:
        (r,) = take_in(s, make_order("5", [("MUG-RED", 3), ("LANTERN", 1)]))
    _, lines = load(world, r.order_id)
    with world.write() as s:
        orders.cancel_line(s, ACTOR, lines[1].id, reason="out of stock for good")
        orders.cancel_line(s, ACTOR, lines[0].id, 1, reason="customer wants two")
    o, lines = load(world, r.order_id)
    assert o.status == "allocated" and o.unit_count == 2
    assert [(l.allocated, l.cancelled, l.backordered) for l in lines] == [(2, 1, 0), (0, 1, 0)]
    with world.read() as s:
        assert check.run(s) == []


def test_picked_units_block_cancellation(world):
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 10, bin="A-01-1")
    with world.write() as s:
        (r,) = take_in(s, make_order("5", [("MUG-RED", 2)]))
        line_id = s.scalar(select(OrderLine.id))
        orders.record_pick(s, ACTOR, line_id, 2, bin="A-01-1")
    assert load(world, r.order_id)[0].status == "picking"
    with pytest.raises(Conflict, match="being picked"):
        with world.write() as s:
            orders.cancel_order(s, ACTOR, r.order_id, reason="too late")
    with pytest.raises(Conflict, match="Only 0 of MUG-RED are reserved and not yet picked"):
        with world.write() as s:
            orders.record_pick(s, ACTOR, line_id, 1)


def test_find_order_and_notes(world):
    with world.write() as s:
        r = orders.import_order(s, ACTOR, make_order("A-77", number="#10422"))
        orders.add_note(s, ACTOR, r.order_id, "Customer called about gift wrap")
    with world.read() as s:
        assert orders.find_order(s, "#10422") == r.order_id
        assert orders.find_order(s, "A-77") == r.order_id
        with pytest.raises(NotFound):
            orders.find_order(s, "#nope")


def test_derive_status_table():
    L = orders.LineQty
    d = orders.derive_status
    assert d([L(2)], on_hold=False, delivered=False) == "new"
    assert d([L(2, backordered=2)], on_hold=False, delivered=False) == "backordered"
    assert d([L(2, allocated=1, backordered=1)], on_hold=False, delivered=False) == "partially_allocated"
    assert d([L(2, allocated=2)], on_hold=False, delivered=False) == "allocated"
    assert d([L(2, allocated=2, picked=1)], on_hold=False, delivered=False) == "picking"
    assert d([L(2, allocated=2, picked=2, packed=2)], on_hold=False, delivered=False) == "packed"
    assert d([L(2, shipped=1, allocated=1)], on_hold=False, delivered=False) == "partially_shipped"
    assert d([L(2, shipped=2)], on_hold=False, delivered=False) == "shipped"
    assert d([L(2, shipped=1, cancelled=1)], on_hold=False, delivered=True) == "delivered"
    assert d([L(2, cancelled=2)], on_hold=True, delivered=False) == "cancelled"
    assert d([L(2, allocated=2)], on_hold=True, delivered=False) == "on_hold"
