"""The order queue: buckets with live counts, filters, search, and a paged table over any number of orders."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, time, timedelta

from desktop import formatting as fmt
from desktop.order_scan import accepts_order_scan, find_scanned_order
from desktop.paged_model import (
    ALIGNMENT_ROLE,
    DISPLAY_ROLE,
    FONT_ROLE,
    FOREGROUND_ROLE,
    TOOLTIP_ROLE,
    PagedTableModel,
)
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QCoreApplication,
    QDate,
    QDateEdit,
    QEvent,
    QFont,
    QFontMetrics,
    QHBoxLayout,
    QHeaderView,
    QItemSelectionModel,
    QLabel,
    QLineEdit,
    QModelIndex,
    QObject,
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.tables import on_enter, record_view
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import desk, fulfilment, orders
from oms.core.audit import Actor
from oms.core.gs1 import Scan
from oms.desk.queue import QueueFilter, QueueRow, QueueSort

PAGE_SIZE = 100
MAX_PAGES = 30  # the sliding window: at most this many pages are kept in memory
POLL_MS = 3000

COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "Order"),
    ("channel", "Channel"),
    ("placed", "Placed"),
    ("ship_by", "Ship by"),
    ("backorder_age", "Waiting"),
    ("promise", "Promise missed"),
    ("customer", "Customer"),
    ("destination", "Destination"),
    ("units", "Lines/units"),
    ("status", "Status"),
    ("location", "Location"),
)
# The Backordered bucket shows how long each order has waited and when its promise is lost, in place of when it
# was placed and its ship-by (the table stays within a 1366-pixel screen).
BACKORDER_COLUMNS = ("backorder_age", "promise")
NOT_BACKORDER_COLUMNS = ("placed", "ship_by")
DEFAULT_SORT = {  # work buckets: most urgent promise first; history: newest first
    "backordered": QueueSort("promise", False),
    "shipped_today": QueueSort("placed", True),
    "all": QueueSort("placed", True),
}
WORK_SORT = QueueSort("ship_by", False)
ANY_DATE = QDate(2000, 1, 1)  # a date edit at its minimum means "no bound"
# Where the columns' widths are kept. Not "queue": a layout saved before the columns were fitted to their texts
# stretched Location over half the table and cut order numbers, and would come back on every start.
HEADER_STATE = "queueColumns"
SHARE_SPARE = ("customer", "destination")  # the columns that share what the others leave
MIN_SHARED_WIDTH = 64

ORDER_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1


def default_sort(bucket: str) -> QueueSort:
    return DEFAULT_SORT.get(bucket, WORK_SORT)


class OrderQueueModel(PagedTableModel):
    """Rows of the queue for a bucket, filters, search and sort, paged (see PagedTableModel).

    Every read of the rows also reads, in the same session, the data version they were
    read at and, when the filters, the search or the data changed since the last
    ones, the bucket counts: the buckets, the list and its footer always tell of the
    same moment (``counts_read``). ``refresh()`` re-reads the count and the pages in
    use and keeps the selection on the same orders.
    """

    refreshed = Signal()
    counts_read = Signal(object)  # {bucket key: orders}, read with the rows

    def __init__(self, tasks: Tasks, parent=None) -> None:
        super().__init__(tasks, len(COLUMNS), page_size=PAGE_SIZE, max_pages=MAX_PAGES, parent=parent)
        self._filter = QueueFilter()
        self._resolved = self._filter  # the filter with its search already run: what pages are read with
        self._sort = default_sort("all")
        self._now = datetime.now().astimezone()
        self._titles = [self.tr(t) for _k, t in COLUMNS]
        self.version: desk.DataVersion | None = None  # the data the rows on show were read from
        self._counts_of: tuple[QueueFilter, desk.DataVersion] | None = None  # what the counts on show are of
        self._new_counts: dict[str, int] | None = None

    # -- the query -------------------------------------------------------------------------------

    @property
    def query_filter(self) -> QueueFilter:
        return self._filter

    @property
    def query_sort(self) -> QueueSort:
        return self._sort

    def _read(self, f: QueueFilter, s: QueueSort, pages):
        """The job that reads, in one session: the data version, the rows' count and ``pages(total)``, and the
        bucket counts unless those on show are already of these filters and this version."""
        size, counts_of = self._page_size, self._counts_of
        counts_key = replace(f, bucket="")

        def job(session):
            version = desk.data_version(session)  # first: a change made meanwhile shows as a newer version
            resolved = desk.resolve_search(session, f) if f.search else f
            counts = None
            if counts_of != (counts_key, version):
                counts = desk.bucket_counts(session, replace(resolved, bucket=""))
                total = counts[f.bucket]  # the list holds what its bucket counts: one number, read once
            else:
                total = desk.queue_count(session, resolved)
            read = {p: desk.queue_page(session, resolved, s, p * size, size, total=total) for p in pages(total)}
            return total, read, (resolved, version, counts_key, counts)

        return job

    def set_query(self, f: QueueFilter, sort: QueueSort | None = None) -> None:
        """Show another bucket, filter, search or order; the old rows stay until the new ones arrive."""
        self._filter = f
        if sort is not None:
            self._sort = sort
        self._load(self._read(self._filter, self._sort, lambda _total: [0]))

    def _rows_reset(self, extra) -> None:
        self._resolved, version, counts_key, counts = extra
        self._took(version, counts_key, counts)
        self._now = datetime.now().astimezone()

    def _took(self, version, counts_key, counts) -> None:
        self.version = version
        if counts is not None:
            self._counts_of = (counts_key, version)
            self._new_counts = counts

    def _load_done(self, gen: int, result) -> None:
        super()._load_done(gen, result)
        self._emit_counts()

    def _emit_counts(self) -> None:
        counts, self._new_counts = self._new_counts, None
        if counts is not None:
            self.counts_read.emit(counts)

    def _page_job(self, page: int):
        f, s, total, size = self._resolved, self._sort, self._total, self._page_size
        return lambda session: desk.queue_page(session, f, s, page * size, size, total=total)

    def refresh(self) -> None:
        """Re-read the count, the bucket counts and the pages in view; the selection follows its orders."""
        gen = self._generation
        size = self._page_size
        keep = list(self._pages.keys())[-3:]  # the most recently used pages are the ones in view
        job = self._read(self._filter, self._sort, lambda total: [p for p in keep if p * size < total])
        self._tasks.read(job, lambda result: self._refresh_done(gen, result), self._failed, owner=self)

    def _refresh_done(self, gen: int, result) -> None:
        if gen != self._generation:
            return
        total, pages, (self._resolved, version, counts_key, counts) = result
        self._took(version, counts_key, counts)
        self._now = datetime.now().astimezone()
        if total > self._total:
            self.beginInsertRows(QModelIndex(), self._total, total - 1)
            self._total = total
            self.endInsertRows()
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        old_ids = [self.order_id(ix.row()) for ix in persistent]
        self._pages = OrderedDict(sorted(pages.items()))
        self._pending.clear()
        size = self._page_size
        new_rows = {row.id: p * size + i for p, rows in self._pages.items() for i, row in enumerate(rows)}
        moved = []
        for ix, oid in zip(persistent, old_ids):
            row = new_rows.get(oid) if oid is not None else None
            moved.append(self.index(row, ix.column()) if row is not None and row < total else QModelIndex())
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()
        if total < self._total:
            self.beginRemoveRows(QModelIndex(), total, self._total - 1)
            self._total = total
            self.endRemoveRows()
        self.total_changed.emit(total)
        self._emit_counts()
        self.refreshed.emit()

    def order_id(self, row: int) -> int | None:
        r = self.row_at(row)
        return r.id if r is not None else None

    # -- Qt model --------------------------------------------------------------------------------

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 (Qt override)
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._titles[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            key = COLUMNS[section][0]
            if key == "backorder_age":
                return self.tr("How long the order has waited for stock")
            if key == "promise":
                return self.tr("When the promise to the customer is lost unless the order ships")
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][0]
        if key not in desk.SORT_COLUMNS:
            return
        sort = QueueSort(key, order == Qt.SortOrder.DescendingOrder)
        if sort != self._sort:
            self.set_query(self._filter, sort)

    def _cell(self, row: QueueRow, column: int, role):
        key = COLUMNS[column][0]
        if role == DISPLAY_ROLE:
            return self._display(row, key)
        if role == ORDER_ID_ROLE:
            return row.id
        if role == FOREGROUND_ROLE:
            if key == "ship_by":
                state = fmt.ship_by_state(row.ship_by, row.status, self._now)
                if state == "late":
                    return fmt.LATE_COLOR
                if state == "today":
                    return fmt.DUE_TODAY_COLOR
            if key == "status" and row.status == "on_hold":
                return fmt.LATE_COLOR
            if key == "status" and row.status in ("backordered", "partially_allocated"):
                return fmt.DUE_TODAY_COLOR
            if key == "status" and row.status == "cancelled":
                return fmt.MUTED_COLOR
            if key == "promise":
                state = fmt.ship_by_state(row.promise_missed_at, row.status, self._now)
                return fmt.LATE_COLOR if state == "late" else fmt.DUE_TODAY_COLOR if state == "today" else None
            return None
        if role == FONT_ROLE:
            if key == "number" or (key == "ship_by" and fmt.ship_by_state(row.ship_by, row.status, self._now) == "late"):
                font = QFont()
                font.setBold(True)
                return font
            return None
        if role == TOOLTIP_ROLE:
            if key == "status" and row.hold_reason:
                return self.tr("On hold: {reason}").format(reason=row.hold_reason)
            if key == "number":
                return self.tr("{channel} order {external}").format(channel=row.channel, external=row.external_id)
            if key == "customer" and row.email:
                return row.email
            if key in ("placed", "ship_by"):
                return fmt.long_datetime(row.placed_at if key == "placed" else row.ship_by)
            if key == "backorder_age" and row.backordered_since:
                return self.tr("Backordered since {when}").format(when=fmt.long_datetime(row.backordered_since))
            if key == "promise" and row.promise_missed_at:
                return self.tr("Unless it ships by {ship_by}, delivery by {deliver_by} is missed").format(
                    ship_by=fmt.long_datetime(row.promise_missed_at), deliver_by=fmt.long_datetime(row.deliver_by))
            return None
        if role == ALIGNMENT_ROLE and key == "units":
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _display(self, row: QueueRow, key: str) -> str:
        if key == "number":
            return row.number
        if key == "channel":
            return row.channel
        if key == "placed":
            return fmt.short_datetime(row.placed_at, self._now, relative_past=False)
        if key == "ship_by":
            text = fmt.short_datetime(row.ship_by, self._now)
            if fmt.ship_by_state(row.ship_by, row.status, self._now) == "late":
                # Past days without their hour, so the column stays narrow; the tooltip has the time.
                day = fmt.local(row.ship_by)
                days = (self._now.date() - day.date()).days
                if days == 1:
                    text = self.tr("Yesterday")
                elif days > 1:
                    text = f"{day.day} {day.strftime('%b')}"
                text = self.tr("{when} · late").format(when=text)
            return text
        if key == "customer":
            return row.customer
        if key == "destination":
            return row.destination
        if key == "units":
            return f"{row.line_count} / {row.unit_count}"
        if key == "status":
            return orders.status_title(row.status)
        if key == "location":
            return f"{row.location} · {row.partner}" if row.partner else (row.location or "—")
        if key == "backorder_age":
            return age_text(row.backordered_since, self._now)
        if key == "promise":
            when = row.promise_missed_at
            if when is None:
                return self.tr("no promise")
            text = fmt.short_datetime(when, self._now)
            if fmt.ship_by_state(when, row.status, self._now) == "late":
                day = fmt.local(when)
                return self.tr("missed {day}").format(day=f"{day.day} {day.strftime('%b')}")
            return text
        return ""


def age_text(since: datetime | None, now: datetime) -> str:
    """How long something has waited, coarse enough to read at a glance: '45 min', '5 h', '3 d 4 h'."""
    if since is None:
        return "—"
    minutes = max(0, int((now - since).total_seconds() // 60))
    t = QCoreApplication.translate
    if minutes < 60:
        return t("Queue", "{n} min").format(n=minutes)
    hours = minutes // 60
    if hours < 24:
        return t("Queue", "{n} h").format(n=hours)
    days, hours = divmod(hours, 24)
    return t("Queue", "{d} d {h} h").format(d=days, h=hours) if days < 7 and hours else t("Queue", "{d} d").format(d=days)


class AnyDateEdit(QDateEdit):
    """A date filter that reads "Any" at its minimum date; Tab and Shift+Tab always move on to the next field.

    Qt's date edit keeps Tab for moving between day, month and year, and while its
    special text ("Any") is on show it swallows Tab altogether: a person tabbing
    through the filters was stuck in it. Left and Right still move between the parts.
    """

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        mods = event.modifiers()
        if event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and not mods & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            forward = event.key() == Qt.Key.Key_Tab and not mods & Qt.KeyboardModifier.ShiftModifier
            QWidget.focusNextPrevChild(self, forward)
            event.accept()
            return
        super().keyPressEvent(event)


class BucketList(QTableWidget):
    """The buckets down the left, each with its count; one is current."""

    bucket_chosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(len(desk.BUCKETS), 2, parent)
        self.setObjectName("bucketList")
        self.setTabKeyNavigation(False)  # Up and Down choose a bucket; Tab moves on to the list
        self.horizontalHeader().hide()
        self.verticalHeader().hide()
        self.setShowGrid(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(40)
        self.setWordWrap(False)
        for i, b in enumerate(desk.BUCKETS):
            title = QTableWidgetItem(self.tr(b.title))
            title.setData(ORDER_ID_ROLE, b.key)
            count = QTableWidgetItem("")
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(i, 0, title)
            self.setItem(i, 1, count)
        self.itemSelectionChanged.connect(self._chosen)
        self.ensurePolished()
        metrics = QFontMetrics(self.font())
        widest = max(metrics.horizontalAdvance(self.item(i, 0).text()) for i in range(self.rowCount()))
        self.setMinimumWidth(widest + metrics.horizontalAdvance("0,000") + 28)  # every title whole, and its count

    def keys(self) -> list[str]:
        return [b.key for b in desk.BUCKETS]

    def current_key(self) -> str:
        row = self.currentRow()
        return desk.BUCKETS[row].key if row >= 0 else "all"

    def select(self, key: str) -> None:
        self.selectRow(self.keys().index(key) if key in self.keys() else len(self.keys()) - 1)

    def set_counts(self, counts: dict[str, int]) -> None:
        for i, b in enumerate(desk.BUCKETS):
            n = counts.get(b.key)
            self.item(i, 1).setText("" if n is None else f"{n:,}")

    def count_text(self, key: str) -> str:
        return self.item(self.keys().index(key), 1).text()

    def _chosen(self) -> None:
        self.bucket_chosen.emit(self.current_key())


class OrdersQueueScreen(QWidget):
    SHOWS = ("orders", "routing", "fulfilment", "shipping")  # read again after a write that changes these
    """Buckets, filters and search over the order table, with bulk hold and release."""

    open_order = Signal(int)
    scan_result = Signal(object, str)  # ok (bool), message: for the station's sound and flash
    message = Signal(str)  # a short line for the status bar

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("ordersQueue")
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self._restoring = True
        self._enter_pending = False  # Enter was pressed in the search box: act when its results arrive
        self._counts: dict[str, int] = {}
        self._pinned: tuple[int, ...] | None = None  # the orders behind a report's figure (show_only)
        self.model = OrderQueueModel(tasks, self)

        # -- search and filters
        self.search = QLineEdit()
        self.search.setObjectName("queueSearch")
        self.search.setPlaceholderText(self.tr("Search orders  (Ctrl+F)"))
        self.search.setToolTip(self.tr("Order number, channel order id, customer name or email, SKU or tracking number"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(300)
        self.channel = QComboBox()
        self.channel.setObjectName("channelFilter")
        self.location = QComboBox()
        self.location.setObjectName("locationFilter")
        self.order_type = QComboBox()
        self.order_type.setObjectName("typeFilter")
        for combo, label in ((self.channel, self.tr("All channels")), (self.location, self.tr("All locations")),
                             (self.order_type, self.tr("All order types"))):
            combo.addItem(label, None)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMinimumContentsLength(10)
        self.ship_from = self._date_edit("shipFrom")
        self.ship_to = self._date_edit("shipTo")
        self.clear_filters = QPushButton(self.tr("Clear filters"))
        self.clear_filters.setObjectName("clearFilters")

        filters = QHBoxLayout()
        filters.setSpacing(8)
        filters.addWidget(self.search, 3)
        filters.addWidget(self.channel)
        filters.addWidget(self.location)
        filters.addWidget(self.order_type)
        ship_label = QLabel(self.tr("Ship by"))
        ship_label.setObjectName("filterLabel")
        filters.addWidget(ship_label)
        filters.addWidget(self.ship_from)
        dash = QLabel("–")
        filters.addWidget(dash)
        filters.addWidget(self.ship_to)
        filters.addWidget(self.clear_filters)

        # -- buckets and table
        self.buckets = BucketList()
        self.table = record_view("queueTable", self.model, row_height=34, many=True)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setSortIndicatorShown(True)
        self._fit_columns()

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("queueSplitter")
        self.splitter.addWidget(self.buckets)
        self.splitter.addWidget(self.table)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([self.buckets.minimumWidth(), 1000])
        self.splitter.setChildrenCollapsible(False)

        # -- actions
        self.open_button = QPushButton(self.tr("Open order"))
        self.open_button.setObjectName("openOrder")
        self.hold_button = QPushButton(self.tr("Hold…"))
        self.hold_button.setObjectName("holdOrders")
        self.release_button = QPushButton(self.tr("Release hold"))
        self.release_button.setObjectName("releaseOrders")
        self.reroute_button = QPushButton(self.tr("Re-route…"))
        self.reroute_button.setObjectName("rerouteOrders")
        self.reroute_button.setToolTip(self.tr("Give back the selected orders' reservations and route them again"))
        self.summary = QLabel()
        self.summary.setObjectName("queueSummary")
        self.empty_note = QLabel(self.table.viewport())
        self.empty_note.setObjectName("queueEmptyNote")
        self.empty_note.setWordWrap(True)
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.empty_note.setStyleSheet(f"color: {fmt.MUTED_COLOR.name()}; font-size: 15px; background: transparent;")
        self.empty_note.hide()
        actions = QHBoxLayout()
        actions.setSpacing(8)
        actions.addWidget(self.open_button)
        actions.addWidget(self.hold_button)
        actions.addWidget(self.release_button)
        actions.addWidget(self.reroute_button)
        actions.addStretch(1)
        actions.addWidget(self.summary)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(filters)
        # The orders behind a report's figure, when the queue was opened from one: said above the list.
        self.pinned_note = QLabel()
        self.pinned_note.setObjectName("pinnedNote")
        self.pinned_note.setWordWrap(True)
        self.pinned_note.hide()
        layout.addWidget(self.pinned_note)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(actions)

        self.setTabOrder(self.search, self.channel)
        self.setTabOrder(self.channel, self.location)
        self.setTabOrder(self.location, self.order_type)
        self.setTabOrder(self.order_type, self.ship_from)
        self.setTabOrder(self.ship_from, self.ship_to)
        self.setTabOrder(self.ship_to, self.clear_filters)
        self.setTabOrder(self.clear_filters, self.buckets)
        self.setTabOrder(self.buckets, self.table)
        self.setTabOrder(self.table, self.open_button)
        self.setTabOrder(self.open_button, self.hold_button)
        self.setTabOrder(self.hold_button, self.release_button)
        self.setTabOrder(self.release_button, self.reroute_button)

        # -- behaviour
        self._search_timer = fmt.debounce_search(self.search, self.apply_filters, self)
        self.search.returnPressed.connect(self._search_now)
        for combo in (self.channel, self.location, self.order_type):
            combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        for edit in (self.ship_from, self.ship_to):
            edit.dateChanged.connect(lambda _d: self.apply_filters())
        self.clear_filters.clicked.connect(self.reset_filters)
        self.buckets.bucket_chosen.connect(self._bucket_chosen)
        self.table.doubleClicked.connect(lambda ix: self._open_row(ix.row()))
        on_enter(self.table, self.open_selected)
        self.open_button.clicked.connect(self.open_selected)
        self.hold_button.clicked.connect(self.hold_selected)
        self.release_button.clicked.connect(self.release_selected)
        self.reroute_button.clicked.connect(self.reroute_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.model.modelReset.connect(self._update_actions)
        self.model.total_changed.connect(lambda _n: self._update_summary())
        self.model.failed.connect(self.message)
        self.model.loaded.connect(self._after_load)
        self.model.counts_read.connect(self._counts_read)
        self.search.installEventFilter(self)
        self.table.installEventFilter(self)
        self.table.viewport().installEventFilter(self)
        header.sortIndicatorChanged.connect(self._sort_changed)

        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)

        self._restore()
        self._update_actions()

    # -- setup -------------------------------------------------------------------------------------

    def _date_edit(self, name: str) -> QDateEdit:
        edit = AnyDateEdit()
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setMinimumDate(ANY_DATE)
        edit.setSpecialValueText(self.tr("Any"))
        edit.setDisplayFormat("d MMM yyyy")
        edit.setDate(ANY_DATE)
        edit.setMinimumWidth(118)
        return edit

    def _fit_columns(self) -> None:
        """Widths from the texts the columns show, in the table's font: order numbers, dates and statuses are never
        cut; the customer and the destination share what is left (a saved layout, once restored, wins)."""
        self.table.ensurePolished()  # the style sheet's fonts, not the defaults
        self.table.horizontalHeader().ensurePolished()
        plain, bold = QFontMetrics(self.table.font()), QFont(self.table.font())
        bold.setBold(True)
        bold_metrics = QFontMetrics(bold)
        header = self.table.horizontalHeader()
        section = QFont(self.table.font())  # the style sheet's header sections: 9.5 pt, weight 600
        section.setPointSizeF(9.5)
        section.setWeight(QFont.Weight.DemiBold)
        header_metrics = QFontMetrics(section)
        now = datetime.now().astimezone()
        samples = {
            "number": [("113-1424041-8661658", True), ("PO4502881", True)],  # a marketplace number is the longest
            "channel": [("northwind", False)],
            "placed": [(fmt.short_datetime(now.replace(month=12, day=28), now, relative_past=False), False)],
            "ship_by": [(fmt.short_datetime(now + timedelta(days=1), now), False),
                        (self.tr("{when} · late").format(when=fmt.short_datetime(now.replace(hour=22, minute=0), now)), True)],
            "backorder_age": [(age_text(now - timedelta(days=6, hours=23), now), False)],
            "promise": [(self.tr("missed {day}").format(day="28 Dec"), False)],
            "units": [("12 / 120", False)],
            "status": [(orders.status_title(st), False) for st in orders.STATUS_TITLES],
            "location": [("DFW3PL", False)],
        }
        sort_arrow, padding = 16, 16
        for col, (key, title) in enumerate(COLUMNS):
            if key in SHARE_SPARE:
                continue
            width = header_metrics.horizontalAdvance(self.tr(title)) + sort_arrow
            for text, is_bold in samples.get(key, ()):
                width = max(width, (bold_metrics if is_bold else plain).horizontalAdvance(text) + padding)
            self.table.setColumnWidth(col, width)
        header.setStretchLastSection(False)

    def _share_spare_width(self) -> None:
        """The customer and the destination share the width the other columns leave, when the table's width or its
        columns change. By hand, not with Stretch sections: those cost a bucket switch 25 ms of header layout."""
        header = self.table.horizontalHeader()
        cols = [i for i, (k, _t) in enumerate(COLUMNS) if k in SHARE_SPARE]
        used = sum(header.sectionSize(i) for i in range(header.count()) if i not in cols and not header.isSectionHidden(i))
        spare = self.table.viewport().width() - used
        each = max(MIN_SHARED_WIDTH, spare // len(cols))
        if all(header.sectionSize(i) == each for i in cols):
            return
        for i in cols:
            self.table.setColumnWidth(i, each)

    def start(self) -> None:
        """Load the filter choices, then the queue; start watching for changes."""
        def options(session):
            return desk.filter_options(session)

        self.tasks.read(options, self._options_loaded, self.message.emit, owner=self)
        self._poll.start()

    def _options_loaded(self, opts: desk.FilterOptions) -> None:
        saved = self.state.value("queue/filters", {}) or {}
        self._restoring = True
        for combo, choices, key in ((self.channel, opts.channels, "channel"), (self.location, opts.locations, "location"),
                                    (self.order_type, opts.order_types, "order_type")):
            while combo.count() > 1:
                combo.removeItem(1)
            for c in choices:
                combo.addItem(f"{c.name}" if key != "location" else f"{c.code} · {c.name}", c.id)
            idx = combo.findData(saved.get(key)) if saved.get(key) is not None else 0
            combo.setCurrentIndex(max(0, idx))
        for edit, key in ((self.ship_from, "ship_from"), (self.ship_to, "ship_to")):
            value = saved.get(key)
            edit.setDate(QDate.fromString(value, Qt.DateFormat.ISODate) if value else ANY_DATE)
        self.buckets.select(saved.get("bucket", "all"))
        self._restoring = False
        self.apply_filters()

    def _restore(self) -> None:
        self.state.restore_splitter("queue", self.splitter)
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        self.state.restore_header(HEADER_STATE, header)
        header.blockSignals(False)
        saved = self.state.value("queue/filters", {}) or {}
        self.buckets.blockSignals(True)
        self.buckets.select(saved.get("bucket", "all"))
        self.buckets.blockSignals(False)
        self._show_backorder_columns(saved.get("bucket") == "backordered")

    def save_state(self) -> None:
        self.state.save_splitter("queue", self.splitter)
        self.state.save_header(HEADER_STATE, self.table.horizontalHeader())
        self.state.set_value("queue/filters", self._saved_filters())

    def _saved_filters(self) -> dict:
        return {
            "bucket": self.buckets.current_key(),
            "channel": self.channel.currentData(),
            "location": self.location.currentData(),
            "order_type": self.order_type.currentData(),
            "ship_from": self._date_value(self.ship_from),
            "ship_to": self._date_value(self.ship_to),
        }

    @staticmethod
    def _date_value(edit: QDateEdit) -> str | None:
        d = edit.date()
        return None if d == ANY_DATE else d.toString(Qt.DateFormat.ISODate)

    # -- the query -----------------------------------------------------------------------------------

    def current_filter(self) -> QueueFilter:
        start = self._date_value(self.ship_from)
        end = self._date_value(self.ship_to)
        tz = datetime.now().astimezone().tzinfo

        def at_midnight(iso: str, days: int = 0) -> datetime:
            return datetime.combine(datetime.fromisoformat(iso).date() + timedelta(days=days), time(0), tzinfo=tz)

        return QueueFilter(
            bucket=self.buckets.current_key(),
            channel_id=self.channel.currentData(),
            location_id=self.location.currentData(),
            order_type=self.order_type.currentData(),
            ship_by_from=at_midnight(start) if start else None,
            ship_by_before=at_midnight(end, 1) if end else None,
            search=self.search.text().strip(),
            pinned_ids=self._pinned,
        )

    def show_only(self, order_ids: list[int], caption: str) -> None:
        """Show only these orders (the ones behind a report's figure), under every other filter cleared; the note
        above the list says whose they are, and Clear filters shows every order again."""
        ids = tuple(dict.fromkeys(order_ids))[:desk.PIN_CAP]
        self._pinned = ids
        shown = len(ids)
        note = self.tr("Only the {n} orders behind “{what}”. Clear filters shows every order.").format(n=shown, what=caption)
        if len(set(order_ids)) > shown:
            note = self.tr("Only the first {n} of the {total} orders behind “{what}”. Clear filters shows every order.").format(
                n=shown, total=len(set(order_ids)), what=caption)
        self.pinned_note.setText(note)
        self.pinned_note.show()
        self._restoring = True
        for combo in (self.channel, self.location, self.order_type):
            combo.setCurrentIndex(0)
        self.ship_from.setDate(ANY_DATE)
        self.ship_to.setDate(ANY_DATE)
        self.search.clear()
        self.buckets.select("all")
        self._restoring = False
        self.apply_filters()

    def _sort_for(self, bucket: str) -> QueueSort:
        saved = self.state.value(f"queue/sort/{bucket}")
        sort = default_sort(bucket)
        if isinstance(saved, list) and len(saved) == 2 and saved[0] in desk.SORT_COLUMNS:
            sort = QueueSort(saved[0], bool(saved[1]))
        # Ship by and Promise missed read the same column; sort by the one the bucket shows.
        if bucket == "backordered" and sort.column == "ship_by":
            sort = QueueSort("promise", sort.descending)
        elif bucket != "backordered" and sort.column == "promise":
            sort = QueueSort("ship_by", sort.descending)
        return sort

    def _show_sort(self, sort: QueueSort) -> None:
        col = [k for k, _t in COLUMNS].index(sort.column)
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(col, Qt.SortOrder.DescendingOrder if sort.descending else Qt.SortOrder.AscendingOrder)
        header.blockSignals(False)

    def apply_filters(self) -> None:
        if self._restoring:
            return
        self._search_timer.stop()
        f = self.current_filter()
        sort = self._sort_for(f.bucket)
        self._show_backorder_columns(f.bucket == "backordered")
        self._show_sort(sort)
        self.model.set_query(f, sort)
        self.state.set_value("queue/filters", self._saved_filters())
        self._update_summary()

    def _show_backorder_columns(self, show: bool) -> None:
        for i, (key, _t) in enumerate(COLUMNS):
            if key in BACKORDER_COLUMNS:
                self.table.setColumnHidden(i, not show)
            elif key in NOT_BACKORDER_COLUMNS:
                self.table.setColumnHidden(i, show)
        self._share_spare_width()

    def _search_now(self) -> None:
        """Enter in the search box: search now, then open the one order found, or go into the list of several."""
        self._enter_pending = True
        if self.current_filter() != self.model.query_filter:
            self.apply_filters()
        elif not self.model.is_loading:
            self._after_enter()

    def _after_enter(self) -> None:
        self._enter_pending = False
        rows = self.model.rowCount()
        if rows == 1 and self.model.query_filter.search:
            self._open_row(0)
        elif rows:
            self._into_results()

    def _into_results(self) -> None:
        """Down or Enter from the search box: into the list, on its current row (the first after a search)."""
        if not self.model.rowCount():
            return
        if not self.table.selectionModel().hasSelection():
            self.table.selectionModel().setCurrentIndex(
                self.model.index(0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.KeyPress and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            key = event.key()
            if watched is self.search and key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown):
                self._into_results()
                return True
            if watched is self.table and key == Qt.Key.Key_Up and self.table.currentIndex().row() <= 0:
                self.focus_search()  # Up from the first row goes back to the search
                return True
        elif event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            self._place_empty_note()
            self._share_spare_width()
        return super().eventFilter(watched, event)

    def _bucket_chosen(self, _key: str) -> None:
        self.apply_filters()

    def _sort_changed(self, column: int, order) -> None:
        if COLUMNS[column][0] not in desk.SORT_COLUMNS:  # the backorder age is not an indexed column
            self._show_sort(self.model.query_sort)
            return
        sort = QueueSort(COLUMNS[column][0], order == Qt.SortOrder.DescendingOrder)
        self.state.set_value(f"queue/sort/{self.buckets.current_key()}", [sort.column, sort.descending])
        self.model.set_query(self.current_filter(), sort)

    def reset_filters(self) -> None:
        self._pinned = None
        self.pinned_note.hide()
        self._restoring = True
        for combo in (self.channel, self.location, self.order_type):
            combo.setCurrentIndex(0)
        self.ship_from.setDate(ANY_DATE)
        self.ship_to.setDate(ANY_DATE)
        self.search.clear()
        self._restoring = False
        self.apply_filters()

    def refresh(self) -> None:
        """F5, an action of ours, or another station's change: reread rows and counts in place."""
        self.model.refresh()

    def poll(self) -> None:
        """Notice changes made elsewhere (sync, another station on the same PostgreSQL) cheaply."""
        if not self.isVisible() or self.model.version is None:
            return
        self.tasks.read(desk.data_version, self._version_read, lambda _m: None, owner=self)

    def _version_read(self, version: desk.DataVersion) -> None:
        # Compared with the version the rows and counts on show were read at, not with the previous look: a change
        # made between the queue's read and this look is a change too.
        if version != self.model.version and not self.model.is_loading:
            self.refresh()

    # -- selection and actions -------------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        rows = sorted({ix.row() for ix in self.table.selectionModel().selectedRows()})
        return [oid for oid in (self.model.order_id(r) for r in rows) if oid is not None]

    def _open_row(self, row: int) -> None:
        oid = self.model.order_id(row)
        if oid is not None:
            self.open_order.emit(oid)

    def open_selected(self) -> None:
        current = self.table.currentIndex()
        if current.isValid() and self.table.selectionModel().isRowSelected(current.row(), QModelIndex()):
            self._open_row(current.row())
            return
        ids = self.selected_ids()
        if ids:
            self.open_order.emit(ids[0])

    def _after_load(self) -> None:
        if self.model.rowCount() and not self.table.selectionModel().hasSelection():
            self.table.selectionModel().setCurrentIndex(
                self.model.index(0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self._update_summary()
        if self._enter_pending and self.model.query_filter == self.current_filter():
            self._after_enter()

    def _counts_read(self, counts: dict[str, int]) -> None:
        self._counts = counts
        self.buckets.set_counts(counts)
        self._update_summary()

    def _update_actions(self) -> None:
        n = len(self.selected_ids())
        self.open_button.setEnabled(n >= 1)
        self.hold_button.setEnabled(n >= 1)
        self.release_button.setEnabled(n >= 1)
        self.reroute_button.setEnabled(n >= 1)
        self._update_summary()

    def _update_summary(self) -> None:
        total = self.model.rowCount()
        n = len(self.table.selectionModel().selectedRows()) if self.table.selectionModel() else 0
        text = self.tr("{n} orders").format(n=f"{total:,}") if total != 1 else self.tr("1 order")
        if self.model.query_filter.search and total >= desk.SEARCH_CAP:
            text = self.tr("More than {n} matches — type more to narrow the search").format(n=f"{desk.SEARCH_CAP:,}")
        if n > 1:
            text += self.tr("  ·  {n} selected").format(n=n)
        self.summary.setText(text)
        self._update_empty_note()

    def _update_empty_note(self) -> None:
        """Over an empty list: why it is empty, and where the orders searched for are."""
        f = self.model.query_filter
        text = ""
        if not self.model.rowCount() and not self.model.is_loading:
            bucket = self.tr(desk.BUCKETS_BY_KEY[f.bucket].title)
            elsewhere = self._counts.get("all", 0) if f.bucket != "all" else 0
            filtered = replace(f, bucket="", search="") != QueueFilter(bucket="")
            if f.search and elsewhere:
                text = self.tr("No orders in {bucket} match “{text}”.").format(bucket=bucket, text=f.search) + "\n" + (
                    self.tr("1 order matches in All orders: choose All orders to see it.") if elsewhere == 1 else
                    self.tr("{n} orders match in All orders: choose All orders to see them.").format(n=f"{elsewhere:,}"))
            elif f.search:
                text = self.tr("No orders match “{text}”.").format(text=f.search) + "\n"
                text += (self.tr("Clear filters to search every order.") if filtered else
                         self.tr("Search looks inside order numbers, shop order numbers, customer names, emails and "
                                 "SKUs, and at the start of tracking numbers."))
            elif filtered:
                text = self.tr("No orders in {bucket} with these filters.").format(bucket=bucket)
            else:
                text = self.tr("No orders in {bucket} now.").format(bucket=bucket)
        self.empty_note.setText(text)
        self.empty_note.setVisible(bool(text))

    def _place_empty_note(self) -> None:
        self.empty_note.setGeometry(24, 28, max(0, self.table.viewport().width() - 48), 120)

    def hold_selected(self) -> None:
        from desktop.dialogs import ReasonDialog, hold_reasons

        ids = self.selected_ids()
        if not ids:
            return
        dialog = ReasonDialog(self, self.tr("Put on hold"),
                              (self.tr("Put the selected order on hold? It leaves the pick and ship queues until released.") if len(ids) == 1
                               else self.tr("Put {n} selected orders on hold? They leave the pick and ship queues until "
                                            "released.").format(n=len(ids))),
                              self.tr("Put on hold"), suggestions=hold_reasons())
        if dialog.exec() != ReasonDialog.DialogCode.Accepted:
            return
        reason = dialog.reason()
        self._bulk(ids, lambda s, oid: orders.hold(s, self.actor, oid, reason), self.tr("put on hold"))

    def release_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._bulk(ids, lambda s, oid: orders.release_hold(s, self.actor, oid), self.tr("released"))

    def reroute_selected(self) -> None:
        from desktop.reroute import RerouteDialog

        ids = self.selected_ids()
        if not ids:
            return
        dialog = RerouteDialog(self, len(ids))
        if dialog.exec() != RerouteDialog.DialogCode.Accepted:
            return
        reason = dialog.reason()
        self._bulk(ids, lambda s, oid: fulfilment.reroute_order(s, self.actor, oid, reason=reason), self.tr("re-routed"))

    def _bulk(self, ids: list[int], action, verb: str) -> None:
        """Apply an action to each order in its own transaction; one refusal does not stop the rest."""

        def finished(result) -> None:
            done, refused = result
            text = (self.tr("1 order {verb}.") if done == 1 else self.tr("{n} orders {verb}.")).format(n=done, verb=verb)
            if refused:
                text += " " + self.tr("Not done: {why}").format(why=" ".join(refused[:3]))
                if len(refused) > 3:
                    text += " " + self.tr("(and {n} more)").format(n=len(refused) - 3)
            self.message.emit(text)

        self.tasks.write_each(ids, action, finished, self.message.emit, owner=self)

    # -- keyboard and scanner --------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def go_back(self) -> bool:
        if self.search.text():
            self.search.clear()
            self.apply_filters()
            return True
        return False

    def accepts_scan(self, scan: Scan) -> bool:
        return accepts_order_scan(scan)

    def handle_scan(self, scan: Scan) -> None:
        find_scanned_order(self, scan, self.open_order.emit)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.poll()
