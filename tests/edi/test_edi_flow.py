"""EDI end to end over the folder transport: 850 in, 997 and 855 back, cartons packed, 856 and 810 out."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from oms import catalog, check, fulfilment, inventory, routing
from oms.core.errors import OmsError
from oms.integration import sync_store
from oms.orders.models import SalesOrder
from oms.partners import edi
from oms.partners.models import EdiDocument
from oms.routing import restock
from oms.shipping import shipments
from oms.shipping.models import Package, Pallet
from oms.shipping.shipments import PackageSpec
from sync.channels.edi_x12.ack import parse_997
from sync.channels.edi_x12.docs import check_810_structure, check_855_structure, check_856_structure
from sync.channels.edi_x12.folder import EdiFolderChannel
from sync.channels.edi_x12.service import import_interchanges
from sync.channels.edi_x12.x12 import Delimiters, Group, Segment, Transaction, parse_interchanges, write_interchange
from sync.engine import Engine
from tests.conftest import ACTOR, run_at_once

WHEN = datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)


@pytest.fixture
def partner_db(db, tmp_path):
    with db.write() as s:
        northwind(s, {"kind": "folder", "path": str(tmp_path / "nw")})
    return db, EdiFolderChannel("northwind", db, tmp_path / "nw")


def northwind(s, transport: dict) -> int:
    """Stock in Reno, and the partner Northwind on ``transport`` with its item and ship-to cross-references."""
    lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502", city="Reno", address1="1 Dock St")
    inventory.add_bins(s, lid, ["A-01-1", "A-02-1"])
    routing.seed_rates(s)
    routing.ensure_default_rule(s)
    catalog.add_product(s, ACTOR, "LANT-BRASS", "Storm lantern, brass", barcodes=[("upc", "036000291452")])
    catalog.add_product(s, ACTOR, "MUG-RED", "Mug, red", barcodes=[("ean", "4006381333931")])
    catalog.add_product(s, ACTOR, "TOTE-NAT", "Canvas tote")
    restock.receive(s, ACTOR, "LANT-BRASS", "RNO", 100, bin="A-01-1")
    restock.receive(s, ACTOR, "MUG-RED", "RNO", 20, bin="A-02-1")
    pid = edi.add_partner(s, ACTOR, code="northwind", name="Northwind Retail", our_id="QUAYSIDE", their_id="NORTHWIND",
                          delimiters="*~>^", transport=transport)
    edi.add_item_xref(s, pid, "BP", "NW-TOTE", "TOTE-NAT")
    edi.add_ship_to(s, pid, "0014", "Northwind DC 14", address1="1 Dock Rd", city="Sparks", region="NV", postal_code="89431")
    return pid


def an_850(po="PO4500123", purpose="00", lines=None, delimiters=Delimiters("*", "~", ">", "^"), control=17) -> str:
    lines = lines or [("1", 24, "UP", "036000291452", "19.50"), ("2", 12, "EN", "4006381333931", "7.25"), ("3", 6, "BP", "NW-TOTE", "9.00")]
    body = [Segment("BEG", (purpose, "SA", po, "", "20261123")), Segment("DTM", ("002", "20261130")),
            Segment("N1", ("ST", "Northwind DC 14", "92", "0014"))]
    for line_id, qty, q, code, price in lines:
        body += [Segment("PO1", (line_id, str(qty), "EA", price, "", q, code)), Segment("PID", ("F", "", "", "", "Item " + line_id))]
    body.append(Segment("CTT", (str(len(lines)),)))
    group = Group(functional_id="PO", sender="NORTHWIND", receiver="QUAYSIDE", control=str(control),
                  transactions=(Transaction(set_id="850", control="0001", segments=tuple(body)),))
    return write_interchange([group], sender_id="NORTHWIND", receiver_id="QUAYSIDE", control=control, delimiters=delimiters,
                             when=WHEN, newline=True)


def outbox_docs(channel):
    out = {}
    for path in sorted(channel.outbox.iterdir()):
        [ic] = parse_interchanges(path.read_text())
        tx = ic.groups[0].transactions[0]
        out.setdefault(tx.set_id, []).append((ic, tx))
    return out


def test_850_in_then_997_855_then_cartons_856_810(partner_db):
    db, channel = partner_db
    (channel.inbox / "po1.x12").write_text(an_850())
    engine = Engine(db, {"northwind": channel})
    engine.run_once()
    assert list(channel.archive.iterdir()) and not list(channel.error.iterdir())
    with db.read() as s:
        o = s.scalars(select(SalesOrder)).one()
        assert (o.number, o.order_type, o.ship_city, o.status) == ("PO4500123", "wholesale", "Sparks", "partially_allocated")
        assert sorted((l.sku, l.quantity, l.unit_price_minor) for l in o.lines) == [
            ("LANT-BRASS", 24, 1950), ("MUG-RED", 12, 725), ("TOTE-NAT", 6, 900)]
    docs = outbox_docs(channel)
    ack = parse_997(docs["997"][0][1])
    assert (ack.status, ack.group_control) == ("A", "17")
    ack855 = docs["855"][0][1]
    assert check_855_structure(ack855) == []
    acks = [seg.elements for seg in ack855.segments if seg.tag == "ACK"]
    assert sorted((a[0], a[1]) for a in acks) == [("IA", "12"), ("IA", "24"), ("IB", "6")]  # no totes in stock yet
    # Ship what is there, in two cartons on a pallet; the totes follow later.
    with db.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
        for t in fulfilment.open_tasks(s, w.wave_id):
            fulfilment.confirm_pick(s, ACTOR, t.task_id, t.quantity, bin_code=t.bin_code, item_code=t.sku)
        view = fulfilment.packing_view(s, o.id)
        by_sku = {l.sku: l for l in view.lines}
        res = fulfilment.complete_packing(s, ACTOR, o.id, [
            fulfilment.PackedBox(PackageSpec("CTN", 9000), {by_sku["LANT-BRASS"].line_id: 24}),
            fulfilment.PackedBox(PackageSpec("CTN", 6000), {by_sku["MUG-RED"].line_id: 12})],
            company_prefix="0614141", pallet=True)
        shipments.confirm(s, ACTOR, res.shipment_id, carrier="ACME", tracking_number="BOL778")
    engine.run_once()
    docs = outbox_docs(channel)
    _ic, asn = docs["856"][0]
    assert check_856_structure(asn) == []
    in_asn = [seg.el(2) for seg in asn.segments if seg.tag == "MAN"]
    with db.read() as s:
        printed = [p.sscc for p in s.scalars(select(Package).where(Package.shipment_id == res.shipment_id).order_by(Package.id))]
        printed.append(s.scalars(select(Pallet)).one().sscc)
        assert sorted(in_asn) == sorted(printed)  # the SSCCs on the labels are the ones in the ASN
        assert check.run(s) == []
    assert check_810_structure(docs["810"][0][1]) == []
    # Control numbers never repeat.
    controls = [ic.control for kind in docs.values() for ic, _tx in kind]
    assert len(controls) == len(set(controls)) == 4
    # Sending again after a lost answer writes nothing twice.
    with db.write() as s:
        s.execute(sync_store.OutboxMessage.__table__.update().values(status="pending"))
    before = sorted(p.name for p in channel.outbox.iterdir())
    engine.run_once()
    assert sorted(p.name for p in channel.outbox.iterdir()) == before


def test_a_remnant_under_our_name_in_the_outbox_is_replaced_by_what_we_send(partner_db, caplog):
    """A copied folder or an attempt cut short can leave another file under the name of our next document: the
    partner must get our 997, not the remnant, and sending it again writes nothing twice."""
    db, channel = partner_db
    (channel.inbox / "po1.x12").write_text(an_850())
    with db.write() as s:  # the file our 997 will have: import now, read its name from the outbox message
        import_interchanges(s, (channel.inbox / "po1.x12").read_text(), filename="po1.x12", partner_code="northwind")
        names = [m.payload["filename"] for m in s.scalars(select(sync_store.OutboxMessage)) if m.topic == "edi.send"]
    (channel.inbox / "po1.x12").unlink()
    assert names
    for name in names:
        (channel.outbox / name).write_text("ISA*stale remnant of another day~")
    with caplog.at_level("WARNING", logger="quayside.edi"):
        Engine(db, {"northwind": channel}).run_once()
    docs = outbox_docs(channel)
    assert parse_997(docs["997"][0][1]).group_control == "17"
    assert "replacing it" in caplog.text
    assert not [p for p in channel.outbox.iterdir() if p.name.startswith(".")], "no temporary file is left behind"


def test_any_delimiters_and_a_cancellation(partner_db):
    db, channel = partner_db
    (channel.inbox / "a.x12").write_text(an_850(delimiters=Delimiters("|", "\n", ":", "~"), control=20))
    Engine(db, {"northwind": channel}).run_once()
    (channel.inbox / "b.x12").write_text(an_850(purpose="01", control=21))
    Engine(db, {"northwind": channel}).run_once()
    with db.read() as s:
        assert s.scalars(select(SalesOrder.status)).one() == "cancelled"


@pytest.mark.parametrize("content, message", [
    ("this is not EDI at all", "not an X12 file"),
    ("\x00\x01\x02garbage", "not an X12 file"),
])
def test_garbage_goes_to_error_and_quarantine(partner_db, content, message):
    db, channel = partner_db
    (channel.inbox / "bad.x12").write_text(content)
    Engine(db, {"northwind": channel}).run_once()
    assert [p.name for p in channel.error.iterdir()] == ["bad.x12"]
    with db.read() as s:
        (q,) = sync_store.quarantined(s)
        assert message in q.error and s.scalar(select(func.count()).select_from(SalesOrder)) == 0


def test_wrong_counts_reject_the_transaction_with_a_997(partner_db):
    db, channel = partner_db
    text = an_850(control=30).replace("SE*12*0001", "SE*99*0001")
    assert "SE*99*0001" in text
    (channel.inbox / "count.x12").write_text(text)
    Engine(db, {"northwind": channel}).run_once()
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 0
        assert s.scalar(select(EdiDocument.status).where(EdiDocument.doc_type == "850")) == "rejected"
        (q,) = sync_store.quarantined(s)
    ack = parse_997(outbox_docs(channel)["997"][0][1])
    assert ack.status == "R"
    # Retry from the Sync screen cannot read it again: the partner was told, and sends a corrected one.
    with pytest.raises(OmsError, match="told by our 997"):
        Engine(db, {"northwind": channel}).retry_quarantined(q.id, ACTOR)


def test_truncated_file_imports_nothing(partner_db):
    db, channel = partner_db
    text = an_850(control=40)
    (channel.inbox / "cut.x12").write_text(text[: len(text) // 2])
    Engine(db, {"northwind": channel}).run_once()
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 0
        assert sync_store.quarantined(s)


def test_unacknowledged_documents_become_exceptions_and_a_997_clears_them(partner_db):
    from datetime import timedelta

    from oms.core.types import utcnow
    from sync.channels.edi_x12.service import flag_unacknowledged

    db, channel = partner_db
    (channel.inbox / "po.x12").write_text(an_850(control=50))
    engine = Engine(db, {"northwind": channel})
    engine.run_once()
    with db.read() as s:
        sent = s.scalars(select(EdiDocument).where(EdiDocument.direction == "out", EdiDocument.doc_type == "855")).one()
        assert sent.status == "sent"
    # Our 855 is acknowledged by the partner's 997 for its group.
    ack_group = Group(functional_id="FA", sender="NORTHWIND", receiver="QUAYSIDE", control="51", transactions=(
        Transaction(set_id="997", control="0001", segments=(Segment("AK1", ("PR", sent.gs_control)), Segment("AK9", ("A", "1", "1", "1")))),))
    (channel.inbox / "ack.x12").write_text(write_interchange([ack_group], sender_id="NORTHWIND", receiver_id="QUAYSIDE",
                                                              control=51, when=WHEN, newline=True))
    engine.run_once()
    with db.read() as s:
        assert s.get(EdiDocument, sent.id).status == "acknowledged"
    # A document nobody acknowledges turns into an exception after the partner's time.
    with db.write() as s:
        s.get(EdiDocument, sent.id).status = "sent"
        assert flag_unacknowledged(s, edi.partner(s, "northwind"), now=utcnow() + timedelta(hours=25)) == 1
        assert flag_unacknowledged(s, edi.partner(s, "northwind"), now=utcnow() + timedelta(hours=26)) == 0
    with db.read() as s:
        (exc,) = [q for q in sync_store.quarantined(s) if q.stream == "exceptions"]
        assert "has not acknowledged our 855" in exc.error


def test_the_same_interchange_twice_imports_and_acknowledges_once(partner_db):
    """A partner's resend, or a file fetched again after a lost connection: one order, one 997, one 855, and the
    second copy is logged as a duplicate, not dropped silently."""
    db, channel = partner_db
    text = an_850()
    (channel.inbox / "po1.x12").write_text(text)
    engine = Engine(db, {"northwind": channel})
    engine.run_once()
    (channel.inbox / "po1-again.x12").write_text(text)
    engine.run_once()
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 1
        dup = s.scalars(select(EdiDocument).where(EdiDocument.status == "duplicate")).one()
        assert (dup.filename, dup.isa_control) == ("po1-again.x12", "000000017")
        assert "already received" in dup.error and "po1.x12" in dup.error
    docs = outbox_docs(channel)
    assert (len(docs["997"]), len(docs["855"])) == (1, 1)
    assert sorted(p.name for p in channel.archive.iterdir()) == ["po1-again.x12", "po1.x12"]
    # The same control number with a different group is a different interchange (a partner restarting its counters).
    (channel.inbox / "po2.x12").write_text(an_850(po="PO4500999", control=18).replace("000000018", "000000017", 2))
    engine.run_once()
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(SalesOrder)) == 2


def test_a_group_keeps_file_order_across_replacements_and_cancellations(partner_db):
    """POs of a group are imported as a batch, but a replacement or a cancellation of a PO earlier in the same group
    still applies after it."""
    db, channel = partner_db

    def tx(n, purpose, po, qty):
        body = (Segment("BEG", (purpose, "SA", po, "", "20261123")), Segment("N1", ("ST", "Northwind DC 14", "92", "0014")),
                Segment("PO1", ("1", str(qty), "EA", "19.50", "", "UP", "036000291452")), Segment("CTT", ("1",)))
        return Transaction(set_id="850", control=f"{n:04d}", segments=body)

    group = Group(functional_id="PO", sender="NORTHWIND", receiver="QUAYSIDE", control="40", transactions=(
        tx(1, "00", "PO-A", 10), tx(2, "00", "PO-B", 5), tx(3, "05", "PO-A", 12), tx(4, "01", "PO-B", 5), tx(5, "00", "PO-C", 1)))
    text = write_interchange([group], sender_id="NORTHWIND", receiver_id="QUAYSIDE", control=40, when=WHEN, newline=True)
    (channel.inbox / "mixed.x12").write_text(text)
    Engine(db, {"northwind": channel}).run_once()
    with db.read() as s:
        got = {o.number: (o.status, [l.quantity for l in o.lines]) for o in s.scalars(select(SalesOrder))}
        assert got == {"PO-A": ("allocated", [12]), "PO-B": ("cancelled", [5]), "PO-C": ("allocated", [1])}
        docs = s.scalars(select(EdiDocument).where(EdiDocument.direction == "in").order_by(EdiDocument.st_control)).all()
        assert [(d.st_control, d.status) for d in docs] == [(f"{n:04d}", "accepted") for n in range(1, 6)]
    docs = outbox_docs(channel)
    assert len(docs["997"]) == 1 and parse_997(docs["997"][0][1]).status == "A"
    # An 855 for each order the group leaves standing, for its last version: PO-A as replaced, PO-C; not PO-B.
    acked = {}
    for _ic, tx855 in docs["855"]:
        bak = next(seg for seg in tx855.segments if seg.tag == "BAK")
        acked[bak.elements[2]] = [(a.elements[0], a.elements[1]) for a in tx855.segments if a.tag == "ACK"]
    assert acked == {"PO-A": [("IA", "12")], "PO-C": [("IA", "1")]}
    isas = sorted(int(ic.control) for kind in docs.values() for ic, _tx in kind)
    assert len(set(isas)) == len(isas) and isas == list(range(isas[0], isas[0] + len(isas)))


def an_860(*segments: str, po="PO4500123", purpose="04", control=30) -> str:
    body = [Segment("BCH", (purpose, "SA", po, "", "1", "20261123"))]
    body += [Segment(t.split("*")[0], tuple(t.split("*")[1:])) for t in segments]
    group = Group(functional_id="PC", sender="NORTHWIND", receiver="QUAYSIDE", control=str(control),
                  transactions=(Transaction(set_id="860", control="0001", segments=tuple(body)),))
    return write_interchange([group], sender_id="NORTHWIND", receiver_id="QUAYSIDE", control=control, when=WHEN, newline=True)


def test_860_change_order_changes_deletes_and_adds_lines(partner_db):
    db, channel = partner_db
    (channel.inbox / "po.x12").write_text(an_850())
    engine = Engine(db, {"northwind": channel})
    engine.run_once()
    (channel.inbox / "change.x12").write_text(an_860(
        "DTM*002*20261205",
        "POC*1*QD*20**EA*19.50**UP*036000291452",  # 24 → 20 lanterns
        "POC*2*DI***EA",  # no mugs after all
        "POC*4*AI*5**EA*19.50**UP*036000291452",  # a second lantern line
        "CTT*3"))
    engine.run_once()
    with db.read() as s:
        o = s.scalars(select(SalesOrder)).one()
        got = sorted((l.external_line_id, l.sku, l.quantity, l.allocated, l.cancelled) for l in o.lines)
        assert got == [("1", "LANT-BRASS", 20, 20, 0), ("2", "MUG-RED", 12, 0, 12), ("3", "TOTE-NAT", 6, 0, 0),
                       ("4", "LANT-BRASS", 5, 5, 0)]
        assert o.deliver_by.date().isoformat() == "2026-12-05"
        assert not o.on_hold
        assert inventory.available_to_promise(s, "MUG-RED", "RNO") == 20  # the mugs' reservation is given back
        assert inventory.available_to_promise(s, "LANT-BRASS", "RNO") == 75
        doc = s.scalars(select(EdiDocument).where(EdiDocument.doc_type == "860")).one()
        assert (doc.status, doc.order_id, doc.direction) == ("accepted", o.id, "in")
        assert check.run(s) == []
    acks = [parse_997(tx) for _ic, tx in outbox_docs(channel)["997"]]
    assert [(a.status, a.group_control) for a in acks] == [("A", "17"), ("A", "30")]


def test_860_for_an_unknown_po_is_rejected_and_one_cancelling_cancels(partner_db):
    db, channel = partner_db
    (channel.inbox / "po.x12").write_text(an_850())
    engine = Engine(db, {"northwind": channel})
    engine.run_once()
    (channel.inbox / "c1.x12").write_text(an_860("POC*1*QI*30**EA", po="PO-NEVER-SENT", control=31))
    engine.run_once()
    with db.read() as s:
        rejected = s.scalars(select(EdiDocument).where(EdiDocument.doc_type == "860")).one()
        assert rejected.status == "rejected" and "PO-NEVER-SENT" in rejected.error and "never received" in rejected.error
        assert s.scalars(select(SalesOrder.status)).one() == "partially_allocated"
        assert any("PO-NEVER-SENT" in q.error for q in sync_store.quarantined(s))
    ack = parse_997(outbox_docs(channel)["997"][-1][1])
    assert (ack.status, ack.group_control) == ("R", "31")
    (channel.inbox / "c2.x12").write_text(an_860(purpose="01", control=32))
    engine.run_once()
    with db.read() as s:
        assert s.scalars(select(SalesOrder.status)).one() == "cancelled"
        assert inventory.available_to_promise(s, "LANT-BRASS", "RNO") == 100


def test_partners_are_connections_in_the_sync_status(partner_db):
    db, channel = partner_db
    with db.read() as s:
        [st] = [c for c in sync_store.statuses(s) if c.code == "northwind"]
        assert (st.role, st.kind, st.enabled, st.last_success_at) == ("partner", "edi_folder", True, None)
    (channel.inbox / "po1.x12").write_text(an_850())
    Engine(db, {"northwind": channel}).run_once()
    with db.read() as s:
        [st] = [c for c in sync_store.statuses(s) if c.code == "northwind"]
        assert st.online and st.last_success_at is not None and st.waiting == 0 and st.pushed == 2  # the 997 and the 855
    from desktop.sync_worker import describe
    from oms.integration.sync_queries import SyncOverview

    text, state, _details = describe(SyncOverview((st,), 0, 0))
    assert (text, state) == ("EDI online · 0 orders waiting to be packed", "ok")


def test_two_stations_on_one_partner_folder_import_each_file_once(partner_db):
    """Two stations poll the same shared inbox at once: each file is claimed by one of them, each PO becomes one
    order, each file ends in archive/ once, and each interchange gets one 997."""
    db, channel = partner_db
    for n in range(12):
        (channel.inbox / f"po{n:02d}.x12").write_text(an_850(po=f"PO-{n}", control=100 + n))
    _reports, errors = run_at_once([Engine(db, {"northwind": EdiFolderChannel("northwind", db, channel.root)})
                                    for _ in range(2)])
    assert errors == []
    assert sorted(p.name for p in channel.archive.iterdir()) == [f"po{n:02d}.x12" for n in range(12)]
    assert list(channel.inbox.iterdir()) == [] and list(channel.error.iterdir()) == []
    with db.read() as s:
        assert sorted(s.scalars(select(SalesOrder.number))) == sorted(f"PO-{n}" for n in range(12))
        assert s.scalar(select(func.count()).select_from(EdiDocument).where(EdiDocument.status == "duplicate")) == 0
    assert len(outbox_docs(channel)["997"]) == 12


def test_a_file_claimed_by_a_station_that_stopped_is_taken_over(partner_db, tmp_path):
    """A claim whose process is gone (this machine) is taken in at once; one whose process lives waits."""
    import socket
    import subprocess
    import sys

    from sync.channels.edi_x12 import folder

    db, channel = partner_db
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    dead = channel.inbox / folder.SEP.join((folder.CLAIM, host, gone.stdout.strip(), "abcd1234", "po1.x12"))
    dead.write_text(an_850())
    live = channel.inbox / folder.SEP.join((folder.CLAIM, host, "1", "abcd1234", "po2.x12"))  # pid 1 is alive
    live.write_text(an_850(po="PO-LIVE", control=18))
    Engine(db, {"northwind": channel}).run_once()
    assert [p.name for p in channel.archive.iterdir()] == ["po1.x12"] and not dead.exists() and live.exists()
    with db.read() as s:
        assert s.scalars(select(SalesOrder.number)).all() == ["PO4500123"]


def test_the_855_dates_a_backorder_by_the_open_po_that_will_reach_it(partner_db):
    """Not ship-by plus a guess: the supplier's expected date plus the location's receiving lead time."""
    from datetime import timedelta

    from oms import purchasing
    from oms.core.types import utcnow

    db, channel = partner_db
    due = utcnow().date() + timedelta(days=30)
    with db.write() as s:
        purchasing.add_supplier(s, ACTOR, "CANVAS", "Canvas & Co")
        _id, number = purchasing.create_po(s, ACTOR, "CANVAS", "RNO", lines=[purchasing.PoLineInput("TOTE-NAT", 10, "3.10", due)])
        purchasing.send_po(s, ACTOR, number)
    (channel.inbox / "po1.x12").write_text(an_850())
    Engine(db, {"northwind": channel}).run_once()
    ack855 = outbox_docs(channel)["855"][0][1]
    assert check_855_structure(ack855) == []
    backordered = [seg.elements for seg in ack855.segments if seg.tag == "ACK" and seg.el(1) == "IB"]
    assert backordered == [("IB", "6", "EA", "068", (due + timedelta(days=1)).strftime("%Y%m%d"))]  # Reno: a day to the shelf
