"""Backups, rotation and restores: real SQLite files through the backup API, pg_dump against the real server."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from oms.core import backup
from oms.core.errors import InvalidInput, OmsError
from oms.catalog.models import Product
from oms.inventory.models import StockMovement
from tests.conftest import stock

ROOT = Path(__file__).resolve().parents[2]


def _movements(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(StockMovement))


def _corrupt(path: Path) -> None:
    """Scribble over the pages after the first few, as a failing disk or a killed copy would leave them."""
    size = path.stat().st_size
    assert size > 8 * 4096, "the database is too small to damage convincingly"
    with open(path, "r+b") as f:
        for page in range(3, size // 4096, 2):
            f.seek(page * 4096 + 100)
            f.write(b"\xde\xad\xbe\xef" * 200)


# -- rotation ------------------------------------------------------------------------------------------------

times = st.lists(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1)), min_size=1, max_size=80,
                 unique=True)


@given(times, st.integers(1, 10), st.integers(0, 6))
@settings(max_examples=300, deadline=None)
def test_rotation_keeps_the_newest_of_each_recent_day_and_week_and_nothing_else(stamps, daily, weekly):
    keep = backup.to_keep(stamps, daily, weekly)
    assert max(stamps) in keep
    assert keep <= set(stamps) and len(keep) <= daily + weekly
    days = sorted({t.date() for t in stamps}, reverse=True)
    for day in days[:daily]:
        assert max(t for t in stamps if t.date() == day) in keep
    weeks = sorted({tuple(t.isocalendar())[:2] for t in stamps}, reverse=True)
    for week in weeks[:weekly]:
        assert max(t for t in stamps if tuple(t.isocalendar())[:2] == week) in keep
    for t in keep:  # everything kept is the newest of its day or of its week
        same_day = [u for u in stamps if u.date() == t.date()]
        same_week = [u for u in stamps if tuple(u.isocalendar())[:2] == tuple(t.isocalendar())[:2]]
        assert t == max(same_day) or t == max(same_week)
    assert backup.to_keep(keep, daily, weekly) == keep  # rotating twice removes nothing more


def test_two_months_of_backups_rotate_to_seven_days_and_four_weeks(sqlite_db, tmp_path):
    folder = tmp_path / "backups"
    start = datetime(2026, 10, 1, 3, 0)
    for day in range(60):
        for hour in (0, 9):  # the one at start-up and the one later in the day
            backup.backup(sqlite_db.url, folder, now=start + timedelta(days=day, hours=hour))
    kept = [b.taken_at for b in backup.list_backups(sqlite_db.url, folder)]
    last = start + timedelta(days=59, hours=9)
    assert kept[-7:] == [last - timedelta(days=d) for d in range(6, -1, -1)]  # the last 7 days, the later one each
    older = kept[:-7]
    assert len(older) <= 4 and all(t.hour == 12 and t.isoweekday() == 7 for t in older), older  # Sundays: end of a week
    assert len(list(folder.iterdir())) == len(kept)  # nothing else left behind (no partial files)


# -- backup and restore --------------------------------------------------------------------------------------


def test_backup_while_a_session_is_open_and_restore_brings_that_moment_back(world, tmp_path):
    if world.dialect != "sqlite":
        pytest.skip("SQLite backup API")
    stock(world, "MUG-RED", "RNO", 10)
    folder = tmp_path / "backups"
    with world.read() as s:  # a reader holding a snapshot does not stop the backup
        s.execute(text("SELECT 1")).all()
        report = backup.backup(world.url, folder)
    assert report.path.exists() and backup.integrity_problems(report.path) == []
    assert not report.path.with_name(report.path.name + "-wal").exists()
    before = _movements(world)
    stock(world, "MUG-RED", "RNO", 5)
    assert _movements(world) == before + 1
    world.dispose()

    result = backup.restore(world.url, report.path)
    assert result.saved_previous is not None and result.saved_previous.exists()
    assert _movements(world) == before  # the receipt after the backup is gone with the restore
    with world.read() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 3
    # what was replaced is kept, whole: the later receipt is in it
    saved = sqlite3.connect(result.saved_previous)
    assert saved.execute("SELECT count(*) FROM stock_movement").fetchone()[0] == before + 1
    saved.close()


def test_a_damaged_backup_is_refused_and_the_database_left_alone(world, tmp_path):
    if world.dialect != "sqlite":
        pytest.skip("SQLite backup API")
    for i in range(40):
        stock(world, "MUG-RED", "RNO", 1 + i)
    report = backup.backup(world.url, tmp_path / "backups")
    _corrupt(report.path)
    stock(world, "MUG-BLU", "RNO", 3)
    before = _movements(world)
    with pytest.raises(backup.IntegrityError, match="is damaged and was not restored"):
        backup.restore(world.url, report.path)
    assert _movements(world) == before
    assert not list(Path(backup.sqlite_path(world.url)).parent.glob("*.before-restore-*"))


def test_a_backup_from_a_newer_quayside_or_not_quayside_is_refused(sqlite_db, tmp_path):
    report = backup.backup(sqlite_db.url, tmp_path / "b")
    conn = sqlite3.connect(report.path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.close()
    with pytest.raises(InvalidInput, match=r"newer version of Quayside \(schema 9999_from_the_future\)"):
        backup.restore(sqlite_db.url, report.path)

    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(InvalidInput, match="is not a Quayside database backup"):
        backup.restore(sqlite_db.url, other)
    with pytest.raises(InvalidInput, match="is the database itself"):
        backup.restore(sqlite_db.url, backup.sqlite_path(sqlite_db.url))


def test_restore_over_a_database_too_damaged_to_open(world, tmp_path):
    if world.dialect != "sqlite":
        pytest.skip("SQLite backup API")
    stock(world, "MUG-RED", "RNO", 10)
    report = backup.backup(world.url, tmp_path / "backups")
    world.dispose()
    path = backup.sqlite_path(world.url)
    with open(path, "r+b") as f:
        f.write(b"this is no longer a database header")
    assert backup.check_database(world.url)  # the start-up check sees it
    result = backup.restore(world.url, report.path)
    assert backup.check_database(world.url) == []
    assert result.saved_previous.read_bytes().startswith(b"this is no longer")  # the damaged bytes kept as they were
    assert _movements(world) == 1


def test_startup_check_finds_damage_and_nothing_in_a_sound_or_new_database(world, tmp_path):
    if world.dialect != "sqlite":
        assert backup.check_database(world.url) == []
        return
    assert backup.check_database(world.url) == []
    assert backup.check_database(f"sqlite:///{tmp_path / 'not-yet.sqlite3'}") == []
    for i in range(60):
        stock(world, "MUG-RED", "RNO", 1 + i)
    world.dispose()
    with world.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    world.dispose()
    _corrupt(backup.sqlite_path(world.url))
    assert backup.check_database(world.url)


def test_backup_if_due_makes_one_a_day(sqlite_db, tmp_path):
    folder = tmp_path / "b"
    morning = datetime(2026, 12, 1, 8, 0)
    assert backup.backup_if_due(sqlite_db.url, folder, now=morning) is not None
    assert backup.backup_if_due(sqlite_db.url, folder, now=morning + timedelta(hours=23)) is None
    assert backup.backup_if_due(sqlite_db.url, folder, now=morning + timedelta(hours=24, seconds=1)) is not None
    assert len(backup.list_backups(sqlite_db.url, folder)) == 2


@pytest.mark.postgres
def test_postgresql_backup_through_pg_dump(db, tmp_path):
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    if not backup.pg_dump_available():
        pytest.skip("pg_dump is not installed")
    with db.write() as s:
        s.execute(text("SELECT 1"))
    report = backup.backup(db.url, tmp_path / "pg", schema=db.schema)
    listing = subprocess.run(["pg_restore", "--list", str(report.path)], capture_output=True, text=True, check=True).stdout
    assert f"TABLE {db.schema} sales_order" in listing and f"TABLE DATA {db.schema} stock_movement" in listing
    with pytest.raises(InvalidInput, match="pg_restore"):
        backup.restore(db.url, report.path)


def test_postgresql_backup_without_pg_dump_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a computer without the PostgreSQL client tools
    with pytest.raises(OmsError, match="pg_dump is not installed.*postgresql-client"):
        backup.backup("postgresql+psycopg://quayside:secret@db.example/oms", tmp_path / "pg")


# -- the command line, and a crash ----------------------------------------------------------------------------


def _cli(*args, env=None, check=True):
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_killed_mid_write_then_the_latest_backup_restored_and_check_finds_it_clean(tmp_path):
    path = tmp_path / "station.sqlite3"
    url = f"sqlite:///{path}"
    # The app writing as hard as it can: demo data going in, order after order, each through the real services.
    writer = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "seed", "--orders", "5000", "--products", "50",
                               "--db", url], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        orders = 0
        while orders < 30:
            assert writer.poll() is None, "the writer ended before it was killed"
            assert time.monotonic() < deadline, "the writer wrote no orders"
            time.sleep(0.3)
            try:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
                orders = conn.execute("SELECT count(*) FROM sales_order").fetchone()[0]
                conn.close()
            except sqlite3.OperationalError:
                pass  # not created yet
        # options before and after the subcommand, as a person types them
        out = _cli("--db", url, "db", "backup").stdout
        assert "Backed up SQLite" in out
        time.sleep(1.0)  # more writes after the backup
        assert writer.poll() is None
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(10)
    listing = _cli("db", "backups", "--db", url).stdout
    assert listing.count(".sqlite3") == 1

    out = _cli("db", "restore", "--latest", "--db", url).stdout
    assert "Restored SQLite" in out and "before-restore" in out
    check = _cli("check", "--db", url)
    assert "No problems found" in check.stdout
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM sales_order").fetchone()[0] >= 30
    conn.close()


def test_cli_refuses_clearly(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    _cli("db", "upgrade", "--db", url)
    both = _cli("db", "restore", "--db", url, check=False)
    assert both.returncode == 2 and "Name the backup file to restore, or give --latest" in both.stderr
    none = _cli("db", "restore", "--latest", "--db", url, check=False)
    assert none.returncode == 2 and "There is no backup of this database in" in none.stderr
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database")
    bad = _cli("--db", url, "db", "restore", str(junk), check=False)
    assert bad.returncode == 2 and "is damaged and was not restored" in bad.stderr and "Traceback" not in bad.stderr
    pg = _cli("db", "restore", "x.dump", "--db", "postgresql+psycopg://postgres@127.0.0.1:5432/test", check=False)
    assert pg.returncode == 2 and "pg_restore" in pg.stderr
