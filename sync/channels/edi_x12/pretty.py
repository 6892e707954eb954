"""X12 text laid out for a person: one segment a line, loops and HL levels indented, segments named, faults placed.

The document log keeps an inbound transaction from ST to SE (its ISA stays with the
file) and an outbound document whole, ISA to IEA. Delimiters come from the ISA header
when there is one (``detect_delimiters``), else from the ST segment itself, else from
the partner's settings. Text that is not X12 at all is shown line by line as it is;
nothing here raises for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from oms.core.i18n import _, ngettext

from .x12 import Delimiters, X12Error, detect_delimiters, parse_interchanges

MAX_LINES = 5000  # a bigger document is cut here; Save as… has it all

# Loops: the segments that stay inside a loop opened by its first segment (nested loops included).
_LOOPS: dict[str, frozenset[str]] = {
    "N1": frozenset("N2 N3 N4 REF PER FOB SDQ".split()),
    "N9": frozenset("DTM MSG".split()),
    "PO1": frozenset("LIN SI CUR CN1 PO3 CTP PAM MEA PID PWK PO4 REF PER SAC IT8 CSH ITD DIS INC TAX FOB SDQ DTM LDT SCH "
                     "TD1 TD5 TD3 TD4 MAN PCT MSG AMT N9 N1 QTY ACK SLN".split()),
    "POC": frozenset("LIN SI CUR CN1 PO3 CTP PAM MEA PID PWK PO4 REF PER SAC IT8 CSH ITD DIS INC TAX FOB SDQ DTM LDT SCH "
                     "TD1 TD5 TD3 TD4 MAN PCT MSG AMT N9 N1 QTY ACK SLN".split()),
    "ACK": frozenset("DTM".split()),
    "IT1": frozenset("CRC QTY CUR IT3 TXI CTP PAM MEA PID PO4 ITD REF YNQ PER IT8 SAC DTM CAD SR SLN N1 LM".split()),
    "AK2": frozenset("AK3 AK4 AK5 IK3 IK4 IK5".split()),
    "AK3": frozenset("AK4".split()),
    "IK3": frozenset("IK4 CTX".split()),
}
_OPEN = {"ISA": "IEA", "GS": "GE", "ST": "SE"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_HEADERS = {"850": ("BEG", 3), "860": ("BCH", 3), "855": ("BAK", 3), "856": ("BSN", 2), "810": ("BIG", 2)}


def segment_name(tag: str) -> str:
    names = {
        "ISA": _("Interchange header"), "IEA": _("Interchange trailer"), "GS": _("Group header"), "GE": _("Group trailer"),
        "ST": _("Transaction set header"), "SE": _("Transaction set trailer"), "BEG": _("Purchase order"), "BCH": _("PO change"), "POC": _("Line change"),
        "BAK": _("PO ack"), "BSN": _("Ship notice"), "BIG": _("Invoice"), "CUR": _("Currency"),
        "REF": _("Reference"), "PER": _("Contact"), "DTM": _("Date"), "FOB": _("Shipping terms"), "ITD": _("Payment terms"),
        "TD1": _("Packaging and weight"), "TD3": _("Equipment"), "TD4": _("Special handling"), "TD5": _("Carrier"),
        "N9": _("Reference note"), "MSG": _("Message"), "N1": _("Party"), "N2": _("Name, continued"), "N3": _("Address"),
        "N4": _("City, state, postal code"), "PO1": _("Line item"), "PID": _("Description"), "PO4": _("Pack"),
        "CTP": _("Price"), "SAC": _("Charge or allowance"), "SCH": _("Delivery schedule"), "ACK": _("Line status"),
        "CTT": _("Totals"), "HL": _("Hierarchy level"), "PRF": _("Purchase order reference"), "LIN": _("Item ids"),
        "SN1": _("Shipped quantity"), "MAN": _("Marks and numbers"), "IT1": _("Invoice line"), "TDS": _("Invoice total"),
        "CAD": _("Carrier detail"), "ISS": _("Shipped totals"), "TXI": _("Tax"), "AMT": _("Amount"), "PKG": _("Packaging"),
        "MEA": _("Measurement"), "QTY": _("Quantity"), "AK1": _("Group acknowledged"), "AK2": _("Transaction acknowledged"),
        "AK3": _("Segment in error"), "AK4": _("Element in error"), "AK5": _("Transaction result"), "AK9": _("Group result"),
        "TA1": _("Interchange acknowledgement"),
    }
    return names.get(tag, "")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _date(text: str) -> date | None:
    """An X12 date (CCYYMMDD), or None when the element holds something else."""
    try:
        return datetime.strptime(text, "%Y%m%d").date() if len(text) == 8 else None
    except ValueError:
        return None


def _note(tag: str, elements: tuple[str, ...]) -> str:
    """The segment's name, with what its first elements say when that is the point of it."""
    el = lambda i: elements[i - 1] if len(elements) >= i else ""  # noqa: E731 - X12 counts elements from 1
    name = segment_name(tag)
    if tag == "N1":
        role = {"ST": _("Ship to"), "BT": _("Bill to"), "BY": _("Buyer"), "SF": _("Ship from"), "VN": _("Vendor"),
                "SU": _("Supplier"), "RI": _("Remit to"), "RE": _("Remit to")}.get(el(1))
        return role or name
    if tag == "HL":
        level = {"S": _("Shipment"), "O": _("Order"), "T": _("Pallet (tare)"), "P": _("Carton (pack)"),
                 "I": _("Item")}.get(el(3))
        return level or name
    if tag in ("AK5", "AK9"):
        result = {"A": _("accepted"), "E": _("accepted with errors"), "R": _("rejected"),
                  "P": _("partly accepted")}.get(el(1))
        return f"{name}: {result}" if result else name
    if tag == "ACK":
        status = {"IA": _("accepted"), "IB": _("backordered"), "IR": _("rejected"), "IC": _("accepted, changed"),
                  "IQ": _("accepted, quantity changed"), "DR": _("date rescheduled")}.get(el(1))
        if not status:
            return name
        parts = [status]
        if el(2):
            parts.append(ngettext("{n} unit", "{n} units", _int(el(2))).format(n=el(2)))
        when = _date(el(5))
        if when:  # ACK04/05: the date these units ship (or are expected to)
            parts.append(_("until {date}").format(date=f"{when:%a %d %b %Y}") if el(1) == "IB"
                         else _("ships {date}").format(date=f"{when:%a %d %b %Y}"))
        return f"{name}: {', '.join(parts)}"
    return name


