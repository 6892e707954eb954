"""Reports: the operations dashboard. Key figures, a chart and a table for each measure, their definitions in words,
a date range and filters, exports, and every number, row and bar opens the orders behind it.

Charts are QtCharts (PySide6's own add-on, in the wheel the app already installs): bar charts are all these
measures need, and it draws with the same painter and palette as the rest of the window, where pyqtgraph would
add a dependency aimed at fast scientific plots. The measures are computed by ``oms.reports`` on the database
worker (desktop.tasks); exports are written on the pool. The screen reads again after any write to orders,
shipping or fulfilment (``SHOWS``), so the figures move as orders ship.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from desktop import formatting as fmt
from desktop.qt import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QComboBox,
    QDate,
    QDateEdit,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPainter,
    QPushButton,
    QStackedBarSeries,
    Qt,
    QTabWidget,
    QTimer,
    QValueAxis,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screen import NoScanScreen
from desktop.screens.o2c_page import OrderToCashPage
from desktop.tables import cell as _item, fill_table, on_enter, read_only_table
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import reports
from oms.core.errors import InvalidInput
from oms.core.types import utcnow
from oms.orders.status import status_title
from oms.reports import export, tables
from oms.reports.tables import Table

ALL = ""


@dataclass(frozen=True)
class Tile:
    key: str
    caption: str
    report: str
    row: int  # the table's row the figure is from (-1: the row titled "Total")
    column: int
    previous: int | None


TILES = (
    Tile("line_fill", "Line fill rate", "fill-rate", 1, 3, 4),
    Tile("order_fill", "Order fill rate", "fill-rate", 3, 3, 4),
    Tile("unit_fill", "Unit fill rate", "fill-rate", 5, 3, 4),
    Tile("on_time_ship", "On-time ship", "on-time", 0, 3, 4),
    Tile("perfect_order", "Perfect orders", "on-time", 2, 3, 4),
    Tile("cycle_median", "To ship, median", "cycle-time", 0, 2, 5),
    Tile("backordered", "Backordered lines", "backorders", -1, 7, None),
)


def figure(table: Table, tile: Tile) -> tuple[str, str, int]:
    """A tile's figure, the previous period's, and the table row behind them."""
    row = tile.row if tile.row >= 0 else next((i for i, r in enumerate(table.rows) if r[0] == "Total"), 0)
    values = table.rows[row] if row < len(table.rows) else ()
    kind = table.columns[tile.column].kind

    def text(i):
        return export.shown(values[i], kind) if i is not None and i < len(values) else ""

    return text(tile.column), text(tile.previous), row


class TileButton(QPushButton):
    """A figure a person can open: Enter, Space or a click shows the orders behind it."""

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.click()
            return
        super().keyPressEvent(event)


def _chart_data(t: Table) -> tuple[list[str], list[tuple[str, list[float]]], bool, str]:
    """Categories, bar sets (name, values), stacked or not, and the value axis's unit, for one report."""
    rows = t.rows
    pct = lambda v: 0.0 if v is None else round(v * 100, 1)  # noqa: E731
    num = lambda v: 0.0 if v is None else float(v)  # noqa: E731
    if t.report == "fill-rate":
        return (["Line", "Order", "Unit"], [("First time", [pct(rows[i][3]) for i in (0, 2, 4)]),
                                            ("Final", [pct(rows[i][3]) for i in (1, 3, 5)]),
                                            ("Final, previous period", [pct(rows[i][4]) for i in (1, 3, 5)])], False, "%")
    if t.report == "on-time":
        return ([r[0] for r in rows[:3]], [("This period", [pct(r[3]) for r in rows[:3]]),
                                           ("Previous period", [pct(r[4]) for r in rows[:3]])], False, "%")
    if t.report == "cycle-time":
        return ([r[0].replace(", ", "\n") for r in rows], [("Median", [num(r[2]) for r in rows]),
                                                            ("90th percentile", [num(r[3]) for r in rows]),
                                                            ("99th percentile", [num(r[4]) for r in rows])], False, "h")
    if t.report == "backorders":
        total = [r for r in rows if r[0] in ("Total", "Previous period")]
        return ([c.title.replace(", units", "") for c in t.columns[2:7]],
                [("Units waiting" if r[0] == "Total" else "Previous period", [num(v) for v in r[2:7]]) for r in total],
                False, "")
    if t.report == "throughput":
        body = [r for r in rows if r[0] not in ("Total", "Previous period total")]
        buckets = sorted({r[0] for r in body})
        keys = sorted({r[1] for r in body})
        units = {(r[0], r[1]): r[5] for r in body}
        return ([b[5:] for b in buckets], [(k, [num(units.get((b, k), 0)) for b in buckets]) for k in keys], True, "units")
    if t.report == "carrier-cost":
        return ([r[0] for r in rows], [("Cost per order", [num(r[7]) for r in rows]),
                                      ("Previous period", [num(r[9]) for r in rows])], False, "")
    return ([f"{r[0]}: {r[1]}" for r in rows], [("Lines per hour", [num(r[6]) for r in rows]),
                                                ("Previous period", [num(r[7]) for r in rows])], False, "")


