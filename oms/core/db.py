"""Database engine, sessions and migrations: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from oms.core.changes import (
    COLLECT,
    LOG_KEEP,
    LOG_PRUNE_EVERY,
    MIGRATING,
    NOTIFY_PREFIX,
    PENDING,
    Changes,
    loggable,
    tables_written,
)
from oms.core.errors import DatabaseVersionError, OmsError
from oms.core.i18n import _

T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Taken by whichever station migrates first, so two stations starting together
# against one PostgreSQL server do not race each other through the migrations.
_PG_MIGRATION_LOCK = 7_320_611


def _collect_changes(conn, statement, multiparams, params, execution_options) -> None:
    """The engine tells a write transaction run by ``Database.run`` each table it writes (see oms.core.changes);
    every transaction, whoever runs it, keeps them too, for the change log its commit writes (``_log_changes``)."""
    tables = tables_written(statement)
    if not tables:
        return
    written = execution_options.get(COLLECT)
    if written is None:
        written = conn.get_execution_options().get(COLLECT)
    if written is not None:
        written.update(tables)
    conn.info.setdefault(PENDING, set()).update(tables)


def _forget_changes(conn) -> None:
    conn.info.pop(PENDING, None)


def _back_in_pool(_dbapi_connection, record) -> None:
    """A connection back in the pool carries nothing of its last user's transaction into the next one's."""
    if record is not None:
        record.info.pop(PENDING, None)
        record.info.pop(MIGRATING, None)


def _log_changes(db: "Database", conn) -> None:
    """Just before a transaction commits: one change_log row naming the tables it wrote, in the same transaction.

    On PostgreSQL the same statement sends the row's id by NOTIFY, which the server delivers when (and only if)
    the transaction commits: the other stations never hear of a change they cannot read yet. The row's origin
    is this Database when ``Database.run`` wrote it (its own screens heard of it through ``Changes`` already);
    writes of the sync threads, the command line or other stations have none of this station's origin.
    Migrations (``conn.info[MIGRATING]``) log nothing: the table may not exist yet.
    """
    pending = conn.info.pop(PENDING, None)
    if not pending or conn.info.get(MIGRATING):
        return
    tables = loggable(pending)
    if not tables:
        return
    origin = db.origin if conn.get_execution_options().get(COLLECT) is not None else ""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if db.dialect == "postgresql":
            cursor.execute(_PG_LOG, (origin, ",".join(sorted(tables))))
            new_id = cursor.fetchone()[0]
        else:
            at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")  # as the column type stores it
            cursor.execute(_SQLITE_LOG, (at, origin, ",".join(sorted(tables))))
            new_id = cursor.lastrowid
        if new_id and new_id % LOG_PRUNE_EVERY == 0:  # now and then, the rows no station still needs
            cursor.execute(_PRUNE_PG if db.dialect == "postgresql" else _PRUNE_SQLITE, (new_id - LOG_KEEP,))
    finally:
        cursor.close()


# The channel is named after the schema, so two Quayside databases in one PostgreSQL database never wake each other.
_PG_LOG = ("WITH c AS (INSERT INTO change_log (at, origin, tables) VALUES (now(), %s, %s) RETURNING id) "
           "SELECT c.id, pg_notify('" + NOTIFY_PREFIX + "' || current_schema(), c.id::text) FROM c")
_SQLITE_LOG = "INSERT INTO change_log (at, origin, tables) VALUES (?, ?, ?)"
_PRUNE_PG = "DELETE FROM change_log WHERE id < %s"
_PRUNE_SQLITE = "DELETE FROM change_log WHERE id < ?"


def default_sqlite_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("Quayside", "Quayside")) / "quayside.sqlite3"


def resolve_url(url: str | None = None) -> str:
    """The database URL: explicit argument, then OMS_DATABASE_URL, then settings, then SQLite."""
    if url:
        return url
    env = os.environ.get("OMS_DATABASE_URL")
    if env:
        return env
    from oms.core.settings import Settings

    configured = Settings.load().database_url
    if configured:
        from oms.core.secrets import with_database_password

        return with_database_password(configured)  # the settings file holds no password; the secret store does
    path = default_sqlite_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def describe_url(url: str) -> str:
    """A short description for the status bar: the SQLite file or the PostgreSQL host."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return _("SQLite {path}").format(path=u.database or ":memory:")
    return _("PostgreSQL {host}/{db}").format(host=u.host or "localhost", db=u.database or "")


@dataclass(frozen=True)
class MigrationReport:
    before: str | None
    after: str
    backup: Path | None


