"""Returns: parcels customers send back, received at the dock by scanner, unit by unit.

Scan anything on the parcel that names it: the RMA on the return slip, the return label's tracking number, the order
number on the packing slip or the old shipping label (a parcel without an RMA gets one opened for it). Then scan each
item. The screen says where a good unit goes back to (the product's bin): scanning that bin restocks it. Any other
fate has its key: F6 quarantine, F7 refurbish, F8 scrap, F9 return to vendor. A condition note typed before the key
or the bin goes with the unit. An item the RMA does not name, or one too many, is refused in words; F10 records it as
"received, not on the RMA" for review. A parcel nothing identifies is never refused: F10 records it as an
unidentified return. F12 finishes the parcel. Between parcels the screen lists the open RMAs, oldest first, with
where each stands.
"""

from __future__ import annotations

from desktop import formatting as fmt
from desktop.qt import (
    QComboBox,
    QHBoxLayout,
    QKeySequence,
    QLineEdit,
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
from oms import inventory, returns
from oms.core.types import utcnow
from oms.core.audit import Actor
from oms.core.errors import Conflict, NotFound
from oms.core.gs1 import Scan

# The keys of the dispositions other than a restock (a restock is the bin's scan), and of the other actions.
DISPOSITION_KEYS = {
    Qt.Key.Key_F6: "quarantine",
    Qt.Key.Key_F7: "refurbish",
    Qt.Key.Key_F8: "scrap",
    Qt.Key.Key_F9: "vendor",
}
REVIEW_KEY = Qt.Key.Key_F10
FINISH_KEY = Qt.Key.Key_F12
# The same as printed command barcodes, for a scanner-only dock.
COMMANDS = {"QUARANTINE": "quarantine", "REFURBISH": "refurbish", "SCRAP": "scrap", "VENDOR": "vendor"}


def scan_code(scan: Scan) -> str:
    """The scanned code as printed under the bars (an EAN-13 as its 13 digits, not the 14-digit GTIN)."""
    raw = scan.raw.strip()
    if scan.kind == "gtin" and raw.isdigit():
        return raw
    return scan.value.strip()


class ReturnsScreen(QWidget):
    """The returns dock: the parcel's RMA with what has come back, the item in hand, and its fate."""

    SHOWS = ("returns",)
    scan_result = Signal(object, str)  # ok (bool), message
    message = Signal(str)
    changed = Signal()  # the screen shows the outcome of a scan or action (tests wait for it)

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("returnsScreen")
        self.setStyleSheet(STATION_QSS)
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self.parcel: returns.Parcel | None = None
        self.detail: returns.RmaDetail | None = None
        self.pending: tuple[str, returns.ItemCheck] | None = None  # (the code scanned, what it is) awaiting its fate
        self.refused: str | None = None  # the last item refused, which F10 records for review
        self.unknown: list[str] = []  # codes off a parcel nothing identifies, which F10 records

        self.dock = QComboBox()
        self.dock.setObjectName("returnsDock")
        self.dock.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.parcel_label = label("", "stationHint", wrap=True)
        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(label(self.tr("Returns at"), "stationHead"))
        top.addWidget(self.dock)
        top.addWidget(self.parcel_label, 1)

        self.step = label("", "stepLabel", wrap=True)
        self.lines = read_only_table("returnLines", [self.tr("SKU"), self.tr("On the RMA"), self.tr("Back"),
                                                     self.tr("What became of them")], 3, row_height=36)
        self.lines.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.open_list = read_only_table("openRmas", [self.tr("RMA"), self.tr("Order"), self.tr("Customer"),
                                                      self.tr("Status"), self.tr("Back"), self.tr("Reason"),
                                                      self.tr("Age")], 2, row_height=30)
        self.open_list.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

        self.note_edit = QLineEdit()
        self.note_edit.setObjectName("conditionNote")
        self.note_edit.setPlaceholderText(self.tr("Condition note (optional), typed before the bin or the key"))
        note_row = QHBoxLayout()
        note_row.addWidget(label(self.tr("Condition"), "stationHead"))
        note_row.addWidget(self.note_edit, 1)
        self.keys = label(self.tr("Bin scan: restock · F6 quarantine · F7 refurbish · F8 scrap · F9 return to vendor · "
                                  "F10 for review · F12 parcel done"), "keysHint", wrap=True)

        self.item_label = label("", "routeResult", wrap=True)
        self.item_label.hide()
        self.status = ScanStatus(self.tr("Scan the parcel: the RMA on the return slip, the label, or the order number."))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.step)
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.open_list, 1)
        layout.addLayout(note_row)
        layout.addWidget(self.keys)
        layout.addWidget(self.item_label)
        layout.addWidget(self.status)

        for key, how in DISPOSITION_KEYS.items():
            self._shortcut(key, lambda how=how: self.dispose(how))
        self._shortcut(REVIEW_KEY, lambda: self.for_review())
        self._shortcut(FINISH_KEY, lambda: self.finish())
        self._show()
        self.tasks.read(returns.dock_locations, self._docks, self.message.emit, owner=self)
        self._read_open()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self.parcel is None:  # what came in from other stations since it was last shown
            self._read_open()

    def _read_open(self) -> None:
        self.tasks.read(lambda s: returns.list_rmas(s, open_only=True), self._open_loaded, self.message.emit, owner=self,
                        latest="open")

    def _open_loaded(self, rows: list[returns.RmaSummary]) -> None:
        now = utcnow()
        cells = []
        for r in rows:
            days = (now - r.created_at).days
            age = self.tr("today") if days < 1 else self.tr("{n} d").format(n=days)
            cells.append([cell(r.number, bold=True), cell(r.order_number), cell(r.customer), cell(r.status_title),
                          cell(f"{r.received}/{r.units}", right=True), cell(r.reason),
                          cell(age, right=True, color=fmt.LATE_COLOR if days >= 14 else None)])
        fill_table(self.open_list, cells, [r.number for r in rows])
        self.changed.emit()

    def _shortcut(self, key, action) -> None:
        sc = QShortcut(QKeySequence(key), self)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(action)

    def _docks(self, codes: list[str]) -> None:
        self.dock.clear()
        self.dock.addItems(codes)

    # -- the screen protocol ----------------------------------------------------------------------------

    def save_state(self) -> None:
        pass  # a parcel is taken up again by scanning it

    def focus_search(self) -> None:
        self.note_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def refresh(self) -> None:
        if self.parcel is None:
            self._read_open()
        if self.parcel is not None:
            number = self.parcel.rma_number
            self.tasks.read(lambda s: returns.rma_detail(s, number), self._loaded, self.message.emit, owner=self, latest="rma")
        if not self.dock.count():
            self.tasks.read(returns.dock_locations, self._docks, self.message.emit, owner=self)

    def go_back(self) -> bool:
        if self.note_edit.text():
            self.note_edit.clear()
            return True
        if self.pending is not None:
            self.pending = None
            self._show()
            return True
        return False

    def accepts_scan(self, scan: Scan) -> bool:
        return scan.kind in ("text", "gtin", "gs1")

    # -- showing ----------------------------------------------------------------------------------------

    def _loaded(self, detail: returns.RmaDetail) -> None:
        self.detail = detail
        self._show()
        self.changed.emit()

    def _show(self) -> None:
        d = self.detail
        idle = self.parcel is None or d is None
        self.lines.setVisible(not idle)
        self.open_list.setVisible(idle)
        if idle:
            self.parcel_label.setText(self.tr("Open returns, oldest first"))
            self.lines.setRowCount(0)
            self.item_label.hide()
            self._set_step(self.tr("1 · Scan the parcel"), "bin")
            return
        self.parcel_label.setText(self.tr("{number} · order {order} · {customer} · {status}").format(
            number=d.number, order=d.order_number, customer=d.customer, status=d.status_title))
        fates: dict[str, list[str]] = {}
        for u in d.units:
            fates.setdefault(u.sku, []).append(f"{u.quantity} {u.disposition}" + (f" {u.bin_code}" if u.bin_code else ""))
        rows = []
        for l in d.lines:
            complete = l.received >= l.quantity
            rows.append([cell(l.sku, bold=True), cell(l.quantity, right=True),
                         cell(l.received, right=True, bold=complete, color=fmt.OK_COLOR if complete else None),
                         cell(", ".join(fates.get(l.sku, [])) or "·", muted=l.sku not in fates)])
        fill_table(self.lines, rows, [l.sku for l in d.lines])
        if self.pending is not None:
            _code, item = self.pending
            where = (self.tr("scan bin {bin} to restock it").format(bin=item.suggested_bin) if item.suggested_bin
                     else self.tr("scan the bin to restock it"))
            self.item_label.setText(self.tr("{sku} ({title}) in hand: {where}, or F6 quarantine · F7 refurbish · F8 scrap · "
                                            "F9 return to vendor").format(sku=item.sku, title=item.title, where=where))
            self.item_label.show()
            self._set_step(self.tr("3 · Its fate: the bin, or a key"), "short")
        else:
            self.item_label.hide()
            self._set_step(self.tr("2 · Scan each item   ·   F12: parcel done"), "item")

    def _set_step(self, text: str, step: str) -> None:
        self.step.setText(text)
        repolish(self.step, step=step)

    def _answer(self, ok: bool, text: str) -> None:
        self.status.show_state(text, "ok" if ok else "error")
        self.scan_result.emit(ok, text)
        self.changed.emit()

    def _location(self) -> str | None:
        return self.dock.currentText() or None

    # -- the parcel ---------------------------------------------------------------------------------------

    def open_parcel(self, code: str) -> None:
        location = self._location()

        def job(session):
            parcel = returns.open_parcel(session, self.actor, code, location=location)
            return parcel, returns.rma_detail(session, parcel.rma_id)

        def done(result) -> None:
            self.parcel, self.detail = result
            self.pending, self.refused, self.unknown = None, None, []
            self._show()
            self._answer(True, self.parcel.message)

        def failed(text: str) -> None:
            if self.parcel is None:
                self.unknown.append(code)
                text += " " + self.tr("F10: record it as an unidentified return.")
            else:  # a code in an open parcel that names nothing we know: kept for review if the person says so
                self.refused, self.pending = code, None
                self._show()
                text += " " + self.tr("F10: record it for review.")
            self._answer(False, text)

        self.tasks.write(job, done, failed, owner=self)

    def finish(self) -> None:
        if self.parcel is None:
            return
        d = self.detail
        back = sum(l.received for l in d.lines) if d else 0
        number = self.parcel.rma_number
        self.parcel, self.detail, self.pending, self.refused = None, None, None, None
        self.note_edit.clear()
        self._show()
        self._read_open()
        self._answer(True, self.tr("{number} done: {n} units back. Scan the next parcel.").format(number=number, n=back))

    # -- items and their fate -------------------------------------------------------------------------------

    def handle_scan(self, scan: Scan) -> None:
        code = scan_code(scan)
        command = COMMANDS.get(code.upper())
        if command is not None:
            self.dispose(command)
            return
        if self.parcel is None:
            self.open_parcel(code)
            return
        number = self.parcel.rma_number
        pending = self.pending
        note = self.note_edit.text().strip()
        location = self.parcel.location

        def job(session):
            try:
                inventory.product_id(session, code)
            except NotFound:
                lid = inventory.location_id(session, location)
                try:
                    inventory.bin_id(session, lid, code)
                except NotFound:
                    return ("parcel",)  # no item, no bin: another parcel's barcode
                if pending is None:
                    raise NotFound(self.tr("Scan the item first, then the bin it goes back to."))
                got = returns.receive_unit(session, self.actor, number, pending[0], "restock", bin=code, note=note)
                return "received", got, returns.rma_detail(session, number)
            try:
                return "item", returns.check_item(session, number, code)
            except (Conflict, NotFound) as exc:  # not on the RMA, or one too many: the person may keep it for review
                return "refused", str(exc)

        def done(result) -> None:
            if result[0] == "parcel":
                self.open_parcel(code)
                return
            if result[0] == "received":
                _kind, got, detail = result
                self._received(got, detail)
                return
            if result[0] == "refused":
                self.refused, self.pending = code, None
                self._show()
                self._answer(False, result[1] + " " + self.tr("F10: record it for review."))
                return
            _kind, item = result
            self.pending, self.refused = (code, item), None
            self._show()
            self._answer(True, item.message)

        self.tasks.write(job, done, lambda text: self._answer(False, text), owner=self)

    def _received(self, got: returns.Received, detail: returns.RmaDetail) -> None:
        self.detail, self.pending, self.refused = detail, None, None
        self.note_edit.clear()
        self._show()
        self._answer(True, got.message)

    def dispose(self, how: str) -> None:
        if self.parcel is None or self.pending is None:
            self._answer(False, self.tr("Scan an item from the parcel first."))
            return
        number, (code, _item) = self.parcel.rma_number, self.pending
        note = self.note_edit.text().strip()

        def job(session):
            got = returns.receive_unit(session, self.actor, number, code, how, note=note)
            return got, returns.rma_detail(session, number)

        self.tasks.write(job, lambda result: self._received(*result), lambda text: self._answer(False, text), owner=self)

    def for_review(self) -> None:
        note = self.note_edit.text().strip()
        if self.parcel is not None and self.refused is not None:
            number, code = self.parcel.rma_number, self.refused

            def job(session):
                returns.record_not_on_rma(session, self.actor, number, code, note=note)
                return returns.rma_detail(session, number)

            def done(detail) -> None:
                self.detail, self.refused = detail, None
                self.note_edit.clear()
                self._show()
                self._answer(True, self.tr("{code}: received, not on {number} — kept for review").format(code=code, number=number))

            self.tasks.write(job, done, lambda text: self._answer(False, text), owner=self)
            return
        if self.parcel is None and (self.unknown or note):
            codes, location = list(self.unknown), self._location()

            def job(session):
                return returns.record_unidentified(session, self.actor, location, codes, note=note)

            def done(_review_id) -> None:
                self.unknown = []
                self.note_edit.clear()
                self._answer(True, self.tr("Unidentified return recorded for review. Scan the next parcel."))

            self.tasks.write(job, done, lambda text: self._answer(False, text), owner=self)
            return
        self._answer(False, self.tr("Nothing to record for review: a refused item or an unknown parcel is."))


__all__ = ["ReturnsScreen"]
