"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from oms import catalog, intake, inventory, orders, routing
from oms.core.audit import Actor
from oms.core.db import Database
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder
from oms.orders.intake import ImportResult
from oms.routing import restock
from oms.schema import metadata

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ACTOR = Actor("tester", "test-station")


def pytest_configure(config):
    # Keep the developer's own settings and data folder out of the tests.
    cfg = Path(os.environ.setdefault("OMS_CONFIG_DIR", str(Path(config.rootpath) / ".pytest-config")))
    cfg.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OMS_LOG_DIR", str(cfg / "logs"))
    os.environ.pop("OMS_DATABASE_URL", None)
    config._xvfb = _real_x_display()


def pytest_unconfigure(config):
    xvfb = getattr(config, "_xvfb", None)
    if xvfb is not None:
        xvfb.terminate()
        try:
            xvfb.wait(5)
        except subprocess.TimeoutExpired:
            xvfb.kill()


def _real_x_display():
    """Qt runs on a real X server: the session's own Xvfb (1366x768, the smallest station screen).

    The journeys need a real window (``xcb``), and one QApplication per process means one platform for
    the whole run, so every GUI test runs there too. With ``DISPLAY`` already set (a developer watching
    a journey) that display is used; ``QT_QPA_PLATFORM=offscreen`` runs the rest without X, and the
    journeys then refuse to run. Returns the Xvfb process to stop at the end, if one was started.
    """
    platform = os.environ.get("QT_QPA_PLATFORM")
    if platform not in (None, "", "xcb"):
        return None
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    if os.environ.get("DISPLAY"):
        return None
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise RuntimeError("Xvfb is not installed (scripts/system-deps.sh installs it); "
                           "or run with QT_QPA_PLATFORM=offscreen to leave out the journeys")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    os.close(write_fd)
    number = b""
    with os.fdopen(read_fd, "rb") as pipe:
        while not number.endswith(b"\n"):
            chunk = pipe.read(1)
            if not chunk:
                proc.kill()
                raise RuntimeError("Xvfb did not start")
            number += chunk
    os.environ["DISPLAY"] = f":{number.decode().strip()}"
    return proc


def postgres_url() -> str | None:
    """The PostgreSQL server for tests: required when OMS_TEST_POSTGRES_URL is set, else used if reachable."""
    required = os.environ.get("OMS_TEST_POSTGRES_URL")
    url = required or DEFAULT_PG
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return url
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        if required:
            raise RuntimeError(f"OMS_TEST_POSTGRES_URL={required} is set but the server cannot be reached: {exc}")
        return None


def _pg_bin(tool: str) -> str | None:
    found = shutil.which(tool)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"))
    return str(versions[-1]) if versions else None


