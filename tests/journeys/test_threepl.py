"""11:05 — Priya, customer service, follows an order that ships from the 3PL (issue 17).

A customer asks about an order that Quayside routed to the 3PL in Dallas. Priya finds it by its number: the order
says where it stands with the warehouse, "sent to 3PL (#101, acknowledged)". Later in the day the warehouse ships it;
after the next sync she presses F5 and sees it shipped by the 3PL, with the carrier's tracking number. Settings
lists the connection as a 3PL, and the status bar stays calm.
"""

from __future__ import annotations

from sqlalchemy import select

from desktop.demo import THREEPL_SHIP_S
from oms import desk
from oms.desk.queue import QueueFilter
from oms.orders.models import SalesOrder
from oms.shipping.models import Shipment
from oms.threepl.models import ThreePLOrder


def acknowledged(db):
    """An order the demo 3PL has acknowledged and not shipped, which its number alone finds: (id, number, 3PL's id)."""
    with db.read() as s:
        rows = s.execute(select(ThreePLOrder.order_id, SalesOrder.number, ThreePLOrder.remote_id)
                         .join(SalesOrder, SalesOrder.id == ThreePLOrder.order_id)
                         .where(ThreePLOrder.status == "acknowledged").order_by(ThreePLOrder.id)).all()
        return next(((oid, number, remote) for oid, number, remote in rows
                     if desk.queue_count(s, QueueFilter(search=number)) == 1), None)


def tracking_of(db, order_id) -> str | None:
    with db.read() as s:
        return s.scalar(select(Shipment.tracking_number).where(Shipment.order_id == order_id, Shipment.status == "shipped",
                                                               Shipment.tracking_number != ""))


def test_priya_sees_an_order_sent_to_the_3pl_and_then_shipped_by_it_with_tracking(first_start):
    s = first_start
    s.wait_for(lambda: acknowledged(s.db), "an order at the 3PL acknowledged by the warehouse", timeout=90)
    oid, number, remote = acknowledged(s.db)

    s.key("Ctrl+1")
    s.key("Ctrl+F")
    assert s.focused() is s.window.queue.search
    s.type(number)
    s.key("Return")
    s.wait_for(lambda: s.window.detail.order is not None and s.window.detail.order.id == oid
               and s.window.orders_stack.currentWidget() is s.window.detail, f"order {number} opened")
    s.wait_text(f"sent to 3PL (#{remote}, acknowledged)")
    s.shot("threepl-sent")

    # The warehouse's day goes on: it ships the order, and the next sync reads the shipment back.
    s.running.startup.demo.threepl.advance(THREEPL_SHIP_S)
    s.wait_for(lambda: tracking_of(s.db, oid), "the 3PL's shipment read back by sync", timeout=90)
    tracking = tracking_of(s.db, oid)
    s.key("F5")
    s.wait_text(f"shipped by the 3PL (#{remote})")
    s.wait_text(tracking)
    assert "shipped" in s.window.detail.status_badge.text().lower()
    s.shot("threepl-shipped")

    # The connection itself, where connections are set up: in Settings, called a 3PL; and the status bar stays calm.
    s.key("Ctrl+0")
    s.wait_text("3PL · 3PL over JSON REST")
    assert "3PL online" in s.window.sync_label.text() and s.window.sync_label.property("state") == "ok", s.status()
