"""GS1 barcodes: check digits, GTIN/SSCC numbers, element strings and what a scanned string is.

Decisions worth knowing (issue #15: biip, a maintained GS1 barcode library, was
weighed against the hand-written parser this module used to be, on every string
tests/oms/test_gs1.py parses plus 75 more: GS1-128, DataMatrix, QR and DataBar
scans with and without FNC1, bracketed text, bare GTIN-8/12/13/14 and SSCCs,
judged against the GS1 General Specifications and GS1's syntax dictionary):

- Which AIs exist, their formats and FNC1 rule are biip's table (GS1's syntax
  dictionary, 541 AIs). Ours knew 40 and refused labels GS1 defines: (90)-(99)
  company data, (03), (235), (392n) prices, (4300) ship-to names, (7003) expiry
  time, (8003) GRAI, (8200) product URL... A value is checked against biip's
  pattern for its AI (CSET 82/39/64, component lengths, month and day ranges).
  The check digit arithmetic and the symbology identifiers that carry GS1 data
  or a GTIN are biip's too.
- Splitting the string into fields stays ours: biip's GS1Message is less
  correct there. It cuts an over-long variable field at its maximum and reads
  on (20 lot characters glued to "21XYZ" become a lot and a serial, where GS1
  requires an FNC1 and the label is misprinted). In the bracketed form it
  deletes spaces ("(10)AB C" becomes lot "ABC"), ends a value at any "(" though
  "(" is a CSET 82 character, drops an empty field, and keeps an AI repeated
  with a different value. Ours refuses each with words a packer understands.
  Spaces around a bracketed field, as our labels print them, are allowed.
- Check digits: biip checks GTIN, SSCC and GLN only and records a failure
  without raising. Ours refuses every AI whose GS1 format carries a check digit
  (also 402 GSIN, 8003 GRAI, 8017/8018 GSRN, 253 GDTI, 255 GCN, 8006/8026).
  A GTIN is ASCII digits only: biip accepts any Unicode digit ("９５０…").
- Dates are decoded here, with an injectable `today` for GS1's 49/50-year
  century window (biip reads the clock). Day 00, the month's last day, is
  allowed only where GS1 allows it (11-17, 4324, 4325). The time of day in
  4324/4325/7003/7011/8008 is checked by biip.
- What a scan is stays ours: biip.parse reads "]C0" (plain Code 128) and bare
  order numbers such as "0112345678901234" as GS1 data.
- Speed: biip's element-string parser scans its AI table linearly and looks up
  GS1 company prefixes, 30-140 µs a field (0.4 ms for a pallet label). We look
  each AI code up once (cached) and match biip's patterns directly: a pallet
  label is classified in about 60 µs (45 µs with the old table), the first
  scan of new AIs in about 0.6 ms. Importing biip takes 0.1-0.3 s, once: it
  unpacks its GS1 prefix tables.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Iterable, Literal

from biip import ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.symbology import GS1Symbology

from oms.core.errors import InvalidInput
from oms.core.i18n import _

__all__ = [
    "GS",
    "Gs1Data",
    "Gs1Error",
    "Scan",
    "ScanKind",
    "classify_scan",
    "encode_element_string",
    "gs1_check_digit",
    "is_valid_gtin",
    "is_valid_sscc",
    "normalize_gtin",
    "parse_element_string",
    "sscc",
]

#: ASCII group separator: how scanners transmit FNC1 between fields.
GS = "\x1d"

GTIN_LENGTHS = (8, 12, 13, 14)

#: AIM symbology identifiers of symbols that carry GS1 element strings
#: (GS1-128, GS1 DataMatrix, GS1 QR Code, GS1 DataBar, GS1 DotCode).
GS1_SYMBOLOGY_IDS = frozenset(f"]{s.value}" for s in GS1Symbology.with_gs1_messages())
#: EAN/UPC and ITF-14 symbols: their content is a bare GTIN.
EAN_SYMBOLOGY_IDS = frozenset(f"]{s.value}" for s in GS1Symbology.with_gtin())
_SYMBOLOGY_ID = re.compile(r"\][A-Za-z][0-9A-Za-z]")

# GS1 AI encodable character set 82 (General Specifications, figure 7.11-1),
# used to name the characters a value may not carry.
_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)


# Titles are translated where they are shown; _N only marks them for extraction
# (xgettext -k_N), so the table stays a plain constant.
def _N(s: str) -> str:
    return s


# What a person calls the fields a warehouse meets; other AIs go by GS1's description.
_TITLES: dict[str, str] = {
    "00": _N("SSCC"),
    "01": _N("GTIN"),
    "02": _N("content GTIN"),
    "10": _N("lot number"),
    "11": _N("production date"),
    "12": _N("due date"),
    "13": _N("packaging date"),
    "15": _N("best before date"),
    "16": _N("sell by date"),
    "17": _N("expiry date"),
    "20": _N("variant number"),
    "21": _N("serial number"),
    "22": _N("consumer product variant"),
    "240": _N("additional product identification"),
    "241": _N("customer part number"),
    "250": _N("secondary serial number"),
    "30": _N("count"),
    "37": _N("count of trade items"),
    "400": _N("customer purchase order number"),
    "401": _N("consignment number"),
    "402": _N("shipment identification number"),
    "403": _N("routing code"),
    "410": _N("ship-to GLN"),
    "411": _N("bill-to GLN"),
    "412": _N("purchased-from GLN"),
    "413": _N("ship-for GLN"),
    "414": _N("location GLN"),
    "420": _N("ship-to postal code"),
    "422": _N("country of origin"),
    "8017": _N("service relation number of the provider"),
    "8018": _N("service relation number of the recipient"),
    **{f"310{n}": _N("net weight (kg)") for n in range(6)},
    **{f"330{n}": _N("gross weight (kg)") for n in range(6)},
}

# AIs whose leading digits end in a GS1 check digit, and how many digits that
# covers (the "csum" components of GS1's syntax dictionary).
_CHECK_DIGIT_SPAN: dict[str, int] = {
    "00": 18,
    "01": 14,
    "02": 14,
    "03": 14,
    "253": 13,
    "255": 13,
    "402": 17,
    **{f"41{n}": 13 for n in range(8)},
    "8003": 14,
    "8006": 14,
    "8017": 18,
    "8018": 18,
    "8026": 14,
}

# Dates whose day may be 00, meaning the last day of the month ("yymmd0" in
# GS1's syntax dictionary); every other date needs a real day.
_DAY_00_AIS = frozenset({"11", "12", "13", "15", "16", "17", "4324", "4325"})

_DATE_AIS = {"11": "production_date", "13": "packaging_date", "15": "best_before", "17": "expiry"}
_GLN_AIS = {
    "410": "ship_to_gln",
    "411": "bill_to_gln",
    "412": "purchased_from_gln",
    "413": "ship_for_gln",
    "414": "location_gln",
}

# One component of a GS1 data format: "N14", "X..20", or an optional "[+X..16]".
_FORMAT_COMPONENT = re.compile(r"\[[^\]]*\]|[NXYZ](?:\.\.)?\d+")
_DESCRIPTION_NOTE = re.compile(r"\s*\([^()]*\)")


@dataclass(frozen=True)
class _Ai:
    """One GS1 Application Identifier, as biip's table defines it."""

    code: str
    title: str  # untranslated; what a person calls the field, for messages
    min_length: int
    max_length: int
    separator_required: bool  # FNC1 after it unless it comes last
    value_pattern: re.Pattern[str]
    numeric: bool  # digits only
    text: bool  # has a CSET 82 component
    date: bool  # starts with YYMMDD
    time: bool  # a time of day follows the date

    @property
    def fixed(self) -> bool:
        return self.min_length == self.max_length


