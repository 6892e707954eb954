"""Application start: --smoke on a real database, a database it must refuse, and first start with demo data."""

import functools
import os
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

from PySide6.QtCore import QSettings
from sqlalchemy import text

from desktop import app as desktop_app
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import seed
from oms.core.db import Database
from oms.core.settings import Settings
from oms.partners import edi_queries

ROOT = Path(__file__).resolve().parents[2]


def run_main(tmp_path, *args):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OMS_CONFIG_DIR=str(tmp_path / "config"),
               XDG_CONFIG_HOME=str(tmp_path / "xdg"), HOME=str(tmp_path))
    env.pop("OMS_DATABASE_URL", None)
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_smoke_starts_shows_rows_and_exits_zero(tmp_path, demo_db):
    result = run_main(tmp_path, "--db", demo_db.url, "--smoke")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("smoke ok: SQLite") and "120 orders in the queue" in result.stdout


def test_smoke_fails_on_an_empty_database_without_demo_data(tmp_path):
    result = run_main(tmp_path, "--db", f"sqlite:///{tmp_path / 'empty.sqlite3'}", "--smoke", "--no-seed")
    assert result.returncode == 1
    assert "smoke FAILED: the queue shows no orders" in result.stderr


def test_a_newer_database_is_refused_with_a_clear_message(tmp_path, sqlite_db):
    with sqlite_db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    result = run_main(tmp_path, "--db", sqlite_db.url, "--smoke")
    assert result.returncode == 1
    assert "newer version of Quayside" in result.stderr and "Traceback" not in result.stderr


def test_first_start_seeds_off_the_gui_thread_with_progress(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(desktop_app, "DEMO_ORDERS", 12)
    monkeypatch.setattr(seed, "master_data", functools.partial(seed.master_data, products=40))
    monkeypatch.setattr(desktop_app.Startup, "_start_sync", lambda self: None)  # the demo shop: test_sync_screens
    db = Database(f"sqlite:///{tmp_path / 'first.sqlite3'}")
    tasks = Tasks(db)  # real worker threads, as in the app
    state = WindowState(QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    startup = desktop_app.Startup(Namespace(db=db.url, smoke=False, no_seed=False), Settings(station_name="t"), db, tasks, state)
    progress = []
    startup.progress.connect(lambda done, total: progress.append((done, total)))
    startup.begin()
    assert startup.splash.isVisible()
    qtbot.waitUntil(lambda: startup.window is not None, timeout=60_000)
    window = startup.window
    qtbot.addWidget(window)
    # The 12 demo orders, and the 3 purchase orders the demo trading partner ACME sent by EDI (a fourth was refused).
    qtbot.waitUntil(lambda: window.queue.model.rowCount() == 12 + 3, timeout=10_000)
    assert progress[-1] == (12, 12) and not startup.splash.isVisible()
    assert seed.is_seeded(db)
    with db.read() as s:
        assert edi_queries.status_counts(s, edi_queries.DocumentFilter()) == {"accepted": 3, "rejected": 1, "queued": 7}
    window.close()
    tasks.shutdown()
    db.dispose()


def test_a_running_station_backs_itself_up_once_a_day(qtbot, tmp_path, monkeypatch, sqlite_db):
    from oms.core import backup

    monkeypatch.setattr(desktop_app, "FIRST_BACKUP_DELAY_MS", 50)
    monkeypatch.setattr(desktop_app, "BACKUP_CHECK_MS", 100)  # the hourly check, every tenth of a second
    monkeypatch.setattr(desktop_app.Startup, "_start_sync", lambda self: None)
    tasks = Tasks(sqlite_db)
    state = WindowState(QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    startup = desktop_app.Startup(Namespace(db=sqlite_db.url, smoke=False, no_seed=True), Settings(station_name="t"),
                                  sqlite_db, tasks, state)
    startup.begin()
    qtbot.waitUntil(lambda: startup.window is not None, timeout=30_000)
    qtbot.addWidget(startup.window)
    folder = tmp_path / "backups"  # beside the database file
    qtbot.waitUntil(lambda: len(backup.list_backups(sqlite_db.url, folder)) == 1, timeout=10_000)
    (made,) = backup.list_backups(sqlite_db.url, folder)
    assert backup.integrity_problems(made.path) == []
    qtbot.wait(600)  # several more checks within the same day
    assert len(backup.list_backups(sqlite_db.url, folder)) == 1
    startup.window.close()
    tasks.shutdown()
