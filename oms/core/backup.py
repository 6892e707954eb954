"""Backups and restores of the station's database: SQLite through its online backup API, PostgreSQL through pg_dump.

Decisions worth knowing:

- A SQLite backup is made with SQLite's own backup API (``sqlite3.Connection.backup``), which copies a consistent
  snapshot while other connections keep reading and writing; copying the file would catch a half-written page or
  miss what still sits in the ``-wal`` file. The copy is written to a temporary name, checked with
  ``PRAGMA integrity_check`` and only then renamed, so a backup that exists is whole.
- Rotation keeps the newest backup of each of the last 7 days that have one and the newest of each of the last 4
  ISO weeks (grandfather-father-son). It is twenty lines of pure function, property-tested; the maintained tool of
  the field (``rotate-backups``) is a command line with its own dependencies and a file-name scheme of its own,
  more than this needs.
- A restore refuses a file that fails ``PRAGMA integrity_check``, that is not a Quayside database, or whose schema is
  newer than this version knows. The database being replaced is saved first (``before-restore``), and the restore
  is written through the backup API into the live file, which is how SQLite replaces a database that another
  connection may hold open. A file so damaged it is not a database any more is moved aside instead.
- PostgreSQL is backed up with ``pg_dump`` in its custom format when the program is installed; the password goes to
  it through ``PGPASSWORD``, never on its command line. Restoring a shared server is left to ``pg_restore`` by the
  person who runs that server (README, "Backups"): overwriting every station's data is not a button.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterable

from sqlalchemy.engine import make_url

from .errors import InvalidInput, OmsError
from .i18n import _

DAILY = 7
WEEKLY = 4
DUE_AFTER = timedelta(hours=24)  # a scheduled backup is made when the newest one is older than this
_STAMP = "%Y%m%d-%H%M%S"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6})\.(?P<ext>sqlite3|dump)$")


class IntegrityError(OmsError):
    """The database or a backup file is damaged."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken_at: datetime  # local time, from the file name

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class BackupReport:
    path: Path
    removed: tuple[Path, ...]  # older backups rotated away


@dataclass(frozen=True)
class RestoreReport:
    restored_from: Path
    revision: str
    saved_previous: Path | None  # the database as it was before the restore


# -- where backups live --------------------------------------------------------------------------------------


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def backup_folder(url: str, configured: str = "") -> Path:
    """``configured`` (the ``backup_folder`` setting) when set; else ``backups/`` beside a SQLite file, or in the
    user's data folder for a PostgreSQL database."""
    if configured:
        return Path(configured).expanduser()
    path = sqlite_path(url)
    if path is not None:
        return path.parent / "backups"
    from platformdirs import user_data_dir

    return Path(user_data_dir("Quayside", "Quayside")) / "backups"


def _stem(url: str) -> str:
    path = sqlite_path(url)
    if path is not None:
        return path.stem
    u = make_url(url)
    return f"{u.host or 'localhost'}-{u.database or 'postgres'}"


def list_backups(url: str, folder: Path) -> list[BackupFile]:
    """This database's backups in ``folder``, oldest first."""
    stem = _stem(url)
    found = []
    if folder.is_dir():
        for p in folder.iterdir():
            m = _NAME.match(p.name)
            if m and m["stem"] == stem and p.is_file():
                found.append(BackupFile(p, datetime.strptime(m["stamp"], _STAMP)))
    return sorted(found, key=lambda b: b.taken_at)


# -- rotation ------------------------------------------------------------------------------------------------


def to_keep(times: Iterable[datetime], daily: int = DAILY, weekly: int = WEEKLY) -> set[datetime]:
    """The backups rotation keeps: the newest of each of the last ``daily`` days that have one, and the newest of
    each of the last ``weekly`` ISO weeks that have one. The newest backup of all is always kept."""
    newest_per_day: dict[date, datetime] = {}
    newest_per_week: dict[tuple[int, int], datetime] = {}
    for t in times:
        day = t.date()
        if t > newest_per_day.get(day, datetime.min):
            newest_per_day[day] = t
        week = tuple(t.isocalendar())[:2]
        if t > newest_per_week.get(week, datetime.min):
            newest_per_week[week] = t
    keep = {newest_per_day[d] for d in sorted(newest_per_day, reverse=True)[:daily]}
    keep |= {newest_per_week[w] for w in sorted(newest_per_week, reverse=True)[:weekly]}
    return keep


