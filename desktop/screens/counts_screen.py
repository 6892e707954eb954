"""Counts: a cycle count made by scanner, blind, and a supervisor's approval of its variance.

Scan the count's number (on the count sheet, or type it), then each bin and the items in it: a second scan of an
item adds to its line; a number typed before a scan counts that many. The counter never sees what the books hold.
F12 submits: counts within the threshold go through the stock at once; a bigger variance waits for a supervisor,
who presses F8 at the station, reads the books' figure beside the count, gives their user name and a reason and
approves (Return), or sends the count back for a recount. Every refusal is said in words and flashes red."""

from __future__ import annotations

from desktop import formatting as fmt
from desktop.qt import (
    QComboBox,
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
from desktop.screens.receiving_screen import scan_code
from desktop.station import STATION_QSS, ScanStatus, label, repolish
from desktop.tables import cell, fill_table, read_only_table
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import counting
from oms.core.audit import Actor
from oms.core.gs1 import Scan

SUBMIT_KEY = Qt.Key.Key_F12
SUPERVISOR_KEY = Qt.Key.Key_F8


class CountsScreen(QWidget):
    """The count station: the open counts, the count being made (bins and what was counted), and the review."""

    SHOWS = ("counting",)
    scan_result = Signal(object, str)
    message = Signal(str)
    changed = Signal()

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("countsScreen")
        self.setStyleSheet(STATION_QSS)
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self.sheet: counting.CountSheet | None = None
        self.review: counting.CountReview | None = None
        self.bin: str | None = None  # the bin being counted

        self.count_edit = QLineEdit()
        self.count_edit.setObjectName("countEdit")
        self.count_edit.setPlaceholderText(self.tr("Count number"))
        self.count_edit.setMaximumWidth(200)
        top = QHBoxLayout()
        top.addWidget(label(self.tr("Count"), "stationHead"))
        top.addWidget(self.count_edit)
        self.head = label("", "stationHint", wrap=True)
        top.addWidget(self.head, 1)

        self.step = label("", "stepLabel", wrap=True)
        self.open_counts = read_only_table("openCounts", [self.tr("Count"), self.tr("Location"), self.tr("Covers"),
                                                          self.tr("Status")], 2)
        self.open_counts.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        # Blind: what was counted, never what the books hold.
        self.lines = read_only_table("countLines", [self.tr("Bin"), self.tr("SKU"), self.tr("Description"),
                                                    self.tr("Counted")], 2, row_height=36)
        self.lines.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

        self.qty_edit = QLineEdit()
        self.qty_edit.setObjectName("bigEdit")
        self.qty_edit.setValidator(QIntValidator(1, 99999, self))
        self.qty_edit.setMaximumWidth(140)
        self.qty_edit.setPlaceholderText("1")
        self.submit_button = QPushButton(self.tr("Submit count (F12)"))
        self.submit_button.setObjectName("submitCount")
        self.submit_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        qty_row = QHBoxLayout()
        qty_row.addWidget(label(self.tr("Quantity"), "stationHead"))
        qty_row.addWidget(self.qty_edit)
        qty_row.addWidget(label(self.tr("Type a number before scanning an item to count several at once."),
                                "keysHint", wrap=True), 1)
        qty_row.addWidget(self.submit_button)

        # The supervisor's review: shown only when they ask for it (F8), never to the counter while counting.
        self.review_box = QWidget()
        self.review_box.setObjectName("countReview")
        self.review_table = read_only_table("reviewLines", [self.tr("Bin"), self.tr("SKU"), self.tr("Books"),
                                                            self.tr("Counted"), self.tr("Difference")], 1)
        self.review_table.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.supervisor_edit = QLineEdit()
        self.supervisor_edit.setObjectName("supervisorEdit")
        self.supervisor_edit.setPlaceholderText(self.tr("Supervisor's user name"))
        self.reason_combo = QComboBox()
        self.reason_combo.setObjectName("reasonCombo")
        for code in counting.REASONS:
            self.reason_combo.addItem(counting.reason_title(code), code)
        self.note_edit = QLineEdit()
        self.note_edit.setObjectName("noteEdit")
        self.note_edit.setPlaceholderText(self.tr("Note (optional)"))
        self.approve_button = QPushButton(self.tr("Approve"))
        self.approve_button.setObjectName("approveCount")
        self.recount_button = QPushButton(self.tr("Send back for a &recount"))
        self.recount_button.setObjectName("recountButton")
        form = QHBoxLayout()
        form.addWidget(label(self.tr("Supervisor"), "stationHead"))
        form.addWidget(self.supervisor_edit)
        form.addWidget(label(self.tr("Reason"), "stationHead"))
        form.addWidget(self.reason_combo)
        form.addWidget(self.note_edit, 1)
        form.addWidget(self.approve_button)
        form.addWidget(self.recount_button)
        box = QVBoxLayout(self.review_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.review_table, 1)
        box.addLayout(form)
        self.review_box.hide()
        QWidget.setTabOrder(self.supervisor_edit, self.reason_combo)
        QWidget.setTabOrder(self.reason_combo, self.note_edit)
        QWidget.setTabOrder(self.note_edit, self.approve_button)
        QWidget.setTabOrder(self.approve_button, self.recount_button)

        self.status = ScanStatus(self.tr("Scan the count sheet's number, or type it."))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.step)
        layout.addWidget(self.open_counts, 1)
        layout.addWidget(self.lines, 1)
        layout.addLayout(qty_row)
        layout.addWidget(self.review_box, 1)
        layout.addWidget(self.status)

        self.count_edit.returnPressed.connect(lambda: self.open_count(self.count_edit.text()))
        self.submit_button.clicked.connect(lambda: self.submit())
        self.approve_button.clicked.connect(lambda: self.approve())
        self.recount_button.clicked.connect(lambda: self.send_back())
        self.supervisor_edit.returnPressed.connect(lambda: self.approve())
        self.note_edit.returnPressed.connect(lambda: self.approve())
        for key, action in ((SUBMIT_KEY, lambda: self.submit()), (SUPERVISOR_KEY, lambda: self.show_review())):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(action)
        self._show()

    # -- the screen protocol ----------------------------------------------------------------------------

    def save_state(self) -> None:
        pass  # a count is taken up again by scanning its number

    def focus_search(self) -> None:
        (self.qty_edit if self.sheet is not None and self.sheet.status == "open" else self.count_edit).setFocus(
            Qt.FocusReason.ShortcutFocusReason)
        self.refresh()

    def refresh(self) -> None:
        if self.sheet is not None:
            number = self.sheet.number
            self.tasks.read(lambda s: counting.count_sheet(s, number), self._loaded, self.message.emit, owner=self,
                            latest="sheet")
        else:
            self.tasks.read(lambda s: counting.list_counts(s), self._listed, self.message.emit, owner=self,
                            latest="list")

    def go_back(self) -> bool:
        if self.review_box.isVisible():
            self._hide_review()
            return True
        if self.qty_edit.text():
            self.qty_edit.clear()
            return True
        return False

    def accepts_scan(self, scan: Scan) -> bool:
        return scan.kind in ("text", "gtin", "gs1")

    # -- showing ----------------------------------------------------------------------------------------

    def _listed(self, rows: list[counting.CountSummary]) -> None:
        fill_table(self.open_counts, [[cell(r.number, bold=True), cell(r.location), cell(f"{r.scope} {r.scope_ref}"),
                                       cell(r.status_title)] for r in rows], [r.id for r in rows])
        self.changed.emit()

    def _loaded(self, sheet: counting.CountSheet) -> None:
        self.sheet = sheet
        self._show()
        self.changed.emit()

    def _show(self) -> None:
        sheet = self.sheet
        self.open_counts.setVisible(sheet is None)
        self.lines.setVisible(sheet is not None)
        if sheet is None:
            self.head.setText("")
            self.submit_button.setEnabled(False)
            self._set_step(self.tr("1 · Scan the count sheet"), "bin")
            return
        self.head.setText(self.tr("{number} · {location} · {scope} {ref} · {status}").format(
            number=sheet.number, location=sheet.location, scope=sheet.scope, ref=sheet.scope_ref,
            status=sheet.status_title))
        rows = [[cell(l.bin_code, bold=l.bin_code == self.bin), cell(l.sku, bold=True),
                 cell(l.description + (self.tr("  (found here)") if l.found else "")),
                 cell("·" if l.counted is None else l.counted, right=True, muted=l.counted is None)]
                for l in sheet.lines]
        scanned = {b for b, seen in sheet.bins if seen}
        rows += [[cell(b, bold=b == self.bin), cell(""), cell(self.tr("empty") if b in scanned else ""), cell("·", right=True, muted=True)]
                 for b, _seen in sheet.bins if not any(l.bin_code == b for l in sheet.lines)]
        fill_table(self.lines, rows)
        self.submit_button.setEnabled(sheet.status == "open")
        if sheet.status == "review":
            self._set_step(self.tr("Waiting for a supervisor: F8 when they are here"), "short")
        elif sheet.status != "open":
            self._set_step(self.tr("{number} is {status}: scan another count sheet").format(
                number=sheet.number, status=sheet.status_title), "done")
        elif self.bin is None:
            waiting = [b for b, seen in sheet.bins if not seen]
            self._set_step(self.tr("2 · Scan a bin: {bins}").format(bins=", ".join(waiting[:6])) if waiting
                           else self.tr("2 · Scan the items   ·   F12: submit"), "bin")
        else:
            self._set_step(self.tr("3 · Bin {bin}: scan every item in it, then the next bin   ·   F12: submit").format(
                bin=self.bin), "item")

    def _set_step(self, text: str, step: str) -> None:
        self.step.setText(text)
        repolish(self.step, step=step)

    def _answer(self, ok: bool, text: str) -> None:
        self.status.show_state(text, "ok" if ok else "error")
        self.scan_result.emit(ok, text)
        self.changed.emit()

    def _failed(self, text: str) -> None:
        self.qty_edit.clear()
        self._answer(False, text)

    # -- the count --------------------------------------------------------------------------------------

    def open_count(self, text: str) -> None:
        number = text.strip()
        if not number:
            return

        def done(sheet: counting.CountSheet) -> None:
            self.sheet, self.bin = sheet, None
            self._hide_review()
            self.count_edit.setText(sheet.number)
            self._show()
            if sheet.status == "open":
                self.qty_edit.setFocus(Qt.FocusReason.OtherFocusReason)
                self._answer(True, self.tr("{number}: count {scope} {ref} at {location}; scan a bin").format(
                    number=sheet.number, scope=sheet.scope, ref=sheet.scope_ref, location=sheet.location))
            else:
                self._answer(sheet.status == "review", self.tr("{number} is {status}.").format(
                    number=sheet.number, status=sheet.status_title))

        self.tasks.read(lambda s: counting.count_sheet(s, number), done, self._failed, owner=self)

    def handle_scan(self, scan: Scan) -> None:
        code = scan_code(scan)
        if counting.is_count_number(code):
            self.open_count(code)
            return
        sheet = self.sheet
        if sheet is None:
            self._answer(False, self.tr("Scan the count sheet first: its number is at the top, like CNT-12."))
            return
        if sheet.status != "open":
            self._answer(False, self.tr("{number} is {status}; scan another count sheet.").format(
                number=sheet.number, status=sheet.status_title))
            return
        number = sheet.number
        if any(code.upper() == b.upper() for b, _seen in sheet.bins):
            def bin_job(session):
                return counting.scan_bin(session, self.actor, number, code), counting.count_sheet(session, number)

            def bin_done(result) -> None:
                scanned, self.sheet = result
                self.bin = scanned.bin_code
                self._show()
                self._answer(True, scanned.message)

            self.tasks.write(bin_job, bin_done, self._failed, owner=self)
            return
        text = self.qty_edit.text().strip()
        quantity = int(text) if text.isdigit() and int(text) > 0 else 1
        where = self.bin

        def job(session):
            return (counting.scan_item(session, self.actor, number, where, code, quantity),
                    counting.count_sheet(session, number))

        def done(result) -> None:
            scanned, self.sheet = result
            self.qty_edit.clear()
            self._show()
            self._answer(True, scanned.message)

        self.tasks.write(job, done, self._failed, owner=self)

    def submit(self) -> None:
        if self.sheet is None or self.sheet.status != "open":
            return
        number = self.sheet.number

        def job(session):
            return counting.submit_count(session, self.actor, number), counting.count_sheet(session, number)

        def done(result) -> None:
            submitted, self.sheet = result
            self.bin = None
            self._show()
            if submitted.status != "review":
                self.count_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self._answer(True, submitted.message)

        self.tasks.write(job, done, self._failed, owner=self)

    # -- the supervisor ---------------------------------------------------------------------------------

    def show_review(self) -> None:
        if self.sheet is None or self.sheet.status != "review":
            self._answer(False, self.tr("Nothing waits for a supervisor here: a count waits once it is submitted "
                                        "with a difference beyond its threshold."))
            return
        number = self.sheet.number

        def done(review: counting.CountReview) -> None:
            self.review = review
            rows = []
            for l in review.lines:
                beyond = abs(l.variance) > review.threshold
                rows.append([cell(l.bin_code), cell(l.sku, bold=True), cell(l.expected, right=True),
                             cell(l.counted, right=True),
                             cell(f"{l.variance:+d}" if l.variance else "·", right=True, bold=beyond,
                                  color=fmt.LATE_COLOR if beyond else None)])
            fill_table(self.review_table, rows)
            self.review_box.show()
            self.supervisor_edit.clear()
            self.note_edit.clear()
            self.supervisor_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self._set_step(self.tr("Supervisor: {n} lines differ by more than {t}; your name, a reason, Return to "
                                   "approve").format(n=len(review.beyond), t=review.threshold), "short")
            self.changed.emit()

        self.tasks.read(lambda s: counting.count_review(s, number), done, self._failed, owner=self)

    def _hide_review(self) -> None:
        self.review_box.hide()
        self.review = None
        self._show()

    def approve(self) -> None:
        if self.review is None or not self.review_box.isVisible():
            return
        number = self.review.number
        who, code, note = self.supervisor_edit.text().strip(), self.reason_combo.currentData(), self.note_edit.text()

        def job(session):
            return counting.approve_count(session, self.actor, number, who, code, note), counting.count_sheet(session, number)

        def done(result) -> None:
            text, self.sheet = result
            self._hide_review()
            self.count_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self._answer(True, text)

        self.tasks.write(job, done, self._answer_error, owner=self)

    def send_back(self) -> None:
        if self.review is None:
            return
        number, who = self.review.number, self.supervisor_edit.text().strip()

        def job(session):
            return counting.recount(session, self.actor, number, who), counting.count_sheet(session, number)

        def done(result) -> None:
            text, self.sheet = result
            self.bin = None
            self._hide_review()
            self.qty_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self._answer(True, text)

        self.tasks.write(job, done, self._answer_error, owner=self)

    def _answer_error(self, text: str) -> None:
        self._answer(False, text)


__all__ = ["CountsScreen"]
