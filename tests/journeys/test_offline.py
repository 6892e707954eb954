"""9:30 — the internet goes down, the shift goes on, the network comes back (JOURNEYS.md).

The demo shop and carrier (the emulators the first start runs) are cut off as a network outage
cuts them: no new connections, the open ones dropped. Maria keeps packing: the packing screen
says why each box waits for its label. When the network is back the labels are bought, print by
themselves at the station, and the shop hears of each shipment exactly once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from oms.core.models import OutboxMessage
from oms.integration import sync_queries
from oms.orders.models import SalesOrder
from oms.shipping.models import Shipment
from tests.documents.conftest import cups  # noqa: F401 - the real CUPS: a cups-pdf queue and a raw queue to a listener
from tests.journeys.packing_steps import choose_printers, pack, picked_orders_at_the_bench


def test_the_network_goes_down_packing_goes_on_and_the_labels_print_when_it_is_back(station, cups):  # noqa: F811
    s = station
    startup = s.running.startup
    s.wait_for(lambda: startup.demo is not None and startup.demo.shop is not None and startup.demo.carrier is not None,
               "the demo shop and carrier to run")
    demo = startup.demo
    choose_printers(s, cups)

    # Customers order in the shop; sync brings the orders in and routes them; Deshawn picks them.
    with s.db.read() as session:
        skus = sync_queries.demo_skus(session)
    shop_ids = demo.shop.seed_orders(8, skus, spread=timedelta(minutes=30))

    def arrived() -> list[int]:
        with s.db.read() as session:
            return list(session.scalars(select(SalesOrder.id).where(
                SalesOrder.external_id.in_([str(i) for i in shop_ids]), SalesOrder.status == "allocated")))

    s.wait_for(lambda: len(arrived()) >= 4, "the shop's new orders to arrive and be routed", timeout=60)
    orders = picked_orders_at_the_bench(s.db, 2, among=arrived())

    # 9:30: the network goes down.
    demo.carrier.stop()
    demo.shop.stop()
    before_labels = len(cups.listener.jobs)
    s.key("Ctrl+6")
    s.wait_text("Scan a tote or an order number")
    k = s.window.packing
    shipments = [pack(s, o) for o in orders]
    numbers = ", ".join(o["number"] for o in orders)
    s.wait_text("the carrier cannot be reached", timeout=60)
    s.wait_text(f"Awaiting label for {numbers}", timeout=30)
    assert s.sees("prints by itself when the network is back")
    s.shot("offline-awaiting-label")
    with s.db.read() as session:
        assert {session.get(SalesOrder, o["id"]).status for o in orders} == {"packed"}  # no label on the box: not shipped
    assert len(cups.listener.jobs) == before_labels

    # 9:52: the network is back. Nobody touches anything: the labels are bought and print at the station.
    demo.carrier.start()
    demo.shop.start()
    s.wait_for(lambda: not k.awaiting, "the awaited labels to come and print", timeout=120)
    s.wait_for(lambda: not k.awaiting_label.isVisible(), "the awaiting line to go")

    def shipped() -> bool:  # a shipment ships when its label has gone to the printer
        with s.db.read() as session:
            return all(session.get(Shipment, sid).status == "shipped" for sid in shipments)

    s.wait_for(shipped, "both labels to go to the label printer", timeout=90)
    with s.db.read() as session:
        tracking = {sid: session.get(Shipment, sid).tracking_number for sid in shipments}
        assert all(tracking.values())
    jobs = cups.listener.wait_for(before_labels + 2, timeout=60)[before_labels:]
    for sid, number in tracking.items():
        assert sum(1 for j in jobs if j.lstrip().startswith(b"^XA") and number.encode() in j) == 1, \
            f"the label of shipment {sid} printed once"

    # The shop hears of every shipment exactly once, with the label's tracking number.
    def told() -> dict[str, list[str]]:
        return {o["external_id"]: [f.get("tracking_number") for f in demo.shop.fulfillments(int(o["external_id"]))]
                for o in orders}

    s.wait_for(lambda: all(told().values()), "the shop to hear of both shipments", timeout=90)
    s.pause(1500)  # a second pass of the shop's sync changes nothing
    with s.db.read() as session:
        assert {session.get(SalesOrder, o["id"]).status for o in orders} == {"shipped"}
        pending = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.order_id.in_([o["id"] for o in orders]), OutboxMessage.topic == "fulfillment.create",
            OutboxMessage.status != "sent"))
        assert pending == 0
    assert sorted(told().values()) == sorted([[t] for t in tracking.values()])
    s.shot("offline-back")