def bar_row(t: Table, set_index: int, category: int) -> int | None:
    """The table row a bar of ``_chart_data`` was drawn from (None for a previous period's bar)."""
    if t.report == "fill-rate":
        return (2 * category, 2 * category + 1, None)[set_index]
    if t.report in ("on-time", "carrier-cost", "productivity"):
        return category if set_index == 0 else None
    if t.report == "cycle-time":
        return category
    if t.report == "backorders":  # the bucket's bar: every waiting line's row is the total's
        return next((i for i, r in enumerate(t.rows) if r[0] == "Total"), None) if set_index == 0 else None
    if t.report == "throughput":
        categories, sets, _stacked, _unit = _chart_data(t)
        body = [r for r in t.rows if r[0] not in ("Total", "Previous period total")]
        buckets = sorted({r[0] for r in body})
        key = sets[set_index][0]
        return next((i for i, r in enumerate(t.rows) if r[0] == buckets[category] and r[1] == key), None)
    return None


class ReportPage(QWidget):
    """One measure: its definition, its chart and its table; Enter on a row opens the orders behind it."""

    drill = Signal(object, int)  # Table, row

    def __init__(self, report: str) -> None:
        super().__init__()
        self.report = report
        self.table_data: Table | None = None
        self.bar_sets: list[QBarSet] = []
        self.setObjectName(f"reportPage_{report}")
        self.definition = QLabel()
        self.definition.setObjectName("reportDefinition")
        self.definition.setWordWrap(True)
        self.definition.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart = QChart()
        self.chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_view = QChartView(self.chart)
        self.chart_view.setObjectName(f"reportChart_{report}")
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(220)
        self.chart_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.chart_view.setToolTip(self.tr("Click a bar for the orders behind it"))
        self.table = read_only_table(f"reportTable_{report}", [""], None, row_height=28)
        on_enter(self.table, self._open_row)
        self.table.doubleClicked.connect(lambda _i: self._open_row())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.definition)
        row = QHBoxLayout()
        row.addWidget(self.chart_view, 2)
        row.addWidget(self.table, 3)
        layout.addLayout(row, 1)

    def show_table(self, t: Table) -> None:
        self.table_data = t
        self.definition.setText(t.definition)
        self.table.setColumnCount(len(t.columns))
        self.table.setHorizontalHeaderLabels([c.title for c in t.columns])
        fill_table(self.table, [[_item(export.shown(v, c.kind) if c.kind != "text" else (v or ""), right=c.kind != "text",
                                       tip=self.tr("Enter: the {n} orders behind this row").format(n=len(ids)))
                                 for v, c in zip(row, t.columns)] for row, ids in zip(t.rows, t.orders)])
        self._draw(t)

    def _draw(self, t: Table) -> None:
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        if not t.rows:
            self.chart.setTitle(self.tr("Nothing in this period"))
            return
        categories, sets, stacked, unit = _chart_data(t)
        self.chart.setTitle("")
        series = QStackedBarSeries() if stacked else QBarSeries()
        top = 0.0
        self.bar_sets = []
        for k, (name, values) in enumerate(sets):
            bar = QBarSet(name)
            bar.append(values)
            bar.clicked.connect(lambda index, k=k: self._open_bar(k, index))
            series.append(bar)
            self.bar_sets.append(bar)
            top = max(top, *values) if values else top
        if stacked and sets:
            top = max(sum(v[i] for _n, v in sets) for i in range(len(categories)))
        self.chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append(categories)
        y = QValueAxis()
        y.setRange(0, 100 if unit == "%" else max(1.0, top * 1.1))
        y.setLabelFormat("%.0f" + ("%%" if unit == "%" else ""))
        if unit and unit != "%":
            y.setTitleText(unit)
        self.chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)

    def _open_bar(self, set_index: int, category: int) -> None:
        """A bar clicked: the table row it was drawn from, and the orders behind that row."""
        t = self.table_data
        row = bar_row(t, set_index, category) if t is not None else None
        if row is not None:
            self.table.selectRow(row)
            self.drill.emit(t, row)

    def _open_row(self) -> None:
        row = self.table.currentRow()
        if self.table_data is not None and 0 <= row < len(self.table_data.rows):
            self.drill.emit(self.table_data, row)


