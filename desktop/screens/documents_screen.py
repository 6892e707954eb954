"""The Documents screen: every EDI document in and out, filtered and searched in the database, one shown in full beside the list."""

from __future__ import annotations

from pathlib import Path

from desktop import formatting as fmt
from desktop.paged_model import (
    DISPLAY_ROLE,
    FONT_ROLE,
    FOREGROUND_ROLE,
    TOOLTIP_ROLE,
    PagedTableModel,
)
from desktop.qt import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFont,
    QHBoxLayout,
    QItemSelectionModel,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screen import NoScanScreen
from desktop.screens.edi_document_view import STATUS_COLORS, DocumentPane, direction_text
from desktop.tables import on_enter, record_view
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms.partners import edi_queries
from oms.partners.edi_queries import DocumentDetail, DocumentFilter, DocumentRow
from sync.channels.edi_x12.pretty import reference

PAGE_SIZE = 100
MAX_PAGES = 20
POLL_MS = 5000
DOC_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
# GS01 -> the document it groups
FUNCTIONAL_TYPES = {"PO": "850", "PC": "860", "PR": "855", "SH": "856", "IN": "810", "FA": "997",
                    "OW": "940", "SW": "945", "AR": "943", "RE": "944", "IB": "846", "AW": "947"}

COLUMNS = ("time", "partner", "type", "reference", "status", "controls", "problem")
COLUMN_WIDTHS = (92, 78, 144, 140, 124, 124, 240)
# Status chips: what needs a person first, then the normal flow.
CHIP_ORDER = ("rejected", "unacknowledged", "quarantined", "duplicate", "queued", "sent", "acknowledged", "accepted",
              "received")