class Database:
    """One database: an engine, a session factory, and its migrations.

    ``read()`` opens a session for queries; ``write()`` opens one that takes the
    write lock up front on SQLite (BEGIN IMMEDIATE), so two writers queue on the
    busy timeout instead of failing when a read lock would have to be upgraded.
    """

    def __init__(self, url: str | None = None, *, schema: str | None = None, echo: bool = False):
        self.url = resolve_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError as exc:
            raise OmsError(_("The database address {url!r} is not valid: {error}").format(url=self.url, error=exc))
        self.dialect = parsed.get_backend_name()
        self.schema = schema
        kwargs: dict = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
            kwargs["poolclass"] = NullPool if os.environ.get("OMS_SQLITE_NULLPOOL") else None
            if kwargs["poolclass"] is None:
                del kwargs["poolclass"]
        elif self.dialect == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
                self.url = parsed.render_as_string(hide_password=False)
            kwargs["pool_pre_ping"] = True
            if schema:
                kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
        else:
            raise OmsError(_("Quayside works with SQLite or PostgreSQL, not {dialect}.").format(dialect=self.dialect))
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
        #: Marks the change_log rows of this Database's own ``run`` writes, which its screens already heard of.
        self.origin = uuid.uuid4().hex[:16]
        event.listen(self.engine, "before_execute", _collect_changes)
        event.listen(self.engine, "commit", lambda conn: _log_changes(self, conn))
        event.listen(self.engine, "rollback", _forget_changes)
        event.listen(self.engine.pool, "checkin", _back_in_pool)
        self._write_engine = self.engine.execution_options(oms_write=True)
        self._read_factory = sessionmaker(self.engine, expire_on_commit=False)
        self._write_factory = sessionmaker(self._write_engine, expire_on_commit=False)

    @property
    def description(self) -> str:
        return describe_url(self.url)

    @property
    def place(self) -> str:
        """Where the data lives, in a person's words, for the status bar (``description`` has the details)."""
        if self.dialect == "sqlite":
            return _("Database on this computer")
        return _("Shared database on {host}").format(host=make_url(self.url).host or "localhost")

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read_factory() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._write_factory() as session:
            with session.begin():
                yield session

    def run(self, fn: Callable[[Session], T]) -> tuple[T, Changes]:
        """``fn(session)`` in a write transaction, as ``write()``; returns its result and what it changed."""
        written: set[str] = set()
        with self._write_factory() as session:
            with session.begin():
                session.connection(execution_options={COLLECT: written})
                result = fn(session)
        return result, Changes(frozenset(written))

    def session(self) -> Session:
        """A write-capable session the caller manages (commit/rollback) itself."""
        return self._write_factory()

    def dispose(self) -> None:
        self.engine.dispose()

    # -- migrations -------------------------------------------------------------

    def _alembic_config(self):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        return cfg

    def head_revision(self) -> str:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self) -> MigrationReport:
        """Bring the schema to this version's head; refuse a database newer than the code."""
        from alembic import command
        from alembic.script import ScriptDirectory

        cfg = self._alembic_config()
        script = ScriptDirectory.from_config(cfg)
        head = script.get_current_head()
        try:
            with self.engine.connect() as conn:
                conn.info[MIGRATING] = True  # the change log may not exist yet: its migration is among these
                raw = conn.connection.driver_connection if self.dialect == "sqlite" else None
                if raw is not None:
                    # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old table
                    # would check (or cascade to) every row that refers to it. Off for the migration,
                    # checked afterwards, on again before the connection goes back to the pool.
                    raw.execute("PRAGMA foreign_keys=OFF")
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                    conn.commit()
                try:
                    from alembic.runtime.migration import MigrationContext

                    current = MigrationContext.configure(conn).get_current_revision()
                    if current is not None:
                        try:
                            script.get_revision(current)
                        except Exception:
                            raise DatabaseVersionError(
                                _(
                                    "This database was written by a newer version of Quayside "
                                    "(schema {rev}). Install the newer Quayside to open it; nothing was changed."
                                ).format(rev=current)
                            ) from None
                    if current == head:
                        return MigrationReport(current, head, None)
                    backup = self._backup_sqlite(current) if current is not None else None
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
                    conn.commit()
                    if raw is not None:
                        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise DatabaseVersionError(
                                _("The upgrade left {n} rows pointing at missing records (first in table {t}); "
                                  "restore the copy at {backup}.").format(n=len(broken), t=broken[0][0], backup=backup))
                    return MigrationReport(current, head, backup)
                finally:
                    if raw is not None:
                        conn.rollback()
                        raw.execute("PRAGMA foreign_keys=ON")
                    if self.dialect == "postgresql":
                        conn.rollback()
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                        conn.commit()
                    conn.info.pop(MIGRATING, None)
        except DatabaseError as exc:  # cannot connect, cannot read, or not a database at all
            error = str(exc.orig).strip().splitlines()[0]
            if self.dialect == "sqlite" and "not a database" in error:
                raise OmsError(_("{path} is not a Quayside database: it is another kind of file, or damaged. "
                                 "Nothing was written to it.").format(path=make_url(self.url).database)) from exc
            raise OmsError(_("Cannot open the database {where}: {error}").format(where=self.description, error=error)) from exc

    def _backup_sqlite(self, revision: str) -> Path | None:
        """Copy the SQLite file aside before upgrading it, so a failed upgrade loses nothing."""
        if self.dialect != "sqlite":
            return None
        path = make_url(self.url).database
        if not path or path == ":memory:" or not Path(path).exists():
            return None
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = Path(f"{path}.before-{revision}-{stamp}")
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
        shutil.copy2(path, backup)
        return backup


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not the driver, issue BEGIN so write sessions can ask for IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":  # each statement its own (the change feed's reads)
            return
        if options.get("oms_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
