"""The journey harness: the real application in a real X window, driven only as a person drives it.

Each journey test (one module per scene of JOURNEYS.md, marked ``journey`` automatically) gets a
``Station``: Quayside started the way ``main.py`` starts it (``desktop.app.start`` with the parser's
defaults), on a fresh install of its own (empty config and data folders; the first-run wizard answered
with its defaults, Return on each page, which leads to the first-start path that seeds the demo data and
starts the demo shop and carrier), as a top-level
window on the X server the test session started (Xvfb, ``xcb`` platform; see ``tests/conftest.py``).

The test then acts like a person at the station and nothing else:
- ``station.type("Robinson")`` types at a person's pace into whatever widget has the focus;
- ``station.scan("4006381333931")`` is a scanner burst (fast keys, then Return) to the focused widget;
- ``station.key("Ctrl+F")``, ``station.key("Down")``, ``station.key("Tab")``: one key press;
- ``station.click(widget)`` clicks at the widget's position (it must be visible and enabled);
- ``station.wait_for(lambda: ..., "what a person waits for")`` and ``station.wait_text("…")``
  wait for what is on screen; ``station.texts()`` is every text a person can see now.
It never calls a slot, never sets focus and never refreshes a screen in code. Reading widgets to
assert what a person sees is fine; so is reading the database, the printer's output and the outbox
afterwards (``station.db``).

Two ways to get a station:
- ``first_start``: an empty machine; the test waits through the real first start (about 20 s).
- ``station``: a machine where Quayside was started once already (a fresh copy, at the same path, of one real first start
  per session), so the test begins at the second start, like Maria's morning.

A failing journey saves a screenshot of the whole screen to ``test-reports/journeys/``.
To watch one in a real window: ``make journey-watch JOURNEY=tests/journeys/test_find_order.py``
(on a desktop with ``DISPLAY`` set; ``JOURNEY_PAUSE_MS`` slows every step down).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from PySide6.QtCore import QEventLoop, QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from sqlalchemy import func, select

from oms.core.db import Database
from oms.orders.models import Channel, SalesOrder

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "test-reports" / "journeys"
START_TIMEOUT_S = 120
PAUSE_MS = int(os.environ.get("JOURNEY_PAUSE_MS", "0"))  # to watch a journey: slows every step
KEY_GAP_MS = 80  # a person's next key: after the scanner's burst detector has let a typed key through
TYPING_GAP_MS = 70  # a quick typist; well above a scanner's gap between keys (35 ms by default)


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.journey)
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and QApplication.instance() is not None:
        REPORTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
        path = REPORTS / f"{name}.png"
        screen = QGuiApplication.primaryScreen()
        if screen is not None and screen.grabWindow(0).save(str(path)):
            report.sections.append(("journey screenshot", str(path)))


# -- a fresh machine ---------------------------------------------------------------------------------

FRESH_ENV = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")
CLEARED_ENV = ("OMS_CONFIG_DIR", "OMS_DATABASE_URL", "OMS_SPOOL_DIR", "OMS_SECRET_STORE", "OMS_LOG_DIR")


class Machine:
    """A station's home: config and data folders of a fresh install, set for the process while in use."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._saved: dict[str, str | None] = {}

    def __enter__(self) -> "Machine":
        for name in FRESH_ENV + CLEARED_ENV:
            self._saved[name] = os.environ.get(name)
        for name in CLEARED_ENV:
            os.environ.pop(name, None)
        for name in FRESH_ENV:
            path = self.home / name.lower()
            path.mkdir(parents=True, exist_ok=True)
            os.environ[name] = str(path)
        # Qt keeps QSettings' folder from the first use in the process: point it at this machine.
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(QSettings.Format.NativeFormat, scope, os.environ["XDG_CONFIG_HOME"])
            QSettings.setPath(QSettings.Format.IniFormat, scope, os.environ["XDG_CONFIG_HOME"])
        return self

    def __exit__(self, *exc) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    @property
    def config_dir(self) -> Path:
        return self.home / "xdg_config_home" / "Quayside"

    @property
    def data_dir(self) -> Path:
        return self.home / "xdg_data_home" / "Quayside"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "quayside.sqlite3"


def _process_until(predicate: Callable[[], object], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > end:
            return False
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)


