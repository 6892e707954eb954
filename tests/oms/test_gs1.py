"""GS1 check digits, element strings and scan classification."""

import calendar
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from oms.core import gs1
from oms.core.errors import InvalidInput
from oms.core.gs1 import (
    GS,
    Gs1Data,
    Gs1Error,
    Scan,
    classify_scan,
    gs1_check_digit,
    is_valid_gtin,
    is_valid_sscc,
    normalize_gtin,
    parse_element_string,
    sscc,
)

TODAY = date(2025, 6, 1)

# --- check digits, GTIN, SSCC ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("0950600013435", 2),  # GS1 example GTIN 09506000134352
        ("10614141234567890", 8),  # GS1 example SSCC 106141412345678908
        ("9638507", 4),  # EAN-8 96385074
        ("03600029145", 2),  # UPC-A 036000291452
        ("0614141123456", 2),  # GTIN 06141411234562
        ("000000000000", 0),
    ],
)
def test_check_digit_of_published_examples(body, digit):
    assert gs1_check_digit(body) == digit


@pytest.mark.parametrize("bad", ["", "12a4", "１２３"])
def test_check_digit_needs_digits(bad):
    with pytest.raises(ValueError):
        gs1_check_digit(bad)


@pytest.mark.parametrize("code", ["09506000134352", "9506000134352", "036000291452", "96385074"])
def test_valid_gtins(code):
    assert is_valid_gtin(code)


@pytest.mark.parametrize(
    "code",
    [
        "09506000134353",
        "9506000134351",
        "950600013435",
        "0950600013435",
        "95060001343522",
        "ABCDEFGH",
        "９５０６０００１３４３５２",  # full-width digits, typed, never scanned (biip takes them)
        "",
        None,
        9506000134352,
    ],
)
def test_invalid_gtins(code):
    assert not is_valid_gtin(code)


def test_normalize_gtin_pads_to_14_digits():
    assert normalize_gtin("9506000134352") == "09506000134352"
    assert normalize_gtin("09506000134352") == "09506000134352"
    assert normalize_gtin("036000291452") == "00036000291452"
    assert normalize_gtin("96385074") == "00000096385074"


def test_normalize_gtin_rejects_wrong_check_digit_and_length():
    with pytest.raises(ValueError, match=r"wrong check digit \(expected 2\)"):
        normalize_gtin("9506000134353")
    with pytest.raises(ValueError, match="8, 12, 13 or 14 digits"):
        normalize_gtin("123456789")


def test_sscc_builds_the_published_example():
    assert sscc("0614141", 234567890, extension_digit=1) == "106141412345678908"
    assert is_valid_sscc("106141412345678908")


def test_sscc_pads_the_serial_and_fits_longest_serial():
    built = sscc("0614141", 42)
    assert built == "00614141000000042" + str(gs1_check_digit("00614141000000042"))
    assert is_valid_sscc(sscc("0614141", 999_999_999))


@pytest.mark.parametrize(
    ("prefix", "serial", "extension"),
    [
        ("0614141", 1_000_000_000, 0),
        ("1234567890123456", 1, 0),
        ("06141x1", 1, 0),
        ("0614141", -1, 0),
        ("0614141", 1, 10),
    ],
)
def test_sscc_refuses_what_does_not_fit(prefix, serial, extension):
    with pytest.raises(ValueError):
        sscc(prefix, serial, extension)


def test_sscc_message_names_the_problem():
    with pytest.raises(ValueError, match="does not fit in an SSCC"):
        sscc("0614141", 1_000_000_000)


@pytest.mark.parametrize("code", ["106141412345678907", "10614141234567890", "1061414123456789080", None])
def test_invalid_ssccs(code):
    assert not is_valid_sscc(code)


# --- parsing element strings ----------------------------------------------------