class DocumentsModel(PagedTableModel):
    """Document rows, read page by page on the database worker as the view needs them; newest first."""

    def __init__(self, tasks: Tasks, parent=None) -> None:
        super().__init__(tasks, len(COLUMNS), page_size=PAGE_SIZE, max_pages=MAX_PAGES, parent=parent)
        self._filter = DocumentFilter()
        self._references: dict[int, str] = {}
        self._titles = [self.tr("Time"), self.tr("Partner"), self.tr("Document"), self.tr("PO / reference"),
                        self.tr("Status"), self.tr("Control numbers"), self.tr("Problem")]

    @property
    def query_filter(self) -> DocumentFilter:
        return self._filter

    def set_query(self, f: DocumentFilter) -> None:
        """Read the count and first page of a filter; the old rows stay until the new ones arrive. The same filter
        again (a refresh) reads the pages in view too, so a person reading far down the list stays there."""
        pages = sorted({0, *self._pages}) if f == self._filter else [0]
        self._filter = f
        size = self._page_size

        def job(session):
            total = edi_queries.count(session, f)
            return total, {p: edi_queries.page(session, f, p * size, size) for p in pages if p * size < max(total, 1)}, None

        self._load(job)

    def refresh(self) -> None:
        self.set_query(self._filter)

    def _rows_reset(self, _extra) -> None:
        self._references.clear()

    def _page_job(self, page: int):
        f, size = self._filter, self._page_size
        return lambda session: edi_queries.page(session, f, page * size, size)

    def row_of(self, doc_id: int) -> int | None:
        for p, rows in self._pages.items():
            for i, r in enumerate(rows):
                if r.id == doc_id:
                    return p * self._page_size + i
        return None

    # -- Qt model ------------------------------------------------------------------------------

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 (Qt override)
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._titles[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            key = COLUMNS[section]
            if key == "controls":
                return self.tr("Interchange, group and transaction control numbers: what the partner's EDI team asks for")
            if key == "partner":
                return self.tr("↓ came in from the partner, ↑ went out to the partner")
            if key == "reference":
                return self.tr("The purchase order, shipment or invoice number in the document, and its order when "
                               "that differs; for a 997, the group it acknowledges")
        return None

    def _cell(self, row: DocumentRow, column: int, role):
        key = COLUMNS[column]
        if role == DISPLAY_ROLE:
            return self._display(row, key)
        if role == DOC_ID_ROLE:
            return row.id
        if role == FOREGROUND_ROLE:
            if key == "status":
                return STATUS_COLORS.get(row.status)
            if key == "problem":
                return fmt.LATE_COLOR
            if key in ("time", "controls"):
                return fmt.MUTED_COLOR
            return None
        if role == FONT_ROLE and (key == "status" and row.status in edi_queries.PROBLEM_STATUSES or key == "reference"):
            font = QFont()
            font.setBold(True)
            return font
        if role == TOOLTIP_ROLE:
            if key == "problem" and row.error:
                return row.error
            if key == "time":
                return fmt.long_datetime(row.created_at)
            if key == "partner":
                return (self.tr("From {partner} to us") if row.direction == "in" else self.tr("From us to {partner}")).format(
                    partner=row.partner_code)
            if key == "controls":
                return self.tr("Interchange {isa}, group {gs}, transaction {st}").format(
                    isa=row.isa_control or "—", gs=row.gs_control or "—", st=row.st_control or "—")
            if key == "reference" and row.order_id is not None:
                return self.tr("Order {number}: Enter or a double-click opens it").format(number=row.order_number)
            return None
        return None

    def _display(self, row: DocumentRow, key: str) -> str:
        if key == "time":
            return fmt.short_datetime(row.created_at)
        if key == "partner":
            return direction_text(row.direction, row.partner_code)
        if key == "type":
            return edi_queries.type_title(row.doc_type)
        if key == "reference":
            ref = self._references.get(row.id)
            if ref is None:
                ref = self._references[row.id] = self._reference(row)
            return ref
        if key == "controls":
            isa = row.isa_control.lstrip("0") or row.isa_control
            return " / ".join(c or "—" for c in (isa, row.gs_control, row.st_control))
        if key == "status":
            return edi_queries.status_title(row.status)
        if key == "problem":
            return " ".join(row.error.split())
        return ""

    def _reference(self, row: DocumentRow) -> str:
        ref = reference(row.head, row.doc_type)
        if row.doc_type == "997" and ref:
            functional, group = (ref.split(" ", 1) + [""])[:2]
            kind = FUNCTIONAL_TYPES.get(functional, functional)
            return self.tr("for {kind} group {group}").format(kind=kind, group=group)
        if row.order_number and row.order_number != ref:
            return self.tr("{ref} · order {order}").format(ref=ref, order=row.order_number) if ref else row.order_number
        return ref


class StatusChips(QWidget):
    """One button per status with its count; "All" clears the choice."""

    chosen = Signal(object)  # a status, or None for all

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("statusChips")
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str | None, QPushButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for status in (None, *CHIP_ORDER):
            b = QPushButton()
            b.setObjectName("statusChip")
            b.setCheckable(True)
            b.setProperty("status", status or "all")
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            self.group.addButton(b)
            layout.addWidget(b)
            self.buttons[status] = b
            b.clicked.connect(lambda _c=False, s=status: self.chosen.emit(s))
        layout.addStretch(1)
        self.buttons[None].setChecked(True)
        self.set_counts({})

    def current(self) -> str | None:
        return next((s for s, b in self.buttons.items() if b.isChecked()), None)

    def select(self, status: str | None) -> None:
        self.buttons.get(status, self.buttons[None]).setChecked(True)
        self.set_counts(self._counts if hasattr(self, "_counts") else {})

    def set_counts(self, counts: dict[str, int]) -> None:
        self._counts = counts
        total = sum(counts.values())
        self.buttons[None].setText(self.tr("All {n}").format(n=f"{total:,}"))
        current = self.current()
        for status in CHIP_ORDER:
            b = self.buttons[status]
            n = counts.get(status, 0)
            b.setText(f"{edi_queries.status_title(status)} {n:,}")
            b.setVisible(n > 0 or status == current)  # a chip with nothing behind it is noise
            b.setProperty("attention", "true" if n and status in edi_queries.PROBLEM_STATUSES else "false")
            b.style().unpolish(b)
            b.style().polish(b)

    def count_text(self, status: str | None) -> str:
        return self.buttons[status].text()


class DocumentsScreen(NoScanScreen, QWidget):
    SHOWS = ("partners",)  # read again after a write that changes these
    """Every EDI document in and out: filters and search over the log, the chosen one laid out beside it."""

    open_order = Signal(int)
    scan_result = Signal(object, str)
    message = Signal(str)
    shown = Signal(int)  # a document's detail is on screen (tests wait for it)

    def __init__(self, tasks: Tasks, state: WindowState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("documentsScreen")
        self.tasks = tasks
        self.state = state
        self.model = DocumentsModel(tasks, self)
        self.partners: list[edi_queries.PartnerChoice] = []
        self._version = None
        self._restoring = True
        self._keep_selection: int | None = None

        title = QLabel(self.tr("Documents"))
        title.setObjectName("orderTitle")
        self.search = QLineEdit()
        self.search.setObjectName("documentSearch")
        self.search.setPlaceholderText(self.tr("PO, control number or file  (Ctrl+F)"))
        self.search.setToolTip(self.tr("Finds documents by their order's PO number, an interchange or group control "
                                       "number, or the start of the file name"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(280)
        self.partner = QComboBox()
        self.partner.setObjectName("partnerFilter")
        self.partner.addItem(self.tr("All partners"), None)
        self.direction = QComboBox()
        self.direction.setObjectName("directionFilter")
        self.direction.addItem(self.tr("In and out"), None)
        self.direction.addItem(self.tr("↓ In: from partners"), "in")
        self.direction.addItem(self.tr("↑ Out: to partners"), "out")
        self.doc_type = QComboBox()
        self.doc_type.setObjectName("typeFilter")
        self.doc_type.addItem(self.tr("All documents"), None)
        for t in edi_queries.DOC_TYPES:
            self.doc_type.addItem(edi_queries.type_title(t), t)
        for combo in (self.partner, self.direction, self.doc_type):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.clear_button = QPushButton(self.tr("Clear filters"))
        self.clear_button.setObjectName("clearFilters")
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(title)
        top.addSpacing(8)
        top.addWidget(self.search, 3)
        top.addWidget(self.partner)
        top.addWidget(self.direction)
        top.addWidget(self.doc_type)
        top.addWidget(self.clear_button)

        self.chips = StatusChips()

        self.table = record_view("documentsTable", self.model)
        for col, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(col, width)

        self.empty = QLabel()
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setMargin(24)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.empty)

        self.pane = DocumentPane()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("documentsSplitter")
        self.splitter.addWidget(self.list_stack)
        self.splitter.addWidget(self.pane)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([590, 610])

        self.summary = QLabel()
        self.summary.setObjectName("queueSummary")
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary)
        bottom.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.chips)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)

        # -- behaviour
        self._search_timer = fmt.debounce_search(self.search, self.apply_filters, self)
        self.search.returnPressed.connect(self.apply_filters)
        for combo in (self.partner, self.direction, self.doc_type):
            combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.chips.chosen.connect(lambda _s: self.apply_filters())
        self.clear_button.clicked.connect(self.reset_filters)
        self.model.loaded.connect(self._after_load)
        self.model.failed.connect(self.message)
        self.table.selectionModel().currentRowChanged.connect(lambda current, _prev: self._show_row(current.row()))
        self.table.doubleClicked.connect(lambda _ix: self.open_selected())
        on_enter(self.table, self.open_selected)
        self.pane.open_order.connect(self.open_order)
        self.pane.save_requested.connect(self.save_as)
        self.pane.copied.connect(self.message)

        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)

        self.state.restore_splitter("documents", self.splitter)
        self._restore_filters()

    # -- the screen protocol ---------------------------------------------------------------------------

    def save_state(self) -> None:
        self.state.save_splitter("documents", self.splitter)
        self.state.set_value("documents/filters", self._saved_filters())

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def focus_list(self) -> None:
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def go_back(self) -> bool:
        if self.search.text():
            self.search.clear()
            self.apply_filters()
            return True
        return False

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()
        self._poll.start()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().hideEvent(event)
        self._poll.stop()

    # -- filters ----------------------------------------------------------------------------------------

    def _saved_filters(self) -> dict:
        return {"partner": self._partner_code(), "direction": self.direction.currentData(),
                "doc_type": self.doc_type.currentData(), "status": self.chips.current()}

    def _partner_code(self) -> str | None:
        pid = self.partner.currentData()
        return next((p.code for p in self.partners if p.id == pid), None)

    def _restore_filters(self) -> None:
        saved = self.state.value("documents/filters", {}) or {}
        self._restoring = True
        for combo, key in ((self.direction, "direction"), (self.doc_type, "doc_type")):
            combo.setCurrentIndex(max(0, combo.findData(saved.get(key))) if saved.get(key) else 0)
        self.chips.select(saved.get("status") if saved.get("status") in CHIP_ORDER else None)
        self._saved_partner = saved.get("partner")
        self._restoring = False

    def current_filter(self) -> DocumentFilter:
        return DocumentFilter(partner_id=self.partner.currentData(), direction=self.direction.currentData(),
                              doc_type=self.doc_type.currentData(), status=self.chips.current(),
                              search=self.search.text().strip())

    def is_filtered(self) -> bool:
        return self.current_filter() != DocumentFilter()

    def apply_filters(self) -> None:
        if self._restoring:
            return
        self._search_timer.stop()
        self._keep_selection = None
        self.model.set_query(self.current_filter())
        self.refresh_counts()
        self.state.set_value("documents/filters", self._saved_filters())

    def reset_filters(self) -> None:
        self._restoring = True
        for combo in (self.partner, self.direction, self.doc_type):
            combo.setCurrentIndex(0)
        self.chips.select(None)
        self.search.clear()
        self._restoring = False
        self.apply_filters()

    def refresh(self) -> None:
        """F5, showing the screen, or new documents: partners, counts and rows again; the selection stays."""
        self._keep_selection = self.selected_id()

        def job(session):
            return edi_queries.partner_choices(session)

        self.tasks.read(job, self._partners_loaded, self.message.emit, owner=self)

    def _partners_loaded(self, partners: list[edi_queries.PartnerChoice]) -> None:
        keep = self._partner_code() if self.partners else getattr(self, "_saved_partner", None)
        self.partners = partners
        self._restoring = True
        while self.partner.count() > 1:
            self.partner.removeItem(1)
        for p in partners:
            self.partner.addItem(f"{p.code} · {p.name}", p.id)
        index = next((i + 1 for i, p in enumerate(partners) if p.code == keep), 0)
        self.partner.setCurrentIndex(index)
        self._restoring = False
        keep_selection = self._keep_selection
        self.model.set_query(self.current_filter())
        self._keep_selection = keep_selection
        self.refresh_counts()

    def refresh_counts(self) -> None:
        f = self.current_filter()
        self.tasks.read(lambda s: edi_queries.status_counts(s, f), self.chips.set_counts, self.message.emit, owner=self,
                        latest="counts")

    def poll(self) -> None:
        """Notice documents that arrived or changed (sync runs beside this screen) cheaply."""
        if not self.isVisible():
            return

        def job(session):
            return edi_queries.version(session)

        def done(version) -> None:
            if self._version is not None and version != self._version:
                self.refresh()
            self._version = version

        self.tasks.read(job, done, lambda _m: None, owner=self)

    # -- list and detail ----------------------------------------------------------------------------------

    def _after_load(self) -> None:
        total = self.model.rowCount()
        if total == 0:
            self.empty.setText(self._empty_text())
            self.list_stack.setCurrentWidget(self.empty)
            self.pane.show_document(None)
        else:
            self.list_stack.setCurrentWidget(self.table)
            row = self.model.row_of(self._keep_selection) if self._keep_selection is not None else None
            self.select_row(row if row is not None else 0)
        self._keep_selection = None
        self.summary.setText(self.tr("{n} documents").format(n=f"{total:,}") if total != 1 else self.tr("1 document"))

    def _empty_text(self) -> str:
        if self.is_filtered():
            return self.tr("No documents match these filters.\nClear the filters or the search to see them all.")
        return self.tr("No EDI documents yet.\n\n"
                       "Purchase orders (850) from your trading partners appear here as they arrive in the partner's "
                       "folder or SFTP inbox, together with what Quayside sends back: acknowledgements (997, 855), "
                       "ship notices (856) and invoices (810).\n\n"
                       "Add a trading partner under Settings → Trading partners.")

    def select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.table.scrollTo(self.model.index(row, 0))

    def selected_id(self) -> int | None:
        row = self.model.row_at(self.table.currentIndex().row()) if self.table.currentIndex().isValid() else None
        return row.id if row is not None else None

    def select_document(self, doc_id: int) -> bool:
        row = self.model.row_of(doc_id)
        if row is None:
            return False
        self.select_row(row)
        return True

    def _show_row(self, row: int) -> None:
        r = self.model.row_at(row) if row >= 0 else None
        if r is None:
            return
        if self.pane.detail is not None and self.pane.detail.row.id == r.id and self.pane.detail.row.status == r.status:
            return
        def done(detail: DocumentDetail) -> None:
            self.pane.show_document(detail)
            self.shown.emit(detail.row.id)

        self.tasks.read(lambda s: edi_queries.document(s, r.id), done, self.message.emit, owner=self, latest="detail")

    def open_selected(self) -> None:
        r = self.model.row_at(self.table.currentIndex().row()) if self.table.currentIndex().isValid() else None
        if r is None:
            return
        if r.order_id is None:
            self.message.emit(self.tr("This {kind} is about no order.").format(kind=edi_queries.type_title(r.doc_type)))
            return
        self.open_order.emit(r.order_id)

    # -- save -----------------------------------------------------------------------------------------------

    def default_filename(self, detail: DocumentDetail) -> str:
        row = detail.row
        if row.filename and row.direction == "out":
            return row.filename
        isa = row.isa_control.lstrip("0") or row.isa_control
        stem = f"{row.partner_code}_{row.doc_type}_{isa}" + (f"_{row.st_control}" if row.direction == "in" else "")
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem) + ".x12"

    def save_as(self) -> None:
        detail = self.pane.detail
        if detail is None:
            return
        folder = self.state.value("documents/save_dir") or str(Path.home())
        path, _filter = QFileDialog.getSaveFileName(self, self.tr("Save the document as"),
                                                    str(Path(folder) / self.default_filename(detail)),
                                                    self.tr("X12 files (*.x12 *.edi *.txt);;All files (*)"))
        if path:
            self.state.set_value("documents/save_dir", str(Path(path).parent))
            self.save_to(path)

    def save_to(self, path: str) -> None:
        """Write the document's text as it was sent or received, off the GUI thread."""
        detail = self.pane.detail
        if detail is None:
            return
        raw = detail.raw
        target = Path(path)

        def write() -> str:
            target.write_text(raw, encoding="utf-8", newline="")
            return str(target)

        def failed(text: str) -> None:
            self.message.emit(self.tr("The file could not be saved: {error}").format(error=text))

        self.tasks.background(write, lambda p: self.message.emit(self.tr("Saved {path}").format(path=p)), failed, owner=self)