def _start_app(argv: list[str]):
    """Start Quayside as ``main.py`` does with these arguments, and wait until its window is up and loaded."""
    from desktop import app as desktop_app
    from main import build_parser

    said: list[str] = []

    def close_startup_errors() -> None:
        # "Quayside cannot start" waits for a person to press OK: a test would wait for ever. Read it, close it.
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QMessageBox) and w.objectName() == "startupError" and w.isVisible():
                said.append(f"{w.windowTitle()}: {w.text()}")
                w.done(0)

    watch = QTimer()
    watch.setInterval(250)
    watch.timeout.connect(close_startup_errors)
    watch.start()
    try:
        running = desktop_app.start(build_parser().parse_args(argv))
        assert running.code is None, f"Quayside did not start: {said or '(see the log)'}"
        if running.wizard is not None:
            _through_the_wizard(running)

        def up() -> bool:
            w = running.window
            return bool(said or w is not None and w.isVisible() and w.queue.model.rowCount() > 0
                        and not w.queue.model.is_loading)

        if not _process_until(up, START_TIMEOUT_S) or said:
            running.shutdown()
            raise AssertionError(f"the main window did not open with orders in the queue in time: {said or 'no message'}")
    finally:
        watch.stop()
    return running


def _through_the_wizard(running) -> None:
    """A fresh machine's first start: the supervisor takes every default of the first-run wizard, Return on each
    page (this computer's name, office, a local database, printers later, demo data), as the journeys' day begins."""
    wizard = running.wizard
    if not _process_until(lambda: QApplication.activeWindow() is wizard, START_TIMEOUT_S):
        raise AssertionError("the first-run wizard did not take the keyboard")
    for _ in range(12):
        if not wizard.isVisible():
            return
        page = wizard.currentId()
        target = QApplication.activePopupWidget() or QApplication.focusWidget() or wizard
        QTest.keyClick(target, Qt.Key.Key_Return)
        _process_until(lambda: not wizard.isVisible() or wizard.currentId() != page, 5)
    raise AssertionError(f"Return did not take the wizard past page {wizard.currentPage().objectName()}")


def _stop_app(running) -> None:
    window = running.window
    if window is not None and window.isVisible():
        window.close()  # as a person closes it: the window saves its state
    running.shutdown()
    for w in QApplication.topLevelWidgets():
        if w.isVisible():
            w.close()
    QApplication.processEvents()
    # Closing waits a moment for a connector in a network call, then leaves it to finish on its own. The next
    # test's machine lives at the same path: a pass still running would write its files into it.
    _process_until(lambda: not [t for t in threading.enumerate() if t.name.startswith("quayside-sync-")], 120)


# -- the station a test drives ------------------------------------------------------------------------------


