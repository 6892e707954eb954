"""Steps the packing journeys share: what the floor did before the packer's turn, and the packer's own steps.

Only the morning's earlier work (Deshawn's picks) is done through the domain services, as the
picking station would have done it; everything at the packing bench goes through the window.
"""

from __future__ import annotations

from sqlalchemy import select

from oms import fulfilment
from oms.catalog.models import Barcode
from oms.core.audit import Actor
from oms.fulfilment.models import WaveOrder
from oms.inventory.models import Location
from oms.orders.models import Allocation, OrderLine, SalesOrder
from oms.shipping.models import Shipment

DESHAWN = Actor("deshawn", "pick-1")


def picked_orders_at_the_bench(db, n: int = 1, *, among: list[int] | None = None) -> list[dict]:
    """``n`` Ready-to-pick orders (2 to 4 items, every item with a barcode, all from one location), picked into their
    totes this morning (``among``: only these order ids). Each: id, number, external id, tote, the barcodes to scan
    (one per item), and a barcode of another product with its SKU (the wrong item)."""
    with db.write() as s:
        barcodes = dict(s.execute(select(Barcode.product_id, Barcode.code).order_by(Barcode.id)).all())
        query = select(SalesOrder).where(SalesOrder.status == "allocated", SalesOrder.on_hold.is_(False)).order_by(SalesOrder.id)
        if among is not None:
            query = query.where(SalesOrder.id.in_(among))
        chosen: list[tuple[SalesOrder, str]] = []
        for order in s.scalars(query):
            lines = [l for l in order.lines if l.allocated]
            at = set(s.scalars(select(Location.code).join(Allocation, Allocation.location_id == Location.id)
                               .where(Allocation.order_line_id.in_([l.id for l in lines]))))
            if len(at) == 1 and 2 <= sum(l.allocated for l in lines) <= 4 and all(l.product_id in barcodes for l in lines):
                chosen.append((order, at.pop()))
            if len(chosen) == n:
                break
        assert len(chosen) == n, f"only {len(chosen)} Ready-to-pick orders fit the packing journey"
        out = []
        for order, location in chosen:
            wave_id = s.scalar(select(WaveOrder.wave_id).where(WaveOrder.order_id == order.id))
            if wave_id is None:
                wave_id = fulfilment.build_wave(s, DESHAWN, location, limit=1000).wave_id
            for t in fulfilment.open_tasks(s, wave_id):
                if t.order_number == order.number:
                    fulfilment.confirm_pick(s, DESHAWN, t.task_id, t.quantity, bin_code=t.bin_code or None, item_code=t.sku)
            tote = s.scalar(select(WaveOrder.tote).where(WaveOrder.order_id == order.id, WaveOrder.wave_id == wave_id))
            mine = {l.product_id for l in order.lines}
            wrong_sku, wrong = next((sku, code) for pid, code in barcodes.items() if pid not in mine
                                    for sku in s.scalars(select(OrderLine.sku).where(OrderLine.product_id == pid).limit(1)))
            out.append({"id": order.id, "number": order.number, "external_id": order.external_id, "tote": tote,
                        "items": [(l.sku, barcodes[l.product_id]) for l in order.lines for _unit in range(l.allocated)],
                        "wrong": wrong, "wrong_sku": wrong_sku})
        return out


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


def pack(s, order: dict) -> int:
    """At the bench: scan the tote, every item, Enter. Returns the shipment's id."""
    k = s.window.packing
    s.scan(order["tote"])
    s.wait_text(f"Order {order['number']}")
    for sku, code in order["items"]:
        s.scan(code)
        s.wait_for(lambda: k.status.state == "ok", f"{sku} accepted")
    n = len(order["items"])
    s.wait_text(f"All {n} items scanned" if n > 1 else "1 item scanned")
    s.key("Return")
    s.wait_text(f"Order {order['number']} packed")
    with s.db.read() as session:
        return session.scalar(select(Shipment.id).where(Shipment.order_id == order["id"]).order_by(Shipment.id.desc()))