# biip finds an AI by scanning its table (up to 80 µs); each code is looked up once.
@lru_cache(maxsize=None)
def _ai_for_code(code: str) -> _Ai | None:
    try:
        found = GS1ApplicationIdentifier.extract(code)
    except ParseError:
        return None
    if found.ai != code:
        return None
    data_format = found.format.split("+", 1)[1]
    min_length = max_length = 0
    for component in _FORMAT_COMPONENT.findall(data_format):
        if component.startswith("["):
            max_length += max((int(n) for n in re.findall(r"\d+", component)), default=1)
        else:
            size = int(component.lstrip("NXYZ."))
            min_length += 1 if ".." in component else size
            max_length += size
    kinds = set(re.findall(r"[NXYZ]", data_format))
    return _Ai(
        code=code,
        title=_TITLES.get(code) or _plain_description(found.description),
        min_length=min_length,
        max_length=max_length,
        separator_required=found.separator_required,
        value_pattern=re.compile(found.pattern.removeprefix("^" + code)),
        numeric=kinds == {"N"} and "-" not in data_format,
        text="X" in kinds,
        date="(YYMMDD" in found.description,
        time=re.search(r"\(YYMMDD\[?hh", found.description) is not None,
    )


def _lookup(code: str) -> _Ai | None:
    """The AI `code` as GS1 defines it, or None when there is no such AI."""
    if not 2 <= len(code) <= 4 or not (code.isascii() and code.isdigit()):
        return None
    return _ai_for_code(code)


