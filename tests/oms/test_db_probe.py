"""“Test connection”: each way a database address can be wrong, said plainly, against the real server."""

from __future__ import annotations

import socket
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from oms.core.db import Database
from oms.core.db_probe import explain, probe
from tests.conftest import postgres_url


@pytest.fixture
def pg_database():
    """A database of its own on the test server, dropped afterwards: (admin URL, URL of the new database)."""
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server")
    name = f"qs_probe_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_an_empty_database_then_a_current_one_then_a_newer_one(pg_database):
    first = probe(pg_database)
    assert first.ok and "The database is empty: Quayside creates its tables at the first start" in first.message
    db = Database(pg_database)
    db.migrate()
    db.dispose()
    current = probe(pg_database)
    assert current.ok and "a Quayside database, up to date" in current.message and current.revision
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999_from_the_future'"))
    engine.dispose()
    newer = probe(pg_database)
    assert not newer.ok and "written by a newer version of Quayside (schema 0999_from_the_future)" in newer.message


@pytest.mark.postgres
def test_a_missing_database_and_a_missing_user(pg_database):
    missing = make_url(pg_database).set(database="no_such_quayside_db").render_as_string(hide_password=False)
    result = probe(missing)
    assert not result.ok and "answers, but it has no database named no_such_quayside_db" in result.message
    nobody = make_url(pg_database).set(username="nobody_here").render_as_string(hide_password=False)
    result = probe(nobody)
    assert not result.ok and "has no user named nobody_here" in result.message


def test_nothing_listening_and_an_unknown_server():
    with socket.socket() as s:  # a port nothing listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        result = probe(f"postgresql://quayside@127.0.0.1:{port}/oms")
    assert not result.ok and f"Nothing answers at 127.0.0.1:{port}" in result.message
    result = probe("postgresql://quayside@no-such-server.invalid/oms")
    assert not result.ok and "No computer named no-such-server.invalid is known" in result.message


def test_addresses_that_are_not_addresses():
    assert "is not a database address" in probe("warehouse server please").message
    assert "names no database" in probe("postgresql://quayside@db.example").message
    assert "not mysql" in probe("mysql://u@h/db").message


@pytest.mark.postgres
def test_a_server_that_asks_for_a_password_refuses_a_wrong_one_plainly(password_postgres):
    server, password = password_postgres
    # A database of this test's own on that server: the first-run journey makes the server's "station" a Quayside one.
    name = f"probe_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(server).set(password=password).render_as_string(hide_password=False),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    u = make_url(url)
    wrong = probe(u.set(password="not-" + password).render_as_string(hide_password=False))
    assert not wrong.ok
    assert wrong.message == (f"The server 127.0.0.1:{u.port} refused the password for the user quayside. "
                             "Check the password (and the user name).")
    none_given = probe(url)
    assert not none_given.ok and "password" in none_given.message
    right = probe(u.set(password=password).render_as_string(hide_password=False))
    assert right.ok and "The database is empty" in right.message


def test_a_wrong_password_in_the_servers_words():
    # The test server trusts loopback, so it never refuses a password: this is libpq's message for it, verbatim.
    u = make_url("postgresql+psycopg://quayside:wrong@db.example:5433/oms")
    said = explain('connection to server at "db.example" (10.0.0.5), port 5433 failed: FATAL:  password authentication '
                   'failed for user "quayside"', u)
    assert said == "The server db.example:5433 refused the password for the user quayside. Check the password (and the user name)."


def test_a_sqlite_file(tmp_path):
    new = tmp_path / "new.sqlite3"
    assert probe(f"sqlite:///{new}").ok and not new.exists()  # testing makes nothing
    other = tmp_path / "other.sqlite3"
    import sqlite3

    c = sqlite3.connect(other)
    c.execute("CREATE TABLE recipes (x)")
    c.commit()
    c.close()
    result = probe(f"sqlite:///{other}")
    assert not result.ok and "holds other tables (recipes) but no Quayside data" in result.message
