"""14:00 — Dee counts a bin at Reno, scanner only, blind; Tom approves the difference.

The office made count CNT-n for one bin. Dee opens Counts with its key and scans the count sheet. An item scanned
before the bin is refused: the bin comes first. She scans the bin, then its products (a number typed first counts
several); she never sees what the books hold. Three of one product are missing: F12 submits, and because that is
more than the threshold of 2 the count waits for a supervisor. Tom comes over, presses F8, reads the books' figure
beside Dee's count, types his name, picks "Lost or stolen", adds a note and presses Return: the stock follows the
count through the ledger, with his name and reason on it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from oms import counting
from oms.catalog.models import Barcode, Product
from oms.core.audit import Actor
from oms.core.models import AuditEvent
from oms.inventory.models import Bin, BinStock, Location, StockMovement


def _a_bin_to_count(db) -> tuple[str, str, list[tuple[str, str, int]]]:
    """The office's count of a Reno bin holding at least 3 of each product: (number, bin, [(sku, barcode, books)])."""
    with db.read() as s:
        full = (select(BinStock.bin_id).join(Bin, Bin.id == BinStock.bin_id).join(Location, Location.id == Bin.location_id)
                .where(Location.code == "RNO").group_by(BinStock.bin_id)
                .having(func.min(BinStock.on_hand) >= 3, func.count() <= 3))
        bin_id = s.scalar(full.order_by(BinStock.bin_id).limit(1))
        code = s.scalar(select(Bin.code).where(Bin.id == bin_id))
        held = s.execute(select(Product.sku, BinStock.on_hand, Product.id).join(BinStock, BinStock.product_id == Product.id)
                         .where(BinStock.bin_id == bin_id).order_by(Product.sku)).all()
        products = [(sku, s.scalar(select(Barcode.code).where(Barcode.product_id == pid).order_by(Barcode.id).limit(1)),
                     n) for sku, n, pid in held]
    with db.write() as s:
        _id, number = counting.create_count(s, Actor("olivia", "office-1"), "RNO", bin=code, threshold=2)
    return number, code, products


def test_dee_counts_a_bin_blind_and_tom_approves_the_difference(station):
    s = station
    number, bin_code, products = _a_bin_to_count(s.db)
    short_sku, short_code, short_books = products[-1]

    s.key("Ctrl+Shift+C")
    s.wait_text("1 · Scan the count sheet")
    screen = s.window.counts
    s.wait_text(number)  # the open counts are listed

    s.scan(number)
    s.wait_text(f"{number}: count bin {bin_code} at RNO; scan a bin")
    s.scan(short_code)  # an item before its bin
    s.wait_text("Scan the bin first, then the items in it.")
    assert screen.status.state == "error"

    s.scan(bin_code)
    s.wait_text(f"Bin {bin_code}: scan every item in it")
    for sku, code, books in products:
        counted = books - 3 if sku == short_sku else books
        s.type(str(counted - 1))
        s.scan(code)
        s.wait_text(f"{sku}: {counted - 1} counted in {bin_code}")
        s.scan(code)  # the last one, scanned again: it adds to its line
        s.wait_text(f"{sku}: {counted} counted in {bin_code}")
    # Blind: Dee's table says what she counted, nothing of the books, and no review is on screen.
    headers = [screen.lines.horizontalHeaderItem(i).text() for i in range(screen.lines.columnCount())]
    assert headers == ["Bin", "SKU", "Description", "Counted"] and not screen.review_box.isVisible()
    assert screen.lines.rowCount() == len(products)

    s.key("F12")
    s.wait_text(f"{number} submitted: 1 of its lines differ from the books by more than 2; a supervisor must approve it.")
    s.wait_text("Waiting for a supervisor: F8 when they are here")
    s.scan(short_code)  # a scan now changes nothing
    s.wait_text(f"{number} is waiting for a supervisor; scan another count sheet.")

    # Tom at the station.
    s.key("F8")
    s.wait_for(lambda: screen.review_box.isVisible(), "the supervisor's review")
    s.wait_text("Supervisor: 1 lines differ by more than 2")
    row = next(r for r in range(screen.review_table.rowCount()) if screen.review_table.item(r, 1).text() == short_sku)
    assert [screen.review_table.item(row, c).text() for c in (2, 3, 4)] == [str(short_books), str(short_books - 3), "-3"]
    s.type("maria")  # not a supervisor
    s.key("Return")
    s.wait_text("maria is no supervisor")
    s.key("Ctrl+A")
    s.type("tom")
    s.key("Tab")
    s.key("Down")
    s.key("Down")
    assert screen.reason_combo.currentText() == "Lost or stolen"
    s.key("Tab")
    s.type("shelf checked")
    s.key("Return")
    s.wait_text(f"{number} approved (Lost or stolen); the stock now follows the count.")
    s.wait_for(lambda: not screen.review_box.isVisible(), "the review to close")

    with s.db.read() as session:
        held = session.scalar(select(BinStock.on_hand).join(Bin, Bin.id == BinStock.bin_id)
                              .join(Location, Location.id == Bin.location_id).join(Product, Product.id == BinStock.product_id)
                              .where(Location.code == "RNO", Bin.code == bin_code, Product.sku == short_sku))
        assert held == short_books - 3
        moved = session.execute(select(StockMovement.quantity, StockMovement.reason, StockMovement.user)
                                .where(StockMovement.kind == "count")).all()
        assert moved == [(-3, f"Lost or stolen: shelf checked ({number})", "tom")]
        assert session.scalar(select(AuditEvent.user).where(AuditEvent.action == "count.approve")) == "tom"
        assert counting.count_sheet(session, number).status == "done"
