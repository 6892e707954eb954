"""The first-run wizard: on a station with no settings file, ask what a supervisor knows and a developer would
otherwise put in a file — the station's name and role, its database, its printers, whether the scanner reads
right, and demo data or an empty start. Its defaults (this computer's name, packing, a local SQLite file, no
printers, demo data) lead to the same first start as before the wizard existed: Return on every page.

Every answer lands in the settings file (oms.settings), where Settings and Printing change it later. Slow work
(connecting to a server, asking CUPS, printing a test) runs on the task pool, never on the GUI thread.
"""

from __future__ import annotations

import io

from desktop import roles
from desktop.database_choice import DatabaseChoice
from desktop.print_jobs import send, test_documents
from desktop.qt import (
    QButtonGroup,
    QComboBox,
    QCoreApplication,
    QEvent,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPixmap,
    QPushButton,
    QRadioButton,
    Qt,
    QVBoxLayout,
    QWizard,
    QWizardPage,
    Signal,
)
from desktop.tasks import Tasks
from oms import printing
from oms.core import secrets
from oms.core.settings import Settings

# Letters that keyboard layouts move (y/z on German, a/q and digits on French), a dash and mixed case: a scanner set
# to another layout than the computer's reads this wrong in a way that tells which.
SCAN_TEST = "QZy-7aW4"


def needed(args) -> bool:
    """A first start: no settings file yet, and no database given on the command line or in the environment."""
    import os

    if getattr(args, "smoke", False) or getattr(args, "db", None) or os.environ.get("OMS_DATABASE_URL"):
        return False
    return not Settings.path().exists()


def _t(text: str) -> str:
    return QCoreApplication.translate("FirstRun", text)


def garbled(expected: str, got: str) -> str:
    """Why a scan came out as ``got``: in words a supervisor can act on; empty when it is right."""
    if got == expected:
        return ""
    if got == expected.translate(str.maketrans("yzYZ", "zyZY")):
        return _t("The scanner swaps Y and Z: it types as on a German (QWERTZ) keyboard. Set the scanner's keyboard "
                  "language to this computer's (the scanner's manual has a barcode for it).")
    if got.swapcase() == expected:
        return _t("Upper and lower case come out swapped: Caps Lock is on, or the scanner's case setting is inverted.")
    if any(c in got for c in "àé&\"'(§è!ç") or got.translate(str.maketrans("aqAQwzWZ", "qaQAzwZW")) == expected:
        return _t("The scanner types as on a French (AZERTY) keyboard. Set the scanner's keyboard language to this "
                  "computer's.")
    if got.lower() == expected.lower():
        return _t("The letters come out in the wrong case: check Caps Lock and the scanner's case setting.")
    return _t("The scanner typed {got!r} for {expected!r}. Check the scanner's keyboard language and its prefix and "
              "suffix.").format(got=got, expected=expected)


def _barcode_png(value: str) -> bytes:
    import barcode
    from barcode.writer import ImageWriter

    out = io.BytesIO()
    barcode.get("code128", value, writer=ImageWriter()).write(
        out, options={"module_width": 0.4, "module_height": 14, "font_size": 10, "text_distance": 4, "quiet_zone": 4})
    return out.getvalue()


class StationPage(QWizardPage):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.setObjectName("stationPage")
        self.setTitle(self.tr("This station"))
        self.setSubTitle(self.tr("The name shows on every label, pick list and change this station makes."))
        form = QFormLayout(self)
        self.name = QLineEdit(settings.station_name)
        self.name.setObjectName("stationName")
        self.name.setMaxLength(64)
        self.role = QComboBox()
        self.role.setObjectName("stationRole")
        roles.fill(self.role, settings.station_role)
        form.addRow(self.tr("Station na&me:"), self.name)  # Alt+N is Next
        form.addRow(self.tr("What it is f&or:"), self.role)
        self.name.textChanged.connect(self.completeChanged)

    def isComplete(self) -> bool:  # noqa: N802 (Qt override)
        return bool(self.name.text().strip())


class DatabasePage(QWizardPage):
    """A file on this computer, or a shared PostgreSQL server that must pass "Test connection" first."""

    def __init__(self, tasks: Tasks) -> None:
        super().__init__()
        self.setObjectName("databasePage")
        self.setTitle(self.tr("Where the orders are kept"))
        self.setSubTitle(self.tr("One station on its own keeps them in a file on this computer. Several stations share "
                                 "one PostgreSQL server."))
        layout = QVBoxLayout(self)
        self.choice = DatabaseChoice(tasks)
        self.shared = self.choice.shared
        layout.addWidget(self.choice)
        layout.addStretch(1)
        self.choice.changed.connect(self.completeChanged)

    def database_url(self) -> str:
        return self.choice.database_url()

    def isComplete(self) -> bool:  # noqa: N802 (Qt override)
        return self.choice.complete()


