"""14:10 — Dana receives customers' returns at the dock, scanner only.

Yesterday customer service opened an RMA for two units of a shipped order. The parcel is on Dana's bench. She opens
Returns with its key and scans the RMA number on the return slip. She scans the first unit: the screen says which bin
it goes back to (between parcels, the screen lists the open returns, oldest first); she types "as new" and scans that bin, and it is restocked. The second unit is cracked: she types
so and presses F6, and it goes to quarantine. A third unit is one too many: refused in words. In the same box is an
item the RMA does not name: refused too, and F10 records it as received, not on the RMA, for review. F12: the parcel
is done. The next parcel has nothing on it we know: it is not refused; she writes a note and F10 records it as an
unidentified return.

14:40 — the customer rings Priya at the desk: she opens the order and reads where the return stands.
"""

from __future__ import annotations

from sqlalchemy import func, select

from oms import check, inventory, returns
from oms.catalog.models import Barcode, Product
from oms.core.audit import Actor
from oms.inventory.models import Bin, BinStock
from oms.orders.models import OrderLine, SalesOrder
from oms.purchasing.models import QuarantinedStock
from oms.returns.models import ReturnReview, ReturnUnit
from oms.shipping.models import Shipment


def _a_shipped_order(db):
    """A shipped order with a line of two or more units of a product that has a barcode and a bin where it shipped
    from: (order number, SKU, its barcode, its bin, a barcode of another product not on the order)."""
    with db.read() as s:
        rows = s.execute(
            select(SalesOrder.id, SalesOrder.number, OrderLine.sku, Product.id, Shipment.location_id)
            .join(OrderLine, OrderLine.order_id == SalesOrder.id).join(Product, Product.id == OrderLine.product_id)
            .join(Shipment, Shipment.order_id == SalesOrder.id)
            .where(Shipment.status == "shipped", OrderLine.shipped >= 2, OrderLine.returned == 0)
            .order_by(SalesOrder.id)).all()
        for oid, number, sku, pid, lid in rows:
            code = s.scalar(select(Barcode.code).where(Barcode.product_id == pid).order_by(Barcode.id).limit(1))
            bin_code = s.scalar(select(Bin.code).join(BinStock, BinStock.bin_id == Bin.id)
                                .where(Bin.location_id == lid, BinStock.product_id == pid)
                                .order_by(BinStock.on_hand.desc(), Bin.pick_sequence).limit(1))
            if code and bin_code:
                on_order = select(OrderLine.product_id).where(OrderLine.order_id == oid)
                other = s.scalar(select(Barcode.code).where(Barcode.product_id.not_in(on_order)).order_by(Barcode.id).limit(1))
                return number, sku, code, bin_code, other
    raise AssertionError("the demo data has a shipped order of two units of a binned product")


def test_dana_receives_returns_by_scanner(station):
    s = station
    order, sku, mug, bin_code, stranger = _a_shipped_order(s.db)
    with s.db.write() as session:
        _id, rma = returns.create_rma(session, Actor("priya", "desk-1"), order, [returns.RmaLineInput(sku, 2)],
                                      reason="DAMAGED", note="one came cracked")
        returns.approve(session, Actor("priya", "desk-1"), rma)
        on_hand_before = sum(l.on_hand for l in inventory.levels(session, sku))
    s.key("Ctrl+Shift+T")
    s.wait_text("1 · Scan the parcel")
    screen = s.window.returns
    # Between parcels: the open returns, oldest first, and where each stands.
    s.wait_text("Open returns, oldest first")
    s.wait_for(lambda: rma in s.texts() and "approved" in s.texts(), f"{rma} listed as approved")

    s.scan(rma)
    s.wait_text(f"{rma} for order {order}")
    assert s.sees("2 · Scan each item") and s.sees(sku)

    s.scan(mug)
    s.wait_text(f"scan bin {bin_code} to restock it")
    s.type("as new")
    s.scan(bin_code)
    s.wait_text(f"{sku}: 1 of 2 back — restock → {bin_code}")
    assert screen.note_edit.text() == ""  # the note went with the unit

    s.scan(mug)
    s.wait_text(f"{sku} (")
    s.type("cracked handle")
    s.key("F6")
    s.wait_text(f"{sku}: 2 of 2 back — quarantine")

    s.scan(mug)  # one too many
    s.wait_text(f"Over-return refused: {rma} names 2 × {sku} and 2 are received already")
    assert screen.status.state == "error"

    s.scan(stranger)  # in the same box, not on the RMA
    s.wait_text(f"is not on {rma}")
    s.key("F10")
    s.wait_text(f"{stranger}: received, not on {rma} — kept for review")

    s.key("F12")
    s.wait_text(f"{rma} done: 2 units back. Scan the next parcel.")
    s.wait_text("1 · Scan the parcel")
    s.wait_for(lambda: rma in s.texts() and "received" in s.texts(), f"{rma} listed as received")

    s.scan("PARCEL-WITH-NOTHING-ON-IT")
    s.wait_text("F10: record it as an unidentified return.")
    s.type("brown box, no paperwork, two mugs")
    s.key("F10")
    s.wait_text("Unidentified return recorded for review. Scan the next parcel.")

    with s.db.read() as session:
        d = returns.rma_detail(session, rma)
        assert d.status == "received" and [(l.quantity, l.received) for l in d.lines] == [(2, 2)]
        assert [(u.disposition, u.bin_code, u.note) for u in d.units] == [
            ("restock", bin_code, "as new"), ("quarantine", "", "cracked handle")]
        assert sum(l.on_hand for l in inventory.levels(session, sku)) == on_hand_before + 1
        assert session.scalar(select(func.sum(QuarantinedStock.quantity)).where(QuarantinedStock.receipt_line_id.is_(None))) == 1
        kinds = sorted((r.kind, r.note) for r in returns.reviews(session))
        assert kinds == [("not_on_rma", ""), ("unidentified", "brown box, no paperwork, two mugs")]
        assert session.scalar(select(func.count()).select_from(ReturnUnit)) == 2
        assert check.run(session) == []


def test_priya_reads_where_a_customers_return_stands(station):
    """14:40 — a customer asks whether their parcel arrived. Priya opens the order: its return says it was received,
    both units back, and what the customer wanted."""
    s = station
    order, sku, mug, bin_code, _stranger = _a_shipped_order(s.db)
    desk = Actor("priya", "desk-1")
    with s.db.write() as session:
        oid = session.scalar(select(SalesOrder.id).where(SalesOrder.number == order))
        _id, rma = returns.create_rma(session, desk, order, [returns.RmaLineInput(sku, 2)], reason="TOO_LARGE",
                                      resolution="exchange")
        returns.receive_unit(session, Actor("dana", "dock-1"), rma, mug, "restock", quantity=2, bin=bin_code)
    s.key("Ctrl+1")
    s.key("Ctrl+F")
    s.type(order)
    s.key("Return")
    s.wait_for(lambda: s.window.detail.order is not None and s.window.detail.order.id == oid
               and s.window.orders_stack.currentWidget() is s.window.detail, f"order {order} open")
    s.wait_text(f"Return {rma}: received · 2 of 2 back · TOO_LARGE · exchange wanted")
    assert s.window.detail.returns_note.isVisible()
