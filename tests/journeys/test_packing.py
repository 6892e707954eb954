"""7:10 — Maria packs (JOURNEYS.md): a wrong item refused loudly, then the label and the packing slip print on their own.

On a fresh install's defaults: the station's printers are chosen on the Printing screen as a person
chooses them; the demo carrier (the EasyPost emulator the first start runs) sells the label. What
reaches the printers is read where it lands: the raw label queue's listener and cups-pdf's output.
"""

from __future__ import annotations

from sqlalchemy import func, select

from oms.core.models import OutboxMessage
from oms.orders.models import SalesOrder
from oms.shipping.models import Shipment
from tests.documents.conftest import cups  # noqa: F401 - the real CUPS: a cups-pdf queue and a raw queue to a listener
from tests.journeys.packing_steps import choose_printers, picked_orders_at_the_bench


def test_maria_packs_with_a_wrong_item_and_the_label_and_slip_reach_the_printers(station, cups):  # noqa: F811
    s = station
    before_labels = len(cups.listener.jobs)
    choose_printers(s, cups)
    (order,) = picked_orders_at_the_bench(s.db)

    s.key("Ctrl+6")
    s.wait_text("Scan a tote or an order number")
    k = s.window.packing
    # Before a scan, the bench says which totes wait to be packed: Deshawn's tote among them.
    s.wait_for(lambda: "to be packed" in k.ship_label.text() and order["tote"] in k.ship_label.text(),
               "the totes waiting to be packed, with this one")
    assert s.sees(order["tote"])
    s.scan(order["tote"])
    s.wait_text(f"Order {order['number']}")
    units = len(order["items"])
    s.wait_text(f"{units} items left to scan")

    # The blue mug where a red one was ordered: refused, in red, in words she can read whole.
    s.scan(order["wrong"])
    wrong_text = f"Wrong item: {order['wrong_sku']} is not in order {order['number']}"
    s.wait_text(wrong_text)
    assert k.status.state == "error"
    assert k.status.fontMetrics().horizontalAdvance(k.status.text()) <= k.status.contentsRect().width() or \
        k.status.wordWrap(), "the message is cut off"
    assert not k.totals(), "the wrong item is not in the box"

    for sku, code in order["items"]:
        s.scan(code)
        s.wait_for(lambda: k.status.state == "ok", f"{sku} accepted")
    s.wait_text(f"All {units} items scanned")
    s.key("Return")  # all scanned: Enter completes
    s.wait_text("scan the next tote")
    assert order["tote"] not in k.ship_label.text(), "a packed tote no longer waits"
    with s.db.read() as session:
        sid = session.scalar(select(Shipment.id).where(Shipment.order_id == order["id"]))

    # The packing slip comes out of the document printer; the label comes from the carrier and prints by itself.
    s.wait_for(lambda: k.last_print is not None, "the packing slip to go to the printer", timeout=60)
    assert k.last_print.ok and any(t.startswith("Packing slip") for t in k.last_print.printed), k.last_print
    slip = cups.find_pdf(f"Packing slip, shipment {sid}", timeout=60)
    assert slip.read_bytes().startswith(b"%PDF")
    s.wait_for(lambda: not k.awaiting and k.last_print is not None and sid in k.last_print.labels_printed,
               "the carrier's label to come and print", timeout=90)
    s.wait_for(lambda: not k.awaiting_label.isVisible(), "the order to leave 'awaiting label'")
    with s.db.read() as session:
        shipment = session.get(Shipment, sid)
        tracking = shipment.tracking_number
        assert shipment.status == "shipped" and tracking
        assert session.get(SalesOrder, order["id"]).status == "shipped"
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.order_id == order["id"], OutboxMessage.topic == "fulfillment.create")) == 1
    jobs = cups.listener.wait_for(before_labels + 1, timeout=30)
    assert any(j.lstrip().startswith(b"^XA") and tracking.encode() in j for j in jobs[before_labels:]), \
        "the carrier's ZPL label with its tracking number reached the label printer"
    assert s.sees("Printed: Shipping label")
    s.shot("packing-done")