class PrintersPage(QWizardPage):
    """The document printer (a CUPS queue) and the label printer (a CUPS queue or a ZPL printer at IP:9100)."""

    def __init__(self, tasks: Tasks, settings: Settings) -> None:
        super().__init__()
        self.setObjectName("printersPage")
        self.tasks = tasks
        self.settings = settings
        self.setTitle(self.tr("Printers"))
        self.setSubTitle(self.tr("Leave a printer empty to choose it later on the Printing screen."))
        form = QFormLayout(self)
        self.document = QComboBox()
        self.document.setObjectName("wizardDocumentPrinter")
        self.document.addItem(self.tr("(none yet)"), "")
        self.label = QComboBox()
        self.label.setObjectName("wizardLabelPrinter")
        self.label.setEditable(True)
        self.label.lineEdit().setPlaceholderText(self.tr("a CUPS queue, or socket://192.168.1.50:9100"))
        self.format = QComboBox()
        self.format.setObjectName("wizardLabelFormat")
        self.format.addItem(self.tr("ZPL (thermal label printer)"), "zpl")
        self.format.addItem(self.tr("PDF (any printer)"), "pdf")
        self.test_document = QPushButton(self.tr("Print a test &page"))
        self.test_label = QPushButton(self.tr("Print a &test label"))
        self.test_label.setObjectName("testLabel")
        self.result = QLabel()
        self.result.setObjectName("printResult")
        self.result.setWordWrap(True)
        form.addRow(self.tr("&Documents:"), self.document)
        form.addRow("", self.test_document)
        form.addRow(self.tr("&Labels:"), self.label)  # Alt+B is Back
        form.addRow(self.tr("Label lan&guage:"), self.format)
        form.addRow("", self.test_label)
        form.addRow(self.result)
        self.test_document.clicked.connect(lambda: self._test("document"))
        self.test_label.clicked.connect(lambda: self._test("label"))
        self.tasks.background(printing.list_printers, self._listed, lambda m: self.result.setText(m), owner=self)

    def _listed(self, printers) -> None:
        for p in printers:
            self.document.addItem(p.name, p.name)
            self.label.addItem(p.name)
        if not printers:
            self.result.setText(self.tr("CUPS has no printers on this computer yet; a network label printer can still "
                                        "be named by its address."))
        self.label.setCurrentText("")

    def apply(self, settings: Settings) -> None:
        settings.document_printer = self.document.currentData() or ""
        settings.label_printer = self.label.currentText().strip()
        settings.label_format = self.format.currentData()

    def _test(self, which: str) -> None:
        trial = Settings(**{**self.settings.__dict__})
        self.apply(trial)
        trial.station_name = self.wizard().station.name.text().strip() or trial.station_name  # as typed a page ago
        if not (trial.label_printer if which == "label" else trial.document_printer):
            self.result.setText(self.tr("Choose the printer first."))
            return
        self.result.setText(self.tr("Printing…"))
        self.tasks.background(lambda: send(test_documents(trial, which)), lambda o: self.result.setText(o.summary()),
                              self.result.setText, owner=self)


class ScanField(QLineEdit):
    """Takes the scanner's Enter (or Tab, as some scanners end a read) for itself, so a scan does not also press the
    wizard's Next or move on."""

    scanned = Signal(str)

    def event(self, event) -> bool:  # Tab never reaches keyPressEvent: focus changes are decided before it
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab and self.text():
            self.scanned.emit(self.text())
            self.clear()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.text():
            self.scanned.emit(self.text())
            self.clear()
            event.accept()
            return
        super().keyPressEvent(event)


class ScannerPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("scannerPage")
        self.setTitle(self.tr("The scanner"))
        self.setSubTitle(self.tr("Scan the barcode on this screen. (No scanner at hand? Go on: this can be tried later.)"))
        layout = QVBoxLayout(self)
        picture = QLabel()
        picture.setObjectName("scanTestBarcode")
        pixmap = QPixmap()
        pixmap.loadFromData(_barcode_png(SCAN_TEST))
        picture.setPixmap(pixmap)
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.field = ScanField()
        self.field.setObjectName("scanTestField")
        self.field.setPlaceholderText(self.tr("the scanner types here"))
        self.read = QLabel()
        self.read.setObjectName("scanTestResult")
        self.read.setWordWrap(True)
        for w in (picture, self.field, self.read):
            layout.addWidget(w)
        layout.addStretch(1)
        self.field.scanned.connect(self._scanned)

    def initializePage(self) -> None:  # noqa: N802 (Qt override)
        self.field.setFocus()  # where the scanner's keys go; the person does nothing but scan

    def _scanned(self, text: str) -> None:
        problem = garbled(SCAN_TEST, text)
        self.read.setProperty("state", "error" if problem else "ok")
        self.read.style().polish(self.read)
        if problem:
            self.read.setText(self.tr("Read: {got}\n{problem}").format(got=text, problem=problem))
        else:
            self.read.setText(self.tr("Read: {got} — right. The scanner and this computer agree.").format(got=text))