def rotate(url: str, folder: Path, daily: int = DAILY, weekly: int = WEEKLY) -> tuple[Path, ...]:
    backups = list_backups(url, folder)
    keep = to_keep((b.taken_at for b in backups), daily, weekly)
    removed = []
    for b in backups:
        if b.taken_at not in keep:
            b.path.unlink(missing_ok=True)
            removed.append(b.path)
    return tuple(removed)


# -- backing up ----------------------------------------------------------------------------------------------


def backup(url: str, folder: Path, *, now: datetime | None = None, schema: str | None = None) -> BackupReport:
    """Back the database up into ``folder`` and rotate the older backups."""
    folder.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now()
    source = sqlite_path(url)
    ext = "sqlite3" if source is not None else "dump"
    target = folder / f"{_stem(url)}-{now.strftime(_STAMP)}.{ext}"
    if target.exists():
        raise OmsError(_("A backup named {path} exists already; wait a second and try again.").format(path=target))
    if source is not None:
        _backup_sqlite(source, target)
    elif make_url(url).get_backend_name() == "postgresql":
        _backup_postgresql(url, target, schema)
    else:
        raise OmsError(_("An in-memory database has nothing to back up."))
    return BackupReport(target, rotate(url, folder))


def backup_if_due(url: str, folder: Path, *, now: datetime | None = None, due_after: timedelta = DUE_AFTER) -> BackupReport | None:
    """The scheduled backup: made when the newest backup is older than ``due_after``, else nothing is done."""
    now = now or datetime.now()
    backups = list_backups(url, folder)
    if backups and now - backups[-1].taken_at < due_after:
        return None
    return backup(url, folder, now=now)


def _backup_sqlite(source: Path, target: Path) -> None:
    if not source.exists():
        raise OmsError(_("There is no database at {path} to back up.").format(path=source))
    partial = target.with_name(target.name + ".partial")
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst, pages=1024)  # in steps, so writers on other connections get their turn between them
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                dst.close()
        finally:
            src.close()
        problems = integrity_problems(partial)
        if problems:
            raise IntegrityError(_("The database {path} is damaged, so no backup was made: {problem}").format(
                path=source, problem=problems[0]))
        os.replace(partial, target)
    except sqlite3.DatabaseError as exc:
        raise IntegrityError(_("The database {path} cannot be backed up: {error}").format(path=source, error=exc)) from exc
    finally:
        partial.unlink(missing_ok=True)


def pg_dump_available() -> bool:
    return shutil.which("pg_dump") is not None


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it (no ``+psycopg``, no password) and the environment that carries the password."""
    u = make_url(url)
    env = {}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _backup_postgresql(url: str, target: Path, schema: str | None) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise OmsError(_("pg_dump is not installed on this computer, so the PostgreSQL database cannot be backed up "
                         "from here. Install the PostgreSQL client tools (on Debian or Ubuntu: postgresql-client), or "
                         "back the server up where it runs."))
    conn, env = _libpq(url)
    cmd = [pg_dump, "--format=custom", "--no-owner", f"--file={target.with_name(target.name + '.partial')}"]
    if schema:
        cmd.append(f"--schema={schema}")
    cmd.append(f"--dbname={conn}")
    partial = target.with_name(target.name + ".partial")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, timeout=3600)
        if proc.returncode != 0:
            detail = (proc.stderr.strip().splitlines() or [_("exit code {n}").format(n=proc.returncode)])[-1]
            raise OmsError(_("pg_dump could not back up the database: {error}").format(error=detail))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


# -- checking ------------------------------------------------------------------------------------------------


def integrity_problems(path: Path, *, quick: bool = False) -> list[str]:
    """What ``PRAGMA integrity_check`` (or the faster ``quick_check``) finds in a SQLite file; empty when it is sound.
    A file that is not a SQLite database at all is one problem."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        rows = conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        conn.close()
    found = [r[0] for r in rows]
    return [] if found == ["ok"] else found


