"""Stock lookup: scan or type a SKU, barcode or part of a name; see stock per location, bins and the ledger."""

from __future__ import annotations

from desktop import formatting as fmt
from desktop.qt import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.tables import cell as _item, fill_table as _fill, on_enter, read_only_table as _table
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import desk
from oms.core.gs1 import Scan
from oms.desk.stock import StockDetail, StockLookup

MOVEMENT_TITLES = {"receipt": "Receipt", "ship": "Shipped", "adjust": "Adjustment", "transfer": "Transfer",
                   "return": "Return", "count": "Count"}


class _Figure(QFrame):
    """One big number with its caption: what a picker reads from across the bench."""

    def __init__(self, caption: str, name: str) -> None:
        super().__init__()
        self.setObjectName("figure")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 10)
        layout.setSpacing(0)
        self.value = QLabel("0")
        self.value.setObjectName(name)
        self.value.setProperty("figure", "true")
        label = QLabel(caption)
        label.setObjectName("figureCaption")
        layout.addWidget(self.value)
        layout.addWidget(label)


class StockLookupScreen(QWidget):
    SHOWS = ("inventory", "catalog")  # read again after a write that changes these
    """Answers "how many, where" for one product, by scan or by typing."""

    scan_result = Signal(object, str)  # ok (bool), message
    message = Signal(str)
    shown = Signal()  # a lookup's answer is on screen (tests and the bench wait for it)

    def __init__(self, tasks: Tasks, state: WindowState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("stockLookup")
        self.tasks = tasks
        self.state = state
        self.result: StockLookup | None = None

        self.search = QLineEdit()
        self.search.setObjectName("stockSearch")
        self.search.setPlaceholderText(self.tr("Scan a barcode, or type a SKU or part of a product name, then Enter"))
        self.search.setClearButtonEnabled(True)
        self.lookup_button = QPushButton(self.tr("Look up"))
        self.lookup_button.setObjectName("primaryButton")
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.search, 1)
        top.addWidget(self.lookup_button)

        # -- three states: nothing yet / choose a product / one product
        self.stack = QStackedWidget()
        self.empty = QLabel(self.tr("Scan a product, bin label or GS1 carton label, or type what you are looking for."))
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)

        self.candidates = _table("candidatesTable", [self.tr("SKU"), self.tr("Product"), self.tr("On hand"), self.tr("Available")], 1)
        choose = QWidget()
        choose_layout = QVBoxLayout(choose)
        choose_layout.setContentsMargins(0, 0, 0, 0)
        self.choose_label = QLabel()
        self.choose_label.setObjectName("sectionTitle")
        choose_layout.addWidget(self.choose_label)
        choose_layout.addWidget(self.candidates, 1)

        detail = QWidget()
        self.sku_label = QLabel()
        self.sku_label.setObjectName("skuTitle")
        self.sku_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name_label = QLabel()
        self.name_label.setObjectName("productName")
        self.name_label.setWordWrap(True)
        self.barcodes_label = QLabel()
        self.barcodes_label.setObjectName("hint")
        self.barcodes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.on_hand = _Figure(self.tr("On hand"), "onHandFigure")
        self.available = _Figure(self.tr("Available"), "availableFigure")
        self.allocated = _Figure(self.tr("Allocated to orders"), "allocatedFigure")
        self.backordered = _Figure(self.tr("Waited for by orders"), "backorderedFigure")
        figures = QHBoxLayout()
        figures.setSpacing(12)
        for f in (self.on_hand, self.available, self.allocated, self.backordered):
            figures.addWidget(f)
        figures.addStretch(1)
        names = QVBoxLayout()
        names.setSpacing(2)
        names.addWidget(self.sku_label)
        names.addWidget(self.name_label)
        names.addWidget(self.barcodes_label)
        head = QHBoxLayout()
        head.addLayout(names, 1)
        head.addLayout(figures)

        self.levels = _table("levelsTable", [self.tr("Location"), self.tr("Name"), self.tr("On hand"), self.tr("Allocated"),
                                             self.tr("Available")], 1)
        self.bins = _table("binsTable", [self.tr("Location"), self.tr("Bin"), self.tr("On hand")], 1)
        self.movements = _table("movementsTable", [self.tr("When"), self.tr("Location"), self.tr("Bin"), self.tr("Movement"),
                                                   self.tr("Qty"), self.tr("Reference"), self.tr("Who")], 5)

        def titled(title: str, widget: QWidget) -> QWidget:
            w = QWidget()
            box = QVBoxLayout(w)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(6)
            label = QLabel(title)
            label.setObjectName("sectionTitle")
            box.addWidget(label)
            box.addWidget(widget, 1)
            return w

        left = QSplitter(Qt.Orientation.Vertical)
        left.setObjectName("stockLeftSplitter")
        left.addWidget(titled(self.tr("By location"), self.levels))
        left.addWidget(titled(self.tr("Bins"), self.bins))
        left.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("stockSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(titled(self.tr("Last movements"), self.movements))
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.left_splitter = left
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.setSpacing(14)
        detail_layout.addLayout(head)
        detail_layout.addWidget(self.splitter, 1)

        self.stack.addWidget(self.empty)
        self.stack.addWidget(choose)
        self.stack.addWidget(detail)
        self.detail_page = detail
        self.choose_page = choose

        self.message_label = QLabel()
        self.message_label.setObjectName("lookupMessage")
        self.message_label.setWordWrap(True)
        self.message_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.message_label)
        layout.addWidget(self.stack, 1)

        self.state.restore_splitter("stock", self.splitter)
        self.state.restore_splitter("stockLeft", self.left_splitter)
        self.search.returnPressed.connect(self.look_up)
        self.lookup_button.clicked.connect(self.look_up)
        self.candidates.doubleClicked.connect(lambda ix: self._choose(ix.row()))
        on_enter(self.candidates, lambda: self._choose(self.candidates.currentRow()))
        self.setTabOrder(self.search, self.lookup_button)
        self.setTabOrder(self.lookup_button, self.candidates)

    def save_state(self) -> None:
        self.state.save_splitter("stock", self.splitter)
        self.state.save_splitter("stockLeft", self.left_splitter)

    # -- looking up --------------------------------------------------------------------------------

    def look_up(self, *, gtin: str | None = None, from_scan: bool = False) -> None:
        text = self.search.text().strip()
        if not text and not gtin:
            return
        def job(session):
            return desk.stock_lookup(session, text, gtin=gtin)

        def done(result: StockLookup) -> None:
            self._show(result)
            if from_scan:
                if result.product is not None:
                    self.scan_result.emit(True, "")
                else:
                    self.scan_result.emit(False, result.message or self.tr("{n} products match; choose one").format(
                        n=len(result.candidates)))

        def failed(message: str) -> None:
            self._set_message(message, error=True)
            if from_scan:
                self.scan_result.emit(False, message)

        self.tasks.read(job, done, failed, owner=self, latest="lookup")

    def _choose(self, row: int) -> None:
        if self.result is None or not (0 <= row < len(self.result.candidates)):
            return
        pid = self.result.candidates[row].id
        query = self.result.query

        def job(session):
            return StockLookup(query, product=desk.stock_detail(session, pid))

        self.tasks.read(job, self._show, lambda m: self._set_message(m, error=True), owner=self)

    def _set_message(self, text: str, *, error: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setProperty("error", "true" if error else "false")
        self.message_label.style().unpolish(self.message_label)
        self.message_label.style().polish(self.message_label)
        self.message_label.setVisible(bool(text))

    def _show(self, result: StockLookup) -> None:
        self.result = result
        if result.product is not None:
            self._set_message("")
            self._show_product(result.product)
            self.stack.setCurrentWidget(self.detail_page)
        elif result.candidates:
            self._set_message("")
            self.choose_label.setText(self.tr("{n} products match “{query}” — pick one (↑↓ and Enter)").format(
                n=len(result.candidates), query=result.query))
            _fill(self.candidates, [[_item(v, right=col >= 2, bold=col == 0)
                                     for col, v in enumerate([c.sku, c.name, c.on_hand, c.available])]
                                    for c in result.candidates])
            self.candidates.selectRow(0)
            self.stack.setCurrentWidget(self.choose_page)
        else:
            self._set_message(result.message, error=True)
            self.stack.setCurrentWidget(self.empty)
        self.shown.emit()

    def _show_product(self, p: StockDetail) -> None:
        self.sku_label.setText(p.sku)
        self.name_label.setText(p.name if p.active else self.tr("{name} (inactive)").format(name=p.name))
        self.barcodes_label.setText(self.tr("Barcodes: {codes}").format(codes=", ".join(p.barcodes)) if p.barcodes
                                    else self.tr("No barcodes"))
        allocated = sum(l.allocated for l in p.levels)
        self.on_hand.value.setText(f"{p.on_hand:,}")
        self.available.value.setText(f"{p.available:,}")
        self.allocated.value.setText(f"{allocated:,}")
        self.backordered.value.setText(f"{p.backordered:,}")
        self.available.value.setProperty("warn", "true" if p.available <= 0 else "false")
        self.backordered.value.setProperty("warn", "true" if p.backordered > 0 else "false")
        for label in (self.available.value, self.backordered.value):
            label.style().unpolish(label)
            label.style().polish(label)
        _fill(self.levels, [
            [_item(v, right=c >= 2, bold=c in (0, 4), color=fmt.MUTED_COLOR if c >= 2 and v == 0 else None)
             for c, v in enumerate([l.location_code, l.location_name, l.on_hand, l.allocated, l.available])]
            for l in p.levels])
        _fill(self.bins, [[_item(v, right=c == 2, bold=c == 1) for c, v in enumerate([b.location, b.bin, b.on_hand])]
                          for b in p.bins])
        rows = []
        for m in p.movements:
            reference = " · ".join(x for x in (m.reference, m.reason) if x)
            values = [fmt.short_datetime(m.at), m.location, m.bin or "—", self.tr(MOVEMENT_TITLES.get(m.kind, m.kind)),
                      f"{m.quantity:+,}", reference, m.who]
            rows.append([_item(v, right=c == 4, color=(fmt.OK_COLOR if m.quantity > 0 else fmt.LATE_COLOR) if c == 4 else None)
                         for c, v in enumerate(values)])
        _fill(self.movements, rows)

    # -- keyboard and scanner ----------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def refresh(self) -> None:
        if self.result is not None and self.result.product is not None:
            pid, query = self.result.product.id, self.result.query
            self.tasks.read(lambda s: StockLookup(query, product=desk.stock_detail(s, pid)), self._show,
                            lambda m: self._set_message(m, error=True), owner=self)
        elif self.search.text().strip():
            self.look_up()

    def go_back(self) -> bool:
        if self.search.text() or self.result is not None:
            self.search.clear()
            self.result = None
            self._set_message("")
            self.stack.setCurrentWidget(self.empty)
            self.search.setFocus()
            return True
        return False

    def accepts_scan(self, scan: Scan) -> bool:
        return scan.kind in ("gtin", "text") or (scan.kind == "gs1" and scan.gtin is not None)

    def handle_scan(self, scan: Scan) -> None:
        self.search.setText(scan.value)
        self.look_up(gtin=scan.gtin, from_scan=True)
