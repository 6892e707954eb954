"""ANSI X12 envelopes: read interchanges (with their syntax findings) and write them back.

Reading never raises for a damaged file that still starts with an ISA header: every
problem becomes a ``ValidationIssue`` (with the X12 code a 997 or TA1 would carry), so
the caller can acknowledge, reject or quarantine with a plain message. Only input that
is not X12 at all (no ISA header, binary garbage) raises ``X12Error``.

Decisions worth knowing:

* Delimiters come from the fixed ISA positions (element at 3, component at 104, segment
  terminator at 105). An ISA whose fields are not padded to their fixed widths is still
  read, by counting separators, and reported (TA1 code 022).
* CR/LF after a segment terminator, a BOM, leading whitespace and a missing final
  newline are all accepted. A terminator that is itself CR or LF works too.
* Repetition separators (ISA11 from 00402 on) are *not* applied while parsing: elements
  keep their text, and ``Segment.repetitions(i)`` splits one on request. Files that put
  ``-`` in ISA11 and also use ``-`` in data (``REF*BM*999999-001``) thus read correctly.
* Issue levels and codes: ``transaction`` issues carry AK5 codes, ``group`` issues AK9
  codes, ``segment`` issues AK3 codes (with ``element_code`` from AK4 when an element is
  at fault). The 997 has no interchange level, so ``interchange`` issues carry the TA1
  note codes (001 control mismatch, 014 date, 015 time, 017 version, 018 control number,
  019 ack requested, 020 usage, 021 group count, 022 ISA layout, 023 premature end,
  024 content outside the envelope structure).
* ``severity`` is "error" (the transaction or group cannot be accepted) or "warning"
  (accepted with errors noted, e.g. a well-formed segment id this module does not know,
  or a transaction control number used twice in one group).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date as date_type, datetime, timezone
from typing import Collection, Iterable, Literal, Sequence

from oms.core.i18n import _

__all__ = [
    "Delimiters",
    "FUNCTIONAL_IDS",
    "Group",
    "Interchange",
    "KNOWN_SEGMENTS",
    "Segment",
    "Transaction",
    "ValidationIssue",
    "X12Error",
    "all_issues",
    "detect_delimiters",
    "parse_interchanges",
    "write_interchange",
]


class X12Error(ValueError):
    """Input that is not X12 at all, or an interchange that cannot be written; str(e) is plain English."""


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    segment: str = "~"
    component: str = ">"
    repetition: str | None = None  # ISA11 from version 00402 on; None when not in use


DEFAULT_DELIMITERS = Delimiters()

#: GS01 functional identifier for each transaction set we deal in.
FUNCTIONAL_IDS = {
    "810": "IN", "820": "RA", "824": "AG", "846": "IB", "850": "PO", "855": "PR", "856": "SH",
    "860": "PC", "864": "TX", "865": "CA", "940": "OW", "945": "SW", "997": "FA", "999": "FA",
}

#: Segment ids of the X12 dictionary used by supply-chain documents. A well-formed id that is
#: not here is reported as a warning (AK3 code 1), not dropped.
KNOWN_SEGMENTS = frozenset(
    """
    ISA IEA GS GE ST SE TA1 BEG BAK BCH BSN BIG BPR BCT BSR BGN BIA BAU CUR REF PER TAX FOB CTP PAM CSH
    TC2 SAC ITD DIS INC DTM LDT LIN SI PID MEA PWK PKG TD1 TD5 TD3 TD4 MAN PCT CTB TXI AMT N9 MSG N1 N2
    N3 N4 NX2 LM LQ QTY SCH SLN SN1 SN2 SDQ ETD FA1 FA2 PO1 PO3 PO4 CN1 ACK IT1 IT3 IT8 TDS CAD ISS CTT
    HL PRF PAL TSD CUR SPS V1 NTE G61 G62 G69 G72 PRS LX YNQ AK1 AK2 AK3 AK4 AK5 AK9 IK3 IK4 IK5 CTX
    POC INV QTY PSD RCD TED RMR ADX IT9 SR DD MTX PO2 SII FOB ADV AT1 PDS PKL SLN REF PCD IN2 MIT W01
    W05 W06 W07 W12 W20 W27 W76 LS LE BEG TC2 N10 II ITA UIT PO1 PKL G53 PRR CSF DTP HLD TXI SHP
    """.split()
)

#: Segments a transaction set cannot do without (beyond ST and SE).
MANDATORY_SEGMENTS = {
    "810": ("BIG", "TDS"),
    "850": ("BEG",),
    "855": ("BAK",),
    "856": ("BSN", "HL"),
    "997": ("AK1", "AK9"),
}

# Positions of the 16 element separators in a fixed-width ISA, and the widths of ISA01..ISA15.
_ISA_SEPARATORS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)
ISA_LENGTH = 106  # through the segment terminator

_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGITS = re.compile(r"\d+\Z")

Level = Literal["interchange", "group", "transaction", "segment"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ValidationIssue:
    """One syntax finding. ``position`` is the segment's place in its transaction set counting ST
    as 1 (what AK3 reports), or its place in the file when it is outside any transaction."""

    level: Level
    code: str
    position: int
    segment: str
    element: int | None
    message: str
    severity: Severity = "error"
    element_code: str | None = None  # AK4 code when ``element`` is at fault
    bad_value: str = ""  # copy of the bad data for AK404
    file_segment: int = 0  # 1-based place of the segment in the data
    interchange_control: str = ""
    group_control: str = ""
    transaction_control: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True, slots=True)
class Segment:
    tag: str
    elements: tuple = ()  # tuple[str, ...]; the writer also takes tuples of components
    delimiters: Delimiters | None = field(default=None, compare=False, repr=False)

    def el(self, i: int) -> str:
        """Element ``i`` counted from 1 as X12 does (BEG03 is ``el(3)``); "" when absent."""
        if 0 < i <= len(self.elements):
            value = self.elements[i - 1]
            return value if isinstance(value, str) else (self.delimiters or DEFAULT_DELIMITERS).component.join(value)
        return ""

    def components(self, i: int, separator: str | None = None) -> tuple[str, ...]:
        """The components of composite element ``i``; () when absent."""
        if 0 < i <= len(self.elements) and isinstance(self.elements[i - 1], tuple):
            return self.elements[i - 1]
        value = self.el(i)
        if not value:
            return ()
        sep = separator or (self.delimiters or DEFAULT_DELIMITERS).component
        return tuple(value.split(sep))

    def repetitions(self, i: int, separator: str | None = None) -> tuple[str, ...]:
        """Repeated values of element ``i`` (split on ISA11 when the interchange declared one)."""
        value = self.el(i)
        if not value:
            return ()
        sep = separator or (self.delimiters.repetition if self.delimiters else None)
        return tuple(value.split(sep)) if sep else (value,)


@dataclass(frozen=True, kw_only=True)
class Transaction:
    set_id: str
    control: str
    segments: tuple[Segment, ...]
    se_count: int | None = None  # as declared in SE01; None when SE is missing or unreadable
    raw: str = ""
    issues: tuple[ValidationIssue, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Group:
    functional_id: str
    sender: str
    receiver: str
    date: str = ""  # GS04 as sent (CCYYMMDD); the writer fills it in when empty
    time: str = ""  # GS05 as sent
    control: str
    version: str = "004010"  # GS08
    transactions: tuple[Transaction, ...] = ()
    ge_count: int | None = None
    ge_control: str = ""
    agency: str = "X"  # GS07
    issues: tuple[ValidationIssue, ...] = ()  # group-level ones, and those of its transactions


@dataclass(frozen=True, kw_only=True)
class Interchange:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    control: str
    version: str
    ack_requested: bool
    usage: str
    delimiters: Delimiters
    groups: tuple[Group, ...]
    iea_count: int | None
    iea_control: str
    issues: tuple[ValidationIssue, ...] = ()  # every finding inside this interchange

    def transactions(self) -> Iterable[tuple[Group, Transaction]]:
        for g in self.groups:
            for t in g.transactions:
                yield g, t


def all_issues(interchanges: Iterable[Interchange]) -> list[ValidationIssue]:
    return [i for ic in interchanges for i in ic.issues]


# --- reading -------------------------------------------------------------------------------


def _decode(data: bytes | str) -> str:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    elif isinstance(data, str):
        text = data
    else:
        raise TypeError("X12 data must be bytes or str")
    return text.lstrip("\ufeff \t\r\n\x00")


def _not_x12(text: str) -> X12Error:
    sample = "".join(c if c.isprintable() else "." for c in text[:20])
    if not text:
        return X12Error(_("The file is empty: there is no X12 interchange in it."))
    return X12Error(
        _("This is not an X12 file: it should start with “ISA”, but it starts with “{start}”.").format(start=sample)
    )


def _read_isa(text: str, pos: int) -> tuple[Delimiters, list[str], int, bool]:
    """Delimiters, ISA01..ISA16, the index after the ISA terminator, and whether the layout was fixed-width."""
    if not text.startswith("ISA", pos) or len(text) < pos + 4:
        raise _not_x12(text[pos:])
    element = text[pos + 3]
    if element.isalnum() or element.isspace():
        raise X12Error(
            _("This is not a usable X12 file: the character after “ISA” must be a separator, not “{char}”.").format(
                char=element if element.isprintable() else f"\\x{ord(element):02x}"
            )
        )
    fixed = len(text) >= pos + ISA_LENGTH and all(text[pos + k] == element for k in _ISA_SEPARATORS)
    if fixed:
        values = text[pos + 4 : pos + 103].split(element)
        component, segment, end = text[pos + 104], text[pos + 105], pos + ISA_LENGTH
    else:
        # Not padded to the fixed widths: count separators instead.
        cursor = pos + 3  # the first separator; find the 16th, before ISA16
        for _k in range(15):
            cursor = text.find(element, cursor + 1)
            if cursor < 0 or cursor - pos > 200:
                raise X12Error(_("The ISA header is damaged: it does not have 16 fields."))
        if len(text) < cursor + 3:
            raise X12Error(_("The ISA header is cut short: the file ends inside it."))
        values = text[pos + 4 : cursor].split(element)
        component, segment, end = text[cursor + 1], text[cursor + 2], cursor + 3
    values.append(component)
    if len(values) != 16:
        raise X12Error(_("The ISA header does not have 16 fields, so the file cannot be read."))
    if segment == element or segment == component or component == element or segment.isalnum() or segment == " ":
        raise X12Error(
            _("The ISA header does not define usable separators (element “{e}”, component “{c}”, segment “{s}”).").format(
                e=element, c=component, s=repr(segment)[1:-1]
            )
        )
    version = values[11]
    repetition = values[10]
    rep: str | None = None
    if version >= "00402" and len(repetition) == 1 and repetition != "U" and not repetition.isalnum() and \
            repetition not in (element, segment, component):
        rep = repetition
    return Delimiters(element, segment, component, rep), values, end, fixed


def detect_delimiters(data: bytes | str) -> Delimiters:
    """The delimiters the (first) ISA header declares; raises X12Error when there is no ISA."""
    text = _decode(data)
    return _read_isa(text, 0)[0]


def _same_control(a: str, b: str) -> bool:
    if a == b:
        return True
    return bool(_DIGITS.match(a) and _DIGITS.match(b)) and int(a) == int(b)


def _count(value: str) -> int | None:
    value = value.strip()
    return int(value) if _DIGITS.match(value) else None


def _valid_date(value: str) -> bool:
    try:
        if len(value) == 8:
            datetime.strptime(value, "%Y%m%d")
        elif len(value) == 6:
            datetime.strptime(value, "%y%m%d")
        else:
            return False
    except ValueError:
        return False
    return True


def _valid_time(value: str) -> bool:
    if not _DIGITS.match(value) or len(value) not in (4, 6, 7, 8):
        return False
    return int(value[:2]) < 24 and int(value[2:4]) < 60 and (len(value) < 6 or int(value[4:6]) < 60)


class _TxBuilder:
    __slots__ = ("st", "start", "segments", "issues", "file_index")

    def __init__(self, st: Segment, start: int, file_index: int):
        self.st, self.start, self.file_index = st, start, file_index
        self.segments: list[Segment] = []
        self.issues: list[ValidationIssue] = []


class _GroupBuilder:
    __slots__ = ("gs", "transactions", "issues", "controls")

    def __init__(self, gs: Segment):
        self.gs = gs
        self.transactions: list[Transaction] = []
        self.issues: list[ValidationIssue] = []
        self.controls: set[str] = set()


class _Parser:
    def __init__(self, text: str, supported: Collection[str] | None):
        self.text = text
        self.supported = supported
        self.result: list[Interchange] = []
        self.file_index = 0
        # Open envelopes.
        self.isa: list[str] | None = None
        self.delims = DEFAULT_DELIMITERS
        self.ic_issues: list[ValidationIssue] = []
        self.groups: list[Group] = []
        self.group: _GroupBuilder | None = None
        self.tx: _TxBuilder | None = None
        self.skipping = False  # inside an ST that has no GS around it
        self.prev_end = 0  # where the latest segment (with its terminator) ended
        self.isa_end = 0

    # -- issue helpers
    def issue(self, level: Level, code: str, segment: str, message: str, *, position: int | None = None,
              element: int | None = None, severity: Severity = "error", element_code: str | None = None,
              bad_value: str = "") -> ValidationIssue:
        isa = self.isa
        found = ValidationIssue(
            level=level, code=code, position=self.file_index if position is None else position, segment=segment,
            element=element, message=message, severity=severity, element_code=element_code, bad_value=bad_value,
            file_segment=self.file_index, interchange_control=isa[12] if isa else "",
            group_control=self.group.gs.el(6) if self.group else "",
            transaction_control=self.tx.st.el(2) if self.tx else "",
        )
        if self.tx is not None and level in ("transaction", "segment"):
            self.tx.issues.append(found)
        elif self.group is not None and level != "interchange":
            self.group.issues.append(found)
        else:
            self.ic_issues.append(found)
        return found

    # -- main loop
    def run(self) -> list[Interchange]:
        text, n = self.text, len(self.text)
        pos = 0
        term = ""
        elem = ""
        while pos < n:
            if self.isa is None and not text.startswith("ISA", pos):
                pos = self.stray_data(pos)
                continue
            if self.isa is None or text.startswith("ISA", pos) and pos + 3 < n and not text[pos + 3].isalnum():
                # A new ISA: delimiters may change from one interchange to the next.
                if self.isa is not None:
                    self.close_interchange(None, text_end=pos)
                self.file_index += 1
                self.open_interchange(pos)
                pos = self.isa_end
                term, elem = self.delims.segment, self.delims.element
                pos = self.skip_space(pos)
                continue
            end = text.find(term, pos)
            if end < 0:
                end = n
            piece = text[pos:end].rstrip("\r\n")
            seg_start = pos
            pos = self.skip_space(end + 1)
            if not piece.strip():
                continue
            self.file_index += 1
            k = piece.find(elem)
            if k < 0:
                tag, elements = piece, ()
            else:
                tag, elements = piece[:k], tuple(piece[k + 1 :].split(elem))
            self.segment(Segment(tag, elements, self.delims), piece, seg_start, end + 1 if end < n else n)
            self.prev_end = end + 1 if end < n else n
        if self.isa is not None:
            self.close_interchange(None, text_end=n)
        return self.result

    def stray_data(self, pos: int) -> int:
        """Text after an IEA that does not start another ISA: report it on the interchange before."""
        following = self.text.find("ISA", pos)
        end = len(self.text) if following < 0 else following
        last = self.result[-1]
        self.file_index += 1
        found = ValidationIssue(
            level="interchange", code="024", position=self.file_index, segment="", element=None,
            message=_("The file goes on after the end of interchange {c} (IEA) with data that is not X12: “{text}”.").format(
                c=last.control, text=_show(self.text[pos:end].strip())),
            file_segment=self.file_index, interchange_control=last.control)
        self.result[-1] = replace(last, issues=last.issues + (found,))
        return end

    def skip_space(self, pos: int) -> int:
        text, n = self.text, len(self.text)
        while pos < n and text[pos] in " \r\n\t\x00":
            pos += 1
        return pos

    def open_interchange(self, pos: int) -> None:
        delims, values, end, fixed = _read_isa(self.text, pos)
        self.isa, self.delims, self.isa_end = values, delims, end
        self.ic_issues, self.groups, self.group, self.tx, self.skipping = [], [], None, None, False
        if not fixed:
            self.issue("interchange", "022", "ISA",
                       _("The ISA header is not laid out in its fixed widths (106 characters); it was read by "
                         "counting separators. Ask the partner to pad ISA06 and ISA08 to 15 characters."))
        else:
            for i, width in enumerate(_ISA_WIDTHS, start=1):
                if len(values[i - 1]) != width:
                    self.issue("interchange", "022", "ISA",
                               _("ISA{n:02d} should be {width} characters long.").format(n=i, width=width), element=i)
        checks = (
            (9, "014", _valid_date(values[8]) and len(values[8]) == 6, _("The interchange date (ISA09) “{v}” is not a date YYMMDD.")),
            (10, "015", _valid_time(values[9]) and len(values[9]) == 4, _("The interchange time (ISA10) “{v}” is not a time HHMM.")),
            (12, "017", bool(_DIGITS.match(values[11])) and len(values[11]) == 5, _("The interchange version (ISA12) “{v}” is not a five-digit version number.")),
            (13, "018", bool(_DIGITS.match(values[12])) and len(values[12]) == 9, _("The interchange control number (ISA13) “{v}” should be nine digits.")),
            (14, "019", values[13] in ("0", "1"), _("The acknowledgment request (ISA14) “{v}” should be 0 or 1.")),
            (15, "020", values[14] in ("P", "T", "I"), _("The usage indicator (ISA15) “{v}” should be P (production) or T (test).")),
        )
        for element, code, ok, message in checks:
            if not ok:
                self.issue("interchange", code, "ISA", message.format(v=values[element - 1]), element=element,
                           bad_value=values[element - 1])

    def segment(self, seg: Segment, piece: str, start: int, end: int) -> None:
        tag = seg.tag
        if tag == "GS":
            self.open_group(seg)
        elif tag == "ST":
            self.open_transaction(seg, start)
        elif tag == "SE":
            if self.tx is None:
                if not self.skipping:
                    self.issue("segment", "2", "SE", _("An SE trailer appears without its ST header."))
                self.skipping = False
                return
            self.close_transaction(seg, end)
        elif tag == "GE":
            self.close_group(seg)
        elif tag == "IEA":
            self.close_interchange(seg, text_end=end)
        elif self.skipping:
            return
        elif self.tx is not None:
            self.transaction_segment(seg, piece)
        elif self.isa is None:
            self.issue("interchange", "024", tag[:3],
                       _("Data after the end of the interchange (IEA) is not X12: “{text}”.").format(text=_show(piece)))
        else:
            # No 997 code places a segment outside every transaction set: it is an envelope fault.
            where = _("between transaction sets") if self.group else _("outside any functional group (GS)")
            self.issue("interchange", "024", tag[:3],
                       _("Unexpected segment “{tag}” {where}.").format(tag=_show(tag), where=where))

    def transaction_segment(self, seg: Segment, piece: str) -> None:
        tx = self.tx
        assert tx is not None
        tx.segments.append(seg)
        position = len(tx.segments) + 1
        tag = seg.tag
        if not _TAG.match(tag):
            self.issue("segment", "1", _show(tag[:3]), _("Segment {n} is not an X12 segment: “{text}”.").format(
                n=position, text=_show(piece)), position=position)
            return
        if tag not in KNOWN_SEGMENTS:
            self.issue("segment", "1", tag, _("Segment {n} has an id this program does not know: “{tag}”; it was "
                                              "ignored.").format(n=position, tag=tag), position=position,
                       severity="warning")
        if _BAD_CHARS.search(piece):
            for i, value in enumerate(seg.elements, start=1):
                if _BAD_CHARS.search(value):
                    self.issue("segment", "8", tag, _("Element {tag}{i:02d} contains control characters.").format(
                        tag=tag, i=i), position=position, element=i, element_code="6", bad_value=_show(value))

    def open_group(self, gs: Segment) -> None:
        if self.isa is None:
            self.issue("interchange", "024", "GS", _("A functional group (GS) starts outside any interchange."))
            return
        if self.tx is not None:
            self.missing_se()
        if self.group is not None:
            self.missing_ge()
        self.group = _GroupBuilder(gs)
        self.skipping = False
        if len(gs.elements) < 8:
            self.issue("group", "6", "GS", _("The GS header has {n} fields; it needs 8.").format(n=len(gs.elements)))
        elif not _DIGITS.match(gs.el(6)):
            self.issue("group", "6", "GS", _("The group control number (GS06) “{v}” is not a number.").format(
                v=gs.el(6)), element=6)

    def open_transaction(self, st: Segment, start: int) -> None:
        if self.group is None:
            self.issue("interchange", "024", "ST", _("A transaction set (ST) starts outside any functional group (GS); "
                                                    "it was skipped."))
            self.skipping = True
            return
        if self.tx is not None:
            self.missing_se()
        self.tx = _TxBuilder(st, start, self.file_index)
        set_id, control = st.el(1), st.el(2)
        if not (len(set_id) == 3 and set_id.isdigit()):
            self.issue("transaction", "6", "ST", _("The transaction set id (ST01) “{v}” is not valid.").format(v=set_id),
                       position=1, element=1)
        elif self.supported is not None and set_id not in self.supported:
            self.issue("transaction", "1", "ST", _("Transaction set {id} is not one this partner sends us.").format(
                id=set_id), position=1)
        if not control:
            self.issue("transaction", "7", "ST", _("The transaction set has no control number (ST02)."), position=1)
        elif control in self.group.controls:
            self.issue("transaction", "23", "ST", _("Transaction control number {c} is used twice in group {g}.").format(
                c=control, g=self.group.gs.el(6)), position=1, severity="warning")
        self.group.controls.add(control)

    def close_transaction(self, se: Segment | None, end: int) -> None:
        tx, group = self.tx, self.group
        assert tx is not None and group is not None
        actual = len(tx.segments) + 2
        set_id = tx.st.el(1)
        declared: int | None = None
        if se is None:
            self.issue("transaction", "2", "SE", _("Transaction set {id} {c} has no SE trailer: the data is cut short "
                                                   "or damaged.").format(id=set_id, c=tx.st.el(2)),
                       position=actual - 1)
        else:
            declared = _count(se.el(1))
            if declared != actual:
                self.issue("transaction", "4", "SE",
                           _("Transaction set {c} says it has {declared} segments (SE01) but has {actual}.").format(
                               c=tx.st.el(2), declared=se.el(1), actual=actual), position=actual, element=1)
            if not _same_control(se.el(2), tx.st.el(2)):
                self.issue("transaction", "3", "SE",
                           _("Transaction set control numbers differ: ST02 is “{st}” but SE02 is “{se}”.").format(
                               st=tx.st.el(2), se=se.el(2)), position=actual, element=2)
        present = {s.tag for s in tx.segments}
        for tag in MANDATORY_SEGMENTS.get(set_id, ()):
            if tag not in present:
                self.issue("segment", "3", tag, _("Transaction set {id} {c} has no {tag} segment, which it must "
                                                  "have.").format(id=set_id, c=tx.st.el(2), tag=tag), position=2)
        if any(i.is_error and i.level == "segment" for i in tx.issues) and not any(
                i.level == "transaction" and i.code == "5" for i in tx.issues):
            self.issue("transaction", "5", set_id, _("One or more segments of transaction set {c} are in error.").format(
                c=tx.st.el(2)), position=actual)
        raw = self.text[tx.start:end] if se is not None else self.text[tx.start:end].rstrip()
        group.transactions.append(Transaction(set_id=set_id, control=tx.st.el(2), segments=tuple(tx.segments),
                                              se_count=declared, raw=raw, issues=tuple(tx.issues)))
        group.issues.extend(tx.issues)
        self.tx = None

    def missing_se(self) -> None:
        self.close_transaction(None, self.current_end())

    def current_end(self) -> int:
        # Where the previous segment ended: the raw text of a cut-short transaction stops there.
        return self.prev_end

    def close_group(self, ge: Segment | None) -> None:
        if self.group is None:
            self.issue("interchange", "024", "GE", _("A GE trailer appears without its GS header."))
            return
        if self.tx is not None:
            self.missing_se()
        group = self.group
        gs = group.gs
        count: int | None = None
        if ge is None:
            self.issue("group", "3", "GE", _("Functional group {c} has no GE trailer: the data is cut short or "
                                             "damaged.").format(c=gs.el(6)))
        else:
            count = _count(ge.el(1))
            if count != len(group.transactions):
                self.issue("group", "5", "GE", _("Functional group {c} says it has {declared} transaction sets (GE01) "
                                                 "but has {actual}.").format(c=gs.el(6), declared=ge.el(1),
                                                                             actual=len(group.transactions)), element=1)
            if not _same_control(ge.el(2), gs.el(6)):
                self.issue("group", "4", "GE", _("Group control numbers differ: GS06 is “{gs}” but GE02 is “{ge}”.").format(
                    gs=gs.el(6), ge=ge.el(2)), element=2)
        self.groups.append(Group(
            functional_id=gs.el(1), sender=gs.el(2), receiver=gs.el(3), date=gs.el(4), time=gs.el(5),
            control=gs.el(6), agency=gs.el(7), version=gs.el(8), transactions=tuple(group.transactions),
            ge_count=count, ge_control=ge.el(2) if ge else "", issues=tuple(group.issues)))
        self.ic_issues.extend(group.issues)
        self.group = None

    def missing_ge(self) -> None:
        self.close_group(None)

    def close_interchange(self, iea: Segment | None, *, text_end: int) -> None:
        if self.isa is None:
            self.issue("interchange", "024", "IEA", _("An IEA trailer appears without its ISA header."))
            return
        if self.tx is not None:
            self.missing_se()
        if self.group is not None:
            self.missing_ge()
        isa = self.isa
        count: int | None = None
        if iea is None:
            self.issue("interchange", "023", "IEA", _("Interchange {c} has no IEA trailer: the file is cut short.").format(
                c=isa[12]))
        else:
            count = _count(iea.el(1))
            if count != len(self.groups):
                self.issue("interchange", "021", "IEA", _("Interchange {c} says it has {declared} functional groups "
                                                          "(IEA01) but has {actual}.").format(
                    c=isa[12], declared=iea.el(1), actual=len(self.groups)), element=1)
            if not _same_control(iea.el(2), isa[12]):
                self.issue("interchange", "001", "IEA", _("Interchange control numbers differ: ISA13 is “{isa}” but "
                                                          "IEA02 is “{iea}”.").format(isa=isa[12], iea=iea.el(2)),
                           element=2)
        issues = sorted(self.ic_issues, key=lambda i: i.file_segment)
        self.result.append(Interchange(
            sender_qualifier=isa[4], sender_id=isa[5].strip(), receiver_qualifier=isa[6], receiver_id=isa[7].strip(),
            date=isa[8], time=isa[9], control=isa[12], version=isa[11], ack_requested=isa[13] == "1", usage=isa[14],
            delimiters=self.delims, groups=tuple(self.groups), iea_count=count, iea_control=iea.el(2) if iea else "",
            issues=tuple(issues)))
        self.isa = None
        self.groups, self.ic_issues = [], []


def _show(text: str, limit: int = 40) -> str:
    shown = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return shown + ("…" if len(text) > limit else "")


def parse_interchanges(data: bytes | str, *, supported: Collection[str] | None = None,
                       max_bytes: int = 50_000_000) -> list[Interchange]:
    """Every interchange in ``data``, each with its findings in ``issues``.

    ``supported``: the transaction set ids (ST01) the caller accepts; others get AK5 code 1.
    Raises X12Error only for data that is not X12 at all, or larger than ``max_bytes``.
    """
    if len(data) > max_bytes:
        raise X12Error(_("The file is {size} MB; files over {limit} MB are not read.").format(
            size=len(data) // 1_000_000, limit=max_bytes // 1_000_000))
    text = _decode(data)
    if not text.startswith("ISA"):
        raise _not_x12(text)
    if _BAD_CHARS.search(text[:ISA_LENGTH]):
        raise X12Error(_("This is not a usable X12 file: its ISA header contains binary data."))
    return _Parser(text, supported).run()


# --- writing -------------------------------------------------------------------------------


def _check_delimiters(d: Delimiters, repetition_in_use: bool) -> None:
    chars = [d.element, d.segment, d.component] + ([d.repetition] if repetition_in_use and d.repetition else [])
    for c in chars:
        if not isinstance(c, str) or len(c) != 1 or c.isalnum() or c == " ":
            raise X12Error(_("“{c}” cannot be an X12 delimiter: use one punctuation character.").format(c=c))
    if len(set(chars)) != len(chars):
        raise X12Error(_("The X12 delimiters must all differ: {chars}.").format(chars=" ".join(map(repr, chars))))


def write_interchange(
    groups: Sequence[Group],
    *,
    sender_id: str,
    receiver_id: str,
    control: int | str,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    version: str = "00401",
    usage: Literal["P", "T"] = "P",
    ack_requested: bool = False,
    when: datetime | None = None,
    newline: bool = False,
    on_delimiter_in_data: Literal["raise", "replace"] = "raise",
) -> str:
    """One interchange as text: ISA, each group (GS..GE with its ST..SE sets), IEA.

    Counts (SE01, GE01, IEA01) are computed; ``se_count``/``ge_count`` of the input are ignored.
    A group with empty ``date``/``time`` gets ``when`` (default now, UTC). Element values may be
    tuples, written as composites. Data containing a delimiter raises X12Error, or with
    ``on_delimiter_in_data="replace"`` has it replaced by a space (for free text such as names).
    """
    if when is None:
        when = datetime.now(timezone.utc)
    elif when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    rep_in_use = version >= "00402"
    d = delimiters
    if rep_in_use and not d.repetition:
        d = Delimiters(d.element, d.segment, d.component, "^")
    _check_delimiters(d, rep_in_use)
    if usage not in ("P", "T"):
        raise X12Error(_("The usage indicator must be P (production) or T (test), not “{u}”.").format(u=usage))
    if not (len(version) == 5 and version.isdigit()):
        raise X12Error(_("The interchange version must be five digits such as 00401, not “{v}”.").format(v=version))
    control_n = _control_number(control, "ISA13")
    for label, value, width in (("ISA05", sender_qualifier, 2), ("ISA06", sender_id, 15),
                                ("ISA07", receiver_qualifier, 2), ("ISA08", receiver_id, 15)):
        if not value or len(value) > width:
            raise X12Error(_("{label} “{v}” must have 1 to {w} characters.").format(label=label, v=value, w=width))

    specials = {d.element, d.segment, d.component} | ({d.repetition} if rep_in_use and d.repetition else set())
    after = d.segment + ("\n" if newline else "")

    def clean(value: str, where: str) -> str:
        if not isinstance(value, str):
            value = str(value)
        if any(c in specials for c in value) or "\r" in value or "\n" in value:
            if on_delimiter_in_data == "replace":
                return "".join(" " if c in specials or c in "\r\n" else c for c in value)
            raise X12Error(_("The value “{v}” in {where} contains an X12 delimiter; it cannot be sent as is.").format(
                v=value, where=where))
        return value

    def seg(tag: str, elements: Sequence) -> str:
        values = []
        for i, value in enumerate(elements, start=1):
            where = f"{tag}{i:02d}"
            if isinstance(value, (tuple, list)):
                parts = [clean(v, where) for v in value]
                while parts and parts[-1] == "":
                    parts.pop()
                values.append(d.component.join(parts))
            else:
                values.append(clean("" if value is None else value, where))
        while values and values[-1] == "":
            values.pop()
        return d.element.join([tag, *values]) + after

    out: list[str] = []
    isa = [
        "00", " " * 10, "00", " " * 10,
        sender_qualifier, sender_id.ljust(15), receiver_qualifier, receiver_id.ljust(15),
        when.strftime("%y%m%d"), when.strftime("%H%M"), d.repetition if rep_in_use else "U", version,
        f"{control_n:09d}", "1" if ack_requested else "0", usage, d.component,
    ]
    for value in isa[:10] + isa[11:15]:  # ISA11 is the repetition separator itself
        if any(c in specials for c in value):
            raise X12Error(_("The ISA value “{v}” contains an X12 delimiter.").format(v=value))
    out.append(d.element.join(["ISA", *isa]) + after)
    for group in groups:
        gs_control = _control_number(group.control, "GS06")
        out.append(seg("GS", [group.functional_id, group.sender, group.receiver, group.date or when.strftime("%Y%m%d"),
                              group.time or when.strftime("%H%M"), str(gs_control), group.agency or "X",
                              group.version]))
        for tx in group.transactions:
            if not tx.control:
                raise X12Error(_("Transaction set {id} has no control number.").format(id=tx.set_id))
            body = [seg("ST", [tx.set_id, tx.control])]
            for s in tx.segments:
                if s.tag in ("ST", "SE"):
                    continue
                body.append(seg(s.tag, s.elements))
            body.append(seg("SE", [str(len(body) + 1), tx.control]))
            out.extend(body)
        out.append(seg("GE", [str(len(group.transactions)), str(gs_control)]))
    out.append(seg("IEA", [str(len(groups)), f"{control_n:09d}"]))
    return "".join(out)


def _control_number(value: int | str, label: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise X12Error(_("{label} must be a number, not “{v}”.").format(label=label, v=value)) from None
    if not 0 < number <= 999_999_999:
        raise X12Error(_("{label} must be between 1 and 999999999, not {v}.").format(label=label, v=value))
    return number


def transaction_control(n: int, width: int = 4) -> str:
    """ST02 for a sequence number: zero-padded to at least four digits, as most partners expect."""
    return f"{n:0{width}d}"


def parse_date(value: str) -> date_type | None:
    """CCYYMMDD (or YYMMDD, taken as 20YY below 70) to a date; None when it is not a date."""
    try:
        if len(value) == 8 and value.isdigit():
            return datetime.strptime(value, "%Y%m%d").date()
        if len(value) == 6 and value.isdigit():
            return datetime.strptime(value, "%y%m%d").date()
    except ValueError:
        return None
    return None
