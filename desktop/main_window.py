"""The main window: navigation between the screens, the status bar, shortcuts, and scanner wiring."""

from __future__ import annotations

from desktop import roles
from desktop.feedback import ScanFeedback
from desktop.help_menu import HelpMenu
from desktop.qt import (
    QApplication,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QMainWindow,
    QObject,
    QShortcut,
    QStackedWidget,
    Qt,
    QTimer,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.scanner import ScanInputFilter, ScannerSettings, ScanRouter
from desktop.screens.counts_screen import CountsScreen
from desktop.screens.documents_screen import DocumentsScreen
from desktop.screens.order_detail import OrderDetailScreen
from desktop.screens.orders_queue import OrdersQueueScreen
from desktop.screens.packing_screen import PackingScreen
from desktop.screens.picking_screen import PickingScreen
from desktop.screens.printing_screen import PrintingScreen
from desktop.screens.receiving_screen import ReceivingScreen
from desktop.screens.returns_screen import ReturnsScreen
from desktop.screens.reports_screen import ReportsScreen
from desktop.screens.routing import RoutingScreen
from desktop.screens.stock_lookup import StockLookupScreen
from desktop.screens.sync_screen import sync_screens
from desktop.screens.waves_screen import WavesScreen
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import users
from oms.core.audit import Actor
from oms.core.settings import Settings

MESSAGE_MS = 8000
REMOTE_GATHER_MS = 150  # changes from other stations arriving this close together make one refresh

# Screens past the tenth have no Ctrl+digit: their own key.
MORE_SHORTCUTS = {"reports": "Ctrl+Shift+R", "receiving": "Ctrl+Shift+I", "returns": "Ctrl+Shift+T",
                  "counts": "Ctrl+Shift+C"}


def elide_words(text: str, fits) -> str:
    """The longest start of ``text`` ending at a whole word that ``fits`` with an ellipsis; never half a number."""
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        short = " ".join(words).rstrip(",;:·—-") + "…"
        if fits(short):
            return short
    return text


def scanner_settings(settings: Settings) -> ScannerSettings:
    return ScannerSettings(max_interval_ms=settings.scanner_max_interval_ms, min_length=settings.scanner_min_length,
                           prefix=settings.scanner_prefix, suffix=settings.scanner_suffix)


class MainWindow(QMainWindow):
    """Orders (queue and detail) and Stock, with the station's scanner routed to whichever is in front."""

    remote_changes = Signal(object, bool)  # (Changes, everything) from the change feed's thread

    def __init__(self, tasks: Tasks, settings: Settings, state: WindowState, *, actor: Actor | None = None,
                 install_scanner: bool = True, sound: bool | None = None, demo: bool = False) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.tasks = tasks
        self.settings = settings
        self.state = state
        self.actor = actor or Actor(settings.user or "staff", settings.station_name)
        self.demo_sign_in = demo  # the demo's supervisor, signed in without being asked
        self.station_lock = None  # desktop.station_lock.StationLock where people sign in
        self.setWindowTitle(self.tr("Quayside"))
        self.setMinimumSize(1100, 640)

        # -- screens
        self.queue = OrdersQueueScreen(tasks, self.actor, state)
        self.detail = OrderDetailScreen(tasks, self.actor, state)
        self.stock = StockLookupScreen(tasks, state)
        self.orders_stack = QStackedWidget()
        self.orders_stack.setObjectName("ordersStack")
        self.orders_stack.addWidget(self.queue)
        self.orders_stack.addWidget(self.detail)
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        # Every top-level screen: (key, title, widget). A new screen is one entry here; its widget
        # offers refresh(), go_back(), focus_search(), save_state(), the scan_result and message
        # signals, and accepts_scan()/handle_scan() for the scanner.
        self.screens: list[tuple[str, str, QWidget]] = [
            ("orders", self.tr("Orders"), self.orders_stack),
            ("stock", self.tr("Stock"), self.stock),
            *self._more_screens(),
        ]
        for _key, _title, widget in self.screens:
            self.pages.addWidget(widget)
        # A box waits for its carrier label: ask the carrier now rather than at its next interval.
        self.packing.label_requested.connect(lambda: self.sync_worker.sync_now())

        # -- navigation: only screens that exist
        nav = QFrame()
        nav.setObjectName("nav")
        nav_layout = QVBoxLayout(nav)
        nav_layout.setContentsMargins(8, 12, 8, 12)
        nav_layout.setSpacing(4)
        brand = QLabel(self.tr("Quayside"))
        brand.setObjectName("brand")
        nav_layout.addWidget(brand)
        nav_layout.addSpacing(10)
        self.nav_group = QButtonGroup(self)
        self.nav_group.setExclusive(True)
        self.nav_buttons: dict[str, QToolButton] = {}
        for i, (key, title, _widget) in enumerate(self.screens):
            shortcut = f"Ctrl+{(i + 1) % 10}"  # Ctrl+1 … Ctrl+9, then Ctrl+0 for the tenth
            b = QToolButton()
            b.setObjectName(f"nav_{key}")
            b.setProperty("nav", "true")
            b.setText(title)
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setToolTip(self.tr("{title} ({key})").format(title=title, key=shortcut))
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.nav_group.addButton(b, i)
            nav_layout.addWidget(b)
            self.nav_buttons[key] = b
            if i < 10:
                QShortcut(QKeySequence(shortcut), self, activated=lambda key=key: self.show_screen(key))
            elif key in MORE_SHORTCUTS:
                QShortcut(QKeySequence(MORE_SHORTCUTS[key]), self, activated=lambda key=key: self.show_screen(key))
                b.setToolTip(self.tr("{title} ({key})").format(title=title, key=MORE_SHORTCUTS[key]))
            else:
                b.setToolTip(title)
        nav_layout.addStretch(1)
        self.nav_group.idClicked.connect(lambda i: self.show_screen(self.screens[i][0]))

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(nav)
        row.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        # -- status bar: database, station, user when users exist, and a slot for sync
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        bar.setSizeGripEnabled(False)
        self.db_label = QLabel(tasks.db.place)
        self.db_label.setObjectName("dbStatus")
        self.db_label.setToolTip(tasks.db.description)
        self.station_label = QLabel(self.tr("Station {name}").format(name=settings.station_name))
        self.station_label.setObjectName("stationStatus")
        self.user_label = QLabel()
        self.user_label.setObjectName("userStatus")
        self.user_label.hide()
        self.sync_label = QLabel()
        self.sync_label.setObjectName("syncStatus")
        self.sync_label.hide()
        for w in (self.sync_label, self.user_label, self.station_label, self.db_label):
            bar.addPermanentWidget(w)
        # A message gets the room it needs: the database, then the station, step aside while it shows.
        # A long sync line or message gets the room it needs: the database, then the station, step aside.
        self._make_room_for: tuple[QLabel, ...] = (self.db_label, self.station_label)
        bar.messageChanged.connect(self._fit_message)

        # -- menu: Help (Alt+H) with Copy diagnostics and About
        self.help_menu = HelpMenu(self, tasks, settings, self.show_message)

        # -- scanner and feedback
        self.feedback = ScanFeedback(self, sound=settings.sound_enabled if sound is None else sound)
        self.router = ScanRouter(self)
        self.scan_filter: ScanInputFilter | None = None
        if install_scanner:
            self.scan_filter = ScanInputFilter(scanner_settings(settings), parent=self)
            QApplication.instance().installEventFilter(self.scan_filter)
            self.scan_filter.scanned.connect(self.router.route)
            self.scan_filter.scan_failed.connect(self.feedback.scan_failed)
        self.router.rejected.connect(self.feedback.scan_rejected)
        for screen in (self.queue, self.detail, *(w for _k, _t, w in self.screens[1:])):
            screen.scan_result.connect(self._scan_result)
            screen.message.connect(self.show_message)

        # -- wiring between screens
        self.queue.open_order.connect(self.open_order)
        self.detail.back_requested.connect(self.back_to_queue)
        self.tasks.failed.connect(self.show_message)
        self.tasks.changed.connect(self.apply_changes)
        self.change_feed = None  # started by start_change_feed(): the application does, a test of one screen need not
        self._remote_pending = None
        self._remote_everything = False
        self._remote_timer = QTimer(self)
        self._remote_timer.setSingleShot(True)
        self._remote_timer.setInterval(REMOTE_GATHER_MS)
        self._remote_timer.timeout.connect(self._apply_gathered_changes)

        # -- keyboard
        QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, activated=self.focus_search)
        QShortcut(QKeySequence(Qt.Key.Key_F5), self, activated=self.refresh)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.go_back)

        self.state.restore_geometry("main", self) or self.resize(1366, 768)
        # Where its worker left it; a station nobody has used yet opens where its role works.
        self.show_screen(self.state.value("main/screen", "") or roles.first_screen(settings.station_role))

    # -- start and stop --------------------------------------------------------------------------

    def start(self) -> None:
        self.queue.start()
        if self.actor.role:
            self._show_signed_in()
            return
        username = self.settings.user

        def job(session):
            return users.user_display_name(session, username)

        self.tasks.read(job, self._user_loaded, lambda _m: None, owner=self)

    def _show_signed_in(self) -> None:
        if self.demo_sign_in:
            text = self.tr("Demo: signed in as {who}").format(who=self.actor.label)
        else:
            text = self.tr("Signed in: {who}").format(who=self.actor.label)
        self.user_label.setText(text)
        self.user_label.show()
        self._arrange_status()

    def set_actor(self, actor: Actor) -> None:
        """Another person at this station (switch user, or an unlock by someone else): every screen works as them
        from now on, and the screens stay as they were."""
        self.actor = actor
        for obj in (self, *self.findChildren(QObject)):
            if isinstance(getattr(obj, "actor", None), Actor):
                obj.actor = actor
        self._show_signed_in()

    def _user_loaded(self, name: str | None) -> None:
        if name:
            self.user_label.setText(self.tr("Signed in: {name}").format(name=name))
            self.user_label.show()
            self._arrange_status()

    def set_sync_status(self, text: str, state: str = "ok") -> None:
        """The slot the sync engine fills: 'ok', 'offline' or 'error' colours the text."""
        self.sync_label.setText(text)
        self.sync_label.setProperty("state", state)
        self.sync_label.style().unpolish(self.sync_label)
        self.sync_label.style().polish(self.sync_label)
        self.sync_label.setVisible(bool(text))
        self._arrange_status()  # a long line (offline, refused, unreadable) is shown whole: other fields step aside

    def save_state(self) -> None:
        self.state.save_geometry("main", self)
        self.state.set_value("main/screen", self.current_screen_key())
        self.queue.save_state()
        self.detail.save_state()
        for _key, _title, widget in self.screens[1:]:
            widget.save_state()
        self.state.sync()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.save_state()
        self.stop_change_feed()
        if self.station_lock is not None:
            self.station_lock.stop()
        self.sync_worker.stop()
        if self.scan_filter is not None:
            QApplication.instance().removeEventFilter(self.scan_filter)
        super().closeEvent(event)

    # -- navigation -----------------------------------------------------------------------------

    def _more_screens(self) -> list[tuple[str, str, QWidget]]:
        """Screens beyond Orders and Stock, in navigation order."""
        self.routing = RoutingScreen(self.tasks, self.actor, self.state)
        self.waves = WavesScreen(self.tasks, self.actor, self.state, self.settings)
        self.picking = PickingScreen(self.tasks, self.actor, self.state)
        self.packing = PackingScreen(self.tasks, self.actor, self.state, self.settings)
        self.printing = PrintingScreen(self.tasks, self.state, self.settings, actor=self.actor)
        self.documents = DocumentsScreen(self.tasks, self.state)
        self.documents.open_order.connect(lambda order_id: self.open_order(order_id, back_to="documents"))
        self.reports = ReportsScreen(self.tasks, self.state)
        self.receiving = ReceivingScreen(self.tasks, self.actor, self.state)
        self.returns = ReturnsScreen(self.tasks, self.actor, self.state)
        self.counts = CountsScreen(self.tasks, self.actor, self.state)
        self.reports.open_order.connect(lambda order_id: self.open_order(order_id, back_to="reports"))
        self.reports.show_in_queue.connect(self.show_in_queue)

        def pick_wave(wave_id: int) -> None:
            self.show_screen("picking")
            self.picking.open_wave(wave_id)

        self.waves.pick_requested.connect(pick_wave)
        return [
            ("routing", self.tr("Routing"), self.routing),
            ("waves", self.tr("Waves"), self.waves),
            ("picking", self.tr("Picking"), self.picking),
            ("packing", self.tr("Packing"), self.packing),
            ("printing", self.tr("Printing"), self.printing),
            ("documents", self.tr("Documents"), self.documents),
            *sync_screens(self),
            ("reports", self.tr("Reports"), self.reports),
            ("receiving", self.tr("Receiving"), self.receiving),
            ("returns", self.tr("Returns"), self.returns),
            ("counts", self.tr("Counts"), self.counts),
        ]

    def show_in_queue(self, order_ids: list[int], caption: str) -> None:
        """The Orders queue with only these orders (the ones behind a report's figure)."""
        self.queue.show_only(order_ids, caption)
        self._back_to = None
        self.detail.back_button.setText(self.tr("‹  Back to queue"))
        self.orders_stack.setCurrentWidget(self.queue)
        self.show_screen("orders")

    def current_screen_key(self) -> str:
        page = self.pages.currentWidget()
        return next((key for key, _t, widget in self.screens if widget is page), "orders")

    def current_screen(self):
        page = self.pages.currentWidget()
        if page is self.orders_stack:
            return self.orders_stack.currentWidget()
        return page

    def show_screen(self, key: str) -> None:
        if getattr(self, "_back_to", None) is not None:  # left the order another way: Back goes to the queue again
            self._back_to = None
            self.detail.back_button.setText(self.tr("‹  Back to queue"))
        widget = next((w for k, _t, w in self.screens if k == key), self.orders_stack)
        key = next(k for k, _t, w in self.screens if w is widget)
        if widget is not self.pages.currentWidget():
            self.feedback.clear()  # a scan's flash and message belong to the screen it was made on
            self.statusBar().clearMessage()
        self.pages.setCurrentWidget(widget)
        if widget is self.orders_stack:
            self.current_screen().setFocus()
            if self.orders_stack.currentWidget() is self.queue:
                self.queue.table.setFocus()
        else:
            widget.focus_search()
        self.nav_buttons[key].setChecked(True)
        self.router.set_target(self.current_screen())

    def open_order(self, order_id: int, *, back_to: str | None = None) -> None:
        """Show an order; with ``back_to`` (a screen's key) the detail's Back returns to that screen, not the queue."""
        self._back_to = back_to
        title = next((t for k, t, _w in self.screens if k == back_to), None)
        self.detail.back_button.setText(self.tr("‹  Back to {screen}").format(screen=title.lower()) if title
                                        else self.tr("‹  Back to queue"))
        self.pages.setCurrentWidget(self.orders_stack)
        self.nav_buttons["orders"].setChecked(True)
        self.orders_stack.setCurrentWidget(self.detail)
        self.detail.show_order(order_id)
        self.detail.back_button.setFocus()
        self.router.set_target(self.detail)

    def back_to_queue(self) -> None:
        back_to, self._back_to = getattr(self, "_back_to", None), None
        if back_to is not None:
            self.detail.back_button.setText(self.tr("‹  Back to queue"))
            self.orders_stack.setCurrentWidget(self.queue)
            self.show_screen(back_to)
            returned = self.current_screen()
            if hasattr(returned, "focus_list"):  # where the person was: on the row they opened
                returned.focus_list()
            return
        self.orders_stack.setCurrentWidget(self.queue)
        self.pages.setCurrentWidget(self.orders_stack)
        self.nav_buttons["orders"].setChecked(True)
        self.queue.table.setFocus()
        self.router.set_target(self.queue)

    # -- keyboard ------------------------------------------------------------------------------------

    def focus_search(self) -> None:
        screen = self.current_screen()
        if screen is self.detail:
            self.back_to_queue()
            screen = self.current_screen()
        screen.focus_search()

    def refresh(self) -> None:
        self.current_screen().refresh()

    def apply_changes(self, changes) -> None:
        """A write committed (oms.core.changes.Changes): each screen that shows what it changed reads it again.

        The screen in view does so now; the queue too, so its rows and counts are right on coming back to it; the
        others read on being shown anyway. A screen names what it shows in ``SHOWS`` (capabilities of oms/)."""
        for screen in (self.queue, self.detail, *(w for _k, _t, w in self.screens[1:])):
            shows = getattr(screen, "SHOWS", ())
            if shows and changes.touches(*shows) and (screen is self.queue or screen.isVisible()):
                screen.refresh()

    def start_change_feed(self) -> None:
        """Follow what other stations (and this station's sync) commit: LISTEN on PostgreSQL, data_version on SQLite,
        on a thread of the feed's own (sync.change_feed); each change reaches the screens as their own writes do."""
        from sync.change_feed import ChangeFeed

        if self.change_feed is not None:
            return
        self.remote_changes.connect(self._remote_changes_came, Qt.ConnectionType.QueuedConnection)
        emit = self.remote_changes.emit
        self.change_feed = ChangeFeed(self.tasks.db, lambda changes, everything: emit(changes, everything))
        self.change_feed.start()

    def stop_change_feed(self) -> None:
        feed, self.change_feed = self.change_feed, None
        if feed is not None:
            feed.stop()

    def _remote_changes_came(self, changes, everything: bool) -> None:
        """Changes from the feed are gathered for REMOTE_GATHER_MS: eight stations and a sync pass committing many
        times a second make one read of each screen, not one per commit."""
        self._remote_pending = changes if self._remote_pending is None else self._remote_pending | changes
        self._remote_everything = self._remote_everything or everything
        if not self._remote_timer.isActive():
            self._remote_timer.start()

    def _apply_gathered_changes(self) -> None:
        changes, self._remote_pending = self._remote_pending, None
        everything, self._remote_everything = self._remote_everything, False
        if changes is not None:
            self.apply_remote_changes(changes, everything)

    def apply_remote_changes(self, changes, everything: bool = False) -> None:
        """Another station (or this one's sync) committed ``changes``. Each screen that watches what changed
        (``WATCHES``, else ``SHOWS``) follows it: the screen in view now, the queue (its rows and counts) always; the
        others read on being shown. With ``everything`` the feed was away a while and its notifications are lost:
        every screen reads again what it shows, in view or not."""
        for screen in (self.queue, self.detail, *(w for _k, _t, w in self.screens[1:])):
            watches = getattr(screen, "WATCHES", None) or getattr(screen, "SHOWS", ())
            if watches and changes.touches(*watches) and (everything or screen is self.queue or screen.isVisible()):
                getattr(screen, "follow_changes", screen.refresh)()

    def go_back(self) -> None:
        self.current_screen().go_back()

    # -- messages and scans -----------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, MESSAGE_MS)

    def _fit_message(self, text: str) -> None:
        """Whole messages: the permanent fields that matter least step aside until the message is gone.

        QStatusBar draws a message in what the permanent fields leave and cuts it anywhere
        ("Wrong item: 400638133393" for 4006381333931). What still does not fit is shortened
        at a word, with the whole text in the tooltip.
        """
        bar = self.statusBar()
        if not text:
            bar.setToolTip("")
        room = self._arrange_status()
        if text and bar.fontMetrics().horizontalAdvance(text) + 24 > room:
            short = elide_words(text, lambda t: bar.fontMetrics().horizontalAdvance(t) + 24 <= room)
            bar.setToolTip(text)
            bar.showMessage(short, MESSAGE_MS)  # comes back here with the short text, which fits

    def _arrange_status(self) -> int:
        """Show the database and station fields when there is room for them beside the sync line and the
        message; else they step aside (database first). Returns the room left for the message."""
        bar = self.statusBar()
        message = bar.currentMessage()
        need = bar.fontMetrics().horizontalAdvance(message) + 24 if message else 0
        for w in self._make_room_for:
            w.show()
        for w in self._make_room_for:
            if self._message_room() >= need:
                break
            w.hide()
        return self._message_room()

    def _message_room(self) -> int:
        bar = self.statusBar()
        taken = sum(w.sizeHint().width() + 8 for w in (self.sync_label, self.user_label, self.station_label, self.db_label)
                    if not w.isHidden())
        return bar.width() - taken - 16

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._arrange_status()

    def _scan_result(self, ok: bool, message: str) -> None:
        if ok:
            self.feedback.success(message)
        else:
            self.feedback.error(message)
            self.show_message(message)
