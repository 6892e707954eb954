"""850 reading, 997 acknowledgments, and the 855/856/810 we send."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from oms.core.gs1 import sscc
from sync.channels.edi_x12.ack import build_997, parse_997
from sync.channels.edi_x12.docs import (
    LineAck,
    PurchaseOrder,
    build_810,
    build_855,
    build_856,
    check_810_structure,
    check_855_structure,
    check_856_structure,
    read_850,
    read_860,
)
from sync.channels.edi_x12.x12 import Group, Segment, Transaction, parse_interchanges, write_interchange

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "x12"
WHEN = datetime(2024, 3, 13, 14, 0, tzinfo=timezone.utc)


def received():
    [ic] = parse_interchanges((FIXTURES / "quayside_850_two_groups.x12").read_bytes())
    return ic


def first_po() -> PurchaseOrder:
    ic = received()
    po = read_850(ic.groups[0].transactions[0], ic.groups[0].version)
    assert isinstance(po, PurchaseOrder), po
    return po


def roundtrip(set_id: str, segments: list[Segment], functional_id: str) -> Transaction:
    """Wrap builder output in envelopes as the lead will, and read it back."""
    group = Group(functional_id=functional_id, sender="QUAYSIDE", receiver="HARBORMART", control="51",
                  transactions=(Transaction(set_id=set_id, control="0007", segments=tuple(segments)),))
    text = write_interchange([group], sender_id="QUAYSIDE", receiver_id="HARBORMART", control=90, when=WHEN,
                             newline=True)
    [ic] = parse_interchanges(text)
    assert [i.message for i in ic.issues] == []
    return ic.groups[0].transactions[0]


# --- 850 --------------------------------------------------------------------------------------


def test_read_850_fields():
    po = first_po()
    assert (po.purpose, po.type, po.po_number, po.po_date, po.currency) == (
        "original", "SA", "HM-4471", date(2024, 3, 12), "USD")
    assert (po.requested_delivery, po.requested_ship, po.cancel_after) == (
        date(2024, 3, 22), date(2024, 3, 19), date(2024, 3, 29))
    assert po.carrier.scac == "ODFL" and po.carrier.routing == "OLD DOMINION GROUND"
    assert po.notes == ("DELIVER TO DOCK 4 BEFORE NOON",)
    assert po.references == {"DP": "021", "L1": "SPECIAL INSTRUCTIONS"}
    st = po.ship_to
    assert (st.name, st.id_qualifier, st.id_code, st.names, st.address, st.city, st.region, st.postal_code,
            st.country) == ("HARBORMART DC 12", "92", "0012", ("RECEIVING",), ("400 WHARF ROAD", "BUILDING C"),
                            "RENO", "NV", "89502", "US")
    assert po.party("BT").city == "OAKLAND"
    assert [(l.line_id, l.quantity, l.unit, l.unit_price) for l in po.lines] == [
        ("1", 24, "EA", Decimal("7.25")), ("2", 12, "EA", Decimal("19.5")), ("3", 6, "CA", Decimal("42"))]
    line = po.lines[0]
    assert line.product_ids == {"UP": "036000291452", "VN": "MUG-RED", "BP": "HM-88213"}
    assert (line.gtin, line.vendor_part, line.buyer_part, line.description) == (
        "036000291452", "MUG-RED", "HM-88213", "RED ENAMEL MUG 12OZ")
    assert po.declared_line_count == 3 and po.warnings == ()


def test_read_850_line_ids_default_to_sequence_and_cancellation():
    ic = received()
    second = read_850(ic.groups[0].transactions[1])
    assert [l.line_id for l in second.lines] == ["1", "2"] and second.ship_no_later == date(2024, 4, 1)
    cancel = read_850(ic.groups[1].transactions[0])
    assert cancel.purpose == "cancellation" and cancel.po_number == "HM-4390"


def mutated(old: str, new: str) -> Transaction:
    text = (FIXTURES / "quayside_850_two_groups.x12").read_text()
    assert old in text
    [ic] = parse_interchanges(text.replace(old, new, 1))
    return ic.groups[0].transactions[0]


@pytest.mark.parametrize("old,new,element,element_code", [
    ("PO1*1*24*EA", "PO1*1*2.5*EA", 2, "7"),  # fractional quantity
    ("PO1*1*24*EA", "PO1*1*TWO*EA", 2, "6"),
    ("PO1*1*24*EA", "PO1*1*-5*EA", 2, "7"),  # negative quantity
    ("PO1*1*24*EA*7.25", "PO1*1*24*EA*7,25", 4, "6"),
    ("PO1*2*12", "PO1*1*12", 1, "7"),  # duplicate line id
    ("BEG*00*SA*HM-4471**20240312", "BEG*00*SA*HM-4471**20241312", 5, "8"),
    ("BEG*00*SA*HM-4471", "BEG*09*SA*HM-4471", 1, "7"),
    ("CTT*3*42", "CTT*4*42", 1, "7"),
    ("DTM*002*20240322", "DTM*002*2024032", 2, "8"),
])
def test_read_850_issues(old, new, element, element_code):
    issues = read_850(mutated(old, new))
    assert isinstance(issues, list) and issues
    assert (issues[0].element, issues[0].element_code, issues[0].transaction_control) == (
        element, element_code, "0001")
    assert issues[0].message


def test_a_negative_quantity_tells_the_partner_it_must_be_positive():
    [issue] = read_850(mutated("PO1*1*24*EA", "PO1*1*-5*EA"))
    assert issue.message == "Line 1 orders -5 units; a quantity must be a positive whole number."
    assert "not a number" not in issue.message


def test_read_850_without_beg_or_lines():
    issues = read_850(Transaction(set_id="850", control="9", segments=(Segment("CUR", ("BY", "USD")),)))
    assert [(i.segment, i.code) for i in issues] == [("BEG", "3")]
    issues = read_850(Transaction(set_id="850", control="9", segments=(Segment("BEG", ("00", "SA", "1", "", "20240101")),)))
    assert [(i.segment, i.code) for i in issues] == [("PO1", "3")]
    assert read_850(Transaction(set_id="855", control="9", segments=()))[0].code == "6"


def an_860(*segments: str) -> Transaction:
    """A change order transaction from segment texts (element separator *)."""
    segs = tuple(Segment(t.split("*")[0], tuple(t.split("*")[1:])) for t in segments)
    return Transaction(set_id="860", control="0042", segments=segs)


def test_read_860_changes_per_line():
    po = read_860(an_860("BCH*04*SA*HM-4471**3*20240312", "DTM*002*20240329",
                         "POC*1*QD*10**EA*12.50**UP*036000291452",
                         "POC*2*DI***EA",
                         "POC*3*PC***EA*8.10**VN*LANT-BRASS",
                         "POC*4*AI*6**EA*3.00**BP*NW-TOTE", "CTT*4"))
    assert isinstance(po, PurchaseOrder), po
    assert (po.set_id, po.purpose, po.po_number, po.po_date, po.requested_delivery) == (
        "860", "change", "HM-4471", date(2024, 3, 12), date(2024, 3, 29))
    assert [(l.line_id, l.change, l.quantity, l.quantity_given, l.unit_price) for l in po.lines] == [
        ("1", "QD", 10, True, Decimal("12.50")), ("2", "DI", 0, False, None), ("3", "PC", 0, False, Decimal("8.10")),
        ("4", "AI", 6, True, Decimal("3.00"))]
    assert po.lines[0].gtin == "036000291452" and po.lines[3].buyer_part == "NW-TOTE"
    # A cancellation needs no lines; dates alone are a change too.
    assert read_860(an_860("BCH*01*SA*HM-4471**3*20240312")).purpose == "cancellation"


def test_read_860_issues_speak_of_bch_and_poc():
    issues = read_860(an_860("BCH*04*SA*HM-4471**3*2024031", "POC*1*QI*1.5**EA"))
    assert {(i.segment, i.element) for i in issues} == {("BCH", 6), ("POC", 3)}
    assert all("BEG" not in i.message and "PO1" not in i.message for i in issues)
    assert any("BCH06" in i.message for i in issues)
    issues = read_860(an_860("BCH*04*SA*HM-4471**3*20240312", "POC*1*ZZ*1**EA"))
    assert [(i.segment, i.element, i.element_code, i.bad_value) for i in issues] == [("POC", 2, "7", "ZZ")]
    assert read_860(Transaction(set_id="850", control="9", segments=()))[0].code == "6"


def test_whole_quantities_with_decimals_or_zero_padding_are_units():
    po = read_850(mutated("PO1*1*24*EA", "PO1*1*0024.000*EA"))
    assert po.lines[0].quantity == 24


# --- 997 --------------------------------------------------------------------------------------


def test_997_accepted():
    ic = received()
    segs = build_997(ic, ic.groups[0])
    assert segs == [Segment("AK1", ("PO", "7001", "005010")), Segment("AK2", ("850", "0001")),
                    Segment("AK5", ("A",)), Segment("AK2", ("850", "0002")), Segment("AK5", ("A",)),
                    Segment("AK9", ("A", "2", "2", "2"))]
    ack = parse_997(roundtrip("997", segs, "FA"))
    assert (ack.group_control, ack.status, ack.accepted) == ("7001", "A", 2)
    assert ack.status_of("0002") == "A"


def test_997_accepted_with_errors():
    text = (FIXTURES / "quayside_850_two_groups.x12").read_text().replace("REF*DP*021~", "ZZQ*1~")
    [ic] = parse_interchanges(text)
    segs = build_997(ic, ic.groups[0])
    assert Segment("AK3", ("ZZQ", "4", "", "1")) in segs
    assert segs[-1] == Segment("AK9", ("E", "2", "2", "2"))
    ack = parse_997(roundtrip("997", segs, "FA"))
    assert ack.transactions[0].status == "E" and ack.transactions[0].segment_errors[0].tag == "ZZQ"


def test_997_rejected_for_counts_and_for_content():
    text = (FIXTURES / "quayside_850_two_groups.x12").read_text()
    [ic] = parse_interchanges(text.replace("SE*25*0001", "SE*24*0001").replace("GE*2*7001", "GE*3*7001"))
    segs = build_997(ic, ic.groups[0])
    assert Segment("AK5", ("R", "4")) in segs
    assert segs[-1] == Segment("AK9", ("R", "3", "2", "1", "5"))
    # A set whose content we cannot use (a fractional quantity) is rejected with AK3/AK4.
    [ic] = parse_interchanges(text.replace("PO1*1*24*EA", "PO1*1*2.5*EA"))
    group = ic.groups[0]
    issues = list(group.issues)
    for t in group.transactions:
        result = read_850(t, group.version)
        if isinstance(result, list):
            issues += result
    segs = build_997(ic, group, issues)
    assert segs[1:5] == [Segment("AK2", ("850", "0001")), Segment("AK3", ("PO1", "18", "", "8")),
                         Segment("AK4", ("2", "", "7", "2.5")), Segment("AK5", ("R", "5"))]
    assert segs[-1] == Segment("AK9", ("P", "2", "2", "1"))
    ack = parse_997(roundtrip("997", segs, "FA"))
    assert ack.status == "P" and ack.status_of("0001") == "R"
    assert ack.transactions[0].segment_errors[0].elements[0].code == "7"


def test_parse_received_997_fixture():
    [ic] = parse_interchanges((FIXTURES / "quayside_997_received.x12").read_bytes())
    ack = parse_997(ic.groups[0].transactions[0])
    assert (ack.functional_id, ack.group_control, ack.status, ack.included, ack.accepted) == ("SH", "51", "P", 2, 1)
    assert [(t.control, t.status, t.codes) for t in ack.transactions] == [("0007", "A", ()), ("0008", "R", ("5",))]
    assert ack.transactions[1].segment_errors[0].elements[0].bad_value == "00012345"


# --- 855 --------------------------------------------------------------------------------------


def test_855_accepts_backorders_and_rejects():
    po = first_po()
    segs = build_855(po, {"1": LineAck("IA", 24),
                          "2": [LineAck("IA", 8), LineAck("IB", 4, expected=date(2024, 3, 21))],
                          "3": LineAck("IR", 6)}, ack_date=date(2024, 3, 12))
    assert segs[0] == Segment("BAK", ("00", "AC", "HM-4471", "20240312", "", "", "", "", "20240312"))
    tx = roundtrip("855", segs, "PR")
    assert check_855_structure(tx) == []
    acks = [s.elements for s in tx.segments if s.tag == "ACK"]
    assert acks == [("IA", "24", "EA"), ("IA", "8", "EA"), ("IB", "4", "EA", "068", "20240321"), ("IR", "6", "CA")]
    assert tx.segments[-1] == Segment("CTT", ("3", "42"))
    all_ok = build_855(po, {l.line_id: LineAck("IA", l.quantity) for l in po.lines})
    assert all_ok[0].el(2) == "AD"


def test_855_refuses_quantities_that_do_not_add_up():
    po = first_po()
    with pytest.raises(ValueError):
        build_855(po, {"1": LineAck("IA", 20), "2": LineAck("IA", 12), "3": LineAck("IA", 6)})
    with pytest.raises(ValueError):
        build_855(po, {"1": LineAck("IA", 24)})
    with pytest.raises(ValueError):
        build_855(po, {"1": LineAck("IB", 24), "2": LineAck("IA", 12), "3": LineAck("IA", 6)})


# --- 856 --------------------------------------------------------------------------------------

PALLET = sscc("0614141", 1)
CARTONS = [sscc("0614141", n) for n in (2, 3, 4)]


def asn_sample(with_pallet: bool = True) -> dict:
    return {
        "shipment_id": 31, "order_external_id": "HM-4471", "po_number": "HM-4471",
        "ship_from": {"code": "RNO", "name": "Quayside Reno", "city": "Reno", "region": "NV", "postal_code": "89502"},
        "ship_to": {"name": "Receiving", "company": "HARBORMART DC 12", "address1": "400 WHARF ROAD", "city": "RENO",
                    "region": "NV", "postal_code": "89502", "country": "US"},
        "carrier": "odfl", "service": "LTL", "tracking_number": "PRO123456",
        "shipped_at": "2024-03-20T16:45:00+00:00", "weight_g": 31500,
        "pallets": [{"pallet_id": 5, "sscc": PALLET, "weight_g": 52000}] if with_pallet else [],
        "cartons": [
            {"package_id": 1, "sscc": CARTONS[0], "pallet_id": 5 if with_pallet else None, "weight_g": 10500,
             "items": [{"external_line_id": "1", "sku": "MUG-RED", "quantity": 24,
                        "product_ids": {"UP": "036000291452", "BP": "HM-88213"}}]},
            {"package_id": 2, "sscc": CARTONS[1], "pallet_id": 5 if with_pallet else None, "weight_g": 11000,
             "items": [{"external_line_id": "2", "sku": "LANTERN-S", "quantity": 8}]},
            {"package_id": 3, "sscc": CARTONS[2], "pallet_id": None, "weight_g": 10000,
             "items": [{"external_line_id": "2", "sku": "LANTERN-S", "quantity": 4},
                       {"external_line_id": "3", "sku": "KETTLE-1", "quantity": 6}]},
        ],
        "line_count": 3,
    }


@pytest.mark.parametrize("with_pallet", [True, False])
def test_856_hierarchy_and_ssccs(with_pallet):
    asn = asn_sample(with_pallet)
    tx = roundtrip("856", build_856(asn), "SH")
    assert check_856_structure(tx) == []
    hls = [s.elements for s in tx.segments if s.tag == "HL"]
    if with_pallet:
        assert hls == [("1", "", "S"), ("2", "1", "O"), ("3", "2", "T"), ("4", "3", "P"), ("5", "4", "I"),
                       ("6", "3", "P"), ("7", "6", "I"), ("8", "2", "P"), ("9", "8", "I"), ("10", "8", "I")]
    else:
        assert [h[2] for h in hls] == ["S", "O", "P", "I", "P", "I", "P", "I", "I"]
    ssccs = [s.el(2) for s in tx.segments if s.tag == "MAN"]
    expected = [p["sscc"] for p in asn["pallets"]] + [c["sscc"] for c in asn["cartons"]]
    assert sorted(ssccs) == sorted(expected)
    assert tx.segments[0] == Segment("BSN", ("00", "31", "20240320", "1645", "0001"))
    assert Segment("PRF", ("HM-4471",)) in tx.segments
    assert Segment("REF", ("CN", "PRO123456")) in tx.segments
    assert Segment("LIN", ("1", "UP", "036000291452", "BP", "HM-88213", "VN", "MUG-RED")) in tx.segments
    ctt = tx.segments[-1]
    assert ctt == Segment("CTT", (str(len(hls)), "42"))
    assert Segment("N1", ("SF", "Quayside Reno", "91", "RNO")) in tx.segments


def test_856_refuses_cartons_without_valid_sscc():
    asn = asn_sample()
    asn["cartons"][1]["sscc"] = CARTONS[1][:-1] + str((int(CARTONS[1][-1]) + 1) % 10)
    with pytest.raises(ValueError):
        build_856(asn)
    asn = asn_sample()
    asn["cartons"][0]["pallet_id"] = 99
    with pytest.raises(ValueError):
        build_856(asn)


def test_check_856_finds_broken_trees_and_check_digits():
    segs = build_856(asn_sample())
    bad = []
    for s in segs:
        if s.tag == "HL" and s.el(1) == "5":
            s = Segment("HL", ("5", "9", "I"))  # parent after the child
        elif s.tag == "HL" and s.el(1) == "6":
            s = Segment("HL", ("6", "5", "P"))  # pack under an item
        elif s.tag == "MAN" and s.el(2) == CARTONS[2]:
            s = Segment("MAN", ("GM", CARTONS[2][:-1] + str((int(CARTONS[2][-1]) + 3) % 10)))
        elif s.tag == "CTT":
            s = Segment("CTT", ("3", "41"))
        bad.append(s)
    problems = check_856_structure(roundtrip("856", bad, "SH"))
    text = "\n".join(problems)
    assert "HL 5 refers to parent 9" in text
    assert "HL 6 (P) cannot sit under HL 5 (I)" in text
    assert "not a valid SSCC" in text and "CTT01" in text and "CTT02" in text


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference/x12 is not checked out here")
def test_check_856_on_reference_files():
    [ic] = parse_interchanges((REFERENCE / "node-x12__856.edi").read_bytes())
    assert check_856_structure(ic.groups[0].transactions[0]) == []
    [ic] = parse_interchanges((REFERENCE / "bots__856_1.x12").read_bytes())
    problems = check_856_structure(ic.groups[0].transactions[0])
    # Its MAN*GM values have 22 digits: not SSCCs; the tree and counts are sound.
    assert problems and all("SSCC" in p for p in problems)


# --- 810 --------------------------------------------------------------------------------------


def invoice_sample(**extra) -> dict:
    lines = [{"external_line_id": "1", "sku": "MUG-RED", "quantity": 24, "unit_price_minor": 725},
             {"external_line_id": "2", "sku": "LANTERN-S", "quantity": 12, "unit_price_minor": 1950}]
    return {"order_external_id": "HM-4471", "shipment_id": 31, "lines": lines, "currency": "USD",
            "amount_minor": 24 * 725 + 12 * 1950, "shipped_at": "2024-03-20T16:45:00+00:00",
            "carrier": "odfl", "service": "LTL", "tracking_number": "PRO123456", **extra}


def test_810_totals_in_cents():
    tx = roundtrip("810", build_810(invoice_sample(bill_to={"name": "HARBORMART INC", "city": "OAKLAND"})), "IN")
    assert check_810_structure(tx) == []
    assert tx.segments[0] == Segment("BIG", ("20240320", "31", "", "HM-4471"))
    assert Segment("IT1", ("1", "24", "EA", "7.25", "", "VN", "MUG-RED")) in tx.segments
    assert Segment("TDS", ("40800",)) in tx.segments
    assert Segment("CTT", ("2",)) in tx.segments
    assert Segment("N1", ("BT", "HARBORMART INC")) in tx.segments


def test_810_with_charges_and_other_currencies():
    inv = invoice_sample(charges=[{"code": "D240", "amount_minor": 1500}], amount_minor=40800 + 1500)
    tx = roundtrip("810", build_810(inv, invoice_number="INV-9"), "IN")
    assert check_810_structure(tx) == []
    assert Segment("SAC", ("C", "D240", "", "", "1500")) in tx.segments
    yen = invoice_sample(currency="JPY", amount_minor=24 * 725 + 12 * 1950)
    tx = roundtrip("810", build_810(yen), "IN")
    assert Segment("IT1", ("1", "24", "EA", "725", "", "VN", "MUG-RED")) in tx.segments
    assert Segment("TDS", ("4080000",)) in tx.segments and check_810_structure(tx) == []


def test_810_refuses_a_total_that_does_not_add_up():
    with pytest.raises(ValueError):
        build_810(invoice_sample(amount_minor=1))
