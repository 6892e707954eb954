"""Helpers for driving the real windows in tests."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop.main_window import MainWindow
from oms.core.settings import Settings


def open_window(qtbot, tasks, window_state, **kw) -> MainWindow:
    settings = Settings(station_name="test-station", user=kw.pop("user", "maria"))
    window = MainWindow(tasks, settings, window_state, install_scanner=False, sound=False, **kw)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.start()
    qtbot.waitUntil(lambda: window.queue.model.rowCount() > 0 and not window.queue.model.is_loading)
    return window


def answer_dialog(qtbot, fill) -> None:
    """Run ``fill(dialog)`` on the next modal dialog as soon as it is open."""

    def attempt():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, attempt)
            return
        fill(dialog)

    QTimer.singleShot(0, attempt)


def row_ids(model) -> list[int]:
    return [model.order_id(r) for r in range(model.rowCount())]
