"""GS1 barcodes: check digits, GTIN/SSCC numbers, element strings and what a scanned string is."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable, Literal

from oms.errors import InvalidInput
from oms.i18n import _

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
GS1_SYMBOLOGY_IDS = frozenset({"]C1", "]d2", "]Q3", "]e0", "]J1"})
#: EAN/UPC symbols: their content is a bare GTIN.
EAN_SYMBOLOGY_IDS = frozenset({"]E0", "]E4"})
_SYMBOLOGY_ID = re.compile(r"\][A-Za-z][0-9A-Za-z]")

# GS1 General Specifications, figure 7.8.5-2: AIs starting with these two digits
# have a predefined length and need no FNC1 after them. Every other AI, even a
# fixed-length one such as 422, must be followed by FNC1 unless it comes last.
_PREDEFINED_LENGTH_PREFIXES = frozenset(
    {"00", "01", "02", "03", "04", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"}
    | {"31", "32", "33", "34", "35", "36", "41"}
)

# GS1 AI encodable character set 82 (General Specifications, figure 7.11-1).
_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)


@dataclass(frozen=True)
class _Ai:
    title: str  # what a person calls the field, used in error messages
    length: int | None  # fixed length of the data, or None when variable
    max_length: int
    kind: Literal["check", "numeric", "date", "text", "decimal"]

    @property
    def fixed(self) -> bool:
        return self.length is not None


def _fixed(title: str, length: int, kind: str = "numeric") -> _Ai:
    return _Ai(title, length, length, kind)  # type: ignore[arg-type]


def _var(title: str, max_length: int, kind: str = "text") -> _Ai:
    return _Ai(title, None, max_length, kind)  # type: ignore[arg-type]


# Titles are translated where they are shown; _N only marks them for extraction
# (xgettext -k_N), so the table stays a plain constant.
def _N(s: str) -> str:
    return s


AIS: dict[str, _Ai] = {
    "00": _fixed(_N("SSCC"), 18, "check"),
    "01": _fixed(_N("GTIN"), 14, "check"),
    "02": _fixed(_N("content GTIN"), 14, "check"),
    "10": _var(_N("lot number"), 20),
    "11": _fixed(_N("production date"), 6, "date"),
    "12": _fixed(_N("due date"), 6, "date"),
    "13": _fixed(_N("packaging date"), 6, "date"),
    "15": _fixed(_N("best before date"), 6, "date"),
    "16": _fixed(_N("sell by date"), 6, "date"),
    "17": _fixed(_N("expiry date"), 6, "date"),
    "20": _fixed(_N("variant number"), 2),
    "21": _var(_N("serial number"), 20),
    "22": _var(_N("consumer product variant"), 20),
    "240": _var(_N("additional product identification"), 30),
    "241": _var(_N("customer part number"), 30),
    "250": _var(_N("secondary serial number"), 30),
    "30": _var(_N("count"), 8, "numeric"),
    "37": _var(_N("count of trade items"), 8, "numeric"),
    "400": _var(_N("customer purchase order number"), 30),
    "401": _var(_N("consignment number"), 30),
    "402": _fixed(_N("shipment identification number"), 17, "check"),
    "403": _var(_N("routing code"), 30),
    "410": _fixed(_N("ship-to GLN"), 13, "check"),
    "411": _fixed(_N("bill-to GLN"), 13, "check"),
    "412": _fixed(_N("purchased-from GLN"), 13, "check"),
    "413": _fixed(_N("ship-for GLN"), 13, "check"),
    "414": _fixed(_N("location GLN"), 13, "check"),
    "420": _var(_N("ship-to postal code"), 20),
    "422": _fixed(_N("country of origin"), 3),
}
# 310n net weight and 330n gross weight in kg: six digits, n of them decimals.
for _n in range(6):
    AIS[f"310{_n}"] = _fixed(_N("net weight (kg)"), 6, "decimal")
    AIS[f"330{_n}"] = _fixed(_N("gross weight (kg)"), 6, "decimal")
del _n

_DATE_AIS = {"11": "production_date", "13": "packaging_date", "15": "best_before", "17": "expiry"}
_GLN_AIS = {
    "410": "ship_to_gln",
    "411": "bill_to_gln",
    "412": "purchased_from_gln",
    "413": "ship_for_gln",
    "414": "location_gln",
}


class Gs1Error(InvalidInput, ValueError):
    """A GS1 barcode or number that cannot be used; str(e) is for the person scanning."""


# --- check digits and numbers ------------------------------------------------


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit for `digits` (given without their check digit)."""
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError(_("A check digit can only be computed for digits, not “{text}”").format(text=digits))
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


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
        for ai, value in pairs:
            spec = AIS.get(ai)
            if spec is None:
                raise Gs1Error(_unknown_ai(ai))
            _check_value(ai, spec, value, today)
            if ai in seen:
                if seen[ai] != value:
                    raise Gs1Error(
                        _("The barcode contains the {title} twice, with different values ({a} and {b})").format(
                            title=_(spec.title), a=seen[ai], b=value
                        )
                    )
                continue
            seen[ai] = value
            ais.append((ai, value))
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
        for ai, name in _DATE_AIS.items():
            if ai in seen:
                fields[name] = _decode_date(seen[ai], today)
        for ai, name in _GLN_AIS.items():
            fields[name] = seen.get(ai)
        count = seen.get("37", seen.get("30"))
        fields["count"] = int(count) if count is not None else None
        for ai, value in seen.items():
            if ai.startswith("310"):
                fields["net_weight_kg"] = _decode_decimal(ai, value)
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
    for i, (ai, value) in enumerate(pairs):
        parts.append(ai + value)
        if i < len(pairs) - 1 and ai[:2] not in _PREDEFINED_LENGTH_PREFIXES:
            parts.append(separator)
    return "".join(parts)