def _ai_at(text: str, pos: int) -> _Ai | None:
    # GS1's AI table is prefix-free, so the first length that names an AI is the one.
    for size in (2, 3, 4):
        ai = _lookup(text[pos : pos + size])
        if ai is not None:
            return ai
    return None


def _plain_description(description: str) -> str:
    # "Global Returnable Asset Identifier (GRAI)" -> "global returnable asset identifier"
    # (notes in brackets are GS1's formats and acronyms, not words for a packer);
    # acronyms such as ISO or GS1 keep their capitals.
    words = _DESCRIPTION_NOTE.sub("", description).split(" ")
    return " ".join(w.lower() if w[:1].isupper() and w[1:].islower() else w for w in words)


class Gs1Error(InvalidInput, ValueError):
    """A GS1 barcode or number that cannot be used; str(e) is for the person scanning."""


# --- check digits and numbers ------------------------------------------------


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit for `digits` (given without their check digit)."""
    # biip accepts any Unicode digit; a barcode carries ASCII digits only.
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError(_("A check digit can only be computed for digits, not “{text}”").format(text=digits))
    return gs1_standard_check_digit(digits)


def _has_valid_check_digit(code: str) -> bool:
    return (
        len(code) >= 2
        and code.isascii()
        and code.isdigit()
        and gs1_check_digit(code[:-1]) == int(code[-1])
    )


def is_valid_gtin(code: object) -> bool:
    """True for a GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN) or GTIN-14 with a correct check digit."""
    return isinstance(code, str) and len(code) in GTIN_LENGTHS and _has_valid_check_digit(code)


def normalize_gtin(code: str) -> str:
    """The 14-digit form of a GTIN, so that UPC-A, EAN-13 and GTIN-14 of one item compare equal."""
    if not isinstance(code, str) or len(code) not in GTIN_LENGTHS or not code.isdigit():
        raise ValueError(_("“{code}” is not a GTIN: a GTIN has 8, 12, 13 or 14 digits").format(code=code))
    if not is_valid_gtin(code):
        raise ValueError(_wrong_check_digit(_("GTIN"), code))
    return code.zfill(14)


def is_valid_sscc(code: object) -> bool:
    """True for an 18-digit SSCC with a correct check digit."""
    return isinstance(code, str) and len(code) == 18 and _has_valid_check_digit(code)


def sscc(company_prefix: str, serial: int, extension_digit: int = 0) -> str:
    """Build an SSCC: extension digit, company prefix, zero-padded serial reference, check digit."""
    # biip parses SSCCs but does not build them.
    if not company_prefix.isascii() or not company_prefix.isdigit():
        raise ValueError(
            _("The company prefix “{prefix}” must consist of digits only").format(prefix=company_prefix)
        )
    if not 0 <= extension_digit <= 9:
        raise ValueError(_("The SSCC extension digit must be 0 to 9, not {digit}").format(digit=extension_digit))
    if serial < 0:
        raise ValueError(_("The SSCC serial number cannot be negative ({serial})").format(serial=serial))
    room = 16 - len(company_prefix)
    if room < 1 or len(str(serial)) > room:
        raise ValueError(
            _(
                "The serial number {serial} does not fit in an SSCC after the company prefix {prefix}: "
                "prefix and serial together may have at most 16 digits"
            ).format(serial=serial, prefix=company_prefix)
        )
    body = f"{extension_digit}{company_prefix}{serial:0{room}d}"
    return body + str(gs1_check_digit(body))


def _wrong_check_digit(title: str, code: str) -> str:
    return _("The {title} {code} has a wrong check digit (expected {digit})").format(
        title=title, code=code, digit=gs1_check_digit(code[:-1])
    )


# --- element strings ---------------------------------------------------------


@dataclass(frozen=True)
class Gs1Data:
    """The fields of one GS1 element string, in the order they were encoded.

    Build it with `Gs1Data.from_ais()` or `parse_element_string()`, which check
    every value; the named fields are decoded copies of values in `ais`.
    """

    ais: tuple[tuple[str, str], ...]
    sscc: str | None = None
    gtin: str | None = None
    content_gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    production_date: date | None = None
    packaging_date: date | None = None
    best_before: date | None = None
    expiry: date | None = None
    count: int | None = None  # AI 37 (trade items on a logistic unit), else AI 30
    net_weight_kg: Decimal | None = None
    customer_po: str | None = None
    ship_to_gln: str | None = None
    bill_to_gln: str | None = None
    purchased_from_gln: str | None = None
    ship_for_gln: str | None = None
    location_gln: str | None = None

    @classmethod
    def from_ais(cls, pairs: Iterable[tuple[str, str]], *, today: date | None = None) -> Gs1Data:
        """Check (AI, value) pairs and decode them; `today` fixes the century of two-digit years."""
        ais: list[tuple[str, str]] = []
        seen: dict[str, str] = {}
        for code, value in pairs:
            ai = _lookup(code)
            if ai is None:
                raise Gs1Error(_unknown_ai(code))
            _check_value(ai, value, today)
            if code in seen:
                if seen[code] != value:
                    raise Gs1Error(
                        _("The barcode contains the {title} twice, with different values ({a} and {b})").format(
                            title=_(ai.title), a=seen[code], b=value
                        )
                    )
                continue
            seen[code] = value
            ais.append((code, value))
        if not ais:
            raise Gs1Error(_("The barcode contains no GS1 data"))

        fields: dict[str, object] = {
            "sscc": seen.get("00"),
            "gtin": seen.get("01"),
            "content_gtin": seen.get("02"),
            "lot": seen.get("10"),
            "serial": seen.get("21"),
            "customer_po": seen.get("400"),
        }
        for code, name in _DATE_AIS.items():
            if code in seen:
                fields[name] = _decode_date(seen[code], today)
        for code, name in _GLN_AIS.items():
            fields[name] = seen.get(code)
        count = seen.get("37", seen.get("30"))
        fields["count"] = int(count) if count is not None else None
        for code, value in seen.items():
            if code.startswith("310"):
                fields["net_weight_kg"] = _decode_decimal(code, value)
        return cls(ais=tuple(ais), **fields)  # type: ignore[arg-type]

    def value(self, ai: str) -> str | None:
        """The value of one AI as encoded, or None when the barcode does not carry it."""
        for key, value in self.ais:
            if key == ai:
                return value
        return None

    def human_readable(self) -> str:
        """The bracketed form printed under a barcode: (01)09506000134352(10)ABC."""
        return "".join(f"({ai}){value}" for ai, value in self.ais)

    def element_string(self, separator: str = GS) -> str:
        """The raw form a scanner transmits, FNC1 written as `separator` where GS1 requires it."""
        return encode_element_string(self.ais, separator=separator)


def encode_element_string(pairs: Iterable[tuple[str, str]], *, separator: str = GS) -> str:
    """Concatenate (AI, value) pairs, adding FNC1 after fields without predefined length."""
    pairs = list(pairs)
    parts: list[str] = []
    for i, (code, value) in enumerate(pairs):
        parts.append(code + value)
        ai = _lookup(code)
        # An FNC1 is allowed after any field, so an AI GS1 does not define gets one.
        if i < len(pairs) - 1 and (ai is None or ai.separator_required):
            parts.append(separator)
    return "".join(parts)


def parse_element_string(text: str, *, today: date | None = None) -> Gs1Data:
    """Parse a GS1 element string as a scanner delivers it, or in its bracketed form.

    Accepts an optional AIM symbology identifier (]C1, ]d2, ]Q3, ]e0, ]J1),
    FNC1 sent as ASCII GS (also a leading or doubled one), and the bracketed
    form "(01)09506000134352(10)ABC", with or without spaces between the
    fields. Raises Gs1Error for anything unusable.
    """
    text = _strip_surroundings(text)
    if text[:3] in GS1_SYMBOLOGY_IDS:
        text = text[3:]
    if text.startswith("("):
        pairs = _split_bracketed(text)
    else:
        pairs = _split_raw(text)
    return Gs1Data.from_ais(pairs, today=today)


def _unknown_ai(ai_or_text: str) -> str:
    return _(
        "The barcode contains data this program does not know, starting at “{text}”"
    ).format(text=_printable(ai_or_text[:12]))


def _split_raw(text: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos] == GS:
            pos += 1
            continue
        ai = _ai_at(text, pos)
        if ai is None:
            raise Gs1Error(_unknown_ai(text[pos:]))
        start = pos + len(ai.code)
        if ai.fixed:
            # A fixed length ends the field even where GS1 also asks for an FNC1 (422, 7040...).
            end = start + ai.max_length
            value = text[start:end]
            if len(value) < ai.max_length or GS in value:
                raise Gs1Error(_cut_short(ai, value.split(GS, 1)[0]))
        else:
            # Runs to the next FNC1: GS1 requires one after a variable-length field,
            # even a full one, so a longer value is a missing separator, not two fields.
            end = text.find(GS, start)
            if end < 0:
                end = len(text)
            value = text[start:end]
            if len(value) > ai.max_length:
                raise Gs1Error(
                    _(
                        "The {title} after ({ai}) is too long: {length} characters, at most {max} are "
                        "allowed. The separator after it may be missing."
                    ).format(title=_(ai.title), ai=ai.code, length=len(value), max=ai.max_length)
                )
        pairs.append((ai.code, value))
        pos = end
    return pairs


_BRACKETED_AI = re.compile(r"\((\d{2,4})\)")


def _split_bracketed(text: str) -> list[tuple[str, str]]:
    # A value may itself contain "(", so a field ends only where "(AI)" names an AI.
    starts = [m for m in _BRACKETED_AI.finditer(text) if _lookup(m.group(1)) is not None]
    if not starts or starts[0].start() != 0:
        match = _BRACKETED_AI.match(text)
        raise Gs1Error(_unknown_ai(match.group(1) if match else text))
    pairs: list[tuple[str, str]] = []
    for i, m in enumerate(starts):
        ai = _lookup(m.group(1))
        assert ai is not None
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        # Labels print "(01) 09506000134352 (10) ABC"; no GS1 value starts or ends with a space.
        value = text[m.end() : end].strip(" ")
        if ai.fixed and len(value) > ai.max_length:
            # "(01)09506000134352(23)1": the excess is an AI GS1 does not define.
            unknown = _BRACKETED_AI.match(value, ai.max_length)
            if unknown is not None:
                raise Gs1Error(_unknown_ai(unknown.group(1)))
        pairs.append((ai.code, value))
    return pairs


def _cut_short(ai: _Ai, found: str) -> str:
    return _(
        "The {title} after ({ai}) is cut short: it needs {length} digits but the barcode has {found}"
    ).format(title=_(ai.title), ai=ai.code, length=ai.max_length, found=len(found))


def _check_value(ai: _Ai, value: str, today: date | None) -> None:
    title = _(ai.title)
    if not value:
        raise Gs1Error(_("The {title} after ({ai}) is empty").format(title=title, ai=ai.code))
    if ai.fixed and len(value) < ai.max_length:
        raise Gs1Error(_cut_short(ai, value))
    if len(value) > ai.max_length:
        raise Gs1Error(
            _("The {title} after ({ai}) is too long: {length} characters, at most {max} are allowed").format(
                title=title, ai=ai.code, length=len(value), max=ai.max_length
            )
        )
    if not ai.value_pattern.fullmatch(value):
        raise Gs1Error(_not_in_form(ai, title, value))
    span = _CHECK_DIGIT_SPAN.get(ai.code)
    if span is not None and not _has_valid_check_digit(value[:span]):
        raise Gs1Error(_wrong_check_digit(title, value[:span]))
    if ai.date:
        _check_dates(ai, title, value, today)


def _not_in_form(ai: _Ai, title: str, value: str) -> str:
    """Why `value` does not match its AI's pattern, in words."""
    if ai.numeric and not (value.isascii() and value.isdigit()):
        return _("The {title} after ({ai}) must be digits only, not “{value}”").format(
            title=title, ai=ai.code, value=_printable(value)
        )
    bad = sorted({c for c in value if c not in _CSET82})
    if ai.text and bad:
        chars = " ".join(_("space") if c == " " else _printable(c) for c in bad)
        return _("The {title} “{value}” contains characters a GS1 barcode cannot carry: {chars}").format(
            title=title, value=_printable(value), chars=chars
        )
    if ai.date:
        return _not_a_date(title, value)
    return _("The {title} after ({ai}) is not written the way GS1 requires: “{value}”").format(
        title=title, ai=ai.code, value=_printable(value)
    )