def test_parse_bracketed_example():
    data = parse_element_string("(01)09506000134352(17)201225(10)ABC123(21)12345", today=TODAY)
    assert data.gtin == "09506000134352"
    assert data.expiry == date(2020, 12, 25)
    assert data.lot == "ABC123"
    assert data.serial == "12345"
    assert data.ais == (("01", "09506000134352"), ("17", "201225"), ("10", "ABC123"), ("21", "12345"))
    assert data.human_readable() == "(01)09506000134352(17)201225(10)ABC123(21)12345"
    assert data.element_string() == "01095060001343521720122510ABC123" + GS + "2112345"


def test_parse_general_specifications_example_with_symbology_id():
    data = parse_element_string("]C1" + "0106141411234562" + "10ABC" + GS + "21XYZ")
    assert data.gtin == "06141411234562"
    assert data.lot == "ABC"
    assert data.serial == "XYZ"
    assert data.human_readable() == "(01)06141411234562(10)ABC(21)XYZ"


@pytest.mark.parametrize("symbology", ["", "]C1", "]d2", "]Q3", "]e0"])
@pytest.mark.parametrize("fnc1", ["", GS])
def test_parse_accepts_symbology_ids_and_a_leading_fnc1(symbology, fnc1):
    data = parse_element_string(symbology + fnc1 + "0106141411234562" + "10ABC" + GS + GS + "21XYZ" + GS)
    assert data.ais == (("01", "06141411234562"), ("10", "ABC"), ("21", "XYZ"))


def test_parse_tolerates_fnc1_after_fixed_length_fields():
    data = parse_element_string("0106141411234562" + GS + "17251231" + GS + "10L1")
    assert data.gtin == "06141411234562"
    assert data.lot == "L1"


def test_parse_sscc_label_with_logistics_fields():
    text = (
        "]C1" + "00106141412345678908" + "0209506000134352" + "37" + "24" + GS
        + "400" + "PO-7781" + GS + "4109501101020917"
    )
    data = parse_element_string(text)
    assert data.sscc == "106141412345678908"
    assert data.content_gtin == "09506000134352"
    assert data.count == 24
    assert data.customer_po == "PO-7781"
    assert data.ship_to_gln == "9501101020917"
    assert data.gtin is None


def test_parse_net_weight_with_decimals():
    assert parse_element_string("(3103)001250").net_weight_kg == Decimal("1.250")
    assert parse_element_string("(3100)000042").net_weight_kg == Decimal("42")


def test_day_00_means_last_day_of_month():
    assert parse_element_string("(17)240200", today=TODAY).expiry == date(2024, 2, 29)
    assert parse_element_string("(17)250200", today=TODAY).expiry == date(2025, 2, 28)
    assert parse_element_string("(15)261100", today=TODAY).best_before == date(2026, 11, 30)


def test_two_digit_years_follow_the_gs1_sliding_window():
    assert parse_element_string("(17)751231", today=TODAY).expiry == date(2075, 12, 31)
    assert parse_element_string("(17)760101", today=TODAY).expiry == date(1976, 1, 1)
    assert parse_element_string("(11)990101", today=date(2051, 1, 1)).production_date == date(2099, 1, 1)
    assert parse_element_string("(11)010101", today=date(2099, 1, 1)).production_date == date(2101, 1, 1)


def test_value_looks_up_one_ai():
    data = parse_element_string("(01)09506000134352(20)07")
    assert data.value("20") == "07"
    assert data.value("10") is None


def test_gs1_error_is_a_value_error_and_a_domain_error():
    assert issubclass(Gs1Error, ValueError)
    assert issubclass(Gs1Error, InvalidInput)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(01)09506000134353", "The GTIN 09506000134353 has a wrong check digit (expected 2)"),
        ("00106141412345678907", "The SSCC 106141412345678907 has a wrong check digit (expected 8)"),
        ("(02)09506000134353(37)5", "The content GTIN 09506000134353 has a wrong check digit (expected 2)"),
        ("(410)9501101020918", "The ship-to GLN 9501101020918 has a wrong check digit (expected 7)"),
    ],
)
def test_wrong_check_digits_are_explained(text, message):
    with pytest.raises(Gs1Error) as error:
        parse_element_string(text)
    assert str(error.value) == message


