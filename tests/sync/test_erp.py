"""The ERP hand-off: invoices, credit notes and shipments to a signed webhook (the emulator, real HTTP on loopback)
and to a file drop, each record exactly once through a 5xx, a receiver that failed after storing, and a station
killed between sending and marking. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from oms import invoicing
from oms.core.models import OutboxMessage
from oms.core.types import utcnow
from oms.integration import sync_store
from sync import registry
from sync.emulators.erp_webhook import ErpWebhookEmulator
from sync.engine import Engine
from sync.erp.webhook import body_of, signature
from sync.base import OutboundMessage
from tests.conftest import ACTOR
from tests.invoicing.helpers import confirm, pack, picked_order

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_9f2c1e-shared"
TOPICS = ("invoice.issued", "credit_note.issued", "shipment.confirmed")


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


def _add(db, code, kind, address):
    spec = registry.spec(kind, "erp")
    with db.write() as s:
        sync_store.add_connector(s, ACTOR, code=code, role="erp", kind=kind, name=code, base_url=address,
                                 subscribes=spec.subscribes)
    return spec


def _ship(db, ext, sku="MUG-RED", qty=2) -> int:
    oid, (line,) = picked_order(db, ext, ((sku, qty),))
    sid = pack(db, oid, {line: qty})
    confirm(db, sid)
    return sid


def _pending(db, code) -> list[OutboxMessage]:
    with db.read() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.destination == code,
                                                          OutboxMessage.status == "pending")))


def _expected_keys(db, code) -> set[str]:
    with db.read() as s:
        return set(s.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.destination == code)))


@pytest.fixture
def receiver():
    with ErpWebhookEmulator(secret=SECRET) as emu:
        yield emu


def _received(emu) -> dict:
    return requests.get(emu.url + "/hooks/quayside", timeout=5).json()


def test_the_webhook_gets_each_record_signed_once_through_a_5xx_and_a_failure_after_storing(world, receiver):
    endpoint = receiver.url + "/hooks/quayside"
    spec = _add(world, "books", "webhook", endpoint)
    sids = [_ship(world, "1"), _ship(world, "2", "LANTERN", 1)]
    with world.write() as s:
        invoicing.issue_credit_note(s, ACTOR, "INV-000001", {"MUG-RED": 1}, reason="Chipped")
    clock = Clock()
    engine = Engine(world, {"books": spec.build("books", endpoint, SECRET, {}, max_attempts=1)}, clock=clock)
    # The receiver is down: 5xx on every call. Nothing is stored; the first row waits for its retry.
    receiver.set_faults(rate_5xx=1.0)
    (report,) = engine.run_once()
    assert report.pushed == 0 and _received(receiver)["records"] == []
    first = min(_pending(world, "books"), key=lambda m: m.id)
    assert first.attempts == 1 and "answered 5" in first.last_error
    receiver.clear_faults()
    # The next one is stored and then answered 503 (the receiver's gateway timed out after the work was done).
    receiver.fail_after_store = 1
    clock.now += timedelta(hours=1)
    engine.run_once()
    clock.now += timedelta(hours=1)
    (report,) = engine.run_once()
    assert _pending(world, "books") == []
    got = _received(receiver)
    keys = [r["idempotency_key"] for r in got["records"]]
    assert sorted(keys) == sorted(_expected_keys(world, "books")) and len(keys) == len(set(keys)) == 5
    assert got["duplicates"] == 1 and got["refused"] == 0
    by_key = {r["idempotency_key"]: r for r in got["records"]}
    inv = by_key["books:invoice:INV-000001"]
    assert inv["topic"] == "invoice.issued" and inv["data"]["total_minor"] == 2800
    assert inv["data"]["lines"] == [{"position": 1, "kind": "goods", "sku": "MUG-RED", "description": "MUG-RED",
                                     "quantity": 2, "unit_price_minor": 1400, "amount_minor": 2800}]
    assert by_key["books:credit_note:CN-000001"]["data"]["invoice_number"] == "INV-000001"
    ship = by_key[f"books:shipment:{sids[1]}"]["data"]
    assert ship["invoice_number"] == "INV-000002" and ship["lines"][0]["sku"] == "LANTERN"
    # Sent in the order they were issued.
    assert keys[:2] == ["books:invoice:INV-000001", f"books:shipment:{sids[0]}"]


def test_the_receiver_refuses_a_wrong_signature_and_the_records_wait(world, receiver):
    endpoint = receiver.url + "/hooks/quayside"
    spec = _add(world, "books", "webhook", endpoint)
    _ship(world, "1")
    (report,) = Engine(world, {"books": spec.build("books", endpoint, "not-the-secret", {}, max_attempts=1)}).run_once()
    assert report.refused and _received(receiver)["refused"] == 1 and _received(receiver)["records"] == []
    assert len(_pending(world, "books")) == 2  # nothing is lost: they go when the secret is right
    (report,) = Engine(world, {"books": spec.build("books", endpoint, SECRET, {}, max_attempts=1)}).run_once()
    assert report.pushed == 2 and len(_received(receiver)["records"]) == 2


def test_the_signature_is_hmac_sha256_over_the_exact_body(receiver):
    msg = OutboundMessage(1, "invoice.issued", "x:invoice:INV-000009", {"number": "INV-000009", "total_minor": 5})
    body = body_of(msg)
    assert json.loads(body) == {"id": "x:invoice:INV-000009", "topic": "invoice.issued", "data": msg.payload}
    ok = requests.post(receiver.url + "/h", data=body, headers={"X-Quayside-Signature": signature(SECRET, body),
                                                                "Idempotency-Key": msg.idempotency_key}, timeout=5)
    assert ok.status_code == 201
    tampered = body.replace(b"5}", b"6}")
    bad = requests.post(receiver.url + "/h", data=tampered, headers={"X-Quayside-Signature": signature(SECRET, body),
                                                                     "Idempotency-Key": msg.idempotency_key}, timeout=5)
    assert bad.status_code == 401


def _killed_station(db, code, kind, address, secret=SECRET) -> int:
    env = {**os.environ}
    proc = subprocess.run([sys.executable, "-m", "tests.sync.erp_station", db.url, db.schema or "", code, kind, address],
                          input=secret + "\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    return proc.returncode


def test_a_station_killed_between_sending_and_marking_sends_nothing_twice_to_the_webhook(world, receiver):
    endpoint = receiver.url + "/hooks/quayside"
    spec = _add(world, "books", "webhook", endpoint)
    _ship(world, "1")
    assert _killed_station(world, "books", "webhook", endpoint) == -9
    assert len(_received(receiver)["records"]) == 1 and len(_pending(world, "books")) == 2  # sent, never marked
    # The next station takes over the dead one's lease and sends again; the receiver knows the key.
    (report,) = Engine(world, {"books": spec.build("books", endpoint, SECRET, {}, max_attempts=1)}).run_once()
    assert report.pushed == 2 and _pending(world, "books") == []
    got = _received(receiver)
    assert sorted(r["idempotency_key"] for r in got["records"]) == sorted(_expected_keys(world, "books"))
    assert got["duplicates"] == 1


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_the_file_drop_writes_each_batch_once_atomically_through_a_kill(world, tmp_path):
    folder = tmp_path / "erp-inbox"
    folder.mkdir()
    address = registry.spec("file-drop").parse_address(str(folder))
    assert address == folder.resolve().as_uri()
    spec = _add(world, "ledger", "file-drop", address)
    sids = [_ship(world, "1"), _ship(world, "2", "LANTERN", 1)]
    first_batch = _expected_keys(world, "ledger")
    assert _killed_station(world, "ledger", "file-drop", address) == -9
    names = _files(folder)
    assert len(names) == 2 and names[0].endswith(".csv") and names[1].endswith(".json")  # written, not marked
    written = {p: (folder / p).read_bytes() for p in names}
    # More is issued before the next pass: it must not join the batch that was already written.
    with world.write() as s:
        invoicing.issue_credit_note(s, ACTOR, "INV-000002", {"LANTERN": 1}, shipping=False, reason="Returned")
    (report,) = Engine(world, {"ledger": spec.build("ledger", address, "", {})}).run_once()
    assert report.pushed == 5 and _pending(world, "ledger") == []
    assert {p: (folder / p).read_bytes() for p in names} == written  # the first batch was not written again
    after = _files(folder)
    assert len(after) == 4 and not any(n.startswith(".") or n.endswith(".tmp") for n in after)
    batches = [json.loads((folder / n).read_text()) for n in after if n.endswith(".json")]
    keys = [r["id"] for b in batches for r in b["records"]]
    assert len(keys) == len(set(keys)) == 5 and set(keys) == _expected_keys(world, "ledger")
    assert {r["id"] for r in batches[0]["records"]} == first_batch
    assert [r["id"] for r in batches[1]["records"]] == ["ledger:credit_note:CN-000001"]
    # The CSV says the same as the JSON, a row per line, money as decimals.
    with open(folder / after[0], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["record_id"] for r in rows} == first_batch and all(r["batch_id"] == batches[0]["batch_id"] for r in rows)
    inv = next(r for r in rows if r["type"] == "invoice" and r["number"] == "INV-000001")
    assert (inv["sku"], inv["quantity"], inv["unit_price"], inv["amount"], inv["document_total"]) == (
        "MUG-RED", "2", "14.00", "28.00", "28.00")
    ship = next(r for r in rows if r["type"] == "shipment" and r["number"] == str(sids[0]))
    assert ship["tracking_number"] == "1Z999AA10123456784" and ship["invoice_number"] == "INV-000001"


def test_a_missing_folder_keeps_the_records_waiting(world, tmp_path):
    folder = tmp_path / "share"
    folder.mkdir()
    spec = _add(world, "ledger", "file-drop", folder.as_uri())
    _ship(world, "1")
    folder.rmdir()  # the share is not mounted
    (report,) = Engine(world, {"ledger": spec.build("ledger", folder.as_uri(), "", {})}).run_once()
    assert report.pushed == 0 and "not there" in report.errors[0]
    assert len(_pending(world, "ledger")) == 2


def _cli(env, *args, stdin=""):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_erp_add_on_the_command_line_then_sync_hands_everything_over(world, receiver, tmp_path):
    env = {**os.environ, "OMS_DATABASE_URL": world.url, "OMS_CONFIG_DIR": str(tmp_path / "cfg"),
           "OMS_SECRET_STORE": "file"}
    kinds = _cli(env, "erp", "kinds").stdout
    assert "file-drop" in kinds and "webhook" in kinds and "--set prefix=" in kinds
    endpoint = receiver.url + "/hooks/quayside"
    out = _cli(env, "erp", "add", "webhook", "--name", "Books", "--url", endpoint, "--token-stdin", stdin=SECRET + "\n")
    assert out.returncode == 0, out.stderr
    assert "Connected erp books (ERP webhook); the token is kept in" in out.stdout
    plain = _cli(env, "erp", "add", "webhook", "--name", "Far", "--url", "http://erp.example.com/hook", "--token-stdin",
                 stdin=SECRET + "\n")
    assert plain.returncode != 0 and "must be an https:// address" in plain.stderr
    folder = tmp_path / "drop"
    missing = _cli(env, "erp", "add", "file-drop", "--name", "Ledger", "--url", str(folder))
    assert missing.returncode != 0 and "There is no folder" in missing.stderr
    folder.mkdir()
    bad = _cli(env, "erp", "add", "file-drop", "--name", "Ledger", "--url", str(folder), "--set", "prefix=a/b")
    assert bad.returncode != 0 and "File name prefix" in bad.stderr
    out = _cli(env, "erp", "add", "file-drop", "--name", "Ledger", "--url", str(folder), "--set", "prefix=qs")
    assert out.returncode == 0, out.stderr
    assert _cli(env, "erp", "test", "books").returncode == 0
    assert "takes files" in _cli(env, "erp", "test", "ledger").stdout
    listed = _cli(env, "erp", "list").stdout
    assert "books" in listed and "ledger" in listed and "NO TOKEN" not in listed
    with world.read() as s:  # the secret is in the store, not the database
        assert SECRET not in json.dumps([c.__dict__ for c in sync_store.connectors(s)])
    _ship(world, "1")
    out = _cli(env, "sync", "--once")
    assert out.returncode == 0, out.stdout + out.stderr
    assert len(_received(receiver)["records"]) == 2
    assert sorted(p.suffix for p in folder.iterdir()) == [".csv", ".json"]
    assert all(p.name.startswith("qs-ledger-") for p in folder.iterdir())


def test_the_emulator_runs_from_the_command_line(tmp_path):
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = tmp_path / "erp.json"
    proc = subprocess.Popen([sys.executable, "-m", "sync.emulators.erp_webhook", "--port", str(port), "--secret", SECRET,
                             "--state", str(state)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert f"http://127.0.0.1:{port}/hooks/quayside" in proc.stdout.readline()
        msg = OutboundMessage(1, "shipment.confirmed", "erp:shipment:7", {"shipment_id": 7})
        body = body_of(msg)
        for _ in range(50):
            try:
                r = requests.post(f"http://127.0.0.1:{port}/hooks/quayside", data=body, timeout=5, headers={
                    "X-Quayside-Signature": signature(SECRET, body), "Idempotency-Key": msg.idempotency_key})
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert r.status_code == 201
        assert requests.get(f"http://127.0.0.1:{port}/hooks/quayside", timeout=5).json()["records"][0]["data"] == {"shipment_id": 7}
        assert json.loads(state.read_text())["records"][0]["idempotency_key"] == "erp:shipment:7"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_bad_day_of_5xx_and_dropped_connections_still_delivers_each_record_once(world, receiver):
    """The receiver answers 5xx to a third of the calls and drops a fifth of the connections (some after storing
    the record); passes run until the outbox is empty. Every record is stored once, and in the order issued."""
    endpoint = receiver.url + "/hooks/quayside"
    spec = _add(world, "books", "webhook", endpoint)
    for k in range(8):
        _ship(world, f"B{k}")
    expected = _expected_keys(world, "books")
    receiver.rng.seed(7)
    receiver.set_faults(rate_5xx=0.3, rate_drop=0.2)
    clock = Clock()
    engine = Engine(world, {"books": spec.build("books", endpoint, SECRET, {}, max_attempts=1, timeout=5)}, clock=clock)
    passes = 0
    while _pending(world, "books") and passes < 300:
        engine.run_once()
        clock.now += timedelta(hours=1)
        passes += 1
    assert _pending(world, "books") == []
    receiver.clear_faults()
    got = _received(receiver)
    keys = [r["idempotency_key"] for r in got["records"]]
    assert len(keys) == len(set(keys)) == len(expected) == 16 and set(keys) == expected
    with world.read() as s:
        issued = list(s.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.destination == "books")
                                .order_by(OutboxMessage.id)))
    assert keys == issued
    assert passes > 1 and got["posts"] > len(keys)  # the faults did bite
