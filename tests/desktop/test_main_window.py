"""The main window: status bar, keyboard, and window state that survives a restart."""

from PySide6.QtCore import Qt
from sqlalchemy import select

from desktop.tasks import Tasks
from oms.orders.models import Channel
from tests.desktop.helpers import open_window


def test_status_bar_names_database_station_and_user(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    assert window.db_label.text() == "Database on this computer"  # the file's path is in the tooltip
    assert window.db_label.toolTip() == demo_db.description
    assert window.station_label.text() == "Station test-station"
    qtbot.waitUntil(lambda: window.user_label.isVisible())
    assert window.user_label.text() == "Signed in: Maria Lopez"
    assert not window.sync_label.isVisible()
    window.set_sync_status("Offline since 9:30 — 3 updates waiting", "offline")
    assert window.sync_label.isVisible()


def test_unknown_user_is_not_shown(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state, user="")
    assert window.user_label.isHidden()


def test_keyboard_find_refresh_back(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    qtbot.keyClick(window.queue.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.queue.search.hasFocus()
    with qtbot.waitSignal(window.queue.model.refreshed):
        qtbot.keyClick(window.queue.search, Qt.Key.Key_F5)
    window.queue.table.setFocus()
    window.queue.table.selectRow(0)
    qtbot.keyClick(window.queue.table, Qt.Key.Key_Enter)
    qtbot.waitUntil(lambda: window.detail.order is not None)
    qtbot.keyClick(window.detail.back_button, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.orders_stack.currentWidget() is window.queue and window.queue.search.hasFocus()
    qtbot.keyClick(window.queue.search, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_screen() is window.stock
    qtbot.keyClick(window.stock.search, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_screen() is window.queue


def test_tab_order_walks_the_queue_screen(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    q = window.queue
    expected = [q.search, q.channel, q.location, q.order_type, q.ship_from, q.ship_to, q.clear_filters, q.buckets, q.table]
    walked = [expected[0]]
    widget = expected[0]
    for _ in expected[1:]:
        widget = widget.nextInFocusChain()
        while widget.focusPolicy() == Qt.FocusPolicy.NoFocus or not widget.isVisible() or widget.focusProxy() is not None \
                or widget.parent() in expected:
            widget = widget.nextInFocusChain()
        walked.append(widget)
    assert walked == expected


def test_window_state_persists(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    window.resize(1500, 900)
    window.queue.splitter.setSizes([260, 1100])
    window.queue.table.setColumnWidth(4, 222)
    with demo_db.read() as s:
        amazon = s.scalar(select(Channel.id).where(Channel.code == "amazon"))
    window.queue.channel.setCurrentIndex(window.queue.channel.findData(amazon))
    window.queue.buckets.select("backordered")
    qtbot.waitUntil(lambda: window.queue.model.query_filter.bucket == "backordered" and not window.queue.model.is_loading)
    window.show_screen("stock")
    window.close()

    again = open_window(qtbot, Tasks(demo_db, immediate=True), window_state)
    qtbot.waitUntil(lambda: again.queue.model.query_filter.bucket == "backordered")
    # The offscreen screen is small, so Qt fits a restored window onto it; the geometry itself was kept.
    assert window_state.qsettings.contains("main/geometry")
    assert window_state.restore_geometry("main", again)
    assert again.queue.splitter.sizes()[0] == 260
    assert again.queue.table.columnWidth(4) == 222
    assert again.queue.channel.currentData() == amazon
    assert again.queue.model.query_filter.channel_id == amazon
    assert again.current_screen() is again.stock


def test_a_scan_flash_does_not_follow_the_worker_to_another_screen(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    window.show_screen("stock")
    window.feedback.error("No product matches “4006381333931”.")
    assert window.feedback.overlay.isVisible()
    window.show_screen("stock")  # the same screen again: the answer stays
    assert window.feedback.overlay.isVisible()
    window.show_screen("sync")
    assert not window.feedback.overlay.isVisible()


WRONG_ITEM = "Wrong item: 4006381333931 is not in order PO450017."


def _message_space(window) -> int:
    """Pixels from the status bar's left edge to the first permanent field a person can see."""
    bar = window.statusBar()
    shown = [w for w in (window.sync_label, window.user_label, window.station_label, window.db_label) if w.isVisible()]
    return min((w.geometry().x() for w in shown), default=bar.width())


def test_a_message_is_shown_whole_at_1366_pixels(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.user_label.isVisible())
    window.set_sync_status("Shop online · Carrier online · EDI online · 12 orders waiting to be packed")
    bar = window.statusBar()
    window.show_message(WRONG_ITEM)
    qtbot.waitUntil(lambda: _message_space(window) >= bar.fontMetrics().horizontalAdvance(WRONG_ITEM) + 12)
    assert bar.currentMessage() == WRONG_ITEM
    assert window.sync_label.isVisible() and window.user_label.isVisible()  # sync and who is signed in stay
    bar.clearMessage()
    qtbot.waitUntil(lambda: window.db_label.isVisible() and window.station_label.isVisible())

    # Longer than any room: shortened at a word, never inside a number; the whole text in the tooltip.
    long = "Label for order #10422 could not be bought: " + " ".join(["the carrier answered 4006381333931"] * 8)
    window.show_message(long)
    shown = bar.currentMessage()
    assert shown.endswith("…") and long.startswith(shown[:-1]) and long[len(shown) - 1] == " "
    assert bar.toolTip() == long
    qtbot.waitUntil(lambda: _message_space(window) >= bar.fontMetrics().horizontalAdvance(shown))


def test_a_message_does_not_follow_the_worker_to_another_screen(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    window.show_screen("picking")
    window.show_message("Wrong bin: scan A-03-2")
    window.show_screen("picking")
    assert window.statusBar().currentMessage() == "Wrong bin: scan A-03-2"
    window.show_screen("packing")
    assert window.statusBar().currentMessage() == ""


def test_a_long_sync_line_is_shown_whole_at_1366_pixels(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.user_label.isVisible())
    label = window.sync_label
    bar = window.statusBar()
    others = sum(w.sizeHint().width() for w in (window.user_label, window.station_label, window.db_label))
    parts = ["Shop offline since 7:58 — 0 updates waiting", "Carrier online (1 refused)", "EDI online", "1 unreadable"]
    long = " · ".join(parts) + " · 2 orders waiting to be packed"
    while label.fontMetrics().horizontalAdvance(long) + others < bar.width():  # too long for every field at once
        parts.insert(1, f"Shop {len(parts)} online")
        long = " · ".join(parts) + " · 2 orders waiting to be packed"
    assert label.fontMetrics().horizontalAdvance(long) + window.user_label.sizeHint().width() < bar.width() - 80
    window.set_sync_status(long, "error")
    qtbot.waitUntil(lambda: label.contentsRect().width() >= label.fontMetrics().horizontalAdvance(long))
    assert window.user_label.isVisible()
    window.set_sync_status("Shop online · Carrier online · 2 orders waiting to be packed", "ok")
    qtbot.waitUntil(lambda: window.db_label.isVisible() and window.station_label.isVisible())