@pytest.mark.parametrize("value", ["201332", "201200x", "201131", "250230", "251300", "2512"])
def test_invalid_dates(value):
    with pytest.raises(Gs1Error):
        parse_element_string("(17)" + value, today=TODAY)


def test_invalid_date_message():
    with pytest.raises(Gs1Error, match="The expiry date “201332” is not a real date"):
        parse_element_string("0109506000134352" + "17201332", today=TODAY)


@pytest.mark.parametrize(
    "text",
    [
        "01095060001343",  # GTIN cut off at the end
        "]C1" + "010950600013" + GS + "10ABC",  # FNC1 inside a fixed field
        "(01)0950600013435(10)ABC",  # bracket form one digit short
        "0010614141234567",  # SSCC cut off
        "17" + "2012",  # date cut off
        "(3103)0012",  # weight cut off
    ],
)
def test_truncated_fixed_fields(text):
    with pytest.raises(Gs1Error, match="cut short"):
        parse_element_string(text)


@pytest.mark.parametrize(
    "text",
    ["]C1" + "23ABC", "0109506000134352" + "27X", "(23)ABC", "(01)09506000134352(23)X", "(7099)2512311200"],
)
def test_unknown_ai(text):
    with pytest.raises(Gs1Error, match="does not know"):
        parse_element_string(text)


def test_variable_field_too_long_suggests_missing_separator():
    with pytest.raises(Gs1Error, match="separator after it may be missing"):
        parse_element_string("10" + "A" * 20 + "21XYZ")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("(10)(21)X", "lot number after \\(10\\) is empty"),
        ("(10)AB C", "cannot carry"),
        ("(21)Müller", "cannot carry"),
        ("(37)12a", "digits only"),
        ("(10)A(10)B", "twice"),
        ("", "no GS1 data"),
        ("]C1", "no GS1 data"),
    ],
)
def test_other_unusable_values(text, match):
    with pytest.raises(Gs1Error, match=match):
        parse_element_string(text)


def test_identical_repeated_field_is_kept_once():
    assert parse_element_string("(10)A(10)A").ais == (("10", "A"),)


def test_ai_table_is_prefix_free():
    # The raw form has no brackets: an AI that is a prefix of another would make it ambiguous.
    ais = {code for size in (2, 3, 4) for n in range(10**size) if gs1._lookup(code := f"{n:0{size}d}")}
    assert len(ais) > 500  # GS1's whole table, not the few AIs we name
    for ai in ais:
        assert not any(other != ai and other.startswith(ai) for other in ais), ai
    assert set(gs1._TITLES) <= ais


# --- where biip and the hand-written parser differed -----------------------------
# biip supplies GS1's full AI table; splitting, check digits and dates stay ours
# where they are more correct (see the module docstring).


@pytest.mark.parametrize(
    ("text", "ai", "value"),
    [
        ("]C1" + "0109506000134352" + "99" + "PALLET-7", "99", "PALLET-7"),  # company internal
        ("(01)09506000134352(91)QA/OK", "91", "QA/OK"),
        ("(01)09506000134352(7003)2512311200", "7003", "2512311200"),  # expiry date and time
        ("(8003)09506000134352ABC", "8003", "09506000134352ABC"),  # returnable asset (GRAI)
        ("(01)09506000134352(8200)http://example.com/p", "8200", "http://example.com/p"),
        ("(00)106141412345678908(4300)ACME%20CORP", "4300", "ACME%20CORP"),  # ship-to company
        ("(01)09506000134352(3922)1995", "3922", "1995"),  # price
        ("(03)09506000134352", "03", "09506000134352"),
        ("(01)09506000134352(235)TPX-1", "235", "TPX-1"),
        ("(8017)950110153000000007", "8017", "950110153000000007"),
    ],
)
def test_ais_gs1_defines_are_read(text, ai, value):
    # The hand-written table knew 40 AIs and refused each of these as unknown.
    data = parse_element_string(text, today=TODAY)
    assert data.value(ai) == value
    assert parse_element_string(data.element_string(), today=TODAY) == data
    assert classify_scan(data.human_readable(), today=TODAY).gs1 == data


