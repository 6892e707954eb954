"""The document log as the Documents screen reads it: filters, search, counts per status, one document whole, and the
X12 laid out segment by segment."""

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from oms import catalog, inventory, routing
from oms.partners import edi, edi_queries
from oms.partners.edi_queries import DocumentFilter
from oms.routing import restock
from sync.channels.edi_x12.pretty import pretty, reference
from sync.channels.edi_x12.service import import_interchanges
from sync.channels.edi_x12.x12 import Delimiters, Group, Segment, Transaction, write_interchange
from tests.conftest import ACTOR

WHEN = datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)


def an_850(po: str, control: int, *, sender: str = "ACMESTORES", lines=(("1", 4, "VN", "LANT-BRASS", "19.50"),)) -> str:
    body = [Segment("BEG", ("00", "SA", po, "", "20261123")), Segment("N1", ("ST", "ACME DC 14", "92", "0014")),
            Segment("N3", ("1 Dock Rd",)), Segment("N4", ("Sparks", "NV", "89431"))]
    for line_id, qty, q, code, price in lines:
        body += [Segment("PO1", (line_id, str(qty), "EA", price, "", q, code)), Segment("PID", ("F", "", "", "", "Item"))]
    body.append(Segment("CTT", (str(len(lines)),)))
    group = Group(functional_id="PO", sender=sender, receiver="QUAYSIDE", control=str(control),
                  transactions=(Transaction(set_id="850", control="0001", segments=tuple(body)),))
    return write_interchange([group], sender_id=sender, receiver_id="QUAYSIDE", control=control, when=WHEN, newline=True)


def wrong_count(text: str) -> str:
    """The same document with a segment count in SE that does not match: the transaction is refused."""
    return re.sub(r"SE\*\d+\*0001", "SE*99*0001", text)


@pytest.fixture
def docs_db(db):
    with db.write() as s:
        lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502", city="Reno", address1="1 Dock St")
        inventory.add_bins(s, lid, ["A-01-1"])
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        catalog.add_product(s, ACTOR, "LANT-BRASS", "Storm lantern, brass")
        restock.receive(s, ACTOR, "LANT-BRASS", "RNO", 100, bin="A-01-1")
        acme = edi.add_partner(s, ACTOR, code="ACME", name="ACME Stores", our_id="QUAYSIDE", their_id="ACMESTORES",
                               transport={"kind": "folder", "path": "/srv/edi/acme"})
        other = edi.add_partner(s, ACTOR, code="BETA", name="Beta Mart", our_id="QUAYSIDE", their_id="BETAMART",
                                documents="850,997")
    with db.write() as s:
        import_interchanges(s, an_850("PO4500123", 17), filename="acme_po_17.x12")
        import_interchanges(s, wrong_count(an_850("PO4500124", 18)), filename="acme_po_18.x12")
        import_interchanges(s, an_850("BM-77", 5, sender="BETAMART"), filename="beta_5.x12")
    return db, acme, other


def test_every_document_in_and_out_newest_first_with_its_order(docs_db):
    db, acme, beta = docs_db
    with db.read() as s:
        rows = edi_queries.page(s, DocumentFilter(), 0, 50)
        assert edi_queries.count(s, DocumentFilter()) == len(rows) == 7
    got = [(r.partner_code, r.direction, r.doc_type, r.status, r.order_number) for r in rows]
    assert got == [
        ("BETA", "out", "997", "queued", ""),  # Beta takes no 855
        ("BETA", "in", "850", "accepted", "BM-77"),
        ("ACME", "out", "997", "queued", ""),  # the 997 that refuses PO4500124
        ("ACME", "in", "850", "rejected", ""),
        ("ACME", "out", "855", "queued", "PO4500123"),
        ("ACME", "out", "997", "queued", ""),
        ("ACME", "in", "850", "accepted", "PO4500123"),
    ]
    rejected = rows[3]
    assert "says it has 99 segments" in rejected.error and rejected.filename == "acme_po_18.x12"
    assert rejected.head.startswith("ST*850*0001~") and reference(rejected.head, "850") == "PO4500124"
    assert reference(rows[4].head, "855") == "PO4500123"
    assert reference(rows[2].head, "997") == "PO 18"