def parse_element_string(text: str, *, today: date | None = None) -> Gs1Data:
    """Parse a GS1 element string as a scanner delivers it, or in its bracketed form.

    Accepts an optional AIM symbology identifier (]C1, ]d2, ]Q3, ]e0, ]J1),
    FNC1 sent as ASCII GS (also a leading or doubled one), and the bracketed
    form "(01)09506000134352(10)ABC". Raises Gs1Error for anything unusable.
    """
    text = _strip_surroundings(text)
    if text[:3] in GS1_SYMBOLOGY_IDS:
        text = text[3:]
    if text.startswith("("):
        pairs = _split_bracketed(text)
    else:
        pairs = _split_raw(text)
    return Gs1Data.from_ais(pairs, today=today)


def _match_ai(text: str, pos: int) -> str | None:
    for size in (2, 3, 4):
        candidate = text[pos : pos + size]
        if len(candidate) == size and candidate in AIS:
            return candidate
    return None


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
        ai = _match_ai(text, pos)
        if ai is None:
            raise Gs1Error(_unknown_ai(text[pos:]))
        spec = AIS[ai]
        start = pos + len(ai)
        if spec.fixed:
            assert spec.length is not None
            end = start + spec.length
            value = text[start:end]
            if len(value) < spec.length or GS in value:
                found = value.split(GS, 1)[0]
                raise Gs1Error(_cut_short(ai, spec, found))
        else:
            end = text.find(GS, start)
            if end < 0:
                end = len(text)
            value = text[start:end]
            if len(value) > spec.max_length:
                raise Gs1Error(
                    _(
                        "The {title} after ({ai}) is too long: {length} characters, at most {max} are "
                        "allowed. The separator after it may be missing."
                    ).format(title=_(spec.title), ai=ai, length=len(value), max=spec.max_length)
                )
        pairs.append((ai, value))
        pos = end
    return pairs


_BRACKETED_AI = re.compile(r"\((\d{2,4})\)")


def _split_bracketed(text: str) -> list[tuple[str, str]]:
    # A value may itself contain "(", so a field ends only where "(AI)" names a known AI.
    starts = [m for m in _BRACKETED_AI.finditer(text) if m.group(1) in AIS]
    if not starts or starts[0].start() != 0:
        match = _BRACKETED_AI.match(text)
        raise Gs1Error(_unknown_ai(match.group(1) if match else text))
    pairs: list[tuple[str, str]] = []
    for i, m in enumerate(starts):
        ai, spec = m.group(1), AIS[m.group(1)]
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        value = text[m.end() : end]
        if spec.length is not None and len(value) > spec.length:
            # "(01)09506000134352(99)1": the excess is an AI this program does not know.
            unknown = _BRACKETED_AI.match(value, spec.length)
            if unknown is not None:
                raise Gs1Error(_unknown_ai(unknown.group(1)))
        pairs.append((ai, value))
    return pairs


def _cut_short(ai: str, spec: _Ai, found: str) -> str:
    return _(
        "The {title} after ({ai}) is cut short: it needs {length} digits but the barcode has {found}"
    ).format(title=_(spec.title), ai=ai, length=spec.length, found=len(found))


def _check_value(ai: str, spec: _Ai, value: str, today: date | None) -> None:
    title = _(spec.title)
    if not value:
        raise Gs1Error(_("The {title} after ({ai}) is empty").format(title=title, ai=ai))
    if spec.fixed and len(value) < spec.max_length:
        raise Gs1Error(_cut_short(ai, spec, value))
    if len(value) > spec.max_length:
        raise Gs1Error(
            _("The {title} after ({ai}) is too long: {length} characters, at most {max} are allowed").format(
                title=title, ai=ai, length=len(value), max=spec.max_length
            )
        )
    if spec.kind == "text":
        bad = sorted({c for c in value if c not in _CSET82})
        if bad:
            raise Gs1Error(
                _("The {title} “{value}” contains characters a GS1 barcode cannot carry: {chars}").format(
                    title=title, value=_printable(value), chars=" ".join(_printable(c) for c in bad)
                )
            )
        return
    if not (value.isascii() and value.isdigit()):
        raise Gs1Error(
            _("The {title} after ({ai}) must be digits only, not “{value}”").format(
                title=title, ai=ai, value=_printable(value)
            )
        )
    if spec.kind == "check" and not _has_valid_check_digit(value):
        raise Gs1Error(_wrong_check_digit(title, value))
    if spec.kind == "date":
        _decode_date(value, today, title=title)


def _decode_date(value: str, today: date | None, *, title: str | None = None) -> date:
    """YYMMDD to a date; day 00 is the month's last day; century by GS1's sliding window."""
    yy, mm, dd = int(value[0:2]), int(value[2:4]), int(value[4:6])
    year = _gs1_century(yy, today or date.today())
    if not 1 <= mm <= 12 or not 0 <= dd <= calendar.monthrange(year, mm)[1]:
        raise Gs1Error(
            _("The {title} “{value}” is not a real date (the barcode gives dates as YYMMDD)").format(
                title=title or _("date"), value=value
            )
        )
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

    if gs1_allowed and GS in body and _match_ai(body, 0):
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
    return match is not None and match.group(1) in AIS


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