@dataclass(frozen=True)
class Line:
    number: int  # counted from 1 in the document as it is shown
    depth: int  # indentation level: envelopes, loops, HL levels
    tag: str  # "" when the text is not X12
    elements: tuple[str, ...]
    note: str = ""  # what the segment is, in words
    problem: str = ""  # what is wrong with this segment, when something is


@dataclass(frozen=True)
class PrettyDocument:
    lines: tuple[Line, ...]
    delimiters: Delimiters
    is_x12: bool
    cut: int = 0  # segments left out after MAX_LINES
    problems: tuple[str, ...] = ()  # findings that belong to no one segment


def _delimiters_of(text: str, fallback: Delimiters) -> Delimiters | None:
    if text.startswith("ISA"):
        try:
            return detect_delimiters(text)
        except X12Error:
            return None
    if text.startswith("ST") and len(text) > 3 and not text[2].isalnum() and not text[2].isspace():
        element = text[2]
        for c in text[3:200]:
            if not c.isalnum() and c != element and c != " ":
                return Delimiters(element, c, fallback.component, fallback.repetition)
        return None
    return None


def split_segments(text: str, d: Delimiters) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for piece in text.split(d.segment):
        piece = piece.strip("\r\n")
        if not piece.strip():
            continue
        tag, _sep, rest = piece.partition(d.element)
        out.append((tag.strip(), tuple(rest.split(d.element)) if _sep else ()))
    return out


