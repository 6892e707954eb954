"""A morning after a power cut: the station's database file is damaged, and Quayside offers yesterday's backup.

The supervisor is not a developer: the start-up check finds the damage before anything reads the file, says so in
words, and offers to restore the latest backup with one key. After the restore the window opens with the orders of
the backup, the damaged file is kept beside it, and the integrity check of ``check`` finds the database clean.
"""

from __future__ import annotations

import shutil
import sqlite3

from PySide6.QtWidgets import QApplication, QMessageBox

from oms.core import backup
from oms import check as integrity
from tests.journeys.conftest import Machine, Station, _process_until, _stop_app


def _damage(path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size = path.stat().st_size
    with open(path, "r+b") as f:
        for page in range(5, size // 4096, 3):
            f.seek(page * 4096 + 200)
            f.write(b"\x00\xffpower cut\xff" * 40)


def test_a_damaged_database_is_found_at_start_and_the_backup_restored_by_keyboard(_homes, qtbot):
    from desktop import app as desktop_app
    from main import build_parser

    home, template = _homes
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home, symlinks=True)
    with Machine(home) as machine:
        path = machine.database_path
        url = f"sqlite:///{path}"
        taken = backup.backup(url, backup.backup_folder(url))  # last night's backup
        _damage(path)
        assert backup.check_database(url), "the damage should be visible to SQLite"

        running = desktop_app.start(build_parser().parse_args([]))
        assert running.code is None
        station = Station(running, machine, qtbot)
        try:
            def asking():
                return next((w for w in QApplication.topLevelWidgets()
                             if isinstance(w, QMessageBox) and w.isVisible() and w.objectName() == "damagedDatabase"), None)

            station.wait_for(asking, "Quayside to say the database is damaged", timeout=30)
            box = asking()
            assert f"The database {path} is damaged" in box.text()
            latest = backup.list_backups(url, taken.path.parent)[-1]
            assert f"Restore the latest backup, taken {latest.taken_at:%Y-%m-%d %H:%M}?" in box.text()
            station.wait_for(lambda: QApplication.activeWindow() is box, "the question to take the keyboard")
            assert station.focused() is station.button("Restore the backup")
            station.key("Return")

            def up() -> bool:
                w = running.window
                return bool(w is not None and w.isVisible() and w.queue.model.rowCount() > 0)

            assert _process_until(up, 120), "the window did not open after the restore"
            station.wait_for(lambda: QApplication.activeWindow() is running.window, "the window to take the keyboard")
        finally:
            _stop_app(running)
        assert backup.check_database(url) == []
        assert list(path.parent.glob(f"{path.name}.before-restore-*")), "the damaged file is kept"
        from oms.core.db import Database

        db = Database(url)
        try:
            with db.read() as s:
                assert integrity.run(s) == []
        finally:
            db.dispose()