@dataclass
class Station:
    """The running application, and the hands of the person at it."""

    running: object
    machine: Machine
    qtbot: object

    @property
    def window(self):
        return self.running.window

    @property
    def db(self) -> Database:
        return self.running.db

    # -- what a person sees

    def focused(self) -> QWidget:
        """Where a person's keys go: an open menu or popup list (it holds the keyboard grab), else the focus widget."""
        popup = QApplication.activePopupWidget()
        if popup is not None:
            return popup
        widget = QApplication.focusWidget()
        assert widget is not None, "no widget has the keyboard focus: a person's keys would go nowhere"
        return widget

    def texts(self) -> list[str]:
        """Every text a person can see in the application's windows now (labels, buttons, fields, table cells)."""
        out: list[str] = []
        for top in QApplication.topLevelWidgets():
            if not top.isVisible():
                continue
            for w in [top, *top.findChildren(QWidget)]:
                if not w.isVisible():
                    continue
                if isinstance(w, QLabel) and w.text():
                    out.append(w.text())
                elif isinstance(w, QAbstractButton) and w.text():
                    out.append(button_text(w))
                elif isinstance(w, QLineEdit):
                    out.append(w.text() or w.placeholderText())
                elif isinstance(w, QComboBox):
                    out.append(w.currentText())
                elif isinstance(w, (QPlainTextEdit, QTextEdit)):
                    out.append(w.toPlainText())
                elif isinstance(w, QAbstractItemView) and w.model() is not None:
                    out.extend(visible_cells(w))
        bar = self.window.statusBar() if self.window is not None else None
        if bar is not None and bar.currentMessage():
            out.append(bar.currentMessage())
        return out

    def sees(self, text: str) -> bool:
        return any(text in t for t in self.texts())

    def status(self) -> str:
        """The status bar as a person reads it: the message, then the permanent fields."""
        bar = self.window.statusBar()
        parts = [bar.currentMessage()] + [w.text() for w in bar.findChildren(QLabel) if w.isVisible() and w.text()]
        return "  ".join(p for p in parts if p)

    # -- waiting, as a person waits for the screen

    def wait_for(self, predicate: Callable[[], object], what: str, timeout: float = 15) -> None:
        try:
            self.qtbot.waitUntil(lambda: bool(predicate()), timeout=int(timeout * 1000))
        except Exception:  # noqa: BLE001 - pytest-qt's TimeoutError: say what the person was waiting for
            raise AssertionError(f"waited {timeout:g} s for {what}; the screen shows: {self.texts()[:60]}") from None

    def wait_text(self, text: str, timeout: float = 15) -> None:
        self.wait_for(lambda: self.sees(text), f"{text!r} on screen", timeout)

    def pause(self, ms: int) -> None:
        self.qtbot.wait(ms)

    # -- hands

    def _step(self) -> None:
        if PAUSE_MS:
            self.qtbot.wait(PAUSE_MS)

    def key(self, sequence: str) -> None:
        """One key press to whatever has the focus: 'Return', 'Down', 'Tab', 'Ctrl+F', 'F5', 'Escape', 'Ctrl+3'."""
        combo = QKeySequence(sequence)[0]
        QTest.keyClick(self.focused(), combo.key(), combo.keyboardModifiers())
        self.qtbot.wait(KEY_GAP_MS)
        self._step()

    def type(self, text: str, gap_ms: int = TYPING_GAP_MS) -> None:
        """Type at a person's pace, each key to the widget that has the focus at that moment."""
        for ch in text:
            QTest.keyClicks(self.focused(), ch)
            self.qtbot.wait(gap_ms)
        self._step()

    def tab_to(self, is_it: Callable[[QWidget], bool], what: str, limit: int = 60) -> QWidget:
        """Press Tab until the focus is on the widget a person is looking for (as they watch the focus move)."""
        seen = []
        for _ in range(limit):
            widget = self.focused()
            if is_it(widget):
                return widget
            seen.append(describe(widget))
            self.key("Tab")
        raise AssertionError(f"Tab never reached {what} in {limit} presses; it went: {seen}")

    def tab_to_text(self, text: str, limit: int = 60) -> QWidget:
        """Tab until the focused widget shows ``text`` (a check box, a button) or has it as its placeholder."""
        return self.tab_to(lambda w: text in (describe(w)), repr(text), limit)

    def scan(self, code: str, terminator: str = "Return") -> None:
        """A keyboard-wedge scanner: the code as one fast burst of keys, ended by Return (or Tab)."""
        target = self.focused()
        QTest.keyClicks(target, code)
        QTest.keyClick(QApplication.focusWidget() or target, QKeySequence(terminator)[0].key())
        self.qtbot.wait(60)  # the burst detector's flush
        self._step()

    def click(self, widget: QWidget, pos: QPoint | None = None, button=Qt.MouseButton.LeftButton) -> None:
        """A mouse click at the widget's position; a person can only click what is shown and enabled."""
        assert widget.isVisible(), f"{widget.objectName() or type(widget).__name__} is not on screen"
        assert widget.isEnabled(), f"{widget.objectName() or type(widget).__name__} is greyed out"
        QTest.mouseClick(widget, button, Qt.KeyboardModifier.NoModifier, pos or widget.rect().center())
        self.qtbot.wait(10)
        self._step()

    def button(self, text: str) -> QAbstractButton:
        """The visible button whose words are ``text`` (ampersands of mnemonics ignored)."""
        found = [b for top in QApplication.topLevelWidgets() if top.isVisible()
                 for b in top.findChildren(QAbstractButton) if b.isVisible() and button_text(b) == text]
        assert found, f"no button {text!r} on screen; buttons shown: " + ", ".join(
            sorted({b.text() for top in QApplication.topLevelWidgets() if top.isVisible()
                    for b in top.findChildren(QAbstractButton) if b.isVisible() and b.text()}))
        return found[0]

    def click_text(self, text: str) -> None:
        self.click(self.button(text))

    def shot(self, name: str) -> Path:
        """A screenshot of the whole screen, to look at by eye."""
        REPORTS.mkdir(parents=True, exist_ok=True)
        path = REPORTS / f"{name}.png"
        QGuiApplication.primaryScreen().grabWindow(0).save(str(path))
        return path

    # -- a restart, as Maria's next morning

    def restart(self) -> None:
        _stop_app(self.running)
        self.running = _start_app([])
        self._settle()

    def _settle(self) -> None:
        w = self.window
        self.wait_for(lambda: QApplication.activeWindow() is w, "the window to take the keyboard")


