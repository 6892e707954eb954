"""The diagnostics text support gets: what it says, and that no token or password is in it."""

from __future__ import annotations

import logging

import pytest

from oms.station import diagnostics
from oms.partners import edi
from oms.core import logs
from oms.integration import sync_store
from oms.core.settings import Settings
from sync import credentials
from sync.diagnostics import connection_secrets
from tests.conftest import ACTOR

SHOP_TOKEN = "demo_Kq2-looks-like-nothing-in-particular"
SFTP_PASSWORD = "correct-horse-battery"


@pytest.fixture
def station(db, tmp_path, monkeypatch):
    """A database with a shop and a trading partner whose secrets sit in the credential store, and a log file."""
    monkeypatch.setenv("OMS_SECRET_STORE", "file")  # this test's own config folder, never the developer's keyring
    monkeypatch.setenv("OMS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("OMS_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(logs, "_known", set())
    with db.write() as s:
        sync_store.add_connector(s, ACTOR, code="shop", role="channel", kind="shopify", name="Web shop",
                                 base_url="https://harbor.example")
        sync_store.record_failure(s, "shop", "HTTP 503 from the shop", offline=True)
        edi.add_partner(s, ACTOR, code="ACME", name="Acme Stores", our_id="HARBOR", their_id="ACME",
                        transport={"kind": "sftp", "host": "edi.example", "user": "harbor", "inbox": "/in",
                                   "outbox": "/out"})
    credentials.set_secret("shop", SHOP_TOKEN)
    credentials.set_secret(credentials.sftp_secret_name("ACME"), SFTP_PASSWORD)
    path = logs.setup()
    yield db, path
    for h in list(logging.getLogger().handlers):
        if isinstance(h, logs._StationLog):
            logging.getLogger().removeHandler(h)
            h.close()


def _report(db, **kw) -> str:
    with db.read() as s:
        facts = diagnostics.database_facts(s, description=db.description, head=db.head_revision())
    return diagnostics.report(facts, Settings(station_name="PACK-2", station_role="packing", label_printer="zebra"), **kw), facts


def test_the_diagnostics_say_what_support_needs(station):
    db, _path = station
    logging.getLogger("quayside.sync").warning("shop offline: HTTP 503")
    text, facts = _report(db, extra={"Qt": "6.x"})
    assert text.startswith("Quayside ")
    assert "Operating system: Linux" in text and "Qt: 6.x" in text
    assert ("Kind: SQLite" if db.dialect == "sqlite" else "Kind: PostgreSQL") in text
    assert f"Schema: {db.head_revision()}" in text and "this version expects" not in text
    assert "Name: PACK-2 (packing)" in text and "Label printer: zebra (zpl, 203 dpi)" in text
    if db.dialect == "sqlite":
        assert "== Backups\nFolder: " in text and "No backup yet." in text
    else:
        assert "backed up where its server runs" in text
    assert "== Printers (CUPS)" in text
    assert "shop (channel, shopify): offline since" in text and "last error: HTTP 503 from the shop" in text
    assert "ACME (partner, edi_sftp): online" in text
    assert "Logs: " in text and "shop offline: HTTP 503" in text


def test_the_diagnostics_contain_no_token_from_the_store_or_the_log(station):
    db, path = station
    # A token written to the log by a version that did not redact it, or before this process knew it:
    # the raw bytes are in the file, under no pattern's shape.
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"2026-12-06 08:00:00 INFO quayside.sync pulled page with {SHOP_TOKEN}\n")
        f.write(f"2026-12-06 08:00:01 WARNING quayside.sync.sftp login {SFTP_PASSWORD} refused\n")
        f.write("2026-12-06 08:00:02 INFO sync.http Authorization: Bearer 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\n")
    logs._known.clear()  # a fresh process: nothing remembered yet

    with db.read() as s:
        facts = diagnostics.database_facts(s, description=db.description, head=db.head_revision())
    leaky = diagnostics.report(facts, Settings(), secrets=())
    assert SHOP_TOKEN in leaky  # the test can fail: without the store's secrets the raw line would leak

    logs._known.clear()
    text = diagnostics.report(facts, Settings(), secrets=connection_secrets(facts.connectors))
    assert SHOP_TOKEN not in text and SFTP_PASSWORD not in text and "shpat_00aa" not in text
    assert "pulled page with [redacted]" in text and "login [redacted] refused" in text


def test_the_diagnostics_command(station, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    db, path = station
    if db.dialect != "sqlite":
        pytest.skip("one database kind is enough for the command line")
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"a line with {SHOP_TOKEN} in it\n")
    import os

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(root / "main.py"), "diagnostics", "--lines", "50", "--db", db.url],
                         capture_output=True, text=True, cwd=root, env=dict(os.environ), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "== Connections" in out.stdout and "a line with [redacted] in it" in out.stdout
    assert SHOP_TOKEN not in out.stdout