def test_filters_search_and_counts_run_in_the_database(docs_db):
    db, acme, beta = docs_db

    def ids(**kw):
        with db.read() as s:
            return [(r.partner_code, r.direction, r.doc_type) for r in edi_queries.page(s, DocumentFilter(**kw), 0, 50)]

    assert ids(partner_id=beta) == [("BETA", "out", "997"), ("BETA", "in", "850")]
    assert ids(direction="in", partner_id=acme) == [("ACME", "in", "850"), ("ACME", "in", "850")]
    assert ids(doc_type="855") == [("ACME", "out", "855")]
    assert ids(status="rejected") == [("ACME", "in", "850")]
    # Search: the PO (order) number finds the 850 and its 855; a control number, sent padded or not; a file name's start.
    assert ids(search="po45001") == [("ACME", "out", "855"), ("ACME", "in", "850")]
    assert ids(search="17") == [("ACME", "in", "850")]
    assert ids(search="000000018") == [("ACME", "in", "850")]
    assert ids(search="beta_") == [("BETA", "in", "850")]
    assert ids(search="x") == ids()  # one character is no search
    with db.read() as s:
        assert edi_queries.status_counts(s, DocumentFilter()) == {"accepted": 2, "rejected": 1, "queued": 4}
        # The chips count what the other filters find, whatever status is chosen.
        assert edi_queries.status_counts(s, DocumentFilter(partner_id=acme, status="rejected")) == {
            "accepted": 1, "rejected": 1, "queued": 3}
        assert edi_queries.count(s, DocumentFilter(search="PO4500123", direction="out")) == 1
        choices = edi_queries.partner_choices(s)
    assert [(c.code, c.name) for c in choices] == [("ACME", "ACME Stores"), ("BETA", "Beta Mart")]


def test_one_document_whole(docs_db):
    db, acme, _beta = docs_db
    with db.read() as s:
        (row,) = edi_queries.page(s, DocumentFilter(doc_type="855"), 0, 1)
        detail = edi_queries.document(s, row.id)
        with pytest.raises(edi_queries.NotFound):
            edi_queries.document(s, 999_999)
    assert detail.raw.startswith("ISA*") and detail.raw.rstrip().endswith("~")
    assert (detail.partner_name, detail.delimiters, detail.ack_timeout_h) == ("ACME Stores", "*~>^", 24)
    assert detail.row.order_id is not None and detail.row.order_number == "PO4500123"


def test_version_changes_when_a_document_arrives_or_changes(docs_db):
    db, _acme, _beta = docs_db
    with db.read() as s:
        before = edi_queries.version(s)
    with db.write() as s:
        s.execute(text("UPDATE edi_document SET status = 'sent' WHERE status = 'queued' AND doc_type = '855'"))
    with db.read() as s:
        assert edi_queries.version(s) != before


def test_the_screen_queries_use_indexes(sqlite_db):
    """At 100,000 documents a full scan is what makes a screen slow: each query is answered from an index."""
    with sqlite_db.read() as s:
        conn = s.connection()

        def plan(sql: str) -> str:
            return " | ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))

        assert "ix_edi_document_created" in plan("SELECT id FROM edi_document ORDER BY created_at DESC, id DESC LIMIT 100")
        assert "ix_edi_document_status" in plan(
            "SELECT id FROM edi_document WHERE status = 'rejected' ORDER BY created_at DESC, id DESC LIMIT 100")
        assert "ix_edi_document_partner" in plan(
            "SELECT id FROM edi_document WHERE partner_id = 1 ORDER BY created_at DESC, id DESC LIMIT 100")
        assert "ix_edi_document_status" in plan("SELECT status, count(*) FROM edi_document GROUP BY status")
        for column, index in (("order_id", "ix_edi_document_order"), ("shipment_id", "ix_edi_document_shipment"),
                              ("isa_control", "ix_edi_document_isa"), ("gs_control", "ix_edi_document_gs_control")):
            assert index in plan(f"SELECT id FROM edi_document WHERE {column} = '1'")
        assert "ix_edi_document_filename" in plan("SELECT id FROM edi_document WHERE filename >= 'ab' AND filename < 'ac'")


# -- pretty printing ---------------------------------------------------------------------------------------


