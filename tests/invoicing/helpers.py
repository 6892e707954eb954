"""An order in by the intake door, picked, and packed into shipments the tests confirm when they like."""

from __future__ import annotations

from sqlalchemy import select

from oms import orders
from oms.orders.models import OrderLine
from oms.shipping import shipments
from oms.shipping.shipments import PackageSpec, PackItem
from tests.conftest import ACTOR, make_order, ship_from, stock, take_in


def picked_order(db, ext="1", lines=(("MUG-RED", 3), ("LANTERN", 1)), *, stock_each=50, **kw) -> tuple[int, list[int]]:
    """An order routed to Reno with every unit picked: (order id, its line ids in order)."""
    ship_from(db, "RNO")
    for sku, _qty in lines:
        stock(db, sku, "RNO", stock_each, bin="A-01-1")
    with db.write() as s:
        (r,) = take_in(s, make_order(ext, lines, **kw))
        line_ids = s.scalars(select(OrderLine.id).where(OrderLine.order_id == r.order_id).order_by(OrderLine.id)).all()
        for lid, (_sku, qty) in zip(line_ids, lines):
            orders.record_pick(s, ACTOR, lid, qty, bin="A-01-1")
    return r.order_id, list(line_ids)


def pack(db, order_id: int, items: dict[int, int]) -> int:
    """A packed shipment of ``items`` (line id -> units)."""
    with db.write() as s:
        return shipments.pack(s, ACTOR, order_id, [PackItem(lid, q) for lid, q in items.items()], [PackageSpec("M", 900)])


def confirm(db, shipment_id: int, tracking: str = "1Z999AA10123456784") -> None:
    with db.write() as s:
        shipments.confirm(s, ACTOR, shipment_id, carrier="ups", service="ground", tracking_number=tracking)