@pytest.fixture(scope="session")
def password_postgres():
    """A PostgreSQL server of the tests' own that asks for a password (scram-sha-256), as a shared station's does;
    the machine's server trusts loopback and so never refuses one. Yields ``(url without password, password)``.

    PostgreSQL refuses to run as root: then its files belong to the ``postgres`` user and it runs as that user.
    """
    import pwd
    import secrets as pysecrets
    import socket
    import tempfile

    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        if os.environ.get("OMS_TEST_POSTGRES_URL"):
            pytest.fail("the PostgreSQL server programs (initdb, pg_ctl) are not installed")
        pytest.skip("the PostgreSQL server programs (initdb, pg_ctl) are not installed")
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="quayside-pg-"))
    password = pysecrets.token_urlsafe(12)
    (base / "pw").write_text(password)
    if owner is not None:
        for path in (base, base / "pw"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data, user = base / "data", "quayside"

    def run(*argv: str) -> None:
        done = subprocess.run([*as_user, *argv], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stdout}{done.stderr}")

    run(initdb, "-D", str(data), "-U", user, "--auth=scram-sha-256", f"--pwfile={base / 'pw'}", "-E", "UTF8",
        "--no-sync")
    run(pg_ctl, "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60", "-o",
        f"-p {port} -c listen_addresses=127.0.0.1 -k {base} -c fsync=off", "start")
    try:
        url = f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
        admin = create_engine(url.replace(f"{user}@", f"{user}:{password}@"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE station"))
        admin.dispose()
        yield url.rsplit("/", 1)[0] + "/station", password
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def _pg_schema():
    url = postgres_url()
    if url is None:
        yield None
        return
    schema = f"qs_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(url, schema=schema)
    db.migrate()
    db.dispose()
    yield url, schema
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path, _sqlite_template, _pg_schema):
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "oms.sqlite3"
        shutil.copy(_sqlite_template, path)
        database = Database(f"sqlite:///{path}")
    else:
        if _pg_schema is None:
            pytest.skip("no PostgreSQL server (set OMS_TEST_POSTGRES_URL to require it)")
        url, schema = _pg_schema
        database = Database(url, schema=schema)
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        with database.engine.begin() as conn:
            # A fresh database for the test, as if dropped and made again: the audit trail's append-only trigger
            # stands aside for the harness (a superuser's replica role), and the chain's head comes back.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            conn.execute(text("INSERT INTO audit_chain (id, last_seq, last_hash) VALUES (1, 0, '')"))
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path, _sqlite_template):
    path = tmp_path / "oms.sqlite3"
    shutil.copy(_sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def world(db):
    """Two warehouses with bins, a 3PL, a web channel and a few products with barcodes."""
    with db.write() as s:
        reno = inventory.add_location(s, ACTOR, "RNO", "Reno", priority=10, region="NV", postal_code="89502")
        newark = inventory.add_location(s, ACTOR, "EWR", "Newark", priority=20, region="NJ", postal_code="07114")
        inventory.add_location(s, ACTOR, "3PL", "ShipRight Dallas", kind="3pl", priority=30)
        inventory.add_bins(s, reno, ["A-01-1", "A-03-2", "C-11-1"])
        inventory.add_bins(s, newark, ["A-01-1", "B-02-1"])
        orders.add_channel(s, ACTOR, "web", "Web shop", "shopify")
        orders.add_channel(s, ACTOR, "edi", "Northwind", "edi_x12", "wholesale")
        catalog.add_product(s, ACTOR, "MUG-RED", "Mug, red", price="14.00", weight_g=420,
                            barcodes=[("ean", "4006381333931")])
        catalog.add_product(s, ACTOR, "MUG-BLU", "Mug, blue", price="14.00", weight_g=420,
                            barcodes=[("upc", "036000291452")])
        catalog.add_product(s, ACTOR, "LANTERN", "Storm lantern", price="39.00", weight_g=1100)
    return db


def make_order(external_id: str = "1001", lines=(("MUG-RED", 2),), *, channel: str = "web", **kw) -> NormalizedOrder:
    placed = kw.pop("placed_at", datetime(2026, 11, 20, 8, 2, tzinfo=timezone.utc))
    return NormalizedOrder(
        channel=channel, external_id=external_id, number=kw.pop("number", f"#{external_id}"), placed_at=placed,
        currency=kw.pop("currency", "USD"),
        lines=tuple(NormalizedLine(str(i + 1), sku, qty, 1400, sku) for i, (sku, qty) in enumerate(lines)),
        customer_name=kw.pop("customer_name", "Ada Lovelace"), customer_email=kw.pop("customer_email", "ada@example.com"),
        ship_to=kw.pop("ship_to", Address("Ada Lovelace", "", "1 Main St", "", "Seattle", "WA", "98101", "US")),
        ship_by=kw.pop("ship_by", placed + timedelta(days=2)), **kw,
    )


def stock(db, sku, location, qty, bin=None):
    with db.write() as s:
        restock.receive(s, ACTOR, sku, location, qty, bin=bin)


def ship_from(db, code: str = "RNO") -> None:
    """Routing for tests that need their orders reserved at one location: rates seeded, and a rule
    above the default that allows only `code` for every order (added once, however often asked)."""
    name = f"Tests: everything ships from {code}"
    with db.write() as s:
        routing.seed_rates(s)
        if not any(r.name == name for r in routing.load_rules(s)):
            routing.save_rule(s, ACTOR, name, {}, {"allowed_locations": [code]})


def take_in(session, *batch: NormalizedOrder, actor: Actor = ACTOR) -> list[ImportResult]:
    """Orders in through the one intake door (imported, then routed), in the caller's transaction: the
    import result of each; the test fails if the door refused an order or could not route one."""
    report = intake.take_in(session, actor, batch)
    assert report.refused == [] and report.unrouted == [], (report.refused, report.unrouted)
    return report.results


def run_at_once(engines, timeout: float = 60) -> tuple[list, list[str]]:
    """Run one sync pass of each engine in its own thread at the same moment, as stations would: (reports, errors)."""
    import threading

    reports, errors = [], []

    def run(engine):
        try:
            reports.extend(engine.run_once())
        except Exception as exc:  # noqa: BLE001 - the caller asserts there were none
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return reports, errors