def test_pretty_lays_out_loops_hierarchy_and_names():
    doc = pretty(an_850("PO1", 1, lines=(("1", 2, "VN", "A", "1.00"), ("2", 3, "VN", "B", "2.00"))))
    shown = [(l.number, l.depth, l.tag, l.note) for l in doc.lines]
    assert shown[:8] == [(1, 0, "ISA", "Interchange header"), (2, 1, "GS", "Group header"), (3, 2, "ST", "Transaction set header"),
                         (4, 3, "BEG", "Purchase order"), (5, 3, "N1", "Ship to"), (6, 4, "N3", "Address"),
                         (7, 4, "N4", "City, state, postal code"), (8, 3, "PO1", "Line item")]
    assert (shown[8][1:3], shown[-4][1:3], shown[-3][1:3], shown[-1][1:3]) == ((4, "PID"), (3, "CTT"), (2, "SE"), (0, "IEA"))
    assert doc.lines[3].elements == ("00", "SA", "PO1", "", "20261123") and doc.is_x12 and not doc.problems
    # An 856's HL levels nest by their parents.
    asn = "ST*856*0001~BSN*00*SH1*20261123*1100~HL*1**S~TD1*CTN25*2~HL*2*1*O~PRF*PO1~HL*3*2*P~MAN*GM*00006141410000000017~" \
          "HL*4*3*I~LIN**VN*A~SN1**2*EA~HL*5*2*P~CTT*5~SE*14*0001~"
    lines = pretty(asn).lines
    assert [(l.tag, l.depth, l.note) for l in lines if l.tag == "HL"] == [
        ("HL", 1, "Shipment"), ("HL", 2, "Order"), ("HL", 3, "Carton (pack)"), ("HL", 4, "Item"), ("HL", 3, "Carton (pack)")]
    assert [(l.tag, l.depth) for l in lines if l.tag in ("TD1", "MAN", "SN1", "CTT")] == [
        ("TD1", 2), ("MAN", 4), ("SN1", 5), ("CTT", 1)]
    assert reference(asn, "856") == "SH1"


def test_pretty_reads_a_transaction_kept_without_its_envelope_and_places_the_fault():
    text = an_850("PO9", 3, sender="X")
    tx = wrong_count(text[text.index("ST*"):text.index("GE*")])
    doc = pretty(tx)
    assert doc.delimiters.element == "*" and doc.delimiters.segment == "~"
    (bad,) = [l for l in doc.lines if l.problem]
    assert bad.tag == "SE" and "says it has 99 segments" in bad.problem
    # Other delimiters, a newline as segment terminator; the partner's component separator fills in.
    odd = pretty("ST|850|0001\nBEG|00|SA|PO7||20261123\nSE|3|0001\n", Delimiters("*", "~", ":", "^"))
    assert [l.tag for l in odd.lines] == ["ST", "BEG", "SE"] and odd.delimiters.element == "|"
    assert odd.delimiters.segment == "\n" and odd.delimiters.component == ":"
    assert reference("ST|850|0001\nBEG|00|SA|PO7||20261123\n", "850") == "PO7"


def test_an_855_line_says_what_ships_and_until_when_the_rest_waits():
    tx = ("ST*855*0001~BAK*00*AC*PO-9*20261207~PO1*1*20*EA*7.25**VN*MUG-RED~ACK*IA*20*EA*068*20261208~"
          "PO1*2*4*EA*9.00**VN*LANT-BRASS~ACK*IB*4*EA*068*20261210~SE*7*0001~")
    notes = [line.note for line in pretty(tx).lines if line.tag == "ACK"]
    assert notes == ["Line status: accepted, 20 units, ships Tue 08 Dec 2026",
                     "Line status: backordered, 4 units, until Thu 10 Dec 2026"]


def test_pretty_never_raises_on_text_that_is_not_x12():
    for raw in ("", "this is not EDI", "\x00\x01garbage", "ISA*00*short", "ST"):
        doc = pretty(raw)
        assert isinstance(doc.lines, tuple)
    doc = pretty("hello\nworld")
    assert not doc.is_x12 and [l.elements for l in doc.lines] == [("hello",), ("world",)]
    assert reference("hello", "850") == ""
