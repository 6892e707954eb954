"""The Reports screen: its figures follow writes made anywhere in the window, and it exports what it shows."""

from sqlalchemy import select

from desktop.qt import QDate
from oms import reports
from oms.core.audit import Actor
from oms.core.types import utcnow
from oms.shipping import shipments
from oms.shipping.models import Shipment
from tests.desktop.helpers import open_window


def _reports(qtbot, window):
    window.show_screen("reports")
    screen = window.reports
    today = utcnow().date()
    screen.start.setDate(QDate(2026, 10, 1))
    screen.end.setDate(QDate(today.year, today.month, today.day))
    screen.refresh()
    qtbot.waitUntil(lambda: screen.tables and not screen.is_loading and screen.period().start.month == 10)
    return screen


def _total(screen, column: int) -> int:
    return next(r for r in screen.tables["throughput"].rows if r[0] == "Total")[column]


def test_figures_move_as_an_order_ships(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    screen = _reports(qtbot, window)
    before = _total(screen, 2)
    with demo_db.read() as s:
        sid = s.scalar(select(Shipment.id).where(Shipment.status == "packed").order_by(Shipment.id).limit(1))
    assert sid is not None, "the demo data has a packed shipment"
    # A write through the window's tasks (as the Packing screen's would): the main window hands what it changed
    # to every screen that shows shipping, and Reports reads again.
    tasks.write(lambda s: shipments.confirm(s, Actor("maria", "pack-1"), sid, carrier="UPS", tracking_number="1ZLIVE"))
    qtbot.waitUntil(lambda: not screen.is_loading and _total(screen, 2) == before + 1)
    with demo_db.read() as s:
        fill = reports.fill_rate(s, screen.period())
    assert screen.tiles["order_fill"].text().startswith(f"{fill.order_final.value:.1%}\n")


def test_filters_and_the_orders_behind_a_row(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    screen = _reports(qtbot, window)
    box = screen.filters["channel"]
    assert box.findData("web") > 0
    box.setCurrentIndex(box.findData("web"))
    screen.refresh()
    qtbot.waitUntil(lambda: not screen.is_loading and screen.chosen_filters().channel == "web")
    with demo_db.read() as s:
        fill = reports.fill_rate(s, screen.period(), reports.Filters(channel="web"))
    page = screen.pages["fill-rate"]
    assert page.table.item(3, 1).text() == f"{fill.order_final.hits:,}"
    page.table.selectRow(3)
    page._open_row()
    dialog = screen.dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and set(dialog.order_ids) == set(fill.order_final.orders))
    dialog.which.setCurrentIndex(1)
    qtbot.waitUntil(lambda: set(dialog.order_ids) == set(fill.order_final.hit_orders))
    dialog.close()


def test_exports_write_what_is_shown(qtbot, tasks, window_state, tmp_path):
    import pypdfium2
    from openpyxl import load_workbook

    window = open_window(qtbot, tasks, window_state)
    screen = _reports(qtbot, window)
    for kind in ("csv", "xlsx", "pdf"):
        screen.export_to(kind, str(tmp_path / f"r.{kind}"))
        qtbot.waitUntil(lambda kind=kind: (tmp_path / f"r.{kind}").exists())
    assert (tmp_path / "r.csv").read_text().startswith('Measure,Count,Of,Rate,Previous period\n"Line fill, first time",')
    wb = load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == [*reports.tables.REPORTS.values(), "Definitions"]
    pdf = pypdfium2.PdfDocument(str(tmp_path / "r.pdf"))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    for title in reports.tables.REPORTS.values():
        assert title in text
    assert "Order fill, final" in text and "first allocation" in text


def test_a_bar_opens_the_orders_it_was_drawn_from(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    screen = _reports(qtbot, window)
    page = screen.pages["fill-rate"]
    assert [b.label() for b in page.bar_sets] == ["First time", "Final", "Final, previous period"]
    page.bar_sets[1].clicked.emit(1)  # the Final bar over Order (QBarSet's own signal, as a click on it sends)
    with demo_db.read() as s:
        fill = reports.fill_rate(s, screen.period())
    dialog = screen.dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and set(dialog.order_ids) == set(fill.order_final.orders))
    assert page.table.currentRow() == 3
    dialog.close()
    page.bar_sets[2].clicked.emit(1)  # the previous period's bar: the orders are those of another period
    assert screen.dialog is dialog
    thr = screen.pages["throughput"]
    t = screen.tables["throughput"]
    first = t.rows[0]
    k = [b.label() for b in thr.bar_sets].index(first[1])
    thr.bar_sets[k].clicked.emit(0)
    qtbot.waitUntil(lambda: screen.dialog is not dialog and set(screen.dialog.order_ids) == set(t.orders[0]))
    screen.dialog.close()
