"""The Help menu: "Copy diagnostics" for support, and the About box (version, libraries and licences, folders)."""

from __future__ import annotations

import platform

import PySide6

from desktop.qt import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QObject,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    qVersion,
)
from desktop.tasks import Tasks
from oms.station import about
from oms.station import diagnostics
from oms.core.settings import Settings
from sync.diagnostics import connection_secrets


class HelpMenu(QObject):
    """Adds Help to the window's menu bar (Alt+H): Copy diagnostics, About Quayside."""

    def __init__(self, window: QMainWindow, tasks: Tasks, settings: Settings, show_message) -> None:
        super().__init__(window)
        self.window = window
        self.tasks = tasks
        self.settings = settings
        self.show_message = show_message
        menu = window.menuBar().addMenu(self.tr("&Help"))
        menu.setObjectName("helpMenu")
        self.menu = menu
        self.copy_action = menu.addAction(self.tr("Copy &diagnostics"))
        self.copy_action.setObjectName("copyDiagnostics")
        self.copy_action.setToolTip(self.tr("Copy what support needs to know to the clipboard, without any password or token"))
        self.copy_action.triggered.connect(self.copy_diagnostics)
        menu.addSeparator()
        self.about_action = menu.addAction(self.tr("&About Quayside"))
        self.about_action.setObjectName("aboutQuayside")
        self.about_action.triggered.connect(self.show_about)
        self.about_box: AboutDialog | None = None

    # -- diagnostics: facts from the database on its worker, the rest (CUPS, keyring, log file) on the pool

    def copy_diagnostics(self) -> None:
        self.show_message(self.tr("Gathering the diagnostics…"))
        db = self.tasks.db
        head = db.head_revision()
        description = db.description

        def facts(session):
            return diagnostics.database_facts(session, description=description, head=head)

        self.tasks.read(facts, self._compose, self._failed, owner=self.window)

    def _compose(self, facts) -> None:
        screen = QApplication.primaryScreen()
        extra = {
            "Qt": f"{qVersion()} (PySide6 {PySide6.__version__}, {QApplication.platformName()})",
            self.tr("Screen"): f"{screen.size().width()}x{screen.size().height()}" if screen else "-",
            self.tr("Computer"): platform.node(),
        }
        settings = self.settings

        def report() -> str:
            return diagnostics.report(facts, settings, secrets=connection_secrets(facts.connectors), extra=extra)

        self.tasks.background(report, self._copied, self._failed, owner=self.window)

    def _copied(self, text: str) -> None:
        QApplication.clipboard().setText(text)
        self.show_message(self.tr("Diagnostics copied to the clipboard ({n} lines, no passwords or tokens): paste them "
                                  "into your message to support.").format(n=text.count("\n")))

    def _failed(self, message: str) -> None:
        self.show_message(self.tr("The diagnostics could not be gathered: {error}").format(error=message))

    # -- about

    def show_about(self) -> None:
        if self.about_box is None:
            self.about_box = AboutDialog(self.tasks, self.window)
        self.about_box.show()
        self.about_box.raise_()
        self.about_box.activateWindow()


class AboutDialog(QDialog):
    """Version, data folders, and every library shipped with its licence (read off the GUI thread)."""

    def __init__(self, tasks: Tasks, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(self.tr("About Quayside"))
        self.resize(720, 560)
        layout = QVBoxLayout(self)
        title = QLabel(self.tr("Quayside {version}").format(version=about.version()))
        title.setObjectName("aboutTitle")
        layout.addWidget(title)
        blurb = QLabel(self.tr("Order management for warehouses and customer service. Built with Qt {qt} (LGPL-3.0) "
                               "through PySide6, on Python {py}.").format(qt=qVersion(), py=platform.python_version()))
        blurb.setWordWrap(True)
        layout.addWidget(blurb)
        form = QFormLayout()
        for name, path in about.folders().items():
            value = QLabel(str(path))
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(name + ":", value)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("Libraries shipped with Quayside, and their licences:")))
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("aboutLibraries")
        self.table.setHorizontalHeaderLabels([self.tr("Library"), self.tr("Version"), self.tr("Licence")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        tasks.background(about.libraries, self._fill, lambda _m: None, owner=self)

    def _fill(self, libraries) -> None:
        self.table.setRowCount(len(libraries))
        for row, lib in enumerate(libraries):
            for col, value in enumerate((lib.name, lib.version, lib.licence)):
                item = QTableWidgetItem(value)
                if col == 0 and lib.home:
                    item.setToolTip(lib.home)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
