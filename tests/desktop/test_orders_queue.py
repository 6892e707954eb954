"""The order queue driven through its widgets: buckets, filters, search, sort, paging, refresh, bulk hold."""

from datetime import datetime, timezone

from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from desktop.screens import orders_queue
from oms import desk, orders
from oms.core.audit import Actor
from oms.core.db import Database
from oms.desk.queue import QueueFilter
from oms.orders.models import Channel, SalesOrder
from tests.conftest import make_order
from tests.desktop.helpers import answer_dialog, open_window, row_ids


def statuses(db, ids):
    with db.read() as s:
        return dict(s.execute(select(SalesOrder.id, SalesOrder.status).where(SalesOrder.id.in_(ids))).all())


def click_bucket(qtbot, window, key):
    buckets = window.queue.buckets
    row = buckets.keys().index(key)
    rect = buckets.visualItemRect(buckets.item(row, 0))
    qtbot.mouseClick(buckets.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.queue.model.query_filter.bucket == key and not window.queue.model.is_loading)


def test_queue_opens_on_all_orders_with_counts(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    model = window.queue.model
    assert model.rowCount() == 120
    assert window.queue.buckets.count_text("all") == "120"
    with demo_db.read() as s:
        counts = desk.bucket_counts(s)
    for key, n in counts.items():
        assert window.queue.buckets.count_text(key) == f"{n:,}"
    # Newest first; late open orders are shown in red.
    first = model.row_at(0)
    with demo_db.read() as s:
        newest = s.scalar(select(SalesOrder.id).order_by(SalesOrder.placed_at.desc()).limit(1))
    assert first.id == newest
    assert "120 orders" in window.queue.summary.text()


def test_bucket_click_shows_only_its_orders(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    click_bucket(qtbot, window, "backordered")
    model = window.queue.model
    ids = row_ids(model)
    assert ids and len(ids) == int(window.queue.buckets.count_text("backordered"))
    assert set(statuses(demo_db, ids).values()) <= {"backordered", "partially_allocated"}
    # Work buckets put the most urgent promise first.
    ship_bys = [model.row_at(r).ship_by for r in range(model.rowCount())]
    assert ship_bys == sorted(ship_bys)


def test_search_is_debounced_and_runs_in_the_database(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    with demo_db.read() as s:
        email = s.scalar(select(SalesOrder.customer_email).where(SalesOrder.customer_email.like("%.%@example.com")).limit(1))
    prefix = email[:5]
    window.queue.focus_search()
    qtbot.keyClicks(window.queue.search, prefix)
    assert window.queue.model.query_filter.search == ""  # nothing runs per keystroke
    qtbot.waitUntil(lambda: window.queue.model.query_filter.search == prefix and not window.queue.model.is_loading)
    model = window.queue.model
    assert model.rowCount() >= 1
    assert all(model.row_at(r).email.startswith(prefix) or model.row_at(r).customer.lower().startswith(prefix)
               for r in range(model.rowCount()))
    qtbot.keyClick(window.queue.search, Qt.Key.Key_Escape)  # Esc clears the search
    window.go_back()
    qtbot.waitUntil(lambda: window.queue.model.rowCount() == 120)


def test_channel_filter_and_clear(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    combo = window.queue.channel
    with demo_db.read() as s:
        northwind = s.scalar(select(Channel.id).where(Channel.code == "northwind"))
        expected = s.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.channel_id == northwind))
    combo.setCurrentIndex(combo.findData(northwind))
    qtbot.waitUntil(lambda: window.queue.model.query_filter.channel_id == northwind and not window.queue.model.is_loading)
    model = window.queue.model
    assert model.rowCount() == expected
    assert {model.row_at(r).channel for r in range(model.rowCount())} == {"northwind"}
    qtbot.waitUntil(lambda: window.queue.buckets.count_text("all") == str(expected))  # counts follow the filters
    qtbot.mouseClick(window.queue.clear_filters, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: model.rowCount() == 120 and window.queue.buckets.count_text("all") == "120")


def test_header_click_sorts_in_the_database(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    header = window.queue.table.horizontalHeader()
    column = [k for k, _t in orders_queue.COLUMNS].index("customer")
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    model = window.queue.model
    qtbot.waitUntil(lambda: model.query_sort.column == "customer" and not model.is_loading)
    first = [model.row_at(r).customer for r in range(20)]
    with demo_db.read() as s:
        direction = SalesOrder.customer_name.desc() if model.query_sort.descending else SalesOrder.customer_name.asc()
        expected = list(s.scalars(select(SalesOrder.customer_name).order_by(direction, SalesOrder.id.desc() if model.query_sort.descending else SalesOrder.id).limit(20)))
    assert first == expected
    was = model.query_sort.descending
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    qtbot.waitUntil(lambda: model.query_sort.descending != was and not model.is_loading)


def test_rows_are_fetched_page_by_page_as_they_come_into_view(qtbot, tasks, window_state, monkeypatch):
    monkeypatch.setattr(orders_queue, "PAGE_SIZE", 25)
    monkeypatch.setattr(orders_queue, "MAX_PAGES", 3)
    window = open_window(qtbot, tasks, window_state)
    model = window.queue.model
    assert model.rowCount() == 120 and model.row_at(0) is not None and model.row_at(119) is None
    window.queue.table.scrollToBottom()
    qtbot.waitUntil(lambda: model.row_at(119) is not None)
    window.queue.table.scrollTo(model.index(60, 0))
    qtbot.waitUntil(lambda: model.row_at(60) is not None)
    assert len(model._pages) <= 3  # a sliding window, never the whole table
    # Every page read from either end of the index gives the same orders as one long read.
    ids = []
    for r in range(120):
        window.queue.table.scrollTo(model.index(r, 0))
        qtbot.waitUntil(lambda r=r: model.row_at(r) is not None)
        ids.append(model.order_id(r))
    assert len(set(ids)) == 120


def test_refresh_keeps_the_selection_on_the_same_order(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    table, model = window.queue.table, window.queue.model
    table.selectionModel().setCurrentIndex(model.index(5, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                           | QItemSelectionModel.SelectionFlag.Rows)
    chosen = window.queue.selected_ids()
    assert len(chosen) == 1
    # A new order arrives: it sorts to the top and pushes the others down.
    with demo_db.write() as s:
        orders.import_order(s, Actor("sync", "shop"), make_order("NEW-1", [("MUG-RED-12OZ", 1)],
                                                                  placed_at=datetime.now(timezone.utc)))
    with qtbot.waitSignal(model.refreshed):
        qtbot.keyClick(table, Qt.Key.Key_F5)
    assert model.rowCount() == 121
    assert window.queue.selected_ids() == chosen
    assert table.currentIndex().row() == 6


def test_a_change_from_another_station_shows_up(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    window.queue.poll()  # the first poll only learns the version
    other = Database(demo_db.url)  # a second station on the same database
    with other.read() as s:
        oid = s.scalar(select(SalesOrder.id).where(SalesOrder.status == "allocated").limit(1))
    held_before = int(window.queue.buckets.count_text("on_hold"))
    with other.write() as s:
        orders.hold(s, Actor("priya", "service-2"), oid, "Customer asked to wait")
    other.dispose()
    with qtbot.waitSignal(window.queue.model.refreshed):
        window.queue.poll()
    qtbot.waitUntil(lambda: window.queue.buckets.count_text("on_hold") == str(held_before + 1))


def test_bulk_hold_then_release(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    click_bucket(qtbot, window, "ready_to_pick")
    table, model = window.queue.table, window.queue.model
    assert model.rowCount() >= 2
    table.selectRow(0)
    table.selectionModel().select(model.index(1, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    ids = window.queue.selected_ids()
    assert len(ids) == 2

    def fill(dialog):
        assert not dialog.ok_button.isEnabled()  # a reason is required
        qtbot.keyClicks(dialog.reason_edit, "Payment review")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    answer_dialog(qtbot, fill)
    qtbot.mouseClick(window.queue.hold_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: set(statuses(demo_db, ids).values()) == {"on_hold"})
    qtbot.waitUntil(lambda: all(i not in row_ids(model) for i in ids))
    assert "2 orders put on hold" in window.statusBar().currentMessage()

    click_bucket(qtbot, window, "on_hold")
    table.selectAll()
    qtbot.mouseClick(window.queue.release_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: set(statuses(demo_db, ids).values()) == {"allocated"})


def test_enter_opens_the_selected_order(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    table, model = window.queue.table, window.queue.model
    table.setFocus()
    table.selectRow(3)
    qtbot.keyClick(table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.detail.order is not None)
    assert window.orders_stack.currentWidget() is window.detail
    assert window.detail.order.id == model.order_id(3)
    qtbot.keyClick(window.detail, Qt.Key.Key_Escape)
    assert window.orders_stack.currentWidget() is window.queue


def counts_agree_with_lists(qtbot, window):
    """Click every bucket: its count is the number of rows its list shows, and the footer says the same."""
    for key in window.queue.buckets.keys():
        click_bucket(qtbot, window, key)
        rows = window.queue.model.rowCount()
        assert window.queue.buckets.count_text(key) == f"{rows:,}", key
        assert window.queue.summary.text().startswith("1 order" if rows == 1 else f"{rows:,} orders"), key


def test_an_order_synced_just_after_the_queue_opened_shows_in_counts_and_list(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    # Sync imports an order after the queue read its counts and rows, before its first look for changes.
    with demo_db.write() as s:
        orders.import_order(s, Actor("sync", "shop"), make_order("SYNC-1", [("MUG-RED-12OZ", 1)],
                                                                  placed_at=datetime.now(timezone.utc)))
    # The queue looks for changes every few seconds on its own; nobody presses F5.
    qtbot.waitUntil(lambda: window.queue.buckets.count_text("all") == "121" and window.queue.model.rowCount() == 121,
                    timeout=3 * orders_queue.POLL_MS)
    assert window.queue.summary.text() == "121 orders"
    counts_agree_with_lists(qtbot, window)


def test_bucket_counts_agree_with_their_lists_after_changes(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    counts_agree_with_lists(qtbot, window)
    with demo_db.write() as s:
        oid = s.scalar(select(SalesOrder.id).where(SalesOrder.status == "allocated").limit(1))
        orders.hold(s, Actor("priya", "service-2"), oid, "Customer asked to wait")
        orders.import_order(s, Actor("sync", "shop"), make_order("SYNC-2", [("MUG-RED-12OZ", 1)],
                                                                  placed_at=datetime.now(timezone.utc)))
    counts_agree_with_lists(qtbot, window)  # straight away, before any look for changes


def unique_part_of_an_email(db, status=None):
    """A piece from inside one order's email (not its start) that no other order's fields hold, and that order."""
    with db.read() as s:
        q = select(SalesOrder.id, SalesOrder.customer_email).where(SalesOrder.customer_email.like("%.%@%"))
        if status:
            q = q.where(SalesOrder.status == status)
        for oid, email in s.execute(q.order_by(SalesOrder.id)):
            local = email.split("@")[0]
            piece = local[2:] + "@"  # "nnah.robinson7@": inside the address, from its third letter
            if desk.queue_count(s, QueueFilter(search=piece)) == 1:
                return piece, oid
    raise AssertionError("no order with a unique email in the demo data")


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def type_text(qtbot, text):
    qtbot.keyClicks(QApplication.focusWidget(), text, delay=30)  # a person typing, not a scanner


def test_enter_in_the_search_opens_the_one_order_found(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    piece, oid = unique_part_of_an_email(demo_db)
    press(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.queue.search
    type_text(qtbot, piece)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.detail.order is not None and window.detail.order.id == oid)
    assert window.orders_stack.currentWidget() is window.detail


def test_down_and_enter_choose_among_several_found(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    queue, model = window.queue, window.queue.model
    press(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "@example")
    qtbot.waitUntil(lambda: model.query_filter.search == "@example" and not model.is_loading)
    assert model.rowCount() > 2
    press(qtbot, Qt.Key.Key_Down)  # from the search box into the results, on the first
    assert QApplication.focusWidget() is queue.table and queue.table.currentIndex().row() == 0
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.detail.order is not None)
    assert window.detail.order.id == model.order_id(1)
    press(qtbot, Qt.Key.Key_Escape)
    assert window.orders_stack.currentWidget() is queue
    # Up from the first row goes back to the search; Enter there with several found goes into the list.
    press(qtbot, Qt.Key.Key_Up)
    press(qtbot, Qt.Key.Key_Up)
    assert QApplication.focusWidget() is queue.search
    press(qtbot, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is queue.table and window.orders_stack.currentWidget() is queue


def test_tab_goes_through_every_filter_and_back(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    q = window.queue
    press(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    order = [q.channel, q.location, q.order_type, q.ship_from, q.ship_to, q.clear_filters, q.buckets, q.table]
    seen = []
    for _ in order:
        press(qtbot, Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    assert seen == order  # the "Ship by" dates, showing "Any", no longer keep Tab for themselves
    for _ in order:
        press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert QApplication.focusWidget() is q.search


def test_a_search_that_finds_nothing_here_says_where_the_orders_are(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    q = window.queue
    piece, _oid = unique_part_of_an_email(demo_db, status="delivered")
    click_bucket(qtbot, window, "ready_to_pick")
    press(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, piece)
    qtbot.waitUntil(lambda: q.model.query_filter.search == piece and not q.model.is_loading)
    assert q.model.rowCount() == 0
    assert q.empty_note.isVisible()
    assert q.empty_note.text() == (f"No orders in Ready to pick match “{piece}”.\n"
                                   "1 order matches in All orders: choose All orders to see it.")
    assert q.buckets.count_text("all") == "1" and q.buckets.count_text("ready_to_pick") == "0"
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "zzqx")
    qtbot.waitUntil(lambda: q.model.query_filter.search == "zzqx" and not q.model.is_loading)
    assert q.empty_note.text().startswith("No orders match “zzqx”.\nSearch looks inside order numbers")
    press(qtbot, Qt.Key.Key_Escape)  # clears the search: every order of the bucket again, and no note
    qtbot.waitUntil(lambda: q.model.query_filter.search == "" and not q.model.is_loading)
    assert q.model.rowCount() > 0 and not q.empty_note.isVisible()


def test_columns_fit_their_texts_and_an_old_saved_layout_does_not_come_back(qtbot, tasks, window_state, demo_db):
    from desktop.tasks import Tasks

    window = open_window(qtbot, tasks, window_state)
    window.resize(1366, 768)
    header = window.queue.table.horizontalHeader()
    keys = [k for k, _t in orders_queue.COLUMNS]
    model = window.queue.model
    metrics = window.queue.table.fontMetrics()
    # Every status and every order number shown is whole.
    for r in range(min(model.rowCount(), 100)):
        row = model.row_at(r)
        assert metrics.horizontalAdvance(orders.status_title(row.status)) < header.sectionSize(keys.index("status"))
        assert metrics.horizontalAdvance(row.number) < header.sectionSize(keys.index("number"))
    assert not header.stretchLastSection()  # Location is not stretched over the table
    # The customer and the destination share what the others leave: the table is filled, and no wider.
    qtbot.waitUntil(lambda: header.sectionSize(keys.index("customer")) > 100, timeout=20000)
    shown = sum(header.sectionSize(i) for i in range(header.count()) if not header.isSectionHidden(i))
    assert abs(shown - window.queue.table.viewport().width()) <= 2
    assert header.sectionSize(keys.index("location")) < 2 * header.sectionSize(keys.index("channel"))
    # A layout saved by an earlier version (Location stretched) under the old key is not restored.
    window.close()
    header.setStretchLastSection(True)
    window_state.save_header("queue", header)
    again = open_window(qtbot, Tasks(demo_db, immediate=True), window_state)
    assert not again.queue.table.horizontalHeader().stretchLastSection()