def test_printed_symbol_with_ais_beyond_the_basics():
    zxingcpp = pytest.importorskip("zxingcpp")
    human = "(01)09506000134352(7003)2512311200(10)L7(99)QA-OK"
    barcode = zxingcpp.create_barcode(human, zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    (read,) = zxingcpp.read_barcodes(barcode.to_image(scale=3))
    scan = classify_scan(read.symbology_identifier + read.bytes.decode("ascii") + "\r", today=TODAY)
    assert (scan.kind, scan.value, scan.gtin) == ("gs1", human, "09506000134352")
    assert scan.gs1.lot == "L7"


@pytest.mark.parametrize(
    ("text", "number", "digit"),
    [
        ("(402)95011010209175490", "shipment identification number 95011010209175490", 4),
        ("(8003)09506000134353ABC", "global returnable asset identifier 09506000134353", 2),
        ("(8017)950110153000000008", "service relation number of the provider 950110153000000008", 7),
        ("(253)9506000134353DOC1", "global document type identifier 9506000134353", 2),
    ],
)
def test_check_digits_of_every_gs1_key_are_checked(text, number, digit):
    # biip checks the check digit of GTIN, SSCC and GLN only, and does not refuse them.
    with pytest.raises(Gs1Error) as error:
        parse_element_string(text)
    assert str(error.value) == f"The {number} has a wrong check digit (expected {digit})"


def test_bracketed_form_as_labels_print_it_with_spaces():
    # Our labels print "(01) 0950... (10) ABC" under the barcode; a packer may type it.
    data = parse_element_string("(01) 09506000134352 (17) 201225 (10) ABC123", today=TODAY)
    assert data.human_readable() == "(01)09506000134352(17)201225(10)ABC123"
    assert classify_scan(" (00) 106141412345678908 ").sscc == "106141412345678908"


def test_a_space_inside_a_value_is_refused_not_dropped():
    # biip deletes every space in the bracketed form: lot "AB C" would become "ABC".
    with pytest.raises(Gs1Error) as error:
        parse_element_string("(10) AB C (21) X")
    assert str(error.value) == "The lot number “AB C” contains characters a GS1 barcode cannot carry: space"


def test_a_bracketed_value_may_contain_a_bracket():
    # "(" is a CSET 82 character; biip ends the lot at it and loses "(C".
    data = parse_element_string("(10)AB(C(21)X")
    assert (data.lot, data.serial) == ("AB(C", "X")


def test_day_00_only_where_gs1_allows_it():
    assert parse_element_string("(01)09506000134352(17)250200", today=TODAY).expiry == date(2025, 2, 28)
    with pytest.raises(Gs1Error, match="The first freeze date “250200” is not a real date"):
        parse_element_string("(01)09506000134352(7006)250200", today=TODAY)


def test_a_time_of_day_is_checked():
    assert parse_element_string("(01)09506000134352(7003)2512312359", today=TODAY).value("7003") == "2512312359"
    with pytest.raises(Gs1Error, match="The expiration date and time “2512312600” is not a real date and time"):
        parse_element_string("(01)09506000134352(7003)2512312600", today=TODAY)


def test_a_value_out_of_gs1_form_is_named():
    # A GRAI starts with 0 (GS1 syntax dictionary: N1,zero).
    with pytest.raises(
        Gs1Error,
        match=r"The global returnable asset identifier after \(8003\) is not written the way GS1 requires",
    ):
        parse_element_string("(8003)19506000134352ABC")


def test_full_width_digits_are_text_not_a_gtin():
    scan = classify_scan("９５０６０００１３４３５２")
    assert (scan.kind, scan.gtin) == ("text", None)


# --- property tests: encode then parse -----------------------------------------

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
PREDEFINED = {"00", "01", "02", "11", "12", "13", "15", "16", "17", "20", "31", "33", "41"}


def _digits(n):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def _with_check(n):
    return _digits(n - 1).map(lambda body: body + str(gs1_check_digit(body)))


def _yymmdd():
    real = st.dates(min_value=date(1976, 1, 1), max_value=date(2075, 12, 31)).map(lambda d: d.strftime("%y%m%d"))
    end_of_month = st.tuples(st.integers(0, 99), st.integers(1, 12)).map(lambda ym: f"{ym[0]:02d}{ym[1]:02d}00")
    return real | end_of_month


def _value_strategies(alphabet):
    def text(n):
        return st.text(alphabet=alphabet, min_size=1, max_size=n)

    return {
        "00": _with_check(18),
        "01": _with_check(14),
        "02": _with_check(14),
        "10": text(20),
        "11": _yymmdd(),
        "13": _yymmdd(),
        "15": _yymmdd(),
        "17": _yymmdd(),
        "21": text(20),
        "30": st.text(alphabet="0123456789", min_size=1, max_size=8),
        "3102": _digits(6),
        "37": st.text(alphabet="0123456789", min_size=1, max_size=8),
        "400": text(30),
        "410": _with_check(13),
        "414": _with_check(13),
        "422": _digits(3),
        "3922": st.text(alphabet="0123456789", min_size=1, max_size=15),
        "99": text(90),
    }


@st.composite
def _ai_pairs(draw, alphabet=CSET82):
    values = _value_strategies(alphabet)
    ais = draw(st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=8, unique=True))
    return [(ai, draw(values[ai])) for ai in ais]


