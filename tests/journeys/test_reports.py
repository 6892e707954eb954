"""Monday 9:00 — the operations manager reads last month's fill rate and looks at the orders behind it.

Keyboard only: Ctrl+Shift+R opens Reports for the last 30 days of the demo data. The order fill rate on its
figure is the one the domain computes for those days, with its definition on screen. Enter on the figure lists
the orders behind it; she switches the list to the orders that were not filled, opens one, and Escape brings
her back to Reports.
"""

from __future__ import annotations

from oms import reports
from oms.core.types import utcnow


def test_the_fill_rate_of_the_demo_data_and_the_orders_behind_it(station):
    s = station
    screen = s.window.reports
    s.key("Ctrl+Shift+R")
    s.wait_for(lambda: s.window.pages.currentWidget() is screen and screen.tables and not screen.is_loading,
               "the reports to be read")
    period = screen.period()
    assert period.end == utcnow().date() and period.days == 30
    tile = screen.tiles["order_fill"]
    # The demo shops keep selling while the test reads: the tile and the domain are compared on the same data.
    fills = []

    def same_figure() -> bool:
        with s.db.read() as session:
            fills.append(reports.fill_rate(session, period))
        return tile.text().split("\n")[:2] == [f"{fills[-1].order_final.value:.1%}", "Order fill rate"]

    s.wait_for(same_figure, "the tile to show the domain's order fill rate", timeout=30)
    fill = fills[-1]
    assert fill.order_final.total > 0, "the demo data has orders in the last 30 days"
    assert s.sees(reports.DEFINITIONS["fill-rate"]), "the definition, in words, beside the figures"
    s.shot("reports-dashboard")

    s.tab_to(lambda w: w is tile, "the order fill rate figure")
    s.key("Return")
    s.wait_for(lambda: screen.dialog is not None and screen.dialog.isVisible()
               and set(screen.dialog.order_ids) == set(fill.order_final.orders), "every order counted in the fill rate")
    dialog = screen.dialog
    assert s.sees(f"All orders counted ({fill.order_final.total})")

    s.tab_to(lambda w: w is dialog.which, "the choice of which orders")
    s.key("Down")
    s.key("Down")
    missed = set(fill.order_final.miss_orders)
    s.wait_for(lambda: set(dialog.order_ids) == missed, "the orders not filled complete")
    assert dialog.which.currentText() == f"Not met ({len(missed)})"

    s.tab_to(lambda w: w is dialog.table, "the list of orders")
    s.key("Down")
    chosen = dialog.order_ids[dialog.table.currentRow()]
    s.key("Return")
    s.wait_for(lambda: s.window.detail.order is not None and s.window.detail.order.id == chosen, "the order opened")
    assert chosen in missed
    assert s.window.detail.back_button.text().endswith("Back to reports")
    s.key("Escape")
    s.wait_for(lambda: s.window.pages.currentWidget() is screen, "Reports again")


def test_the_orders_behind_a_figure_open_in_the_queue_with_only_them(station):
    """From the orders behind the fill rate, Alt+Q: the Orders queue shows exactly those orders and says whose they
    are; Clear filters shows every order again."""
    s = station
    screen = s.window.reports
    s.key("Ctrl+Shift+R")
    s.wait_for(lambda: s.window.pages.currentWidget() is screen and screen.tables and not screen.is_loading,
               "the reports to be read")
    tile = screen.tiles["order_fill"]
    s.tab_to(lambda w: w is tile, "the order fill rate figure")
    s.key("Return")
    s.wait_for(lambda: screen.dialog is not None and screen.dialog.isVisible() and screen.dialog.order_ids,
               "the orders behind the figure")
    behind = set(screen.dialog.parts[0][1])
    s.key("Alt+Q")
    queue = s.window.queue
    s.wait_for(lambda: s.window.pages.currentWidget() is s.window.orders_stack and queue.isVisible(), "the Orders queue")

    def on_screen() -> set[int]:  # the rows read so far (the list reads its pages as they are scrolled to)
        m = queue.model
        return {m.order_id(r) for r in range(min(m.rowCount(), 40))} - {None} if not m.is_loading else set()

    s.wait_for(lambda: queue.model.rowCount() == len(behind) and on_screen() and on_screen() <= behind,
               f"exactly the {len(behind)} orders behind the fill rate in the queue")
    s.wait_text(f"Only the {len(behind)} orders behind “Order fill rate")
    s.wait_for(lambda: queue.buckets.count_text("all").replace(",", "") == str(len(behind)),
               "the All bucket to count only those orders")
    s.shot("reports-orders-in-queue")
    s.tab_to(lambda w: w is queue.clear_filters, "Clear filters")
    s.key("space")
    s.wait_for(lambda: not queue.pinned_note.isVisible() and queue.model.query_filter.pinned_ids is None
               and queue.model.rowCount() > len(behind), "every order again")