class OrdersBehind(QDialog):
    """The orders behind one number, all of them or those that met or missed it; Enter opens one."""

    open_order = Signal(int)

    def __init__(self, parent: QWidget, tasks: Tasks, title: str, parts: list[tuple[str, tuple[int, ...]]]) -> None:
        super().__init__(parent)
        self.setObjectName("ordersBehind")
        self.setWindowTitle(title)
        self.resize(880, 520)
        self.tasks = tasks
        self.parts = parts
        self.order_ids: list[int] = []
        self._shown_once = False
        layout = QVBoxLayout(self)
        head = QLabel(title)
        head.setObjectName("ordersBehindTitle")
        head.setWordWrap(True)
        layout.addWidget(head)
        self.which = QComboBox()
        self.which.setObjectName("ordersBehindWhich")
        for name, ids in parts:
            self.which.addItem(self.tr("{name} ({n})").format(name=name, n=len(ids)), name)
        self.which.currentIndexChanged.connect(self._load)
        if len(parts) > 1:
            layout.addWidget(self.which)
        self.table = read_only_table("ordersBehindTable", [self.tr("Order"), self.tr("Channel"), self.tr("Status"),
                                                          self.tr("Placed"), self.tr("Customer"), self.tr("Location")], 4)
        on_enter(self.table, self._open)
        self.table.doubleClicked.connect(lambda _i: self._open())
        layout.addWidget(self.table, 1)
        hint = QLabel(self.tr("Enter opens the order; Escape closes this list."))
        hint.setObjectName("muted")
        layout.addWidget(hint)
        self._load()
        if parent is not None:
            self.finished.connect(lambda _r: parent.window().activateWindow())

    def _load(self) -> None:
        ids = self.parts[max(0, self.which.currentIndex())][1]

        def job(session):
            return reports.orders_behind(session, ids)

        self.tasks.read(job, self._show, owner=self, latest="ordersBehind")

    def _show(self, refs) -> None:
        self.order_ids = [r.id for r in refs]
        fill_table(self.table, [[_item(r.number), _item(r.channel), _item(status_title(r.status)),
                                 _item(fmt.short_datetime(r.placed_at)), _item(r.customer), _item(r.location)] for r in refs],
                   self.order_ids)
        if refs:
            self.table.selectRow(0)
        if not self._shown_once:  # the first list takes the keyboard; a later choice of which orders leaves it be
            self._shown_once = True
            self.table.setFocus()

    def _open(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.order_ids):
            self.open_order.emit(self.order_ids[row])
            self.accept()