def _encode_raw(pairs, fnc1_after_every_field=False):
    out = ""
    for i, (ai, value) in enumerate(pairs):
        out += ai + value
        last = i == len(pairs) - 1
        if not last and (fnc1_after_every_field or ai[:2] not in PREDEFINED):
            out += GS
    return out


def _expected_date(yymmdd):
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    year = (1900 if yy >= 76 else 2000) + yy  # GS1 window seen from 2025
    return date(year, mm, dd or calendar.monthrange(year, mm)[1])


def _assert_decoded(data, pairs):
    assert data.ais == tuple(pairs)
    fields = dict(pairs)
    assert data.sscc == fields.get("00")
    assert data.gtin == fields.get("01")
    assert data.lot == fields.get("10")
    assert data.serial == fields.get("21")
    assert data.customer_po == fields.get("400")
    assert data.expiry == (_expected_date(fields["17"]) if "17" in fields else None)
    count = fields.get("37", fields.get("30"))
    assert data.count == (int(count) if count else None)
    assert data.net_weight_kg == (Decimal(int(fields["3102"])) / 100 if "3102" in fields else None)


@settings(max_examples=150, deadline=None)
@given(_ai_pairs(), st.booleans(), st.sampled_from(["", "]C1", "]d2", "]Q3", "]e0"]))
def test_raw_element_string_round_trip(pairs, fnc1_everywhere, symbology):
    raw = symbology + _encode_raw(pairs, fnc1_everywhere)
    data = parse_element_string(raw, today=TODAY)
    _assert_decoded(data, pairs)
    assert data == Gs1Data.from_ais(pairs, today=TODAY)
    assert parse_element_string(data.element_string(), today=TODAY) == data
    if symbology:
        scan = classify_scan(raw, today=TODAY)
        assert scan.kind == "gs1" and scan.gs1 == data


@settings(max_examples=150, deadline=None)
@given(_ai_pairs(alphabet=CSET82.replace("(", "")))
def test_bracketed_round_trip(pairs):
    bracketed = "".join(f"({ai}){value}" for ai, value in pairs)
    data = parse_element_string(bracketed, today=TODAY)
    _assert_decoded(data, pairs)
    assert data.human_readable() == bracketed
    assert parse_element_string(data.element_string(), today=TODAY) == data


