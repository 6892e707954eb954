"""Settings → Database and backups: where this station's orders are kept (changed for the next start, after a
Test connection), and its backups: where they go, the newest one, and "Back up now"."""

from __future__ import annotations

from desktop.database_choice import DatabaseChoice
from desktop.qt import QHBoxLayout, QLabel, QPushButton, Qt, QVBoxLayout, QWidget, Signal
from desktop.tasks import Tasks
from oms.core import backup, secrets
from oms.core.errors import OmsError
from oms.core.settings import Settings


class DatabasePanel(QWidget):
    message = Signal(str)

    def __init__(self, tasks: Tasks, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("databasePanel")
        self.tasks = tasks
        self.settings = settings
        db = tasks.db
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(10)
        title = QLabel(self.tr("Database"))
        title.setObjectName("sectionTitle")
        now = QLabel(self.tr("In use now: {where}").format(where=db.description))
        now.setObjectName("databaseInUse")
        now.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choice = DatabaseChoice(tasks, settings.database_url)
        self.use = QPushButton(self.tr("&Use from the next start"))
        self.use.setObjectName("useDatabase")
        row = QHBoxLayout()
        row.addWidget(self.use)
        row.addStretch(1)
        backups_title = QLabel(self.tr("Backups"))
        backups_title.setObjectName("sectionTitle")
        self.folder = backup.backup_folder(db.url, settings.backup_folder)
        self.backups = QLabel()
        self.backups.setObjectName("backupState")
        self.backups.setWordWrap(True)
        self.backups.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.backup_now = QPushButton(self.tr("&Back up now"))
        self.backup_now.setObjectName("backupNow")
        brow = QHBoxLayout()
        brow.addWidget(self.backup_now)
        brow.addStretch(1)
        for w in (title, now, self.choice):
            layout.addWidget(w)
        layout.addLayout(row)
        layout.addSpacing(8)
        layout.addWidget(backups_title)
        layout.addWidget(self.backups)
        layout.addLayout(brow)
        layout.addStretch(1)
        self.choice.changed.connect(self._arrange)
        self.use.clicked.connect(self.use_database)
        self.backup_now.clicked.connect(self.back_up)
        self._arrange()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()

    def _arrange(self) -> None:
        self.use.setEnabled(self.choice.complete()
                            and secrets.without_password(self.choice.database_url()) != self.settings.database_url)

    def refresh(self) -> None:
        url, folder = self.tasks.db.url, self.folder

        def state() -> str:
            if backup.sqlite_path(url) is None and not backup.pg_dump_available():
                return self.tr("A shared PostgreSQL database is backed up where its server runs; pg_dump is not "
                               "installed here to make one from this station.")
            found = backup.list_backups(url, folder)
            if not found:
                return self.tr("Backups go to {folder}. None yet: one is made each day while Quayside runs.").format(
                    folder=folder)
            return self.tr("Backups go to {folder}. The newest is of {when}; {n} kept (the last 7 days and 4 weeks).") \
                .format(folder=folder, when=f"{found[-1].taken_at:%Y-%m-%d %H:%M}", n=len(found))

        self.tasks.background(state, self.backups.setText, self.backups.setText, owner=self)

    def use_database(self) -> None:
        try:
            self.settings.database_url = secrets.store_database_password(self.choice.database_url())  # password: keyring
            self.settings.save()
        except (OSError, OmsError) as exc:
            self.message.emit(self.tr("The settings could not be saved: {error}").format(error=exc))
            return
        self._arrange()
        self.message.emit(self.tr("Saved: Quayside opens {where} from the next start.").format(
            where=self.settings.database_url or self.tr("the database on this computer")))

    def back_up(self) -> None:
        url, folder, schema = self.tasks.db.url, self.folder, self.tasks.db.schema
        self.backup_now.setEnabled(False)
        self.message.emit(self.tr("Backing up…"))

        def done(report) -> None:
            self.backup_now.setEnabled(True)
            self.message.emit(self.tr("Backed up: {name}.").format(name=report.path.name))  # the folder is on screen
            self.refresh()

        def failed(text: str) -> None:
            self.backup_now.setEnabled(True)
            self.message.emit(self.tr("No backup was made: {error}").format(error=text))

        self.tasks.background(lambda: backup.backup(url, folder, schema=schema), done, failed, owner=self)