def _not_a_date(title: str, value: str) -> str:
    return _("The {title} “{value}” is not a real date (the barcode gives dates as YYMMDD)").format(
        title=title, value=value
    )


def _check_dates(ai: _Ai, title: str, value: str, today: date | None) -> None:
    if ai.time:
        try:
            GS1ElementString.parse(ai.code + value)
        except ParseError:
            raise Gs1Error(
                _("The {title} “{value}” is not a real date and time").format(title=title, value=value)
            ) from None
    dates = [value[0:6]]
    if ai.code == "7007" and len(value) == 12:  # harvest date: a single day or a range
        dates.append(value[6:12])
    for yymmdd in dates:
        _decode_date(yymmdd, today, title=title, day_00=ai.code in _DAY_00_AIS)


def _decode_date(value: str, today: date | None, *, title: str | None = None, day_00: bool = True) -> date:
    """YYMMDD to a date; day 00 is the month's last day; century by GS1's sliding window."""
    yy, mm, dd = int(value[0:2]), int(value[2:4]), int(value[4:6])
    year = _gs1_century(yy, today or date.today())
    first_day = 0 if day_00 else 1
    if not 1 <= mm <= 12 or not first_day <= dd <= calendar.monthrange(year, mm)[1]:
        raise Gs1Error(_not_a_date(title or _("date"), value))
    if dd == 0:
        dd = calendar.monthrange(year, mm)[1]
    return date(year, mm, dd)