def describe(widget: QWidget) -> str:
    """What a person reads on a widget: its text, or a field's placeholder; else its kind."""
    if isinstance(widget, QAbstractButton):
        return button_text(widget) or type(widget).__name__
    for attr in ("text", "placeholderText", "currentText"):
        value = getattr(widget, attr, None)
        if callable(value) and value():
            return value()
    return type(widget).__name__


def button_text(button: QAbstractButton) -> str:
    """A button's words as shown: "&&" is a plain ampersand, a single "&" marks the Alt shortcut letter."""
    return button.text().replace("&&", "\0").replace("&", "").replace("\0", "&")


def visible_cells(view: QAbstractItemView, limit: int = 200) -> list[str]:
    """The display texts of the rows a person can see in a table or list view."""
    model = view.model()
    out: list[str] = []
    viewport = view.viewport().rect()
    for row in range(min(model.rowCount(), limit)):
        first = model.index(row, 0)
        if not view.visualRect(first).intersects(viewport):
            continue
        for col in range(model.columnCount()):
            if hasattr(view, "isColumnHidden") and view.isColumnHidden(col):
                continue
            value = model.index(row, col).data(Qt.ItemDataRole.DisplayRole)
            if value not in (None, ""):
                out.append(str(value))
    return out


# -- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _journey_display():
    if os.environ.get("QT_QPA_PLATFORM") != "xcb" or not os.environ.get("DISPLAY"):
        pytest.fail("journeys need a real X window: run them through `make test` (which starts Xvfb), "
                    "not with QT_QPA_PLATFORM=offscreen")


def _shop_orders(db: Database) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(SalesOrder).join(Channel).where(Channel.code == "shop")) or 0


@pytest.fixture(scope="session")
def _homes(tmp_path_factory, _journey_display, qapp):
    """One machine where Quayside has been started for the first time (demo data seeded), then closed.

    The station's home always lives at the same path, and each test gets a fresh copy of it there:
    what the first start stored as a path (the demo partner's EDI folder, say) points into the copy.
    """
    base = tmp_path_factory.mktemp("station")
    home, template = base / "home", base / "template"
    with Machine(home):
        running = _start_app([])
        # As on a real first day, the demo shop's first orders come in before Quayside is closed: the demo shop
        # remembers its orders, and the next start must not find yesterday's orders still arriving.
        _process_until(lambda: _shop_orders(running.db) > 0, START_TIMEOUT_S)
        _stop_app(running)
    shutil.copytree(home, template, symlinks=True)
    return home, template


@pytest.fixture
def first_start(tmp_path, qtbot, _journey_display):
    """An empty machine; Quayside's very first start (demo data, demo shop and carrier)."""
    with Machine(tmp_path / "home") as machine:
        station = Station(_start_app([]), machine, qtbot)
        station._settle()
        yield station
        _stop_app(station.running)


@pytest.fixture
def station(qtbot, _homes):
    """A machine where Quayside ran once before, started again: the station as a worker finds it in the morning."""
    home, template = _homes
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home, symlinks=True)
    with Machine(home) as machine:
        station = Station(_start_app([]), machine, qtbot)
        station._settle()
        yield station
        _stop_app(station.running)


@pytest.fixture
def wait_a_moment():
    """Let queued events and worker results arrive, without a condition (rarely needed)."""

    def wait(ms: int = 200) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    return wait
