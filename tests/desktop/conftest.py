"""Desktop fixtures: window state in a temporary file, a seeded demo database, tasks that run at once."""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timezone

import pytest
from PySide6.QtCore import QSettings

from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import seed
from oms.core.db import Database

DEMO_NOW = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _private_qsettings(tmp_path_factory):
    """Tests never read or write the user's own window state."""
    path = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(path))
    yield


@pytest.fixture
def window_state(tmp_path):
    return WindowState(QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat))


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    seed.master_data(db, rng=random.Random(7), products=80)
    seed.demo_orders(db, 120, rng=random.Random(11), now=DEMO_NOW)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def demo_db(tmp_path, _demo_template):
    """A copy of a seeded demo database: 80 products, 120 orders in every state."""
    path = tmp_path / "demo.sqlite3"
    shutil.copy(_demo_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture
def tasks(demo_db, qapp):
    t = Tasks(demo_db, immediate=True)
    yield t
    t.shutdown()
