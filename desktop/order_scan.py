"""A scanned order barcode (order number, channel order id, tracking number or SSCC) to an order id.

When the code names several orders (three shops' #1002, or one shop that started its numbering again),
the person chooses: the candidates are listed with what tells them apart (placed, customer, ship-to,
status, channel), numbered 1 to 9, and a number key (typed, or from a scanner's keypad) or Enter on the
highlighted row opens that one. Esc leaves them all alone.
"""

from __future__ import annotations

from typing import Callable, Sequence

from desktop import formatting as fmt
from desktop.qt import QDialog, QEvent, QLabel, Qt, QVBoxLayout, QWidget, Signal
from desktop.tables import cell, fill_table, read_only_table
from oms import desk
from oms.core.gs1 import Scan
from oms.desk.queue import OrderMatch

CHOICE_QSS = """
#orderChoiceTitle { font-size: 15pt; font-weight: 700; color: #10263a; }
#orderChoiceHint { font-size: 12pt; color: #475467; }
QTableWidget#orderChoices { font-size: 12pt; }
"""


def accepts_order_scan(scan: Scan) -> bool:
    return scan.kind in ("text", "sscc") or (scan.kind == "gs1" and scan.sscc is not None)


class OrderChoiceDialog(QDialog):
    """"Which #1002?": the orders a scan matched, one per numbered row; a number key or Enter chooses."""

    chosen = Signal(int)  # order id

    def __init__(self, parent: QWidget | None, ref: str, matches: Sequence[OrderMatch]) -> None:
        super().__init__(parent)
        self.setObjectName("orderChoice")
        self.setStyleSheet(CHOICE_QSS)
        self.setWindowTitle(self.tr("Which order?"))
        self.matches = tuple(matches)[:9]
        title = QLabel(self.tr("{n} orders match {ref}").format(n=len(self.matches), ref=ref))
        title.setObjectName("orderChoiceTitle")
        hint = QLabel(self.tr("Press the number of the order you mean (1 to {n}), or Enter for the highlighted one. "
                              "Esc: none of them.").format(n=len(self.matches)))
        hint.setObjectName("orderChoiceHint")
        hint.setWordWrap(True)
        self.table = read_only_table("orderChoices", [self.tr("Key"), self.tr("Order"), self.tr("Placed"),
                                                      self.tr("Customer"), self.tr("Ship to"), self.tr("Status"),
                                                      self.tr("Channel")], 3, row_height=36, fit_contents=True)
        fill_table(self.table, [[cell(str(i), bold=True), cell(m.number, bold=True), cell(fmt.short_datetime(m.placed_at)),
                                 cell(m.customer or "—"), cell(m.destination or "—"), cell(m.status), cell(m.channel)]
                                for i, m in enumerate(self.matches, 1)])
        self.table.selectRow(0)
        self.table.doubleClicked.connect(lambda index: self.choose(index.row()))
        self.table.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        self.resize(900, 180 + 36 * len(self.matches))
        self.table.setFocus()
        if parent is not None:  # the keyboard and scanner go back to the station, with or without a window manager
            self.finished.connect(lambda _result: parent.window().activateWindow())

    def choose(self, row: int) -> None:
        if 0 <= row < len(self.matches):
            self.accept()
            self.chosen.emit(self.matches[row].order_id)

    def _key(self, event) -> bool:
        """A number key chooses its row, Enter the highlighted one; True when the key was used."""
        text = event.text()
        if len(text) == 1 and text in "123456789":
            self.choose(int(text) - 1)
            return True
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.choose(self.table.currentRow())
            return True
        return False

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        # The table would take a digit as the start of a keyboard search: the number is the choice.
        if watched is self.table and event.type() == QEvent.Type.KeyPress and self._key(event):
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not self._key(event):
            super().keyPressEvent(event)


def choose_order(screen: QWidget, ref: str, matches: Sequence[OrderMatch], found: Callable[[int], None]) -> OrderChoiceDialog:
    """Ask which of ``matches`` the person meant; ``found`` gets the one chosen. A newer scan's question replaces an
    older one still open, so two lists never stack up."""
    old = getattr(screen, "_order_choice", None)
    if old is not None and old.isVisible():
        old.reject()
    dialog = OrderChoiceDialog(screen, ref, matches)
    dialog.chosen.connect(found)
    dialog.finished.connect(dialog.deleteLater)
    screen._order_choice = dialog
    dialog.open()
    return dialog


def find_scanned_order(screen, scan: Scan, found: Callable[[int], None]) -> None:
    """Look the scan up on the database worker; the screen's scan_result says how it went, and when several
    orders match, the person chooses among them."""
    ref = scan.sscc or scan.value

    def job(session):
        return desk.orders_matching(session, ref)

    def done(matches: list[OrderMatch]) -> None:
        if not matches:
            screen.scan_result.emit(False, screen.tr("No order {ref}").format(ref=ref))
            return
        if len(matches) == 1:
            screen.scan_result.emit(True, "")
            found(matches[0].order_id)
            return
        text = screen.tr("{n} orders match {ref}: choose one").format(n=len(matches), ref=ref)
        screen.scan_result.emit(True, text)
        choose_order(screen, ref, matches, found)

    screen.tasks.read(job, done, lambda m: screen.scan_result.emit(False, m), owner=screen)


__all__ = ["OrderChoiceDialog", "accepts_order_scan", "choose_order", "find_scanned_order"]
