"""7:30 — Tom receives a supplier's delivery at the dock, scanner only.

The buyer sent PO-1001 to Acme yesterday: six red mugs for Reno. Tom opens Receiving with its key, scans the
PO's barcode, then the mugs one by one; a second scan of the same mug adds to its line, never a new row. He
types 3 and scans once for the next three. One mug is cracked: F9, scan, and it goes to quarantine. A seventh
mug is one too many: the screen refuses it in words. The screen says which bin the mugs go in; he scans a wrong
bin first (refused), then the right one, and they are put away. F12 finishes the receipt.

10:40 — Priya at the desk tells a customer waiting for a backorder when it comes: the order says so.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from oms import inventory, purchasing
from oms.catalog.models import Barcode, Product
from oms.core.audit import Actor
from oms.core.types import utcnow
from oms.inventory.models import Bin, BinStock, Location
from oms.orders.models import OrderLine, SalesOrder
from oms.purchasing.models import QuarantinedStock, ReceiptLine
from tests.documents.conftest import cups  # noqa: F401 - the real CUPS: a cups-pdf queue and a raw queue to a listener
from tests.journeys.packing_steps import choose_printers

SKU = "MUG-RED-12OZ"


def _the_buyer_sent_a_po(db) -> tuple[str, str]:
    """At the office, yesterday: supplier Acme and PO-1001 for six mugs to Reno. Returns (number, the mug's barcode)."""
    with db.write() as s:
        buyer = Actor("olivia", "office-1")
        purchasing.add_supplier(s, buyer, "ACME", "Acme Ceramics")
        _id, number = purchasing.create_po(s, buyer, "ACME", "RNO", lines=[
            purchasing.PoLineInput(SKU, 6, "2.35", utcnow().date() + timedelta(days=1))])
        purchasing.send_po(s, buyer, number)
        code = s.scalar(select(Barcode.code).join(Product, Product.id == Barcode.product_id)
                        .where(Product.sku == SKU).order_by(Barcode.id).limit(1))
    return number, code


def _a_wrong_bin(db, right: str) -> str:
    with db.read() as s:
        return s.scalar(select(Bin.code).join(Location, Location.id == Bin.location_id)
                        .where(Location.code == "RNO", Bin.code != right).order_by(Bin.pick_sequence).limit(1))


def test_tom_receives_a_delivery_by_scanner(station):
    s = station
    number, mug = _the_buyer_sent_a_po(s.db)
    with s.db.read() as session:
        before = next(l.on_hand for l in inventory.levels(session, SKU) if l.location_code == "RNO")
    s.key("Ctrl+Shift+I")
    s.wait_text("1 · Scan the PO")
    screen = s.window.receiving

    s.scan(number)
    s.wait_text(f"{number} from Acme Ceramics: scan the items")
    assert s.sees(f"{number} · Acme Ceramics · to RNO · sent") and s.sees(SKU)

    s.scan(mug)
    s.wait_text(f"{SKU}: 1 of 6")
    s.scan(mug)  # the same mug again: its line counts on
    s.wait_text(f"{SKU}: 2 of 6")
    s.type("3")
    s.scan(mug)
    s.wait_text(f"{SKU}: 5 of 6")
    assert screen.lines.rowCount() == 1 and screen.lines.item(0, 3).text() == "5"

    s.key("F9")  # the next one is cracked
    s.wait_text("Scan the damaged items")
    s.scan(mug)
    s.wait_text(f"{SKU}: 1 damaged, to quarantine (6 of 6 received)")
    s.key("F9")
    s.wait_text("2 · Scan the items")

    s.scan(mug)  # a seventh: one too many
    s.wait_text("Over-receipt refused")
    assert screen.status.state == "error"

    # Where the five good mugs go: the screen says, and a wrong bin is refused.
    s.wait_for(lambda: screen.putaway_label.isVisible(), "the putaway suggestion")
    right = screen.suggestion.bin_code
    assert s.sees(f"Put away {SKU} ×5 in {right}")
    wrong = _a_wrong_bin(s.db, right)
    s.scan(wrong)
    s.wait_text(f"Wrong bin: {wrong} scanned; put {SKU} away in {right}.")
    s.scan(right)
    s.wait_text(f"{SKU} ×5 put away in {right}")
    s.wait_for(lambda: not screen.putaway_label.isVisible(), "the suggestion to go once all is put away")

    s.key("F12")
    s.wait_text(f"Receipt of {number} finished; the PO is received.")

    with s.db.read() as session:
        assert session.scalar(select(func.count()).select_from(ReceiptLine)) == 1  # one row, however many scans
        line = session.scalars(select(ReceiptLine)).one()
        assert (line.good, line.damaged, line.put_away) == (5, 1, 5)
        assert session.scalar(select(func.sum(QuarantinedStock.quantity))) == 1
        after = next(l.on_hand for l in inventory.levels(session, SKU) if l.location_code == "RNO")
        assert after == before + 5
        in_bin = session.scalar(select(BinStock.on_hand).join(Bin, Bin.id == BinStock.bin_id)
                                .join(Location, Location.id == Bin.location_id)
                                .join(Product, Product.id == BinStock.product_id)
                                .where(Location.code == "RNO", Bin.code == right, Product.sku == SKU))
        assert in_bin >= 5
        assert purchasing.po_detail(session, number).status == "received"


def test_priya_tells_a_waiting_customer_when_the_backorder_comes(station):
    """10:40 — a customer asks about a backordered order. The buyer's PO for it is on its way: Priya opens the
    order and reads when the stock is expected, and from which PO, on the order itself."""
    s = station
    with s.db.read() as session:
        waiting = session.execute(
            select(SalesOrder.id, SalesOrder.number, OrderLine.sku, OrderLine.backordered)
            .join(OrderLine, OrderLine.order_id == SalesOrder.id)
            .where(SalesOrder.status == "backordered", OrderLine.backordered > 0, SalesOrder.on_hold.is_(False))
            .order_by(SalesOrder.id)).first()
    assert waiting is not None, "the demo data has a backordered order"
    oid, order_number, sku, short = waiting
    due = utcnow().date() + timedelta(days=6)
    with s.db.write() as session:
        buyer = Actor("olivia", "office-1")
        purchasing.add_supplier(session, buyer, "ACME", "Acme Ceramics")
        _id, number = purchasing.create_po(session, buyer, "ACME", "RNO", lines=[
            purchasing.PoLineInput(sku, short + 200, "2.35", due)])  # enough for every order waiting for it
        purchasing.send_po(session, buyer, number)
        expected = purchasing.expected_for_lines(session, [session.scalar(
            select(OrderLine.id).where(OrderLine.order_id == oid, OrderLine.sku == sku))])
    (when,) = expected.values()
    assert when.po_number == number

    s.key("Ctrl+1")
    s.key("Ctrl+F")
    s.type(order_number)
    s.key("Return")
    s.wait_for(lambda: s.window.detail.order is not None and s.window.detail.order.id == oid
               and s.window.orders_stack.currentWidget() is s.window.detail, f"order {order_number} open")
    text = f"{sku}: {short} backordered, expected {when.day.day} {when.day:%b} from {number}"
    s.wait_text(text)
    assert s.window.detail.expected_note.isVisible()


def test_tom_receives_a_suppliers_carton_by_its_label(station):
    """8:10 — Acme's 856 said what is in each carton. Tom scans a carton's SSCC label: the whole carton is received on
    its PO at once; the same label again is refused; the screen says where the mugs go."""
    from oms.core.gs1 import sscc

    s = station
    number, _mug = _the_buyer_sent_a_po(s.db)
    label = sscc("0614141", 4242)
    with s.db.write() as session:
        purchasing.record_asn(session, Actor("edi", "sync"), number, "ACME-SH-1",
                              [purchasing.CartonInput(label, ((SKU, 4),))])
    s.key("Ctrl+Shift+I")
    s.wait_text("1 · Scan the PO")
    screen = s.window.receiving

    s.scan("00" + label)  # the carton's GS1-128 label: AI (00) and the SSCC
    s.wait_text(f"Carton {label}: 4 units of 1 items received on {number}")
    assert s.sees(f"{number} · Acme Ceramics · to RNO · partly received")
    assert screen.lines.item(0, 3).text() == "4"
    s.wait_for(lambda: screen.putaway_label.isVisible(), "the putaway suggestion")
    assert s.sees(f"Put away {SKU} ×4 in {screen.suggestion.bin_code}")
    s.scan("00" + label)
    s.wait_text(f"Carton {label} was received already.")
    assert screen.status.state == "error"
    with s.db.read() as session:
        assert session.scalar(select(func.sum(ReceiptLine.good))) == 4


def test_tom_prints_receiving_labels_for_a_carton_and_its_products(station, cups):  # noqa: F811
    """8:20 — The carton's label is torn and the mugs need product labels: after the carton is received, F6 prints a
    product label for every mug received and F7 the carton's GS1 label, on the station's label printer."""
    from oms.core.gs1 import sscc

    s = station
    choose_printers(s, cups)
    number, mug = _the_buyer_sent_a_po(s.db)
    label = sscc("0614141", 4343)
    with s.db.write() as session:
        purchasing.record_asn(session, Actor("edi", "sync"), number, "ACME-SH-2",
                              [purchasing.CartonInput(label, ((SKU, 3),))])
    s.key("Ctrl+Shift+I")
    s.wait_text("1 · Scan the PO")
    screen = s.window.receiving
    before = len(cups.listener.jobs)

    s.scan("00" + label)
    s.wait_text(f"Carton {label}: 3 units of 1 items received on {number}")
    s.key("F6")
    s.wait_text(f"Printed: 3 product labels, {number}.", timeout=60)
    jobs = cups.listener.wait_for(before + 1, timeout=30)
    zpl = b"".join(jobs[before:])
    # ZPL's EAN-13 takes the first 12 digits; the printer adds the check digit.
    assert zpl.count(b"^XA") == 3 and zpl.count(mug[:12].encode()) == 3, "three product labels with the mug's barcode"
    s.key("F7")
    s.wait_text(f"Printed: 1 carton labels, {number}.", timeout=60)
    jobs = cups.listener.wait_for(before + 2, timeout=30)
    assert label.encode() in jobs[-1], "the carton's SSCC on its label"
    assert screen.last_print.ok