class ReportsScreen(NoScanScreen, QWidget):
    SHOWS = ("orders", "shipping", "fulfilment", "invoicing")  # read again after a write that changes these
    """The operations manager's dashboard."""

    scan_result = Signal(object, str)
    message = Signal(str)
    open_order = Signal(int)
    loaded = Signal()  # the figures on screen are for the dates and filters shown

    def __init__(self, tasks: Tasks, state: WindowState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("reportsScreen")
        self.tasks = tasks
        self.state = state
        self.tables: dict[str, Table] = {}
        self.dialog: OrdersBehind | None = None
        self.is_loading = False
        self._again = False  # asked to read again while a read was running
        self._choices_loaded = False

        today = utcnow().date()
        self.start = QDateEdit(QDate(*(today - timedelta(days=29)).timetuple()[:3]))
        self.end = QDateEdit(QDate(*today.timetuple()[:3]))
        for name, w in (("reportsFrom", self.start), ("reportsTo", self.end)):
            w.setObjectName(name)
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd")
            w.setMinimumWidth(130)
        self.filters: dict[str, QComboBox] = {}
        bar = QHBoxLayout()
        title = QLabel(self.tr("Reports"))
        title.setObjectName("screenTitle")
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(QLabel(self.tr("From")))
        bar.addWidget(self.start)
        bar.addWidget(QLabel(self.tr("to")))
        bar.addWidget(self.end)
        for key, everything in (("channel", self.tr("All channels")), ("location", self.tr("All locations")),
                                ("order_type", self.tr("All order types")), ("carrier", self.tr("All carriers"))):
            box = QComboBox()
            box.setObjectName(f"reportsFilter_{key}")
            box.addItem(everything, ALL)
            box.setProperty("everything", everything)
            self.filters[key] = box
            bar.addWidget(box)
        bar.addStretch(1)
        foot = QHBoxLayout()
        self.status = QLabel()
        self.status.setObjectName("reportsStatus")
        self.status.setWordWrap(True)
        foot.addWidget(self.status, 1)
        self.exports = {}
        for kind, text in (("csv", self.tr("Export CSV…")), ("xlsx", self.tr("Export XLSX…")), ("pdf", self.tr("Export PDF…"))):
            b = QPushButton(text)
            b.setObjectName(f"reportsExport_{kind}")
            b.clicked.connect(lambda _c=False, kind=kind: self.export(kind))
            self.exports[kind] = b
            foot.addWidget(b)

        self.tiles: dict[str, TileButton] = {}
        grid = QGridLayout()
        grid.setSpacing(8)
        for i, tile in enumerate(TILES):
            b = TileButton()
            b.setObjectName(f"tile_{tile.key}")
            b.setProperty("tile", "true")
            b.setToolTip(self.tr("Enter: the orders behind this figure"))
            b.clicked.connect(lambda _c=False, tile=tile: self.open_tile(tile))
            self.tiles[tile.key] = b
            grid.addWidget(b, 0, i)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("reportsTabs")
        self.pages: dict[str, ReportPage] = {}
        for key, title_text in tables.REPORTS.items():
            page = ReportPage(key)
            page.drill.connect(self.drill)
            self.pages[key] = page
            self.tabs.addTab(page, title_text)
        self.o2c = OrderToCashPage()
        self.o2c.open_order.connect(self.open_order)
        self.tabs.addTab(self.o2c, self.tr("Order to cash"))
        self.tabs.currentChanged.connect(lambda _i: self.state.set_value("reports/tab", self.current_report()))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(bar)
        layout.addLayout(grid)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(foot)
        saved = self.state.value("reports/tab", "")
        if saved in self.pages:
            self.tabs.setCurrentWidget(self.pages[saved])
        elif saved == self.o2c.report:
            self.tabs.setCurrentWidget(self.o2c)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.refresh)
        for w in (self.start, self.end):
            w.dateChanged.connect(lambda _d: self._timer.start())
        for box in self.filters.values():
            box.currentIndexChanged.connect(lambda _i: self._timer.start())

    # -- what the main window asks ------------------------------------------------------------------

    def focus_search(self) -> None:
        self.start.setFocus()
        if not self.tables and not self.is_loading:
            self.refresh()

    def save_state(self) -> None:
        self.state.set_value("reports/tab", self.current_report())

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()

    def current_report(self) -> str:
        """The measure in front (the tab kept for next time); the order-to-cash tab is ``o2c``."""
        page = self.tabs.currentWidget()
        return page.report if isinstance(page, (ReportPage, OrderToCashPage)) else "fill-rate"

    # -- reading --------------------------------------------------------------------------------------

    def period(self) -> reports.Period:
        a, b = self.start.date(), self.end.date()
        return reports.Period(date(a.year(), a.month(), a.day()), date(b.year(), b.month(), b.day()))

    def chosen_filters(self) -> reports.Filters:
        return reports.Filters(**{k: (box.currentData() or None) for k, box in self.filters.items()})

    def refresh(self) -> None:
        if self.is_loading:  # writes in a burst (a wave packed box by box): one more read once this one is in
            self._again = True
            return
        try:
            period = self.period()
        except InvalidInput as exc:
            self.status.setText(str(exc))
            return
        filters = self.chosen_filters()
        want_choices = not self._choices_loaded

        def job(session):
            built = {name: tables.build(session, name, period, filters) for name in tables.REPORTS}
            return built, (reports.choices(session) if want_choices else None), reports.order_to_cash(session)

        self.is_loading = True
        self.status.setText(self.tr("Reading the figures…"))
        self.tasks.read(job, self._show, self._failed, owner=self, latest="reports")

    def _failed(self, text: str) -> None:
        self.is_loading = False
        self._again = False
        self.status.setText(text)
        self.message.emit(text)

    def _show(self, result) -> None:
        built, choices, o2c = result
        self.is_loading = False
        if self._again:
            self._again = False
            self.refresh()
            return
        if choices is not None:
            self._choices_loaded = True
            for key, values in choices.items():
                box = self.filters[key]
                box.blockSignals(True)
                for v in values:
                    box.addItem(v, v)
                box.blockSignals(False)
        self.tables = built
        for key, page in self.pages.items():
            page.show_table(built[key])
        self.o2c.show_view(o2c)
        for tile in TILES:
            now, before, _row = figure(built[tile.report], tile)
            text = f"{now}\n{self.tr(tile.caption)}"
            if tile.previous is not None:
                text += "\n" + self.tr("before: {value}").format(value=before)
            self.tiles[tile.key].setText(text)
        p = self.period()
        self.status.setText(self.tr("{start} – {end}, compared with {pstart} – {pend}. Enter on a figure or a row opens "
                                    "the orders behind it.").format(start=p.start, end=p.end, pstart=p.previous().start,
                                                                    pend=p.previous().end))
        self.loaded.emit()

    # -- drill-down -----------------------------------------------------------------------------------

    def open_tile(self, tile: Tile) -> None:
        t = self.tables.get(tile.report)
        if t is None:
            return
        _now, _before, row = figure(t, tile)
        self.drill(t, row, self.tr(tile.caption))

    def drill(self, t: Table, row: int, caption: str | None = None) -> None:
        if row >= len(t.rows):
            return
        what = caption or str(t.rows[row][0])
        if t.report in ("backorders", "throughput", "productivity") and caption is None:
            what = " ".join(str(v) for v in t.rows[row][:2] if v)
        title = self.tr("{what}, {start} – {end}: the orders behind it").format(what=what, start=t.period.start, end=t.period.end)
        parts = [(self.tr("All orders counted"), t.orders[row])]
        if t.parts and t.parts[row]:
            parts += [(self.tr(name), ids) for name, ids in t.parts[row]]
        self.dialog = OrdersBehind(self, self.tasks, title, parts)
        self.dialog.open_order.connect(self.open_order)
        self.dialog.open()

    # -- export ---------------------------------------------------------------------------------------

    def export(self, kind: str) -> None:
        if not self.tables:
            return
        p = self.period()
        current = self.tables.get(self.current_report()) or self.tables["fill-rate"]
        name = f"{current.report if kind == 'csv' else 'reports'}-{p.start}-{p.end}.{kind}"
        path, _f = QFileDialog.getSaveFileName(self, self.tr("Export"), name, {"csv": "CSV (*.csv)", "xlsx": "Excel (*.xlsx)",
                                                                                "pdf": "PDF (*.pdf)"}[kind])
        if path:
            self.export_to(kind, path)

    def export_to(self, kind: str, path: str) -> None:
        """Write the current report (CSV) or every report (XLSX, PDF) to ``path``, off the GUI thread."""
        current, every = self.tables.get(self.current_report()) or self.tables["fill-rate"], list(self.tables.values())

        def job():
            if kind == "csv":
                with open(path, "w", newline="", encoding="utf-8") as f:
                    export.write_csv(current, f)
            elif kind == "xlsx":
                export.write_xlsx(every, path)
            else:
                export.write_pdf(every, path)
            return path

        self.tasks.background(job, lambda p: self.message.emit(self.tr("Saved {path}.").format(path=p)), self._failed,
                              owner=self)