# --- classifying scans ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("106141412345678908", "sscc", "106141412345678908"),
        ("00106141412345678908", "sscc", "106141412345678908"),
        ("9506000134352", "gtin", "09506000134352"),
        ("09506000134352", "gtin", "09506000134352"),
        ("036000291452", "gtin", "00036000291452"),
        ("96385074", "gtin", "00000096385074"),
        ("]E09506000134352", "gtin", "09506000134352"),
        ("0106141411234562", "gs1", "(01)06141411234562"),
        ("(01)09506000134352(10)ABC", "gs1", "(01)09506000134352(10)ABC"),
        ("0106141411234562" + "10ABC" + GS + "21XYZ", "gs1", "(01)06141411234562(10)ABC(21)XYZ"),
        (GS + "0106141411234562" + "10ABC", "gs1", "(01)06141411234562(10)ABC"),
        ("]d2" + "00106141412345678908", "gs1", "(00)106141412345678908"),
        ("SKU-10042", "text", "SKU-10042"),
        ("SO-2024-0017", "text", "SO-2024-0017"),
        ("A-01-03", "text", "A-01-03"),
        ("1234", "text", "1234"),
        ("9506000134353", "text", "9506000134353"),  # bad check digit: just a number
        ("0112345678901234", "text", "0112345678901234"),  # order number, not a GTIN
        ("]C00106141411234562", "text", "0106141411234562"),  # plain Code 128
        ("]Q1https://example.com/o/17", "text", "https://example.com/o/17"),
        ("(555) 123-4567", "text", "(555) 123-4567"),
    ],
)
def test_classify_scan(text, kind, value):
    scan = classify_scan(text, today=TODAY)
    assert (scan.kind, scan.value) == (kind, value)
    assert scan.raw == text
    assert (scan.gs1 is not None) == (kind == "gs1")


def test_classify_strips_whitespace_and_controls_but_keeps_gs():
    scan = classify_scan("\x02 ]C1" + "0106141411234562" + "10ABC" + GS + " \r\n\x03")
    assert scan.kind == "gs1"
    assert scan.gs1.lot == "ABC"
    assert classify_scan("\t SKU-1 \r\n").value == "SKU-1"
    assert classify_scan("").kind == "text"


def test_scan_gives_gtin_and_sscc_whatever_the_form():
    assert classify_scan("9506000134352").gtin == "09506000134352"
    assert classify_scan("]C1" + "0109506000134352" + "10L").gtin == "09506000134352"
    assert classify_scan("00106141412345678908").sscc == "106141412345678908"
    assert classify_scan("]C1" + "00106141412345678908").sscc == "106141412345678908"
    text = classify_scan("BIN-A1")
    assert text.gtin is None and text.sscc is None


@pytest.mark.parametrize(
    "text",
    ["]C1" + "0109506000134353", "(01)09506000134353", "]d2" + "17201332", "0109506000134352" + "10A" + GS + "23X"],
)
def test_classify_refuses_broken_gs1_instead_of_calling_it_text(text):
    with pytest.raises(Gs1Error):
        classify_scan(text, today=TODAY)


def test_scan_is_frozen():
    scan = classify_scan("SKU-1")
    assert isinstance(scan, Scan)
    with pytest.raises(AttributeError):
        scan.kind = "gtin"  # type: ignore[misc]


# --- real symbols: what a scanner reads from a printed label ---------------------

@pytest.mark.parametrize(("symbol", "symbology"), [("Code128", "]C1"), ("QRCode", "]Q3"), ("DataBarExp", "]e0")])
def test_printed_gs1_symbol_as_a_scanner_delivers_it(symbol, symbology):
    zxingcpp = pytest.importorskip("zxingcpp")
    human = "(01)09506000134352(17)201225(10)ABC123(21)12345"
    barcode = zxingcpp.create_barcode(human, getattr(zxingcpp.BarcodeFormat, symbol), gs1=True)
    (read,) = zxingcpp.read_barcodes(barcode.to_image(scale=3))
    delivered = read.symbology_identifier + read.bytes.decode("ascii") + "\r"
    assert delivered.startswith(symbology) and GS in delivered
    scan = classify_scan(delivered, today=TODAY)
    assert scan.kind == "gs1"
    assert scan.value == human
    assert scan.gs1.expiry == date(2020, 12, 25)