def pretty(raw: str, fallback: Delimiters | None = None) -> PrettyDocument:
    """The document laid out segment by segment; ``fallback`` is the partner's delimiters."""
    fallback = fallback or Delimiters(repetition="^")
    text = (raw or "").lstrip("\ufeff \t\r\n\x00")
    d = _delimiters_of(text, fallback)
    if d is None:
        lines = tuple(Line(i, 0, "", (line,)) for i, line in enumerate(text.splitlines()[:MAX_LINES], start=1))
        return PrettyDocument(lines, fallback, False)
    segments = split_segments(text, d)
    cut = max(0, len(segments) - MAX_LINES)
    lines: list[Line] = []
    envelope = 0
    loops: list[str] = []
    hl_levels: dict[str, int] = {}
    hl_depth: int | None = None
    for number, (tag, elements) in enumerate(segments[:MAX_LINES], start=1):
        if tag in _OPEN:
            depth = envelope
            envelope += 1
            loops, hl_depth = [], None
        elif tag in _CLOSE:
            envelope = max(0, envelope - 1)
            depth = envelope
            loops, hl_depth = [], None
        elif tag == "HL":
            hl_id, parent = (elements + ("", ""))[:2]
            level = hl_levels.get(parent, -1) + 1 if parent else 0
            hl_levels[hl_id] = level
            hl_depth, loops = level, []
            depth = envelope + level
        elif tag == "CTT":
            loops, hl_depth = [], None
            depth = envelope
        else:
            while loops and tag not in _LOOPS[loops[-1]]:
                loops.pop()
            depth = envelope + (0 if hl_depth is None else hl_depth + 1) + len(loops)
            if tag in _LOOPS:
                loops.append(tag)
        lines.append(Line(number, depth, tag, elements, _note(tag, elements)))
    doc = PrettyDocument(tuple(lines), d, True, cut)
    return _with_problems(doc, text)


def _with_problems(doc: PrettyDocument, text: str) -> PrettyDocument:
    """The syntax findings of the X12 reader, each on the segment it is about (a transaction kept without its
    envelope is read inside a stand-in one)."""
    d = doc.delimiters
    first = doc.lines[0].tag if doc.lines else ""
    if first not in ("ISA", "ST"):
        return doc
    wrapped = first == "ST"
    if wrapped:
        isa = d.element.join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "X".ljust(15), "ZZ", "X".ljust(15), "000101",
                              "0000", d.repetition or "U", "00501" if d.repetition else "00401", "000000001", "0", "P",
                              d.component])
        body = text if text.rstrip().endswith(d.segment) else text.rstrip() + d.segment
        text = (f"{isa}{d.segment}{d.element.join(['GS', 'XX', 'X', 'X', '20000101', '0000', '1', 'X', '004010'])}{d.segment}"
                f"{body}{d.element.join(['GE', '1', '1'])}{d.segment}{d.element.join(['IEA', '1', '000000001'])}{d.segment}")
    try:
        interchanges = parse_interchanges(text)
    except X12Error:
        return doc
    offset = 2 if wrapped else 0  # the stand-in ISA and GS come before the shown lines
    by_line: dict[int, list[str]] = {}
    loose: list[str] = []
    for ic in interchanges:
        for issue in ic.issues:
            if wrapped and issue.level in ("interchange", "group"):
                continue  # about the stand-in envelope
            line = issue.file_segment - offset
            if issue.level in ("segment", "transaction") and issue.transaction_control:
                # Segment and transaction findings count from ST: place them by the transaction's first line.
                start = next((l.number for l in doc.lines if l.tag == "ST" and l.elements[1:2] == (issue.transaction_control,)), None)
                if start is not None:
                    line = start + issue.position - 1
            if 0 < line <= len(doc.lines):
                by_line.setdefault(line, []).append(issue.message)
            else:
                loose.append(issue.message)
    if not by_line and not loose:
        return doc
    lines = tuple(replace(l, problem=" ".join(by_line[l.number])) if l.number in by_line else l for l in doc.lines)
    return replace(doc, lines=lines, problems=tuple(dict.fromkeys(loose)))


def reference(raw_head: str, doc_type: str, fallback: Delimiters | None = None) -> str:
    """The document's own number, from the start of its text: the PO number of an 850 or 855, the shipment id of an
    856, the invoice number of an 810, the group an 997 acknowledges ("PO 17"). "" when it cannot be told."""
    fallback = fallback or Delimiters(repetition="^")
    text = (raw_head or "").lstrip("\ufeff \t\r\n\x00")
    d = _delimiters_of(text, fallback)
    if d is None:
        return ""
    segments = split_segments(text, d)
    if doc_type == "997":
        for tag, elements in segments:
            if tag == "AK1" and len(elements) >= 2:
                return f"{elements[0]} {elements[1]}"
        return ""
    want = _HEADERS.get(doc_type)
    for tag, elements in segments:
        if want is None and tag in ("BEG", "BAK"):
            want = (tag, 3)
        if want and tag == want[0]:
            return elements[want[1] - 1].strip() if len(elements) >= want[1] else ""
    return ""
