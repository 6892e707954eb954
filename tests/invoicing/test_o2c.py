"""The order-to-cash view on a small hand-built house, and the `o2c`, `invoice` and `credit-note` commands."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, update

from oms import reports
from oms.core.models import OutboxMessage
from oms.integration import sync_store
from oms.invoicing.models import Invoice, InvoiceLine
from oms.partners import edi
from oms.partners.models import EdiDocument
from tests.conftest import ACTOR
from tests.invoicing.helpers import confirm, pack, picked_order
from tests.test_cli import run

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


def _capture(s, order_id):
    return s.scalar(select(OutboxMessage).where(OutboxMessage.topic == "payment.capture", OutboxMessage.order_id == order_id))


@pytest.fixture
def house(world):
    """Four web orders shipped (captures 0, 2, 5 and 10 days old: one captured, one failed for good, one being
    retried, one waiting), one shipment whose invoice is missing, and three wholesale shipments whose 810 is
    waiting, sent long ago without a 997, and acknowledged."""
    ids = {}
    for key, age_days in (("A", 0), ("B", 2), ("C", 5), ("D", 10)):
        oid, (line,) = picked_order(world, key, (("MUG-RED", 2),))
        sid = pack(world, oid, {line: 2})
        confirm(world, sid)
        ids[key] = (oid, sid)
        with world.write() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.topic == "payment.capture", OutboxMessage.order_id == oid)
                      .values(created_at=NOW - timedelta(days=age_days, hours=1)))
    with world.write() as s:
        sync_store.mark_sent(s, _capture(s, ids["A"][0]).id)
        sync_store.mark_failed(s, _capture(s, ids["B"][0]).id, "402 Payment Required: the card was declined")
        sync_store.mark_retry(s, _capture(s, ids["C"][0]).id, "503 upstream trouble", NOW + timedelta(minutes=4))
        # D's invoice lost (as if shipped before invoicing existed)
        inv = s.scalar(select(Invoice.id).where(Invoice.shipment_id == ids["D"][1]))
        s.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == inv))
        s.execute(delete(Invoice).where(Invoice.id == inv))
        pid = edi.add_partner(s, ACTOR, code="edi", name="Northwind", our_id="QUAYSIDE", their_id="NORTHWIND",
                              ack_timeout_h=24)
    for key in ("W1", "W2", "W3"):
        oid, (line,) = picked_order(world, key, (("LANTERN", 1),), channel="edi", order_type="wholesale")
        sid = pack(world, oid, {line: 1})
        confirm(world, sid)
        ids[key] = (oid, sid)
    with world.write() as s:
        for key, status, sent, acked in (("W2", "sent", NOW - timedelta(hours=30), None),
                                         ("W3", "acknowledged", NOW - timedelta(hours=3), NOW - timedelta(hours=2))):
            oid, sid = ids[key]
            doc = edi.record_document(s, pid, direction="out", doc_type="810", status=status, raw="ST*810*0001~",
                                      order_id=oid, shipment_id=sid)
            s.execute(update(EdiDocument).where(EdiDocument.id == doc).values(created_at=sent, acknowledged_at=acked))
            s.execute(update(OutboxMessage).where(OutboxMessage.topic == "invoice.create", OutboxMessage.order_id == oid)
                      .values(status="sent"))
    return ids


def test_order_to_cash_by_hand(world, house):
    ids = house
    with world.read() as s:
        view = reports.order_to_cash(s, now=NOW)
        numbers = dict(s.execute(select(Invoice.shipment_id, Invoice.number)).all())
    assert [(r.shipment_id, r.order_number, r.units) for r in view.not_invoiced] == [(ids["D"][1], "#D", 2)]
    usd = {c.bucket: c for c in view.captures if c.currency == "USD"}
    # 2 mugs at 14.00 each = 28.00 per capture; A captured today, B failed at 2 days, C retrying at 5, D waiting at 10.
    assert (usd["0–1 days"].captured, usd["0–1 days"].captured_minor, usd["0–1 days"].pending) == (1, 2800, 0)
    assert (usd["2–3 days"].failed, usd["2–3 days"].failed_minor) == (1, 2800)
    assert (usd["4–7 days"].pending, usd["4–7 days"].pending_minor) == (1, 2800)
    assert (usd["over 7 days"].pending, usd["over 7 days"].captured) == (1, 0)
    assert [(f.order_number, f.state, f.attempts) for f in view.failed_captures] == [("#B", "failed", 1), ("#C", "retrying", 1)]
    assert "card was declined" in view.failed_captures[0].last_error
    assert view.failed_captures[1].next_attempt_at == NOW + timedelta(minutes=4)
    edi_rows = {e.order_number: e for e in view.edi_invoices}
    assert edi_rows["#W1"].state == "waiting to be sent" and edi_rows["#W1"].invoice_number == numbers[ids["W1"][1]]
    assert edi_rows["#W2"].state == "no 997 in time" and edi_rows["#W2"].overdue
    assert edi_rows["#W3"].state == "997 arrived" and edi_rows["#W3"].acknowledged_at == NOW - timedelta(hours=2)
    assert set(edi_rows) == {"#W1", "#W2", "#W3"}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_o2c_invoice_and_credit_note_commands(world, house, tmp_path):
    ids = house
    url = str(world.engine.url)
    out = run("o2c", "--db", url).stdout
    assert "Shipped but not invoiced: 1" in out and "#D" in out
    assert "Captures that failed: 2" in out and "card was declined" in out
    data = json.loads(run("o2c", "--json", "--db", url).stdout)
    assert [r["order_number"] for r in data["not_invoiced"]] == ["#D"]
    assert {e["order_number"]: e["state"] for e in data["edi_invoices"]}["#W3"] == "997 arrived"
    # The missing invoice is issued; the view no longer lists the shipment.
    issued = run("invoice", "issue", "--shipment", str(ids["D"][1]), "--db", url).stdout
    number = issued.split()[2]
    assert number.startswith("INV-")
    assert json.loads(run("o2c", "--json", "--db", url).stdout)["not_invoiced"] == []
    shown = json.loads(run("invoice", "show", number, "--json", "--db", url).stdout)
    assert shown["total_minor"] == 2800 and shown["order_number"] == "#D"
    out = run("credit-note", "issue", number, "--line", "MUG-RED=1", "--reason", "One arrived broken", "--db", url).stdout
    assert "Issued credit note CN-000001 against " + number + ": 14.00 USD." in out
    refused = run("credit-note", "issue", number, "--line", "MUG-RED=5", "--db", url, check=False)
    assert refused.returncode != 0 and "1 of MUG-RED left to credit, not 5" in refused.stderr
    bad = run("credit-note", "issue", number, "--line", "MUG-RED", "--db", url, check=False)
    assert bad.returncode != 0 and "SKU=UNITS" in bad.stderr
    pdf = tmp_path / "cn.pdf"
    run("credit-note", "pdf", "CN-000001", "--out", str(pdf), "--db", url)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "CN-000001" in run("credit-note", "list", "--db", url).stdout
    assert number in run("invoice", "list", "--db", url).stdout
