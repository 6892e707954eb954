"""X12 envelopes: delimiters, parsing, validation findings, writing, and the public sample files."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.channels.edi_x12.docs import read_850
from sync.channels.edi_x12.x12 import (
    Delimiters,
    Group,
    Segment,
    Transaction,
    X12Error,
    detect_delimiters,
    parse_interchanges,
    write_interchange,
)

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "x12"
WHEN = datetime(2024, 3, 12, 9, 5, tzinfo=timezone.utc)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def errors(interchanges) -> list:
    return [i for ic in interchanges for i in ic.issues if i.is_error]


def codes(interchanges) -> set[tuple[str, str]]:
    return {(i.level, i.code) for ic in interchanges for i in ic.issues}


# --- an 850 of our own making, for generated interchanges ------------------------------------------


def po_segments(po: dict) -> list[Segment]:
    segs = [Segment("BEG", ("00", "SA", po["number"], "", po["date"])),
            Segment("N1", ("ST", po["ship_to"], "92", po["ship_code"]))]
    for i, (qty, price, upc, part) in enumerate(po["lines"], start=1):
        segs.append(Segment("PO1", (str(i), str(qty), "EA", price, "PE", "UP", upc, "VN", part)))
        segs.append(Segment("PID", ("F", "08", "", "", f"ITEM {part}")))
    segs.append(Segment("CTT", (str(len(po["lines"])),)))
    return segs


def interchange_text(groups_of_pos: list[list[dict]], *, delimiters=Delimiters(), version="00401",
                     newline=False, control=1) -> str:
    groups = []
    n = 0
    for g, pos in enumerate(groups_of_pos, start=1):
        txs = []
        for po in pos:
            n += 1
            txs.append(Transaction(set_id="850", control=f"{n:04d}", segments=tuple(po_segments(po))))
        groups.append(Group(functional_id="PO", sender="BUYER", receiver="QUAYSIDE", control=str(g),
                            version="005010" if version >= "00501" else "004010", transactions=tuple(txs)))
    return write_interchange(groups, sender_id="BUYER", receiver_id="QUAYSIDE", control=control,
                             delimiters=delimiters, version=version, when=WHEN, newline=newline)


def purchase_orders(text: str | bytes) -> list:
    out = []
    for ic in parse_interchanges(text):
        assert not ic.issues, [i.message for i in ic.issues]
        for g, t in ic.transactions():
            po = read_850(t, g.version)
            assert not isinstance(po, list), [i.message for i in po]
            out.append(po)
    return out


DATA_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -./"
DELIMITER_POOL = sorted(set("!\"#$%&'()*+,:;<=>?@[\\]^_`{|}~"))
word = st.text(alphabet=DATA_CHARS, min_size=1, max_size=20).filter(lambda s: s.strip() == s and s)
po_strategy = st.fixed_dictionaries({
    "number": st.text(alphabet="ABCDEFGHIJ0123456789-", min_size=1, max_size=12),
    "date": st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2099, 12, 31).date()).map(
        lambda d: d.strftime("%Y%m%d")),
    "ship_to": word,
    "ship_code": st.text(alphabet="0123456789", min_size=1, max_size=6),
    "lines": st.lists(st.tuples(st.integers(1, 10_000),
                                st.decimals(min_value=0, max_value=99999, places=2).map(str),
                                st.text(alphabet="0123456789", min_size=12, max_size=12),
                                st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", min_size=1, max_size=15)),
                      min_size=1, max_size=5),
})
groups_strategy = st.lists(st.lists(po_strategy, min_size=1, max_size=3), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups=groups_strategy, delims=st.permutations(DELIMITER_POOL).map(lambda p: p[:4]),
       newline=st.booleans(), version=st.sampled_from(["00401", "00501"]), crlf=st.booleans())
def test_any_delimiters_give_the_same_purchase_orders(groups, delims, newline, version, crlf):
    expected = purchase_orders(interchange_text(groups))
    delimiters = Delimiters(element=delims[0], segment=delims[1], component=delims[2], repetition=delims[3])
    text = interchange_text(groups, delimiters=delimiters, version=version, newline=newline)
    if newline and crlf:
        text = text.replace("\n", "\r\n")
    assert detect_delimiters(text) == Delimiters(delims[0], delims[1], delims[2],
                                                 delims[3] if version >= "00402" else None)
    assert purchase_orders(text.encode()) == expected
    assert [po.po_number for po in expected] == [po["number"] for g in groups for po in g]
    assert [len(po.lines) for po in expected] == [len(po["lines"]) for g in groups for po in g]


@settings(max_examples=40, deadline=None)
@given(groups=groups_strategy, newline=st.booleans())
def test_writer_parser_round_trip(groups, newline):
    text = interchange_text(groups, newline=newline, control=123456789)
    [ic] = parse_interchanges(text)
    assert ic.issues == ()
    assert (ic.sender_id, ic.receiver_id, ic.control, ic.usage) == ("BUYER", "QUAYSIDE", "123456789", "P")
    assert len(ic.groups) == len(groups) == ic.iea_count
    for g, pos in zip(ic.groups, groups):
        assert g.ge_count == len(pos) == len(g.transactions)
        for t, po in zip(g.transactions, pos):
            assert t.segments == tuple(po_segments(po))
            assert t.se_count == len(t.segments) + 2
            assert t.raw.startswith("ST*850*") and t.raw.rstrip("\n").endswith(f"SE*{t.se_count}*{t.control}~")
    # Writing what was read gives the same text.
    again = write_interchange(ic.groups, sender_id="BUYER", receiver_id="QUAYSIDE", control=123456789, when=WHEN,
                              newline=newline)
    assert again == text


# --- delimiters and layout --------------------------------------------------------------------


def test_isa_has_fixed_widths():
    text = interchange_text([[{"number": "1", "date": "20240101", "ship_to": "X", "ship_code": "1",
                               "lines": [(1, "1.00", "036000291452", "A")]}]], version="00501")
    isa = text.split("~")[0] + "~"
    assert len(isa) == 106
    assert isa[3] == "*" and isa[82] == "^" and isa[104] == ">" and isa[105] == "~"
    assert isa.split("*")[6] == "BUYER".ljust(15)


def test_delimiters_tolerate_bom_whitespace_and_lf_terminator():
    text = fixture("quayside_850_two_groups.x12").decode()
    assert detect_delimiters("\ufeff\r\n  " + text) == Delimiters("*", "~", ":", "^")
    lf = text.replace("~\n", "\n").rstrip("\n")  # LF as the terminator, no final newline
    lf = lf[:105] + "\n" + lf[106:]
    assert detect_delimiters(lf).segment == "\n"
    assert purchase_orders(lf) == purchase_orders(text)


def test_repetition_separator_is_not_applied_to_data():
    text = fixture("quayside_850_two_groups.x12").decode().replace("REF*DP*021", "REF*DP*021^022")
    [ic] = parse_interchanges(text)
    ref = next(s for s in ic.groups[0].transactions[0].segments if s.tag == "REF")
    assert ref.el(2) == "021^022" and ref.repetitions(2) == ("021", "022")


def test_segment_helpers():
    seg = Segment("MEA", ("PD", "G", "12.5", "LB>1"), Delimiters())
    assert seg.el(1) == "PD" and seg.el(9) == "" and seg.el(0) == ""
    assert seg.components(4) == ("LB", "1") and seg.components(7) == ()


# --- our fixture ------------------------------------------------------------------------------


def test_fixture_with_two_groups_parses_clean():
    [ic] = parse_interchanges(fixture("quayside_850_two_groups.x12"))
    assert ic.issues == ()
    assert (ic.sender_qualifier, ic.sender_id, ic.receiver_id, ic.version, ic.usage) == (
        "ZZ", "HARBORMART", "QUAYSIDE", "00501", "T")
    assert ic.ack_requested
    assert [(g.control, [t.control for t in g.transactions]) for g in ic.groups] == [
        ("7001", ["0001", "0002"]), ("7002", ["0003"])]
    t = ic.groups[0].transactions[0]
    assert t.set_id == "850" and t.se_count == 25 and len(t.segments) == 23
    assert t.raw.startswith("ST*850*0001~") and t.raw.endswith("SE*25*0001~")


# --- bad input --------------------------------------------------------------------------------


def good() -> str:
    return fixture("quayside_850_two_groups.x12").decode()


def test_truncated_file_reports_missing_trailers():
    text = good()
    cut = text[: text.index("PO1*2*12")]
    [ic] = parse_interchanges(cut)
    found = codes([ic])
    assert {("interchange", "023"), ("group", "3"), ("transaction", "2")} <= found
    assert ic.iea_count is None and ic.groups[0].ge_count is None
    assert ic.groups[0].transactions[0].se_count is None
    assert ic.groups[0].transactions[0].raw.endswith("PID*F*08***RED ENAMEL MUG 12OZ~")
    # A cut inside a segment: the partial segment is kept, the trailers are still missing.
    [ic] = parse_interchanges(text[: text.index("*7.25*") + 3])
    assert ("interchange", "023") in codes([ic])


@pytest.mark.parametrize("old,new,expected", [
    ("SE*25*0001", "SE*24*0001", ("transaction", "4")),
    ("SE*25*0001", "SE*25*0009", ("transaction", "3")),
    ("GE*2*7001", "GE*3*7001", ("group", "5")),
    ("GE*2*7001", "GE*2*7000", ("group", "4")),
    ("IEA*2*000000412", "IEA*1*000000412", ("interchange", "021")),
    ("IEA*2*000000412", "IEA*2*000000413", ("interchange", "001")),
    ("BEG*00*SA*HM-4472**20240312~\n", "", ("segment", "3")),
])
def test_count_and_control_mismatches(old, new, expected):
    text = good()
    assert old in text
    interchanges = parse_interchanges(text.replace(old, new, 1))
    assert expected in codes(interchanges)
    issue = next(i for ic in interchanges for i in ic.issues if (i.level, i.code) == expected)
    assert issue.is_error and issue.message


def test_unknown_and_garbage_segments():
    text = good().replace("REF*DP*021~", "ZZQ*1~\x01\x02#~", 1)
    [ic] = parse_interchanges(text)
    tx = ic.groups[0].transactions[0]
    unknown = [i for i in tx.issues if i.level == "segment" and i.code == "1"]
    assert [(i.segment, i.severity, i.position) for i in unknown] == [("ZZQ", "warning", 4), ("??#", "error", 5)]
    assert ("transaction", "5") in {(i.level, i.code) for i in tx.issues}
    assert ("transaction", "4") in {(i.level, i.code) for i in tx.issues}  # one segment more than SE01 says


def test_control_characters_in_an_element():
    [ic] = parse_interchanges(good().replace("RED ENAMEL", "RED\x07ENAMEL"))
    [issue] = [i for i in ic.issues if i.level == "segment"]
    assert (issue.code, issue.element, issue.element_code, issue.segment) == ("8", 5, "6", "PID")


def test_segment_outside_a_transaction():
    [ic] = parse_interchanges(good().replace("GE*2*7001~", "REF*XX*1~\nGE*2*7001~"))
    assert ("interchange", "024") in codes([ic])


def test_trailing_junk_after_iea_is_reported_not_raised():
    interchanges = parse_interchanges(good() + "\r\n\x00\x00this is not edi\n")
    assert ("interchange", "024") in codes(interchanges)


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "hello world".encode(),
                                  b"ISA1234567", b"ISA*00*short~", bytes(range(256)) * 10])
def test_garbage_raises_a_plain_error(data):
    with pytest.raises(X12Error) as e:
        parse_interchanges(data)
    assert str(e.value) and "Traceback" not in str(e.value)


def test_isa_not_padded_is_read_and_reported():
    text = good().replace("HARBORMART     *", "HARBORMART*", 1)
    [ic] = parse_interchanges(text)
    assert ic.sender_id == "HARBORMART"
    assert ("interchange", "022") in codes([ic])
    assert len(ic.groups) == 2


def test_new_isa_before_iea_closes_the_cut_interchange():
    text = good()
    cut = text[: text.index("GS*PO*HARBORMART*QUAYSIDE*20240312*0906")]
    interchanges = parse_interchanges(cut + text)
    assert len(interchanges) == 2
    assert ("interchange", "023") in {(i.level, i.code) for i in interchanges[0].issues}
    assert interchanges[1].issues == ()


def test_duplicate_transaction_control_is_a_warning():
    text = good().replace("ST*850*0002~", "ST*850*0001~").replace("SE*10*0002~", "SE*10*0001~")
    [ic] = parse_interchanges(text)
    [dup] = [i for i in ic.issues if i.code == "23"]
    assert dup.severity == "warning" and dup.level == "transaction"


def test_unsupported_transaction_set():
    [ic] = parse_interchanges(good(), supported={"860"})
    assert {(i.level, i.code) for i in ic.issues} == {("transaction", "1")}


def test_five_megabytes_parse_quickly():
    po = {"number": "HM-1", "date": "20240312", "ship_to": "HARBORMART DC 12", "ship_code": "12",
          "lines": [(i + 1, "7.25", "036000291452", f"PART-{i}") for i in range(40)]}
    one = interchange_text([[po]])
    body_start, body_end = one.index("ST*"), one.index("GE*")
    body = one[body_start:body_end]
    copies = 5_000_000 // len(body) + 1
    text = one[:body_start] + body * copies + f"GE*{copies}*1~" + one[one.index("IEA*"):]
    assert len(text) > 5_000_000
    started = time.perf_counter()
    [ic] = parse_interchanges(text.encode())
    elapsed = time.perf_counter() - started
    print(f"\nparsed {len(text) / 1e6:.1f} MB, {copies} transaction sets, in {elapsed:.2f} s")
    assert [i for i in ic.issues if i.code != "23"] == []  # the copies share one ST02
    assert len(ic.groups[0].transactions) == copies
    assert elapsed < 20


# --- the writer refuses what it cannot write ----------------------------------------------------


def test_writer_refuses_delimiters_in_data_or_replaces_them():
    group = Group(functional_id="PO", sender="A", receiver="B", control="1",
                  transactions=(Transaction(set_id="850", control="0001",
                                            segments=(Segment("N1", ("ST", "BOB*S ~SHOP")),)),))
    with pytest.raises(X12Error):
        write_interchange([group], sender_id="A", receiver_id="B", control=1, when=WHEN)
    text = write_interchange([group], sender_id="A", receiver_id="B", control=1, when=WHEN,
                             on_delimiter_in_data="replace")
    assert "N1*ST*BOB S  SHOP~" in text


@pytest.mark.parametrize("kwargs", [
    {"delimiters": Delimiters("*", "*", ">")},
    {"delimiters": Delimiters("A", "~", ">")},
    {"sender_id": "X" * 16},
    {"control": 0},
    {"control": "12x"},
    {"version": "4010"},
])
def test_writer_rejects_bad_envelopes(kwargs):
    args = {"sender_id": "A", "receiver_id": "B", "control": 1, **kwargs}
    with pytest.raises(X12Error):
        write_interchange([], **args)


def test_writer_composites_and_trailing_empties():
    group = Group(functional_id="PO", sender="A", receiver="B", control="1",
                  transactions=(Transaction(set_id="846", control="0001",
                                            segments=(Segment("MEA", ("PD", "G", "2", ("LB", "", ""), "", "")),)),))
    text = write_interchange([group], sender_id="A", receiver_id="B", control=1, when=WHEN,
                             delimiters=Delimiters("|", "\n", ":"))
    assert "\nMEA|PD|G|2|LB\n" in text
    [ic] = parse_interchanges(text)
    assert ic.issues == ()


# --- the public sample files -----------------------------------------------------------------

needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference/x12 is not checked out here")

# file -> [(PO number, number of lines)] for every 850 in it
EXPECTED_850 = {
    "bots__850-004010-01.x12": [("91393058", 8)],
    "bots__850-004010-02.x12": [("95018017", 1)] * 4,
    "bots__850-004010.14.x12": [("4167427123", 2), ("1234567890", 4), ("1234567890", 4)],
    "bots__850-004010VICS-02.x12": [("520981", 2)],
    "node-x12__850.edi": [("08292233294", 6)],
    "stedi-bootstrap__850-input.edi": [("365465413", 2)],
}
# file -> (interchanges, groups, transaction sets)
EXPECTED_SHAPE = {
    "bots__810-004010VICS-01.x12": (1, 1, 2), "bots__850-004010-01.x12": (1, 1, 1),
    "bots__850-004010-02.x12": (1, 2, 4), "bots__850-004010.14.x12": (3, 3, 3),
    "bots__850-004010VICS-02.x12": (1, 1, 1), "bots__855-004010UCS-01.x12": (1, 1, 6),
    "bots__856-PARTNER2_20130123_1.x12": (1, 1, 2), "bots__856_1.x12": (1, 1, 1),
    "node-x12__850.edi": (1, 1, 1), "node-x12__855.edi": (1, 1, 1), "node-x12__856.edi": (1, 1, 1),
    "staedi__simple810.edi": (1, 1, 2), "stedi-bootstrap__850-input.edi": (1, 1, 1),
    "stedi-bootstrap__855-inbound.edi": (1, 1, 1), "stupidedi__IN810-pass-1.edi": (1, 1, 1),
    "stupidedi__PR855-pass-1.edi": (1, 1, 1),
}


@needs_reference
@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPE))
def test_reference_files_parse_without_envelope_errors(name):
    interchanges = parse_interchanges((REFERENCE / name).read_bytes())
    assert errors(interchanges) == []
    shape = (len(interchanges), sum(len(ic.groups) for ic in interchanges),
             sum(len(g.transactions) for ic in interchanges for g in ic.groups))
    assert shape == EXPECTED_SHAPE[name]


@needs_reference
@pytest.mark.parametrize("name", sorted(EXPECTED_850))
def test_reference_850s_map_to_purchase_orders(name):
    found = []
    for ic in parse_interchanges((REFERENCE / name).read_bytes()):
        for g, t in ic.transactions():
            po = read_850(t, g.version)
            assert not isinstance(po, list), [i.message for i in po]
            assert po.declared_line_count in (None, len(po.lines))
            found.append((po.po_number, len(po.lines)))
    assert found == EXPECTED_850[name]


@needs_reference
def test_reference_delimiter_quirks():
    d = detect_delimiters((REFERENCE / "bots__856-PARTNER2_20130123_1.x12").read_bytes())
    assert d == Delimiters("+", "'", ":", "^")
    assert detect_delimiters((REFERENCE / "bots__850-004010-01.x12").read_bytes()).segment == "\n"
    assert detect_delimiters((REFERENCE / "bots__850-004010.14.x12").read_bytes()).segment == "\r"
    assert detect_delimiters((REFERENCE / "stupidedi__IN810-pass-1.edi").read_bytes()).element == "|"
    [ic] = parse_interchanges((REFERENCE / "node-x12__856.edi").read_bytes())
    assert ic.delimiters.repetition == "-"
    ref = next(s for s in ic.groups[0].transactions[0].segments if s.tag == "REF" and s.el(1) == "BM")
    assert ref.el(2) == "999999-001"
    po = read_850(parse_interchanges((REFERENCE / "node-x12__850.edi").read_bytes())[0].groups[0].transactions[0])
    assert po.lines[0].unit_price == Decimal("9.25") and po.ship_to.id_code == "0003947268292"