class StartPage(QWizardPage):
    """Demo data, or empty with (optionally) the products from a CSV file, checked here before Finish is allowed."""

    def __init__(self, tasks: Tasks) -> None:
        super().__init__()
        self.setObjectName("startPage")
        self.tasks = tasks
        self.setTitle(self.tr("How to begin"))
        layout = QVBoxLayout(self)
        self.demo = QRadioButton(self.tr("With &demo data: three warehouses, 500 products and 300 orders, and a demo shop "
                                         "and carrier, to learn Quayside on"))
        self.demo.setObjectName("startDemo")
        self.empty = QRadioButton(self.tr("&Empty, for real work: connect the shops next"))
        self.empty.setObjectName("startEmpty")
        group = QButtonGroup(self)
        group.addButton(self.demo)
        group.addButton(self.empty)
        self.demo.setChecked(True)
        self.csv = QLineEdit()
        self.csv.setObjectName("productsFile")
        self.csv.setPlaceholderText(self.tr("products from a CSV file (SKU, title, barcodes, bin, stock): its path"))
        self.browse = QPushButton(self.tr("&Choose file…"))
        self.csv_result = QLabel()
        self.csv_result.setObjectName("productsFileResult")
        self.csv_result.setWordWrap(True)
        note = QLabel(self.tr("A database that already holds orders is opened as it is, whatever is chosen here."))
        note.setWordWrap(True)
        for w in (self.demo, self.empty, self.csv, self.browse, self.csv_result, note):
            layout.addWidget(w)
        layout.addStretch(1)
        self._checked_file: str | None = None  # the path whose contents passed the check
        self.rows = None
        self.demo.toggled.connect(self._arrange)
        self.csv.textChanged.connect(self._arrange)
        self.csv.editingFinished.connect(self._check_file)
        self.browse.clicked.connect(self._choose)
        self._arrange()

    def _arrange(self) -> None:
        empty = self.empty.isChecked()
        self.csv.setEnabled(empty)
        self.browse.setEnabled(empty)
        if self._checked_file is not None and self._checked_file != self.csv.text().strip():
            self._checked_file, self.rows = None, None
            self.csv_result.clear()
        self.completeChanged.emit()

    def _choose(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, self.tr("Products to import"), "",
                                                    self.tr("CSV files (*.csv *.txt);;All files (*)"))
        if path:
            self.csv.setText(path)
            self._check_file()

    def _check_file(self) -> None:
        path = self.csv.text().strip()
        if not path or path == self._checked_file:
            return
        self.csv_result.setText(self.tr("Reading {path}…").format(path=path))

        def read():
            from pathlib import Path

            from oms.product_import import read_products

            return read_products(Path(path).expanduser().read_text(encoding="utf-8-sig"))

        def done(rows) -> None:
            if self.csv.text().strip() != path:
                return
            self._checked_file, self.rows = path, rows
            units = sum(r.stock for r in rows)
            self.csv_result.setProperty("state", "ok")
            self.csv_result.setText(self.tr("{n} products with {units} units in stock, ready to import at the start.")
                                    .format(n=len(rows), units=units))
            self.completeChanged.emit()

        def failed(message: str) -> None:
            if self.csv.text().strip() != path:
                return
            self._checked_file, self.rows = None, None
            self.csv_result.setProperty("state", "error")
            self.csv_result.setText(message)
            self.completeChanged.emit()

        self.tasks.background(read, done, failed, owner=self)

    def products(self):
        """The checked rows to import at the start, or None."""
        return self.rows if self.empty.isChecked() and self.csv.text().strip() else None

    def isComplete(self) -> bool:  # noqa: N802 (Qt override)
        if self.demo.isChecked() or not self.csv.text().strip():
            return True
        return self._checked_file == self.csv.text().strip() and self.rows is not None


class FirstRunWizard(QWizard):
    """Asks, then saves the settings file; ``finished`` tells the start-up to go on (accepted) or stop."""

    def __init__(self, tasks: Tasks) -> None:
        super().__init__()
        self.setObjectName("firstRunWizard")
        self.setWindowTitle(self.tr("Set up this Quayside station"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.resize(720, 480)
        self.settings = Settings()
        self.station = StationPage(self.settings)
        self.database = DatabasePage(tasks)
        self.printers = PrintersPage(tasks, self.settings)
        self.scanner = ScannerPage()
        self.start = StartPage(tasks)
        for page in (self.station, self.database, self.printers, self.scanner, self.start):
            self.addPage(page)

    def result_settings(self) -> Settings:
        s = self.settings
        s.station_name = self.station.name.text().strip()
        s.station_role = self.station.role.currentData()
        s.database_url = secrets.store_database_password(self.database.database_url())  # its password: keyring
        self.printers.apply(s)
        s.demo_data = self.start.demo.isChecked()
        return s