def check_database(url: str) -> list[str]:
    """The start-up check: a SQLite file's ``quick_check`` findings (nothing for PostgreSQL or a new file)."""
    path = sqlite_path(url)
    if path is None or not path.exists() or path.stat().st_size == 0:
        return []
    return integrity_problems(path, quick=True)


def schema_revision(path: Path) -> str:
    """The Alembic revision a backup was written at; refuses a file that is not a Quayside database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        row = None
    if not row:
        raise InvalidInput(_("{path} is not a Quayside database backup.").format(path=path))
    return row[0]


# -- restoring -----------------------------------------------------------------------------------------------


def validate_backup(path: Path) -> str:
    """Refuse a backup that is missing, damaged, not Quayside's or newer than this version; its revision if not."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from .db import MIGRATIONS_DIR

    if not path.is_file():
        raise InvalidInput(_("There is no backup file {path}.").format(path=path))
    if path.suffix == ".dump":
        raise InvalidInput(_("{path} is a PostgreSQL dump: restore it with pg_restore on the server "
                             "(see README, Backups).").format(path=path))
    problems = integrity_problems(path)
    if problems:
        raise IntegrityError(_("{path} is damaged and was not restored: {problem}").format(path=path, problem=problems[0]))
    revision = schema_revision(path)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)
    try:
        script.get_revision(revision)
    except Exception:
        raise InvalidInput(_("{path} was written by a newer version of Quayside (schema {rev}); install that version "
                             "to restore it. Nothing was changed.").format(path=path, rev=revision)) from None
    return revision


def latest_backup(url: str, folder: Path) -> BackupFile:
    backups = list_backups(url, folder)
    if not backups:
        raise InvalidInput(_("There is no backup of this database in {folder}.").format(folder=folder))
    return backups[-1]


def restore(url: str, backup_file: Path, *, now: datetime | None = None) -> RestoreReport:
    """Replace a SQLite database with ``backup_file``, after checking it; the current database is saved first."""
    target = sqlite_path(url)
    if target is None:
        raise InvalidInput(_("Only a SQLite database is restored by Quayside; restore a PostgreSQL dump with "
                             "pg_restore on the server (see README, Backups)."))
    backup_file = backup_file.resolve()
    if target.exists() and backup_file == target.resolve():
        raise InvalidInput(_("{path} is the database itself, not a backup of it.").format(path=backup_file))
    revision = validate_backup(backup_file)
    saved = _save_current(target, now or datetime.now())
    try:
        _copy_into(backup_file, target)
    except sqlite3.DatabaseError:
        # The live file is so damaged SQLite cannot write into it: it is saved above; start from a fresh file.
        for p in _sqlite_files(target):
            p.unlink(missing_ok=True)
        _copy_into(backup_file, target)
    problems = integrity_problems(target)
    if problems:
        raise IntegrityError(_("The restored database fails its check ({problem}); the previous one is at {saved}.")
                             .format(problem=problems[0], saved=saved))
    return RestoreReport(backup_file, revision, saved)


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _save_current(target: Path, now: datetime) -> Path | None:
    if not target.exists():
        return None
    saved = target.with_name(f"{target.name}.before-restore-{now.strftime(_STAMP)}")
    try:
        _backup_sqlite(target, saved)
    except OmsError:
        # Damaged: keep the bytes as they are, the write-ahead log with them, for whoever wants to look.
        for p, suffix in zip(_sqlite_files(target), ("", "-wal")):
            if p.exists():
                shutil.copy2(p, saved.with_name(saved.name + suffix))
    return saved


def _copy_into(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dst.close()
    finally:
        src.close()
