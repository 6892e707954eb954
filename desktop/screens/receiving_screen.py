"""Receiving: a delivery counted in against its purchase order by scanner, and put away bin by bin.

Scan the PO (its barcode is on the purchase order that came with the goods), then each item: a second scan of an
item adds to its line. A supplier's carton label (its SSCC, from their ship notice) receives the whole carton at
once. A number typed before a scan counts that many; F9 (or a DAMAGED scan) sends the next scans to quarantine.
After an item, the screen says where it goes; scanning that bin puts the units away. F12 finishes the receipt. F6
prints a product label for every good unit received, F7 the cartons' labels. Every refusal (an item not on the PO,
more than the tolerance allows, the wrong bin) is said in words and flashes red; nothing half-done is written."""

from __future__ import annotations

from desktop import formatting as fmt
from desktop.print_jobs import PrintOutcome, print_receiving_labels
from desktop.qt import (
    QHBoxLayout,
    QIntValidator,
    QKeySequence,
    QLineEdit,
    QPushButton,
    QShortcut,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.station import STATION_QSS, ScanStatus, label, repolish
from desktop.tables import cell, fill_table, read_only_table
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import inventory, purchasing
from oms.core.audit import Actor
from oms.core.errors import NotFound
from oms.core.gs1 import Scan

COMMAND_DAMAGED = "DAMAGED"
DAMAGED_KEY = Qt.Key.Key_F9
FINISH_KEY = Qt.Key.Key_F12
PRODUCT_LABELS_KEY = Qt.Key.Key_F6
CARTON_LABELS_KEY = Qt.Key.Key_F7


def scan_code(scan: Scan) -> str:
    """The scanned code as printed under the bars (an EAN-13 as its 13 digits, not the 14-digit GTIN)."""
    raw = scan.raw.strip()
    if scan.kind == "gtin" and raw.isdigit():
        return raw
    return scan.value.strip()


def is_po_number(code: str) -> bool:
    text = code.strip().upper()
    return text.startswith(purchasing.PO_PREFIX) and text[len(purchasing.PO_PREFIX):].isdigit()


def _waiting(detail: purchasing.PoDetail) -> list[purchasing.ReceiptLineView]:
    return [r for r in detail.receipt_lines if r.good > r.put_away]


class ReceivingScreen(QWidget):
    """The receiving station: the PO's lines with what has come, the last scan's answer, and where to put it."""

    SHOWS = ("purchasing",)  # read again after a write that changes these
    scan_result = Signal(object, str)  # ok (bool), message
    message = Signal(str)
    changed = Signal()  # the screen shows the outcome of a scan or action (tests wait for it)
    printed = Signal(object)  # a PrintOutcome

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("receivingScreen")
        self.setStyleSheet(STATION_QSS)
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self.receipt_id: int | None = None
        self.detail: purchasing.PoDetail | None = None
        self.damaged = False
        self.suggestion: purchasing.PutawaySuggestion | None = None

        self.po_edit = QLineEdit()
        self.po_edit.setObjectName("poEdit")
        self.po_edit.setPlaceholderText(self.tr("PO number"))
        self.po_edit.setMaximumWidth(220)
        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(label(self.tr("Purchase order"), "stationHead"))
        top.addWidget(self.po_edit)
        self.po_label = label("", "stationHint", wrap=True)
        top.addWidget(self.po_label, 1)

        self.step = label("", "stepLabel", wrap=True)
        self.lines = read_only_table("receiveLines", [self.tr("SKU"), self.tr("Description"), self.tr("Ordered"),
                                                      self.tr("Received"), self.tr("Damaged"), self.tr("Expected")], 1,
                                     row_height=36)
        self.lines.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

        self.qty_edit = QLineEdit()
        self.qty_edit.setObjectName("bigEdit")
        self.qty_edit.setValidator(QIntValidator(1, 99999, self))
        self.qty_edit.setMaximumWidth(140)
        self.qty_edit.setPlaceholderText("1")
        self.damaged_button = QPushButton(self.tr("Damaged (F9)"))
        self.damaged_button.setObjectName("damagedButton")
        self.damaged_button.setCheckable(True)
        self.damaged_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.finish_button = QPushButton(self.tr("Finish receipt (F12)"))
        self.finish_button.setObjectName("finishReceipt")
        self.finish_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        qty_row = QHBoxLayout()
        qty_row.addWidget(label(self.tr("Quantity"), "stationHead"))
        qty_row.addWidget(self.qty_edit)
        qty_row.addWidget(label(self.tr("Type a number before scanning an item to count several at once."),
                                "keysHint", wrap=True), 1)
        qty_row.addWidget(self.damaged_button)
        qty_row.addWidget(self.finish_button)

        self.putaway_label = label("", "routeResult", wrap=True)
        self.putaway_label.hide()
        self.print_label = label(self.tr("F6: product labels for what is received   ·   F7: the cartons' labels"),
                                 "keysHint", wrap=True)
        self.last_print: PrintOutcome | None = None
        self.status = ScanStatus(self.tr("Scan the PO on the delivery's paperwork, or type its number."))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.step)
        layout.addWidget(self.lines, 1)
        layout.addLayout(qty_row)
        layout.addWidget(self.putaway_label)
        layout.addWidget(self.print_label)
        layout.addWidget(self.status)

        self.po_edit.returnPressed.connect(lambda: self.open_po(self.po_edit.text()))
        self.damaged_button.toggled.connect(self._set_damaged)
        self.finish_button.clicked.connect(lambda: self.finish())
        for key, action in ((DAMAGED_KEY, lambda: self.damaged_button.toggle()), (FINISH_KEY, lambda: self.finish()),
                            (PRODUCT_LABELS_KEY, lambda: self.print_labels("products")),
                            (CARTON_LABELS_KEY, lambda: self.print_labels("cartons"))):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(action)
        self._show()

    # -- the screen protocol ----------------------------------------------------------------------------

    def save_state(self) -> None:
        pass  # a receipt is taken up again by scanning its PO

    def focus_search(self) -> None:
        (self.qty_edit if self.receipt_id else self.po_edit).setFocus(Qt.FocusReason.ShortcutFocusReason)

    def refresh(self) -> None:
        if self.detail is not None:
            number = self.detail.number
            self.tasks.read(lambda s: purchasing.po_detail(s, number), self._loaded, self.message.emit, owner=self,
                            latest="po")

    def go_back(self) -> bool:
        if self.qty_edit.text():
            self.qty_edit.clear()
            return True
        if self.damaged:
            self.damaged_button.setChecked(False)
            return True
        return False

    def accepts_scan(self, scan: Scan) -> bool:
        return scan.kind in ("text", "gtin", "gs1", "sscc")

    # -- showing ----------------------------------------------------------------------------------------

    def _loaded(self, detail: purchasing.PoDetail) -> None:
        self.detail = detail
        self._show()
        self.changed.emit()

    def _show(self) -> None:
        d = self.detail
        if d is None:
            self.po_label.setText("")
            self.lines.setRowCount(0)
            self._set_step(self.tr("1 · Scan the PO"), "bin")
            self.finish_button.setEnabled(False)
            return
        self.po_label.setText(self.tr("{number} · {supplier} · to {location} · {status}").format(
            number=d.number, supplier=d.supplier_name, location=d.location_code, status=d.status_title))
        rows = []
        for l in d.lines:
            complete = l.received >= l.quantity
            rows.append([cell(l.sku, bold=True), cell(l.description), cell(l.quantity, right=True),
                         cell(l.received, right=True, bold=complete, color=fmt.OK_COLOR if complete else None),
                         cell(l.damaged or "·", right=True, muted=not l.damaged,
                              color=fmt.LATE_COLOR if l.damaged else None),
                         cell(l.expected_date.isoformat(), right=True)])
        fill_table(self.lines, rows, [l.id for l in d.lines])
        self.finish_button.setEnabled(self.receipt_id is not None)
        if self.suggestion is not None and self.suggestion.quantity > 0:
            where = self.suggestion.bin_code or self.tr("any bin")
            self.putaway_label.setText(self.tr("Put away {sku} ×{qty} in {bin} ({why}): scan the bin when they are there.").format(
                sku=self.suggestion.sku, qty=self.suggestion.quantity, bin=where, why=self.suggestion.reason))
            self.putaway_label.show()
        else:
            self.putaway_label.hide()
        if self.receipt_id is None:
            self._set_step(self.tr("{number} is {status}: scan another PO").format(number=d.number, status=d.status_title), "done")
        elif self.damaged:
            self._set_step(self.tr("2 · Scan the damaged items: they go to quarantine (F9: back to good ones)"), "short")
        else:
            self._set_step(self.tr("2 · Scan the items   ·   F9: damaged   ·   F12: finish"), "item")

    def _set_step(self, text: str, step: str) -> None:
        self.step.setText(text)
        repolish(self.step, step=step)

    def _set_damaged(self, on: bool) -> None:
        self.damaged = on
        self._show()
        self.changed.emit()

    def _answer(self, ok: bool, text: str) -> None:
        self.status.show_state(text, "ok" if ok else "error")
        self.scan_result.emit(ok, text)
        self.changed.emit()

    # -- the PO -----------------------------------------------------------------------------------------

    def open_po(self, text: str, *, from_scan: bool = False) -> None:
        number = text.strip()
        if not number:
            return

        def job(session):
            start = purchasing.start_receipt(session, self.actor, number)
            return start, purchasing.po_detail(session, number)

        def done(result) -> None:
            start, detail = result
            self.receipt_id, self.detail, self.suggestion = start.receipt_id, detail, None
            self.po_edit.setText(detail.number)
            self.damaged_button.setChecked(False)
            self._show()
            self.qty_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self._answer(True, self.tr("{number} from {supplier}: scan the items").format(number=detail.number,
                                                                                        supplier=start.supplier))

        def failed(text: str) -> None:
            self._answer(False, text)

        self.tasks.write(job, done, failed, owner=self)

    def finish(self) -> None:
        if self.receipt_id is None:
            return
        receipt_id, number = self.receipt_id, self.detail.number

        def job(session):
            purchasing.finish_receipt(session, self.actor, receipt_id)
            return purchasing.po_detail(session, number)

        def done(detail) -> None:
            waiting = sum(r.good - r.put_away for r in (self.detail.receipt_lines if self.detail else ()))
            self.receipt_id, self.detail, self.suggestion = None, detail, None
            self.damaged_button.setChecked(False)
            self._show()
            text = self.tr("Receipt of {number} finished; the PO is {status}.").format(number=number, status=detail.status_title)
            if waiting:
                text += " " + self.tr("{n} units wait on the dock to be put away.").format(n=waiting)
            self.po_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self._answer(True, text)

        self.tasks.write(job, done, self._answer_error, owner=self)

    def _answer_error(self, text: str) -> None:
        self._answer(False, text)

    # -- labels ---------------------------------------------------------------------------------------------

    def print_labels(self, what: str) -> None:
        """Receiving labels of the PO on screen to the station's label printer (F6 products, F7 cartons)."""
        if self.detail is None:
            self._answer(False, self.tr("Scan the PO first: its labels are printed from it."))
            return
        self.print_label.setText(self.tr("Printing labels…"))
        print_receiving_labels(self.tasks, self.detail.number, what, done=self._printed, error=self._print_error,
                               owner=self)

    def _printed(self, outcome: PrintOutcome) -> None:
        self.last_print = outcome
        self.print_label.setText(outcome.summary())
        repolish(self.print_label, state="" if outcome.ok else "error")
        self.printed.emit(outcome)
        self._answer(outcome.ok, outcome.summary())

    def _print_error(self, text: str) -> None:
        self._printed(PrintOutcome((), (text,)))

    # -- a supplier's carton ----------------------------------------------------------------------------

    def receive_carton(self, sscc: str) -> None:
        """The SSCC label of a supplier's carton: everything its ASN lists is received at once, on its PO."""

        def job(session):
            received = purchasing.receive_carton(session, self.actor, sscc)
            suggestion = purchasing.suggest_putaway(session, received.results[-1].receipt_line_id)
            return received, suggestion, purchasing.po_detail(session, received.po_number)

        def done(result) -> None:
            received, suggestion, detail = result
            self.receipt_id, self.detail, self.suggestion = received.receipt_id, detail, suggestion
            self.po_edit.setText(detail.number)
            self.damaged_button.setChecked(False)
            self.qty_edit.clear()
            self._show()
            self._answer(True, received.message)

        self.tasks.write(job, done, self._answer_error, owner=self)

    # -- scanning ---------------------------------------------------------------------------------------

    def handle_scan(self, scan: Scan) -> None:
        if scan.sscc is not None:
            self.receive_carton(scan.sscc)
            return
        code = scan_code(scan)
        if is_po_number(code):
            self.open_po(code, from_scan=True)
            return
        if self.receipt_id is None:
            self._answer(False, self.tr("Scan the PO first: its barcode is on the purchase order that came with the goods."))
            return
        if code.upper() == COMMAND_DAMAGED:
            self.damaged_button.toggle()
            self._answer(True, self.tr("Damaged: the next items go to quarantine") if self.damaged
                         else self.tr("Good items again"))
            return
        text = self.qty_edit.text().strip()
        quantity = int(text) if text.isdigit() and int(text) > 0 else 1
        receipt_id, number, damaged = self.receipt_id, self.detail.number, self.damaged
        location = self.detail.location_code
        pending = _waiting(self.detail)
        last = self.suggestion.receipt_line_id if self.suggestion is not None else None

        def job(session):
            try:
                inventory.product_id(session, code)
            except NotFound:
                lid = inventory.location_id(session, location)
                try:
                    inventory.bin_id(session, lid, code)
                except NotFound:
                    pass  # neither: scan_item says so in words
                else:
                    return ("bin",) + _put_away(session, code)
            result = purchasing.scan_item(session, self.actor, receipt_id, code, quantity, damaged=damaged)
            suggestion = None if damaged else purchasing.suggest_putaway(session, result.receipt_line_id)
            return "item", result, suggestion, purchasing.po_detail(session, number)

        def _put_away(session, bin_code):
            if not pending:
                raise NotFound(self.tr("Nothing waits to be put away: scan the items first."))
            suggestions = [purchasing.suggest_putaway(session, r.id) for r in pending]
            # The bin suggested for a waiting line takes it; else the line scanned last is meant, and the domain
            # names the bin it should go to.
            chosen = next((g for g in suggestions if g.bin_code == bin_code), None)
            if chosen is None and last is not None:
                chosen = next((g for g in suggestions if g.receipt_line_id == last), None)
            chosen = chosen or suggestions[-1]
            purchasing.put_away(session, self.actor, chosen.receipt_line_id, bin_code)
            detail = purchasing.po_detail(session, number)
            left = [purchasing.suggest_putaway(session, r.id) for r in _waiting(detail)]
            return chosen, left[-1] if left else None, detail

        def done(result) -> None:
            self.qty_edit.clear()
            if result[0] == "bin":
                _kind, chosen, nxt, detail = result
                self.detail, self.suggestion = detail, nxt
                self._show()
                self._answer(True, self.tr("{sku} ×{qty} put away in {bin}").format(sku=chosen.sku, qty=chosen.quantity,
                                                                                    bin=code))
                return
            _kind, scanned, suggestion, detail = result
            self.detail = detail
            if suggestion is not None:
                self.suggestion = suggestion
            self._show()
            self._answer(True, scanned.message)

        def failed(text: str) -> None:
            self.qty_edit.clear()
            self._answer(False, text)

        self.tasks.write(job, done, failed, owner=self)


__all__ = ["COMMAND_DAMAGED", "ReceivingScreen", "is_po_number"]
