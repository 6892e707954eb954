"""Printing: the station's document and label printers, a test print for each, and the failed prints to retry or discard.

The failed prints are files in the spool folder (oms.printing); the list follows that folder
(a QFileSystemWatcher), so a print that failed on the packing screen, in another window or
from the command line shows here at once, without F5.
"""

from __future__ import annotations

from desktop.print_jobs import PrintOutcome, carrier_label_shipment, confirm_printed_labels, send, test_documents
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QFileSystemWatcher,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screen import NoScanScreen
from desktop.station import STATION_QSS, label
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import printing
from oms.core.audit import Actor
from oms.core.settings import Settings
from oms.printing.printers import FailedJob, Printer

PAPER_SIZES = ("Letter", "A4", "Legal")


def _printers_and_jobs() -> tuple[list[Printer], str, list[FailedJob]]:
    """CUPS queues (or why there are none) and the failed prints; runs on the pool: lpstat can be slow."""
    try:
        printers, problem = printing.list_printers(), ""
    except printing.PrintError as exc:
        printers, problem = [], str(exc)
    return printers, problem, printing.failed_jobs()


class PrintingScreen(NoScanScreen, QWidget):
    """Which printers this station uses, and what did not print."""

    scan_result = Signal(object, str)
    message = Signal(str)
    changed = Signal()

    SPOOL_SETTLE_MS = 200  # a failed print is a document and a note: read the folder once both are written

    def __init__(self, tasks: Tasks, state: WindowState, settings: Settings, parent=None, actor: Actor | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("printingScreen")
        self.actor = actor
        self.setStyleSheet(STATION_QSS)
        self.tasks = tasks
        self.state = state
        self.settings = settings
        self.printers: list[Printer] = []
        self.jobs: list[FailedJob] = []
        self.last_outcome: PrintOutcome | None = None

        box = QFrame()
        box.setObjectName("card")
        box.setMaximumWidth(720)
        form_box = QVBoxLayout(box)
        form_box.setContentsMargins(16, 12, 16, 14)
        form_box.addWidget(label(self.tr("This station's printers ({station})").format(station=settings.station_name),
                                 "stationHead"))
        form = QFormLayout()
        form.setVerticalSpacing(10)
        self.document_printer = QComboBox()
        self.document_printer.setObjectName("documentPrinter")
        self.label_printer = QComboBox()
        self.label_printer.setObjectName("labelPrinter")
        self.label_printer.setEditable(True)  # socket://host:9100 for a network label printer
        self.label_printer.lineEdit().setPlaceholderText(self.tr("a CUPS queue, or socket://host:9100"))
        self.label_format = QComboBox()
        self.label_format.setObjectName("labelFormat")
        self.label_format.addItem(self.tr("ZPL (thermal label printer)"), "zpl")
        self.label_format.addItem(self.tr("PDF (any printer)"), "pdf")
        self.label_dpi = QComboBox()
        self.label_dpi.setObjectName("labelDpi")
        for dpi in (203, 300):
            self.label_dpi.addItem(self.tr("{dpi} dpi").format(dpi=dpi), dpi)
        self.paper = QComboBox()
        self.paper.setObjectName("paperSize")
        for p in PAPER_SIZES:
            self.paper.addItem(p, p)
        self.test_document = QPushButton(self.tr("Test print"))
        self.test_document.setObjectName("testDocument")
        self.test_label = QPushButton(self.tr("Test print"))
        self.test_label.setObjectName("testLabel")
        doc_row = QHBoxLayout()
        doc_row.addWidget(self.document_printer, 1)
        doc_row.addWidget(self.test_document)
        lab_row = QHBoxLayout()
        lab_row.addWidget(self.label_printer, 1)
        lab_row.addWidget(self.test_label)
        form.addRow(self.tr("Documents (pick lists, packing slips)"), doc_row)
        form.addRow(self.tr("Paper"), self.paper)
        form.addRow(self.tr("Labels (shipping, SSCC)"), lab_row)
        form.addRow(self.tr("Label format"), self.label_format)
        form.addRow(self.tr("Label printer resolution"), self.label_dpi)
        form_box.addLayout(form)
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setObjectName("primaryButton")
        self.printers_note = label("", "hint", wrap=True)
        save_row = QHBoxLayout()
        save_row.addWidget(self.printers_note, 1)
        save_row.addWidget(self.save_button)
        form_box.addLayout(save_row)

        self.jobs_table = QTableWidget(0, 5)
        self.jobs_table.setObjectName("failedPrints")
        self.jobs_table.setHorizontalHeaderLabels([self.tr("Document"), self.tr("Printer"), self.tr("Why it failed"),
                                                   self.tr("Tries"), self.tr("Since")])
        self.jobs_table.verticalHeader().hide()
        self.jobs_table.verticalHeader().setDefaultSectionSize(34)
        self.jobs_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.jobs_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.jobs_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.jobs_table.setAlternatingRowColors(True)
        self.jobs_table.setShowGrid(False)
        self.jobs_table.setWordWrap(False)
        hh = self.jobs_table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.retry_button = QPushButton(self.tr("Retry"))
        self.retry_button.setObjectName("primaryButton")
        self.retry_all_button = QPushButton(self.tr("Retry all"))
        self.discard_button = QPushButton(self.tr("Discard…"))
        self.discard_button.setProperty("danger", "true")
        jobs_head = QHBoxLayout()
        self.jobs_title = label(self.tr("Failed prints"), "sectionTitle")
        jobs_head.addWidget(self.jobs_title)
        jobs_head.addStretch(1)
        for b in (self.retry_button, self.retry_all_button, self.discard_button):
            jobs_head.addWidget(b)
        self.status = label("", "lookupMessage", wrap=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(12)
        layout.addWidget(box)
        layout.addLayout(jobs_head)
        layout.addWidget(self.jobs_table, 1)
        layout.addWidget(self.status)

        self.save_button.clicked.connect(self.save)
        self.test_document.clicked.connect(lambda: self.test_print("document"))
        self.test_label.clicked.connect(lambda: self.test_print("label"))
        self.retry_button.clicked.connect(lambda: self.retry(self.selected_job()))
        self.retry_all_button.clicked.connect(self.retry_all)
        self.discard_button.clicked.connect(self.discard)
        self.jobs_table.itemSelectionChanged.connect(self._update_buttons)
        self._show_settings()
        self._spool_changed = QTimer(self)
        self._spool_changed.setSingleShot(True)
        self._spool_changed.setInterval(self.SPOOL_SETTLE_MS)
        self._spool_changed.timeout.connect(self.refresh_jobs)
        self.spool_watcher = QFileSystemWatcher(self)
        self.spool_watcher.directoryChanged.connect(lambda _path: self._spool_changed.start())
        self.tasks.background(lambda: str(printing.spool_dir()), self._watch, lambda _m: None, owner=self)
        self.refresh()

    def _watch(self, folder: str) -> None:
        if folder not in self.spool_watcher.directories():
            self.spool_watcher.addPath(folder)

    def refresh_jobs(self) -> None:
        """Read the failed prints again (the spool folder changed), leaving the printers list as it is."""
        self.tasks.background(printing.failed_jobs, self._jobs_loaded, self._say_error, owner=self)

    # -- the screen protocol ----------------------------------------------------------------------------

    def save_state(self) -> None:
        pass

    def focus_search(self) -> None:
        self.document_printer.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def refresh(self) -> None:
        self.tasks.background(_printers_and_jobs, self._loaded, self._say_error, owner=self)

    # -- showing -------------------------------------------------------------------------------------------

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("error", "true" if error else "false")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.message.emit(text)
        self.changed.emit()

    def _say_error(self, text: str) -> None:
        self._say(text, error=True)

    def _fill_printers(self, combo: QComboBox, chosen: str) -> None:
        combo.clear()
        combo.addItem(self.tr("(none chosen)"), "")
        for p in self.printers:
            state = "" if p.enabled and p.accepting else self.tr(" — paused") if not p.enabled else self.tr(" — not accepting jobs")
            combo.addItem(p.name + (self.tr(" (default)") if p.is_default else "") + state, p.name)
        if chosen and combo.findData(chosen) < 0:
            combo.addItem(chosen, chosen)
        combo.setCurrentIndex(max(0, combo.findData(chosen)))

    def _show_settings(self) -> None:
        s = self.settings
        self._fill_printers(self.document_printer, s.document_printer)
        self._fill_printers(self.label_printer, s.label_printer)
        self.label_format.setCurrentIndex(max(0, self.label_format.findData(s.label_format)))
        self.label_dpi.setCurrentIndex(max(0, self.label_dpi.findData(s.label_dpi)))
        self.paper.setCurrentIndex(max(0, self.paper.findData(s.paper_size)))

    def _loaded(self, result) -> None:
        printers, problem, jobs = result
        self.printers = printers
        self._show_settings()
        self.printers_note.setText(problem or (self.tr("{n} printers on this computer.").format(n=len(printers)) if printers
                                               else self.tr("No printers are set up on this computer.")))
        self._jobs_loaded(jobs)

    def _jobs_loaded(self, jobs: list[FailedJob]) -> None:
        chosen = self.selected_job()
        self.jobs = jobs
        self.jobs_title.setText(self.tr("Failed prints ({n})").format(n=len(jobs)) if jobs else self.tr("Failed prints — none"))
        self.jobs_table.setRowCount(len(jobs))
        for r, j in enumerate(jobs):
            for c, v in enumerate([j.title, j.printer or self.tr("(none)"), j.error, str(j.attempts), j.created_at.replace("T", " ")[:16]]):
                item = QTableWidgetItem(v)
                item.setToolTip(v)
                self.jobs_table.setItem(r, c, item)
        if jobs:
            ids = [j.id for j in jobs]
            self.jobs_table.selectRow(ids.index(chosen.id) if chosen is not None and chosen.id in ids else 0)
        self._update_buttons()
        self.changed.emit()

    def _update_buttons(self) -> None:
        has = self.selected_job() is not None
        self.retry_button.setEnabled(has)
        self.discard_button.setEnabled(has)
        self.retry_all_button.setEnabled(bool(self.jobs))

    def selected_job(self) -> FailedJob | None:
        rows = self.jobs_table.selectionModel().selectedRows()
        row = rows[0].row() if rows else -1
        return self.jobs[row] if 0 <= row < len(self.jobs) else None

    # -- actions ---------------------------------------------------------------------------------------------

    def chosen(self) -> dict:
        label_printer = self.label_printer.currentData() if self.label_printer.currentText() == self.label_printer.itemText(
            self.label_printer.currentIndex()) else self.label_printer.currentText().strip()
        return {"document_printer": self.document_printer.currentData() or "", "label_printer": label_printer or "",
                "label_format": self.label_format.currentData(), "label_dpi": int(self.label_dpi.currentData()),
                "paper_size": self.paper.currentData()}

    def save(self) -> None:
        for key, value in self.chosen().items():
            setattr(self.settings, key, value)
        settings = self.settings
        self.tasks.background(settings.save, lambda _r: self._say(self.tr("Printers saved for station {s}.").format(
            s=settings.station_name)), self._say_error, owner=self)

    def test_print(self, which: str) -> None:
        for key, value in self.chosen().items():
            setattr(self.settings, key, value)
        settings = self.settings

        def done(outcome: PrintOutcome) -> None:
            self.last_outcome = outcome
            self._say(outcome.summary(), error=not outcome.ok)
            self.refresh()

        self._say(self.tr("Printing a test…"))
        self.tasks.background(lambda: send(test_documents(settings, which)), done, self._say_error, owner=self)

    def retry(self, job: FailedJob | None, printer: str | None = None) -> None:
        if job is None:
            return

        def run():
            printing.retry(job.id, printer)
            sid = carrier_label_shipment(job.reference)
            return PrintOutcome((job.title,), (), (sid,) if sid is not None else ())

        def done(outcome: PrintOutcome) -> None:
            self._say(self.tr("{title} printed.").format(title=job.title))
            self.refresh()
            # A carrier's label that has now printed: its box ships (the order leaves "label ready").
            confirm_printed_labels(self.tasks, outcome, self.actor, None, self._say_error, owner=self)

        def failed(text: str) -> None:
            self._say(text, error=True)
            self.refresh()

        self.tasks.background(run, done, failed, owner=self)

    def retry_all(self) -> None:
        jobs = list(self.jobs)

        def run():
            failed, labels = [], []
            for j in jobs:
                try:
                    printing.retry(j.id)
                except printing.PrintError as exc:
                    failed.append(str(exc))
                else:
                    if carrier_label_shipment(j.reference) is not None:
                        labels.append(carrier_label_shipment(j.reference))
            return len(jobs) - len(failed), failed, tuple(labels)

        def done(result) -> None:
            ok, failed, labels = result
            self._say(self.tr("{ok} printed, {bad} still failing. {why}").format(ok=ok, bad=len(failed), why=" ".join(failed[:1])),
                      error=bool(failed))
            self.refresh()
            confirm_printed_labels(self.tasks, PrintOutcome((), (), labels), self.actor, None, self._say_error, owner=self)

        self.tasks.background(run, done, self._say_error, owner=self)

    def discard(self, confirmed: bool = False) -> None:
        job = self.selected_job()
        if job is None:
            return
        if not confirmed:
            answer = QMessageBox.question(self, self.tr("Discard failed print"),
                                          self.tr("Forget “{title}” for good? It will not be printed.").format(title=job.title))
            if answer != QMessageBox.StandardButton.Yes:
                return

        def done(_r) -> None:
            self._say(self.tr("{title} discarded.").format(title=job.title))
            self.refresh()

        self.tasks.background(lambda: printing.discard(job.id), done, self._say_error, owner=self)
