"""Where the orders are kept, as a person chooses it: a file on this computer, or a shared PostgreSQL server that
must pass "Test connection" (oms.db_probe) first. Used by the first-run wizard and by Settings."""

from __future__ import annotations

from desktop.qt import QButtonGroup, QLabel, QLineEdit, QPushButton, QRadioButton, QVBoxLayout, QWidget, Signal
from desktop.tasks import Tasks
from oms.core import db_probe
from oms.core.db import default_sqlite_path


class DatabaseChoice(QWidget):
    changed = Signal()  # the choice, the address or its test result changed: ``complete()`` may differ

    def __init__(self, tasks: Tasks, current_url: str = "", parent=None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.local = QRadioButton(self.tr("On this &computer, in {path}").format(path=default_sqlite_path()))
        self.local.setObjectName("databaseLocal")
        self.shared = QRadioButton(self.tr("On a &shared PostgreSQL server"))
        self.shared.setObjectName("databaseShared")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.shared)
        self.url = QLineEdit(current_url)
        self.url.setObjectName("databaseUrl")
        self.url.setPlaceholderText("postgresql://user:password@server/quayside")
        self.test = QPushButton(self.tr("&Test connection"))
        self.test.setObjectName("testConnection")
        self.verdict = QLabel()
        self.verdict.setObjectName("connectionVerdict")
        self.verdict.setWordWrap(True)
        for w in (self.local, self.shared, self.url, self.test, self.verdict):
            layout.addWidget(w)
        (self.shared if current_url else self.local).setChecked(True)
        self._ok_for: str | None = current_url or None  # the address in use has proved itself by being in use
        self.local.toggled.connect(self._arrange)
        self.url.textChanged.connect(self._arrange)
        self.url.returnPressed.connect(self.test_connection)
        self.test.clicked.connect(self.test_connection)
        self._arrange()

    def _arrange(self) -> None:
        shared = self.shared.isChecked()
        self.url.setEnabled(shared)
        self.test.setEnabled(shared and bool(self.url.text().strip()))
        if self._ok_for is not None and self._ok_for != self.url.text().strip():
            self._ok_for = None
            self.verdict.clear()
        self.changed.emit()

    def test_connection(self) -> None:
        url = self.url.text().strip()
        if not url or not self.shared.isChecked():
            return
        self.verdict.setText(self.tr("Connecting to the server…"))
        self.test.setEnabled(False)

        def done(result) -> None:
            self.test.setEnabled(True)
            self.verdict.setText(result.message)
            self.verdict.setProperty("state", "ok" if result.ok else "error")
            self.verdict.style().polish(self.verdict)
            self._ok_for = url if result.ok and self.url.text().strip() == url else None
            self.changed.emit()

        self.tasks.background(lambda: db_probe.probe(url), done, lambda m: done(db_probe.Probe(False, m)), owner=self)

    def database_url(self) -> str:
        """The setting: empty for the file on this computer."""
        return self.url.text().strip() if self.shared.isChecked() else ""

    def complete(self) -> bool:
        return self.local.isChecked() or (self._ok_for is not None and self._ok_for == self.url.text().strip())
