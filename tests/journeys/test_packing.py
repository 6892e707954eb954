"""7:10 — Maria packs (JOURNEYS.md): a wrong item refused loudly, then the label and the packing slip print on their own.

On a fresh install's defaults: the station's printers are chosen on the Printing screen as a person
chooses them; the demo carrier (the EasyPost emulator the first start runs) sells the label. What
reaches the printers is read where it lands: the raw label queue's listener and cups-pdf's output.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox
from sqlalchemy import func, select

from oms import fulfilment
from oms.audit import Actor
from oms.models import Allocation, Barcode, Location, OrderLine, OutboxMessage, SalesOrder, Shipment, WaveOrder
from tests.documents.conftest import cups  # noqa: F401 - the real CUPS: a cups-pdf queue and a raw queue to a listener

DESHAWN = Actor("deshawn", "pick-1")


def picked_order_at_the_bench(db) -> dict:
    """Earlier this morning Deshawn picked a wave: one of its orders (two or more items, all with barcodes, all at
    Reno) waits in its tote at the packing bench. Returns its number, tote, barcodes to scan and a wrong barcode."""
    with db.write() as s:
        reno = s.scalar(select(Location.id).where(Location.code == "RNO"))
        barcodes = dict(s.execute(select(Barcode.product_id, Barcode.code).order_by(Barcode.id)).all())
        chosen = None
        for order in s.scalars(select(SalesOrder).where(SalesOrder.status == "allocated", SalesOrder.on_hold.is_(False))
                               .order_by(SalesOrder.id)):
            lines = [l for l in order.lines if l.allocated]
            at = set(s.scalars(select(Allocation.location_id).where(Allocation.order_line_id.in_([l.id for l in lines]))))
            if at == {reno} and 2 <= sum(l.allocated for l in lines) <= 4 and all(l.product_id in barcodes for l in lines):
                chosen = order
                break
        assert chosen is not None, "the demo data has no Ready-to-pick order at Reno with barcoded items"
        wave = fulfilment.build_wave(s, DESHAWN, "RNO", limit=1000)
        for t in fulfilment.open_tasks(s, wave.wave_id):
            if t.order_number == chosen.number:
                fulfilment.confirm_pick(s, DESHAWN, t.task_id, t.quantity, bin_code=t.bin_code or None, item_code=t.sku)
        tote = s.scalar(select(WaveOrder.tote).where(WaveOrder.order_id == chosen.id, WaveOrder.wave_id == wave.wave_id))
        items = [(l.sku, barcodes[l.product_id]) for l in chosen.lines for _unit in range(l.allocated)]
        mine = {l.product_id for l in chosen.lines}
        wrong_sku, wrong = next((p_sku, code) for pid, code in barcodes.items() if pid not in mine
                                for p_sku in s.scalars(select(OrderLine.sku).where(OrderLine.product_id == pid).limit(1)))
        return {"id": chosen.id, "number": chosen.number, "tote": tote, "items": items, "wrong": wrong,
                "wrong_sku": wrong_sku}


def choose_printers(s, cups) -> None:
    """On the Printing screen: type the document printer's name into its list, the label printer's into its box."""
    s.key("Ctrl+7")
    s.wait_text("This station's printers")
    p = s.window.printing
    s.wait_for(lambda: p.document_printer.findData(cups.pdf_queue) >= 0, "the station's printers listed")
    s.tab_to(lambda w: w is p.document_printer, "the document printer")
    s.type(cups.pdf_queue)  # a closed list: typing picks the printer whose name starts so
    assert p.document_printer.currentData() == cups.pdf_queue
    s.tab_to(lambda w: w is p.label_printer or w.parent() is p.label_printer, "the label printer")
    s.type(cups.zpl_queue)
    assert p.label_format.currentData() == "zpl"  # the default: a thermal printer
    s.click_text("Save")
    s.wait_text("Printers saved for station")


def test_maria_packs_with_a_wrong_item_and_the_label_and_slip_reach_the_printers(station, cups):  # noqa: F811
    s = station
    before_labels = len(cups.listener.jobs)
    choose_printers(s, cups)
    order = picked_order_at_the_bench(s.db)

    s.key("Ctrl+6")
    s.wait_text("Scan a tote or an order number")
    k = s.window.packing
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