def _gs1_century(yy: int, today: date) -> int:
    # GS1 General Specifications 7.12: a two-digit year is at most 49 years
    # ahead of, or 50 years behind, the current year.
    current_century, current_yy = divmod(today.year, 100)
    difference = yy - current_yy
    if difference >= 51:
        current_century -= 1
    elif difference <= -50:
        current_century += 1
    return current_century * 100 + yy


def _decode_decimal(ai: str, value: str) -> Decimal:
    return Decimal(int(value)).scaleb(-int(ai[3]))


# --- classifying a scan ------------------------------------------------------

ScanKind = Literal["gs1", "sscc", "gtin", "text"]


@dataclass(frozen=True)
class Scan:
    """One scanned string and what it turned out to be.

    `value` is the bracketed form for "gs1", the 18 digits for "sscc", the
    14-digit normalized GTIN for "gtin" and the cleaned text for "text".
    """

    raw: str
    kind: ScanKind
    value: str
    gs1: Gs1Data | None = None

    @property
    def gtin(self) -> str | None:
        """The product's GTIN (14 digits) whether it came bare or inside GS1 data."""
        if self.kind == "gtin":
            return self.value
        return self.gs1.gtin if self.gs1 is not None else None

    @property
    def sscc(self) -> str | None:
        """The shipping unit's SSCC whether it came bare or inside GS1 data."""
        if self.kind == "sscc":
            return self.value
        return self.gs1.sscc if self.gs1 is not None else None


