"""Waves: build a wave of ready orders with filters, follow the open waves, print or cancel them, start picking."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from desktop import formatting as fmt
from desktop.dialogs import ReasonDialog
from desktop.print_jobs import PrintOutcome, print_pdf
from desktop.qt import (
    QBuffer,
    QByteArray,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QIODevice,
    QLabel,
    QLineEdit,
    QPdfDocument,
    QPdfView,
    QPushButton,
    QSpinBox,
    QSplitter,
    Qt,
    QTableWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screen import NoScanScreen
from desktop.screens.picking_screen import wave_progress
from desktop.station import STATION_QSS, label
from desktop.tables import cell as _item, read_only_table
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import documents, fulfilment
from oms.core.audit import Actor
from oms.core.settings import Settings
from oms.fulfilment import floor_queries

KINDS = (("all", "All orders, a tote each"), ("single", "Single-unit orders, batch picked"),
         ("multi", "Multi-unit orders, a tote each"))


def _table(name: str, headers: list[str], stretch: int) -> QTableWidget:
    return read_only_table(name, headers, stretch, row_height=34, fit_contents=True)


class PdfPreview(QDialog):
    """A PDF shown page by page before it goes to the station's printer."""

    print_requested = Signal()

    def __init__(self, parent: QWidget | None, title: str, pdf: bytes, printer: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("pdfPreview")
        self.resize(900, 760)
        self._bytes = QByteArray(pdf)
        self._buffer = QBuffer(self._bytes, self)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(self)
        self.document.load(self._buffer)
        self.view = QPdfView(self)
        self.view.setObjectName("pdfView")
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        layout = QVBoxLayout(self)
        where = printer or self.tr("no printer chosen — it will wait under Failed prints")
        pages = self.document.pageCount()
        text = self.tr("1 page · prints on {printer}") if pages == 1 else self.tr("{pages} pages · prints on {printer}")
        layout.addWidget(QLabel(text.format(pages=pages, printer=where)))
        layout.addWidget(self.view, 1)
        buttons = QDialogButtonBox()
        self.print_button = buttons.addButton(self.tr("Print"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.print_button.setObjectName("primaryButton")
        self.print_button.setDefault(True)
        buttons.addButton(self.tr("Close"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._print)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if parent is not None:  # the keyboard and scanner go back to the station, with or without a window manager
            self.finished.connect(lambda _result: parent.window().activateWindow())

    def _print(self) -> None:
        self.print_requested.emit()
        self.accept()


class WavesScreen(NoScanScreen, QWidget):
    SHOWS = ("fulfilment",)  # read again after a write that changes these
    """Deshawn's start of the shift: build the wave for the cut-off, print its pick list, then pick it."""

    scan_result = Signal(object, str)
    message = Signal(str)
    changed = Signal()
    pick_requested = Signal(int)  # wave id
    built = Signal(object)  # WaveResult

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("wavesScreen")
        self.setStyleSheet(STATION_QSS)
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self.settings = settings
        self.waves: list[floor_queries.WaveSummary] = []
        self.pick_list: fulfilment.PickListData | None = None
        self.preview: PdfPreview | None = None
        self.last_print: PrintOutcome | None = None
        self.ready: int | None = None  # orders Build wave would take before its size limit, as last counted

        # -- building
        form_frame = QFrame()
        form_frame.setObjectName("card")
        form_box = QVBoxLayout(form_frame)
        form_box.setContentsMargins(16, 12, 16, 14)
        form_box.addWidget(label(self.tr("Build a wave"), "stationHead"))
        form = QFormLayout()
        form.setVerticalSpacing(8)
        self.location = QComboBox()
        self.location.setObjectName("waveLocation")
        self.channel = QComboBox()
        self.channel.setObjectName("waveChannel")
        self.order_type = QComboBox()
        self.order_type.setObjectName("waveOrderType")
        self.kind = QComboBox()
        self.kind.setObjectName("waveKind")
        for key, text in KINDS:
            self.kind.addItem(self.tr(text), key)
        self.use_cutoff = QCheckBox(self.tr("Only orders to ship by:"))
        self.use_cutoff.setObjectName("waveUseCutoff")
        self.cutoff = QDateTimeEdit()
        self.cutoff.setObjectName("waveCutoff")
        self.cutoff.setCalendarPopup(True)
        self.cutoff.setDisplayFormat("ddd d MMM yyyy HH:mm")
        self.cutoff.setDateTime(datetime.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=3))
        self.cutoff.setEnabled(False)
        cut_row = QVBoxLayout()
        cut_row.setSpacing(4)
        cut_row.addWidget(self.use_cutoff)
        cut_row.addWidget(self.cutoff)
        self.size = QSpinBox()
        self.size.setObjectName("waveSize")
        self.size.setRange(1, 500)
        self.size.setValue(40)
        self.size.setSuffix(self.tr(" orders at most"))
        self.name = QLineEdit()
        self.name.setObjectName("waveName")
        self.name.setPlaceholderText(self.tr("optional, e.g. 10:00 UPS"))
        form.addRow(self.tr("Location"), self.location)
        form.addRow(self.tr("Channel"), self.channel)
        form.addRow(self.tr("Order type"), self.order_type)
        form.addRow(self.tr("Orders"), self.kind)
        form.addRow(self.tr("Carrier cut-off"), cut_row)
        form.addRow(self.tr("Size"), self.size)
        form.addRow(self.tr("Name"), self.name)
        form_box.addLayout(form)
        self.ready_label = label("", "hint", wrap=True)
        form_box.addWidget(self.ready_label)
        self.build_button = QPushButton(self.tr("Build wave"))
        self.build_button.setObjectName("primaryButton")
        form_box.addWidget(self.build_button)
        form_box.addStretch(1)
        form_frame.setMaximumWidth(460)

        # -- open waves and the chosen one's pick list
        self.table = _table("wavesTable", [self.tr("Wave"), self.tr("Loc."), self.tr("Kind"), self.tr("Orders"),
                                           self.tr("Progress"), self.tr("Created"), self.tr("Cut-off")], 0)
        self.pick_button = QPushButton(self.tr("Pick this wave"))
        self.pick_button.setObjectName("primaryButton")
        self.print_button = QPushButton(self.tr("Print pick list…"))
        self.cancel_button = QPushButton(self.tr("Cancel wave…"))
        self.cancel_button.setProperty("danger", "true")
        buttons = QHBoxLayout()
        buttons.addWidget(label(self.tr("Open waves"), "sectionTitle"))
        buttons.addStretch(1)
        for b in (self.pick_button, self.print_button, self.cancel_button):
            buttons.addWidget(b)
        self.list_title = label(self.tr("Pick list"), "sectionTitle")
        self.list_table = _table("pickListTable", [self.tr("Bin"), self.tr("SKU"), self.tr("Item"), self.tr("Qty"),
                                                   self.tr("Tote"), self.tr("Orders")], 2)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.table, 1)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.list_title)
        bottom_layout.addWidget(self.list_table, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("wavesSplitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setChildrenCollapsible(False)
        self.state.restore_splitter("waves", self.splitter)

        self.status = label("", "lookupMessage", wrap=True)
        right = QVBoxLayout()
        right.addWidget(self.splitter, 1)
        right.addWidget(self.status)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(16)
        layout.addWidget(form_frame)
        layout.addLayout(right, 1)

        self.use_cutoff.toggled.connect(self.cutoff.setEnabled)
        for combo in (self.location, self.channel, self.order_type, self.kind):
            combo.currentIndexChanged.connect(lambda _i: self._load_ready())
        self.use_cutoff.toggled.connect(lambda _on: self._load_ready())
        self.cutoff.dateTimeChanged.connect(lambda _when: self._load_ready())
        self.size.valueChanged.connect(lambda _n: self._show_ready(self.location.currentData(), self.ready)
                                       if self.ready is not None else None)
        self.build_button.clicked.connect(self.build)
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.doubleClicked.connect(lambda _ix: self.pick())
        self.pick_button.clicked.connect(self.pick)
        self.print_button.clicked.connect(lambda: self.print_pick_list(preview=True))
        self.cancel_button.clicked.connect(self.cancel_wave)
        self._update_buttons()
        self.tasks.read(floor_queries.wave_choices, self._choices_loaded, self.message.emit, owner=self)
        self.refresh()

    # -- the screen protocol -----------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not event.spontaneous():  # picking moves on elsewhere: the open waves' progress is read again on coming back
            self.refresh()

    def save_state(self) -> None:
        self.state.save_splitter("waves", self.splitter)

    def focus_search(self) -> None:
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def refresh(self) -> None:
        self.tasks.read(lambda s: floor_queries.waves(s), self._waves_loaded, self.message.emit, owner=self)
        self._load_ready()

    # -- loading -------------------------------------------------------------------------------------------

    def _choices_loaded(self, choices: floor_queries.WaveChoices) -> None:
        self.location.blockSignals(True)
        for code, name in choices.locations:
            self.location.addItem(f"{code} — {name}", code)
        self.location.blockSignals(False)
        self.channel.addItem(self.tr("Any channel"), "")
        for code, name in choices.channels:
            self.channel.addItem(f"{name} ({code})", code)
        self.order_type.addItem(self.tr("Any type"), "")
        for value, title in choices.order_types:
            self.order_type.addItem(title, value)
        self._load_ready()

    def _load_ready(self) -> None:
        """Count what Build wave would take with the filters as they stand (the domain's one definition)."""
        f = self.filters()
        code = f["location"]
        if not code:
            return
        chosen = fulfilment.WaveFilters(f["channel"], f["order_type"], f["single_unit"], f["cutoff_at"])
        self.tasks.read(lambda s: fulfilment.ready_for_wave(s, code, chosen), lambda n: self._show_ready(code, n),
                        self.message.emit, owner=self, latest="waves-ready")

    def _show_ready(self, code: str, n: int) -> None:
        self.ready = n
        size = self.size.value()
        if n == 0:
            text = self.tr("No orders at {loc} are ready to pick with these choices.")
        elif n == 1:
            text = self.tr("1 order at {loc} is ready to pick with these choices; the wave takes it.")
        elif n <= size:
            text = self.tr("{n} orders at {loc} are ready to pick with these choices; the wave takes all {n}.")
        else:
            text = self.tr("{n} orders at {loc} are ready to pick with these choices; the wave takes the {size} most "
                           "urgent.")
        self.ready_label.setText(text.format(n=n, loc=code, size=size))
        self.build_button.setEnabled(n > 0)
        self.changed.emit()

    def _waves_loaded(self, waves: list[floor_queries.WaveSummary]) -> None:
        current = self.selected_wave()
        self.waves = waves
        self.table.setRowCount(len(waves))
        for r, w in enumerate(waves):
            kind = self.tr("batch") if w.batch_pick else self.tr("totes")
            values = [w.name, w.location, kind, w.orders, wave_progress(w),
                      fmt.short_datetime(w.created_at), fmt.short_datetime(w.cutoff_at) if w.cutoff_at else "—"]
            for c, v in enumerate(values):
                self.table.setItem(r, c, _item(v, right=c in (3, 4), bold=c == 0))
        row = next((i for i, w in enumerate(waves) if current and w.id == current.id), 0 if waves else -1)
        if row >= 0:
            self.table.selectRow(row)
            self._selected()  # the same wave stays selected, but its pick list has moved on: read it again
        else:
            self.list_table.setRowCount(0)
            self.pick_list = None
        self._update_buttons()
        self.changed.emit()

    def selected_wave(self) -> floor_queries.WaveSummary | None:
        row = self.table.currentRow()
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if rows:
            row = rows[0].row()
        return self.waves[row] if 0 <= row < len(self.waves) else None

    def select_wave(self, wave_id: int) -> None:
        row = next((i for i, w in enumerate(self.waves) if w.id == wave_id), -1)
        if row >= 0:
            self.table.selectRow(row)

    def _selected(self) -> None:
        self._update_buttons()
        w = self.selected_wave()
        if w is None:
            return
        self.tasks.read(lambda s: fulfilment.pick_list(s, w.id), self._list_loaded, self.message.emit, owner=self,
                        latest="pick-list")

    def _list_loaded(self, data: fulfilment.PickListData) -> None:
        self.pick_list = data
        self.list_title.setText(self.tr("Pick list {name}: {orders} orders, {units} units still to pick").format(
            name=data.wave_name, orders=data.order_count, units=data.unit_count))
        self.list_table.setRowCount(len(data.tasks))
        for r, t in enumerate(data.tasks):
            totes = t.tote.split(", ")
            values = [t.bin_code or self.tr("no bin"), t.sku, t.description, t.quantity, self._few(totes),
                      self._few(list(t.order_numbers))]
            tips = ["", "", t.description, "", ", ".join(totes) if len(totes) > 2 else "",
                    ", ".join(t.order_numbers) if len(t.order_numbers) > 2 else ""]
            for c, v in enumerate(values):
                self.list_table.setItem(r, c, _item(v, right=c == 3, bold=c in (0, 3), tip=tips[c]))
        self.changed.emit()

    def _few(self, names: list[str]) -> str:
        """Two names, then how many more: a batch stop serves dozens of orders, and the item must stay readable."""
        if len(names) <= 2:
            return ", ".join(names)
        return self.tr("{first}, {second} and {n} more").format(first=names[0], second=names[1], n=len(names) - 2)

    def _update_buttons(self) -> None:
        has = self.selected_wave() is not None
        for b in (self.pick_button, self.print_button, self.cancel_button):
            b.setEnabled(has)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("error", "true" if error else "false")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.message.emit(text)

    # -- actions -------------------------------------------------------------------------------------------

    def filters(self) -> dict:
        kind = self.kind.currentData()
        deadline = None
        if self.use_cutoff.isChecked():
            deadline = self.cutoff.dateTime().toPython().astimezone().astimezone(timezone.utc)
        return {"location": self.location.currentData(), "channel": self.channel.currentData() or None,
                "order_type": self.order_type.currentData() or None,
                "single_unit": True if kind == "single" else False if kind == "multi" else None,
                "cutoff_at": deadline, "limit": self.size.value(), "name": self.name.text().strip()}

    def build(self) -> None:
        f = self.filters()
        if not f["location"]:
            self._say(self.tr("Choose the location the wave is picked in."), error=True)
            return
        location = f.pop("location")

        def job(session):
            return fulfilment.build_wave(session, self.actor, location, **f)

        def done(result: fulfilment.WaveResult) -> None:
            self.name.clear()
            self._say(self.tr("Wave built: {orders}, {units} in {tasks}.").format(
                orders=self.tr("1 order") if result.orders == 1 else self.tr("{n} orders").format(n=result.orders),
                units=self.tr("1 unit") if result.units == 1 else self.tr("{n} units").format(n=result.units),
                tasks=self.tr("1 pick") if result.tasks == 1 else self.tr("{n} picks").format(n=result.tasks)))
            self.built.emit(result)
            self.tasks.read(lambda s: floor_queries.waves(s), lambda ws: (self._waves_loaded(ws), self.select_wave(result.wave_id)),
                            self.message.emit, owner=self)
            self._load_ready()

        self.tasks.write(job, done, lambda m: self._say(m, error=True), owner=self)

    def pick(self) -> None:
        w = self.selected_wave()
        if w is not None:
            self.pick_requested.emit(w.id)

    def print_pick_list(self, *, preview: bool = True) -> None:
        w = self.selected_wave()
        if w is None:
            return
        paper = self.settings.paper_size
        title = self.tr("Pick list {name}").format(name=w.name)

        def made(pdf: bytes) -> None:
            if not preview:
                self._send(pdf, title)
                return
            self.preview = PdfPreview(self, title, pdf, self.settings.document_printer)
            self.preview.print_requested.connect(lambda: self._send(pdf, title))
            self.preview.open()

        self._say(self.tr("Making the pick list…"))
        self.tasks.read(lambda s: documents.pick_list(s, w.id, paper), made, lambda m: self._say(m, error=True), owner=self)

    def _send(self, pdf: bytes, title: str) -> None:
        def done(outcome: PrintOutcome) -> None:
            self.last_print = outcome
            self._say(outcome.summary(), error=not outcome.ok)
            self.changed.emit()

        print_pdf(self.tasks, pdf, self.settings.document_printer, title, media=self.settings.paper_size, done=done,
                  error=lambda m: self._say(m, error=True), owner=self)

    def cancel_wave(self, reason: str | None = None) -> None:
        w = self.selected_wave()
        if w is None:
            return
        if reason is None:
            dialog = ReasonDialog(self, self.tr("Cancel wave {name}").format(name=w.name),
                                  self.tr("Its orders go back to Ready to pick; units already picked stay picked."),
                                  self.tr("Cancel wave"), danger=True)
            if dialog.exec() != ReasonDialog.DialogCode.Accepted:
                return
            reason = dialog.reason()

        def done(_none) -> None:
            self._say(self.tr("Wave {name} cancelled.").format(name=w.name))
            self.refresh()

        self.tasks.write(lambda s: fulfilment.cancel_wave(s, self.actor, w.id, reason=reason), done,
                         lambda m: self._say(m, error=True), owner=self)
