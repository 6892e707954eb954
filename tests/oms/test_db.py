"""Database setup: migrations on both databases, refusal of a newer schema, SQLite settings."""

import pytest
from sqlalchemy import inspect, text

from oms.core.db import Database, describe_url, resolve_url
from oms.core.errors import DatabaseVersionError, OmsError
from oms.schema import metadata


def test_migration_from_empty_sqlite(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    report = db.migrate()
    assert report.before is None and report.after == db.head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert db.migrate().before == db.head_revision()  # second start: nothing to do
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


@pytest.mark.postgres
def test_migration_from_empty_postgres():
    import uuid

    from tests.conftest import postgres_url

    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server")
    schema = f"qs_mig_{uuid.uuid4().hex[:8]}"
    admin = Database(url)
    with admin.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        db = Database(url, schema=schema)
        assert db.migrate().before is None
        assert {t.name for t in metadata.sorted_tables} <= set(inspect(db.engine).get_table_names(schema=schema))
        assert db.current_revision() == db.head_revision()
        db.dispose()
    finally:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_models_match_migrations(tmp_path):
    """Autogenerate finds nothing to add: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.migrate()
    from oms.desk.search import is_search_index

    # The search's FTS5 tables are SQLite's own (migration 0011), not the models'; env.py leaves them out the same way.
    opts = {"include_name": lambda name, _type, _parents: not is_search_index(name)}
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    assert diff == []


def test_newer_database_is_refused_untouched(sqlite_db):
    with sqlite_db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(DatabaseVersionError, match="newer version of Quayside"):
        sqlite_db.migrate()
    assert sqlite_db.current_revision() == "9999_from_the_future"


def test_sqlite_is_backed_up_before_an_upgrade(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    head = db.head_revision()
    # Pretend the file is one revision behind: stamp an older known revision and
    # check that the upgrade path copies the file aside first.
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db._alembic_config())
    revisions = [r.revision for r in script.walk_revisions()]
    if len(revisions) < 2:
        backup = db._backup_sqlite(head)
        assert backup is not None and backup.exists() and backup.stat().st_size > 0
        return
    older = revisions[1]
    from alembic import command

    cfg = db._alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, older)
    report = db.migrate()
    assert report.before == older and report.backup is not None and report.backup.exists()


def test_unreachable_database_gives_one_clear_line():
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(OmsError, match="Cannot open the database PostgreSQL 127.0.0.1/none"):
        db.migrate()


def test_url_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("OMS_DATABASE_URL", "sqlite:///x.db")
    assert resolve_url() == "sqlite:///x.db"
    assert resolve_url("postgresql://h/db") == "postgresql://h/db"
    assert describe_url("postgresql+psycopg://u@db.example:5432/oms") == "PostgreSQL db.example/oms"
    with pytest.raises(OmsError, match="SQLite or PostgreSQL"):
        Database("mysql://localhost/x")


def test_upgrading_a_populated_sqlite_file_keeps_every_row(tmp_path):
    """Table rebuilds in SQLite migrations must not trip (or cascade through) foreign keys."""
    from alembic import command
    from sqlalchemy import func, select

    from oms import seed
    from oms.shipping.models import Package, Shipment, ShipmentLine, TrackingEvent

    path = tmp_path / "old.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    seed.master_data(db, products=40)
    seed.demo_orders(db, 40)
    tables = (Shipment, Package, ShipmentLine, TrackingEvent)

    def counts(database):
        with database.read() as s:
            return [s.scalar(select(func.count()).select_from(t)) for t in tables]

    before = counts(db)
    assert before[0] > 0 and before[3] > 0
    cfg = db._alembic_config()
    with db.engine.connect() as conn:
        conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
        conn.commit()
        conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    db.dispose()
    db = Database(f"sqlite:///{path}")
    report = db.migrate()
    assert report.before == "0003" and report.backup is not None
    assert counts(db) == before
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on for the pooled connection