def _is_strippable(c: str) -> bool:
    return c != GS and (c.isspace() or unicodedata.category(c) == "Cc")


def _strip_surroundings(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_strippable(text[start]):
        start += 1
    while end > start and _is_strippable(text[end - 1]):
        end -= 1
    return text[start:end]


def _printable(text: str) -> str:
    return "".join("<GS>" if c == GS else c if c.isprintable() else f"<{ord(c):02X}>" for c in text)


def classify_scan(text: str, *, today: date | None = None) -> Scan:
    """Decide what a scanned string is: GS1 data, a bare SSCC, a bare GTIN, or plain text.

    Raises Gs1Error when the string is clearly meant as GS1 data (symbology
    identifier, FNC1 separators or bracketed AIs) but cannot be used, so that a
    misprinted label is never taken for an ordinary code.
    """
    clean = _strip_surroundings(text)
    body = clean
    gs1_allowed = True
    if _SYMBOLOGY_ID.match(clean):
        symbology, body = clean[:3], clean[3:]
        if symbology in GS1_SYMBOLOGY_IDS:
            return _gs1_scan(text, body, today)
        if symbology in EAN_SYMBOLOGY_IDS and is_valid_gtin(body):
            return Scan(text, "gtin", normalize_gtin(body))
        # Any other symbology carries no GS1 data, whatever its digits look like.
        gs1_allowed = False

    if gs1_allowed and _starts_with_bracketed_ai(body):
        return _gs1_scan(text, body, today)
    if gs1_allowed and body.startswith(GS):
        return _gs1_scan(text, body, today)

    if body.isascii() and body.isdigit():
        if len(body) == 18 and is_valid_sscc(body):
            return Scan(text, "sscc", body)
        if len(body) == 20 and body.startswith("00") and is_valid_sscc(body[2:]):
            return Scan(text, "sscc", body[2:])
        if is_valid_gtin(body):
            return Scan(text, "gtin", normalize_gtin(body))

    if gs1_allowed and GS in body and _ai_at(body, 0) is not None:
        return _gs1_scan(text, body, today)
    if gs1_allowed and _looks_like_unmarked_gs1(body):
        # A GS1-128 read by a scanner that sends no symbology identifier.
        try:
            return _gs1_scan(text, body, today)
        except Gs1Error:
            pass
    return Scan(text, "text", body)


def _starts_with_bracketed_ai(body: str) -> bool:
    match = _BRACKETED_AI.match(body)
    return match is not None and _lookup(match.group(1)) is not None


def _looks_like_unmarked_gs1(body: str) -> bool:
    # Only a leading SSCC or GTIN with a correct check digit makes an unmarked
    # string GS1: an order number that merely starts with "01" stays text.
    ai = body[:2]
    if ai == "00":
        return is_valid_sscc(body[2:20])
    if ai in ("01", "02"):
        return len(body) >= 16 and is_valid_gtin(body[2:16])
    return False


def _gs1_scan(raw: str, body: str, today: date | None) -> Scan:
    data = parse_element_string(body, today=today)
    return Scan(raw, "gs1", data.human_readable(), data)
