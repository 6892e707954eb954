"""A small house for the reports' tests: eight orders taken through the real services, at set times.

Times are UTC in November 2026 (the 20th is a Friday). RNO has 20 red mugs, 1 blue mug and 3 lanterns
in bin A-01-1 from the 14th; everything ships from RNO. ann picks at station pick-1, bob packs at pack-1.

- H #0990, placed Sun 15th 08:00: 1 red. Picked 09:00, packed 09:30, shipped 10:00 by UPS (previous period).
- A #1001, placed Fri 20th 08:00: 2 red; deliver by Sun 22nd 08:00. Picked 09:10, packed 10:00, label UPS
  800, shipped 12:00; delivered Sat 21st 12:00.
- B #1002, placed Fri 20th 09:00: 1 red, 3 blue. The blue line is backordered (1 in stock); 5 blue come in
  Mon 23rd 09:00 and release it; both lines picked 10:00, packed 11:00, shipped 14:00 by FedEx without a
  bought label (ship-by was Sun 22nd 09:00: late).
- F #1006, placed Fri 20th 12:00: 4 lanterns, backordered (3 in stock) and still waiting.
- C #1003, placed Sat 21st 10:00: 2 red, 2 lanterns. Only the red is picked (11:00), packed (12:00), label UPS
  600, shipped 15:00: a partial shipment; the lanterns are still reserved.
- D #1004, placed Sat 21st 11:00: 3 red, 1 lantern; deliver by Tue 24th 11:00. The lantern line is cancelled
  at 11:30. Red picked Sun 22nd 09:00; packed 09:50 in one box, voided 09:55, packed again 10:00 in two
  packages (2 + 1), label UPS 1500, shipped 10:30; delivered Wed 25th 12:00 (late).
- E #1005, placed Sun 22nd 08:00: 1 red, cancelled whole at 09:00.
- G #1007, placed Thu 26th 09:00: 2 lanterns, backordered (1 free since D's cancel).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from oms import orders
from oms.core.audit import Actor
from oms.core.types import at_time
from oms.orders.models import OrderLine
from oms.routing import restock
from oms.shipping import shipments
from oms.shipping.shipments import PackageSpec, PackItem
from tests.conftest import ACTOR, make_order, ship_from, stock, take_in

ANN = Actor("ann", "pick-1")
BOB = Actor("bob", "pack-1")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)  # when the reports are read


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


def build(db) -> dict[str, int]:
    """The house above; returns each order's id by its letter."""
    ids: dict[str, int] = {}
    lines: dict[str, list[int]] = {}
    with at_time(at(14, 8)):
        ship_from(db, "RNO")
        stock(db, "MUG-RED", "RNO", 20, bin="A-01-1")
        stock(db, "MUG-BLU", "RNO", 1, bin="A-01-1")
        stock(db, "LANTERN", "RNO", 3, bin="A-01-1")

    def order(letter, ext, placed, items, **kw):
        with at_time(placed), db.write() as s:
            (r,) = take_in(s, make_order(ext, items, placed_at=placed, **kw))
            ids[letter] = r.order_id
            lines[letter] = s.scalars(select(OrderLine.id).where(OrderLine.order_id == r.order_id).order_by(OrderLine.id)).all()

    def pick(letter, when, *which):
        with at_time(when), db.write() as s:
            for i, qty in which:
                orders.record_pick(s, ANN, lines[letter][i], qty, bin="A-01-1")

    def pack(letter, when, items, boxes=1):
        with at_time(when), db.write() as s:
            return shipments.pack(s, BOB, ids[letter], [PackItem(lines[letter][i], q, p) for i, q, p in items],
                                  [PackageSpec("M", 900) for _b in range(boxes)])

    def label(sid, when, carrier, cost):
        with at_time(when), db.write() as s:
            shipments.attach_label(s, ACTOR, sid, carrier_account="ups-acct", carrier=carrier, service="Ground",
                                   tracking_number=f"1Z{sid}", carrier_ref=f"r{sid}", tracker_ref=None, cost_minor=cost, labels={})

    def confirm(sid, when, carrier):
        with at_time(when), db.write() as s:
            shipments.confirm(s, ACTOR, sid, carrier=carrier, tracking_number=f"T{sid}")

    def delivered(sid, when):
        with at_time(when), db.write() as s:
            shipments.add_tracking_event(s, ACTOR, sid, "delivered", when)

    order("H", "990", at(15, 8), [("MUG-RED", 1)])
    pick("H", at(15, 9), (0, 1))
    sh = pack("H", at(15, 9, 30), [(0, 1, 0)])
    confirm(sh, at(15, 10), "UPS")

    order("A", "1001", at(20, 8), [("MUG-RED", 2)], deliver_by=at(22, 8))
    order("B", "1002", at(20, 9), [("MUG-RED", 1), ("MUG-BLU", 3)])
    pick("A", at(20, 9, 10), (0, 2))
    sa = pack("A", at(20, 10), [(0, 2, 0)])
    label(sa, at(20, 11), "UPS", 800)
    confirm(sa, at(20, 12), "UPS")
    order("F", "1006", at(20, 12), [("LANTERN", 4)])

    order("C", "1003", at(21, 10), [("MUG-RED", 2), ("LANTERN", 2)])
    order("D", "1004", at(21, 11), [("MUG-RED", 3), ("LANTERN", 1)], deliver_by=at(24, 11))
    pick("C", at(21, 11), (0, 2))
    with at_time(at(21, 11, 30)), db.write() as s:
        orders.cancel_line(s, ACTOR, lines["D"][1], reason="Customer changed their mind")
    sc = pack("C", at(21, 12), [(0, 2, 0)])
    delivered(sa, at(21, 12))
    label(sc, at(21, 12, 30), "UPS", 600)
    confirm(sc, at(21, 15), "UPS")

    order("E", "1005", at(22, 8), [("MUG-RED", 1)])
    with at_time(at(22, 9)), db.write() as s:
        orders.cancel_order(s, ACTOR, ids["E"], reason="Customer cancelled")
    pick("D", at(22, 9), (0, 3))
    wrong = pack("D", at(22, 9, 50), [(0, 3, 0)])
    with at_time(at(22, 9, 55)), db.write() as s:
        shipments.void(s, BOB, wrong, reason="wrong box")
    sd = pack("D", at(22, 10), [(0, 2, 0), (0, 1, 1)], boxes=2)
    label(sd, at(22, 10, 15), "UPS", 1500)
    confirm(sd, at(22, 10, 30), "UPS")

    with at_time(at(23, 9)), db.write() as s:
        restock.receive(s, ACTOR, "MUG-BLU", "RNO", 5, bin="A-01-1")
    pick("B", at(23, 10), (0, 1), (1, 3))
    sb = pack("B", at(23, 11), [(0, 1, 0), (1, 3, 0)])
    confirm(sb, at(23, 14), "FedEx")

    delivered(sd, at(25, 12))
    order("G", "1007", at(26, 9), [("LANTERN", 2)])
    assert NOW > at(26, 9) + timedelta(hours=1)
    return ids
