"""Stock lookup by typing and by scanning: per-location stock, bins, movements, and choosing among matches."""

from PySide6.QtCore import Qt
from sqlalchemy import select

from oms.catalog.models import Barcode, Product
from oms.core.gs1 import classify_scan
from tests.desktop.helpers import open_window


def test_typed_sku_shows_stock_everywhere(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    stock = window.stock
    assert window.pages.currentWidget() is stock and stock.search.hasFocus()
    qtbot.keyClicks(stock.search, "MUG-RED-12OZ")
    with qtbot.waitSignal(stock.shown):
        qtbot.keyClick(stock.search, Qt.Key.Key_Return)
    p = stock.result.product
    assert p.sku == "MUG-RED-12OZ" and stock.sku_label.text() == "MUG-RED-12OZ"
    assert stock.levels.rowCount() == 3 and [stock.levels.item(r, 0).text() for r in range(3)] == ["RNO", "EWR", "DFW3PL"]
    assert stock.on_hand.value.text() == f"{p.on_hand:,}" and stock.available.value.text() == f"{p.available:,}"
    assert stock.bins.rowCount() == len(p.bins) and stock.movements.rowCount() == len(p.movements) > 0
    assert stock.movements.item(stock.movements.rowCount() - 1, 3).text() == "Receipt"


def test_scanned_ean_is_found_with_a_success_flash(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    window.show_screen("stock")
    with demo_db.read() as s:
        sku, code = s.execute(select(Product.sku, Barcode.code).join(Barcode).where(Barcode.kind == "ean").limit(1)).one()
    with qtbot.waitSignal(window.stock.scan_result) as result:
        assert window.router.route(classify_scan(code))
    assert result.args == [True, ""]
    assert window.stock.result.product.sku == sku
    # GS1-128 carton label carrying the GTIN: same product.
    with qtbot.waitSignal(window.stock.shown):
        window.router.route(classify_scan(f"(01)0{code}(10)LOT42"))
    assert window.stock.result.product.sku == sku


def test_unknown_scan_says_so(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    window.show_screen("stock")
    with qtbot.waitSignal(window.stock.scan_result) as result:
        window.router.route(classify_scan("4006381333931"))
    assert result.args[0] is False and "No product matches" in result.args[1]
    assert window.stock.message_label.isVisible()
    assert window.feedback.overlay.message == result.args[1]


def test_part_of_a_name_lists_matches_and_enter_picks_one(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    window.show_screen("stock")
    stock = window.stock
    qtbot.keyClicks(stock.search, "stoneware")
    with qtbot.waitSignal(stock.shown):
        qtbot.keyClick(stock.search, Qt.Key.Key_Return)
    assert stock.result.product is None and len(stock.result.candidates) > 1
    assert stock.stack.currentWidget() is stock.choose_page
    stock.candidates.setFocus()
    qtbot.keyClick(stock.candidates, Qt.Key.Key_Down)
    second = stock.result.candidates[1]
    with qtbot.waitSignal(stock.shown):
        qtbot.keyClick(stock.candidates, Qt.Key.Key_Return)
    assert stock.result.product.id == second.id
    assert stock.stack.currentWidget() is stock.detail_page
    qtbot.keyClick(stock.search, Qt.Key.Key_Escape)
    assert stock.search.text() == "" and stock.stack.currentWidget() is stock.empty


def test_order_scans_are_refused_on_the_stock_screen(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    window.show_screen("stock")
    with qtbot.waitSignal(window.router.rejected):
        window.router.route(classify_scan("00106141412345678908"))  # an SSCC shipping label
