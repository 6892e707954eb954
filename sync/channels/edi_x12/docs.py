"""X12 business documents as plain data: the 850 we receive, and the 855, 856 and 810 we send.

Builders return the segments between ST and SE; ``write_interchange`` adds the envelopes,
counts and control numbers.

Decisions worth knowing:

* 850 quantities must be whole units ("0008" and "12.0" are fine, "1.5" is an issue: the
  OMS counts units). Prices stay ``Decimal`` exactly as sent; converting them to minor units
  is the mapping's job, which knows the currency.
* A PO1 without PO101 gets its sequence number ("1", "2", ...) as line id, so an 855/856
  can echo it; two lines with the same id are an error (lines are unique per order).
* 855: a backordered line (ACK01 IB) carries its expected date in ACK04/ACK05 (qualifier 068,
  current schedule ship), where the 004010 ACK segment keeps it; ``dtm_068=True`` adds a DTM*068
  segment after the ACK as well, for partners whose guide asks for it.
* 856: hierarchy Shipment (S) → Order (O) → Tare (T, one per pallet, when there are pallets)
  → Pack (P, one per carton, MAN*GM*SSCC) → Item (I, LIN + SN1); BSN05 is 0001. CTT01 is the
  number of HL segments (the VICS convention) and CTT02 the total of SN102 units.
  ``check_856_structure`` accepts CTT01 equal to either the HL count or the item-level HL count,
  since partners' files use both.
* 810: TDS01 is the invoice total with two implied decimals (cents for USD), whatever the
  currency's minor unit; CTT01 is the number of IT1 lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Sequence

from oms.core import money
from oms.core.gs1 import is_valid_sscc
from oms.core.i18n import _, ngettext

from .x12 import Segment, Transaction, ValidationIssue, parse_date

__all__ = [
    "Carrier", "LineAck", "POLine", "Party", "PurchaseOrder",
    "build_810", "build_855", "build_856",
    "check_810_structure", "check_855_structure", "check_856_structure",
    "read_850", "read_860",
]

PURPOSES = {"00": "original", "01": "cancellation", "04": "change", "05": "replace", "06": "confirmation",
            "07": "duplicate", "18": "reissue"}
DATE_QUALIFIERS = {"002": "requested delivery", "010": "requested ship", "001": "cancel after",
                   "037": "ship not before", "038": "ship no later", "063": "do not deliver after",
                   "064": "do not deliver before", "004": "purchase order"}
GTIN_QUALIFIERS = ("UK", "EN", "UP", "UA", "UI", "UN")
VENDOR_QUALIFIERS = ("VN", "VP", "VA", "VC")
BUYER_QUALIFIERS = ("BP", "IN", "CB", "PI")


# --- 850 in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    role: str  # N101: ST ship-to, BT bill-to, BY buyer, SF ship-from, VN vendor ...
    name: str = ""
    id_qualifier: str = ""  # N103: 92 assigned by buyer, 9 DUNS+4, UL GLN ...
    id_code: str = ""  # N104
    names: tuple[str, ...] = ()  # N2
    address: tuple[str, ...] = ()  # N301, N302 of each N3
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class Carrier:
    id_qualifier: str = ""  # TD502; 2 = SCAC
    id_code: str = ""  # TD503
    transport_method: str = ""  # TD504
    routing: str = ""  # TD505 free text
    service_level: str = ""  # TD512

    @property
    def scac(self) -> str:
        return self.id_code if self.id_qualifier == "2" else ""


@dataclass(frozen=True)
class POLine:
    line_id: str
    quantity: int
    unit: str
    unit_price: Decimal | None
    price_basis: str = ""
    product_ids: dict[str, str] = field(default_factory=dict)  # qualifier -> id, in the order sent
    descriptions: tuple[str, ...] = ()
    dates: dict[str, date] = field(default_factory=dict)
    parties: tuple[Party, ...] = ()
    change: str = ""  # 860 POC02: AI add, DI delete, QI/QD quantity, PC price, CA/RZ change/replace values, NC none
    quantity_given: bool = True  # an 860 line may leave the quantity as it was

    def _first(self, qualifiers: Sequence[str]) -> str:
        return next((self.product_ids[q] for q in qualifiers if self.product_ids.get(q)), "")

    @property
    def gtin(self) -> str:
        """UPC/EAN/GTIN-14 as sent (not normalised)."""
        return self._first(GTIN_QUALIFIERS)

    @property
    def vendor_part(self) -> str:
        return self._first(VENDOR_QUALIFIERS)

    @property
    def buyer_part(self) -> str:
        return self._first(BUYER_QUALIFIERS)

    @property
    def sku(self) -> str:
        return self.product_ids.get("SK", "")

    @property
    def description(self) -> str:
        return self.descriptions[0] if self.descriptions else ""


@dataclass(frozen=True)
class PurchaseOrder:
    control: str  # ST02
    purpose: str  # original, cancellation, change, replace ...
    purpose_code: str  # BEG01
    type: str  # BEG02: SA stand-alone, DS drop ship, BK blanket, RL release ...
    po_number: str
    po_date: date
    release: str = ""
    dates: dict[str, date] = field(default_factory=dict)  # DTM01 qualifier -> date
    currency: str = ""
    references: dict[str, str] = field(default_factory=dict)  # REF01/N901 -> value
    notes: tuple[str, ...] = ()
    parties: tuple[Party, ...] = ()
    carrier: Carrier | None = None
    lines: tuple[POLine, ...] = ()
    declared_line_count: int | None = None  # CTT01
    warnings: tuple[ValidationIssue, ...] = ()
    set_id: str = "850"  # or 860, a change order

    def party(self, role: str) -> Party | None:
        return next((p for p in self.parties if p.role == role), None)

    @property
    def ship_to(self) -> Party | None:
        return self.party("ST")

    @property
    def requested_delivery(self) -> date | None:
        return self.dates.get("002")

    @property
    def requested_ship(self) -> date | None:
        return self.dates.get("010")

    @property
    def cancel_after(self) -> date | None:
        return self.dates.get("001")

    @property
    def ship_not_before(self) -> date | None:
        return self.dates.get("037")

    @property
    def ship_no_later(self) -> date | None:
        return self.dates.get("038")


class _PartyBuilder:
    def __init__(self, seg: Segment):
        self.role, self.name, self.q, self.code = seg.el(1), seg.el(2), seg.el(3), seg.el(4)
        self.names: list[str] = []
        self.address: list[str] = []
        self.city = self.region = self.postal = self.country = ""

    def build(self) -> Party:
        return Party(self.role, self.name, self.q, self.code, tuple(self.names), tuple(self.address), self.city,
                     self.region, self.postal, self.country)


def read_850(transaction: Transaction, version: str = "004010", *, _as_860: bool = False) -> PurchaseOrder | list[ValidationIssue]:
    """The purchase order in an 850, or the issues that keep it from being one.

    Issues carry AK3/AK4 codes and the transaction's control number, so they can go straight
    into ``build_997``. Warnings (an unknown product id qualifier, a zero quantity) ride along in
    ``PurchaseOrder.warnings``.
    """
    control = transaction.control
    errors: list[ValidationIssue] = []
    warnings: list[ValidationIssue] = []

    def issue(position: int, tag: str, element: int | None, element_code: str | None, message: str, *,
              code: str = "8", bad: str = "", warning: bool = False) -> None:
        found = ValidationIssue(level="segment", code=code, position=position, segment=tag, element=element,
                                message=message, severity="warning" if warning else "error",
                                element_code=element_code, bad_value=bad, transaction_control=control)
        (warnings if warning else errors).append(found)

    if transaction.set_id != "850" and not _as_860:
        return [ValidationIssue(level="transaction", code="6", position=1, segment="ST", element=1,
                                message=_("Transaction set {id} is not a purchase order (850).").format(
                                    id=transaction.set_id), transaction_control=control)]

    beg: Segment | None = None
    beg_pos = 0
    dates: dict[str, date] = {}
    references: dict[str, str] = {}
    notes: list[str] = []
    parties: list[Party] = []
    carrier: Carrier | None = None
    currency = ""
    lines: list[dict[str, Any]] = []
    party: _PartyBuilder | None = None
    declared: int | None = None
    six_digit_dates = version[:3] in ("002", "003")

    def close_party() -> None:
        nonlocal party
        if party is not None:
            (lines[-1]["parties"] if lines else parties).append(party.build())
            party = None

    def read_date(value: str, position: int, tag: str, element: int) -> date | None:
        parsed = parse_date(value) if (len(value) == 8 or six_digit_dates or len(value) == 6) else None
        if parsed is None:
            issue(position, tag, element, "8", _("{tag}{n:02d} “{v}” is not a date (CCYYMMDD).").format(
                tag=tag, n=element, v=value), bad=value)
        return parsed

    for index, seg in enumerate(transaction.segments):
        position = index + 2
        tag = seg.tag
        if tag not in ("N2", "N3", "N4", "PER", "REF"):  # the rest of an N1 loop
            close_party()
        if tag == "BEG":
            beg, beg_pos = seg, position
        elif tag == "CUR":
            currency = seg.el(2).upper()
        elif tag == "REF":
            if not lines and party is None and seg.el(1):
                references.setdefault(seg.el(1), seg.el(2) or seg.el(3))
        elif tag == "N9":
            if not lines and seg.el(1):
                references.setdefault(seg.el(1), seg.el(2) or seg.el(3))
        elif tag == "MSG":
            if seg.el(1).strip():
                notes.append(seg.el(1).strip())
        elif tag == "NTE":
            if seg.el(2).strip():
                notes.append(seg.el(2).strip())
        elif tag == "DTM":
            parsed = read_date(seg.el(2), position, tag, 2)
            if parsed is not None:
                (lines[-1]["dates"] if lines else dates).setdefault(seg.el(1), parsed)
        elif tag == "TD5":
            if carrier is None and not lines:
                carrier = Carrier(seg.el(2), seg.el(3), seg.el(4), seg.el(5), seg.el(12))
        elif tag == "N1":
            party = _PartyBuilder(seg)
        elif tag == "N2" and party is not None:
            party.names.extend(v for v in seg.elements[:2] if v)
        elif tag == "N3" and party is not None:
            party.address.extend(v for v in seg.elements[:2] if v)
        elif tag == "N4" and party is not None:
            party.city, party.region, party.postal, party.country = seg.el(1), seg.el(2), seg.el(3), seg.el(4)
        elif tag == "PO1":
            lines.append(_read_po1(seg, position, len(lines) + 1, issue))
        elif tag == "PID":
            if lines and seg.el(1) in ("F", "") and seg.el(5).strip():
                lines[-1]["descriptions"].append((seg.el(2), seg.el(5).strip()))
        elif tag == "CTT":
            declared = int(seg.el(1)) if seg.el(1).isdigit() else None
            if declared is None:
                issue(position, "CTT", 1, "6", _("CTT01 “{v}” is not a count of lines.").format(v=seg.el(1)),
                      bad=seg.el(1))
            elif declared != len(lines):
                issue(position, "CTT", 1, "7", _("The order says it has {declared} lines (CTT01) but has "
                                                 "{actual}.").format(declared=declared, actual=len(lines)),
                      bad=seg.el(1))
    close_party()

    if beg is None:
        issue(2, "BEG", None, None, _("The purchase order has no BEG segment, so it has no order number."), code="3")
        return errors
    purpose_code, po_type, po_number = beg.el(1), beg.el(2), beg.el(3).strip()
    if purpose_code not in PURPOSES:
        issue(beg_pos, "BEG", 1, "7", _("BEG01 “{v}” is not a purpose this program understands (00 original, "
                                        "01 cancellation, 04 change, 05 replace).").format(v=purpose_code),
              bad=purpose_code)
    if not po_number:
        issue(beg_pos, "BEG", 3, "1", _("The purchase order has no number (BEG03)."))
    po_date = read_date(beg.el(5), beg_pos, "BEG", 5) if beg.el(5) else None
    if not beg.el(5):
        issue(beg_pos, "BEG", 5, "1", _("The purchase order has no date (BEG05)."))
    if not lines and not _as_860:  # a change order may change only dates or the ship-to
        issue(beg_pos, "PO1", None, None, _("The purchase order has no lines (PO1)."), code="3")
    seen: dict[str, int] = {}
    for line in lines:
        if line["line_id"] in seen:
            issue(line["position"], "PO1", 1, "7", _("Line id “{id}” (PO101) is used by two lines.").format(
                id=line["line_id"]), bad=line["line_id"])
        seen[line["line_id"]] = 1
        if line["quantity"] == 0 and purpose_code != "01" and not _as_860:
            issue(line["position"], "PO1", 2, "7", _("Line {id} orders 0 units.").format(id=line["line_id"]),
                  bad="0", warning=True)
    if errors or po_date is None:
        return errors
    return PurchaseOrder(
        control=control, purpose=PURPOSES[purpose_code], purpose_code=purpose_code, type=po_type,
        po_number=po_number, po_date=po_date, release=beg.el(4), dates=dates, currency=currency,
        references=references, notes=tuple(notes), parties=tuple(parties), carrier=carrier,
        lines=tuple(POLine(line_id=l["line_id"], quantity=l["quantity"], unit=l["unit"],
                           unit_price=l["unit_price"], price_basis=l["price_basis"], product_ids=l["product_ids"],
                           descriptions=_descriptions(l["descriptions"]), dates=l["dates"], parties=tuple(l["parties"]))
                    for l in lines),
        declared_line_count=declared, warnings=tuple(warnings))


# --- 860 in -------------------------------------------------------------------------------------
# An 860 is an 850 with BCH for BEG and POC for PO1: BCH01 purpose, 02 type, 03 PO number, 04 release, 06 PO date;
# POC01 line id, 02 change type, 03 new quantity ordered, 04 quantity left to receive, 05 unit, 06 price, 07 basis,
# 08/09 ... product id pairs. It is read by the 850 reader on translated segments, and every finding is told back
# in the 860's own segment and element numbers.

CHANGE_TYPES = {"AI": "add item", "DI": "delete item", "QI": "quantity increase", "QD": "quantity decrease",
                "PC": "price change", "CA": "change to line items", "CT": "change of dates", "RZ": "replace all values",
                "NC": "no change", "CB": "change of buyer", "CE": "change of price basis"}
_BEG_TO_BCH = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6}


def _po1_to_poc(element: int) -> int:
    return {1: 1, 2: 3}.get(element, element + 2)


def _retell(issue: ValidationIssue) -> ValidationIssue:
    """An issue found on a translated segment, in the 860's terms."""
    if issue.segment == "BEG":
        element = _BEG_TO_BCH.get(issue.element, issue.element) if issue.element else issue.element
        message = re.sub(r"BEG0?(\d)", lambda m: f"BCH{_BEG_TO_BCH.get(int(m.group(1)), int(m.group(1))):02d}",
                         issue.message).replace("BEG", "BCH")
        return replace(issue, segment="BCH", element=element, message=message)
    if issue.segment == "PO1":
        element = _po1_to_poc(issue.element) if issue.element else issue.element
        message = re.sub(r"PO1(\d\d)", lambda m: f"POC{_po1_to_poc(int(m.group(1))):02d}", issue.message).replace("PO1", "POC")
        return replace(issue, segment="POC", element=element, message=message)
    return issue


def read_860(transaction: Transaction, version: str = "004010") -> PurchaseOrder | list[ValidationIssue]:
    """The change order in an 860: a PurchaseOrder (set_id "860") whose lines carry their change type (POC02) and
    whether a new quantity was given; or the issues that keep it from being read."""
    control = transaction.control
    if transaction.set_id != "860":
        return [ValidationIssue(level="transaction", code="6", position=1, segment="ST", element=1,
                                message=_("Transaction set {id} is not a purchase order change (860).").format(
                                    id=transaction.set_id), transaction_control=control)]
    translated: list[Segment] = []
    changes: list[tuple[str, bool]] = []
    problems: list[ValidationIssue] = []
    for index, seg in enumerate(transaction.segments):
        if seg.tag == "BCH":
            translated.append(Segment("BEG", tuple(seg.el(k) for k in (1, 2, 3, 4, 6))))
        elif seg.tag == "POC":
            code = seg.el(2).strip()
            if code not in CHANGE_TYPES:
                problems.append(ValidationIssue(
                    level="segment", code="7", position=index + 2, segment="POC", element=2, element_code="7",
                    bad_value=code, transaction_control=control,
                    message=_("POC02 “{v}” is not a change type this program understands (AI add, DI delete, QI/QD "
                              "quantity, PC price, CA change, RZ replace).").format(v=code)))
            qty = seg.el(3).strip()
            changes.append((code, bool(qty)))
            translated.append(Segment("PO1", (seg.el(1), qty or "0", *(seg.el(k) for k in range(5, len(seg.elements) + 1)))))
        else:
            translated.append(seg)
    read = read_850(Transaction(set_id="850", control=control, segments=tuple(translated), raw=transaction.raw),
                    version, _as_860=True)
    if isinstance(read, list):
        return [_retell(i) for i in read] + problems
    if problems:
        return problems
    lines = tuple(replace(line, change=code, quantity_given=given) for line, (code, given) in zip(read.lines, changes))
    return replace(read, lines=lines, set_id="860", warnings=tuple(_retell(w) for w in read.warnings))


def _descriptions(found: list[tuple[str, str]]) -> tuple[str, ...]:
    # The product description (PID02 08 or none) first, then colour (73), size (74) and the like.
    return tuple(text for code, text in sorted(found, key=lambda f: f[0] not in ("", "08")))


def _read_po1(seg: Segment, position: int, sequence: int, issue) -> dict[str, Any]:
    line_id = seg.el(1).strip() or str(sequence)
    raw_qty = seg.el(2).strip()
    quantity = 0
    try:
        value = Decimal(raw_qty)
        if not value.is_finite():
            raise InvalidOperation
        if value < 0:  # zero is judged below: a warning, or a deletion in an 860
            issue(position, "PO1", 2, "7", _("Line {id} orders {qty} units; a quantity must be a positive whole "
                                             "number.").format(id=line_id, qty=raw_qty), bad=raw_qty)
        elif value != value.to_integral_value():
            issue(position, "PO1", 2, "7", _("Line {id} orders {qty} units; only whole units can be "
                                             "shipped.").format(id=line_id, qty=raw_qty), bad=raw_qty)
        else:
            quantity = int(value)
    except InvalidOperation:
        if raw_qty:
            issue(position, "PO1", 2, "6", _("Line {id} quantity “{qty}” (PO102) is not a number.").format(
                id=line_id, qty=raw_qty), bad=raw_qty)
        else:
            issue(position, "PO1", 2, "1", _("Line {id} has no quantity (PO102).").format(id=line_id))
    raw_price = seg.el(4).strip()
    price: Decimal | None = None
    if raw_price:
        try:
            price = Decimal(raw_price)
            if not price.is_finite() or price < 0:
                raise InvalidOperation
        except InvalidOperation:
            price = None
            issue(position, "PO1", 4, "6", _("Line {id} price “{price}” (PO104) is not an amount.").format(
                id=line_id, price=raw_price), bad=raw_price)
    product_ids: dict[str, str] = {}
    for i in range(6, len(seg.elements) + 1, 2):
        qualifier, value = seg.el(i).strip(), seg.el(i + 1).strip()
        if qualifier and value:
            product_ids.setdefault(qualifier, value)
        elif value and not qualifier:
            issue(position, "PO1", i, "1", _("Line {id} has a product id “{v}” without its qualifier.").format(
                id=line_id, v=value), warning=True)
    return {"line_id": line_id, "quantity": quantity, "unit": seg.el(3), "unit_price": price,
            "price_basis": seg.el(5), "product_ids": product_ids, "descriptions": [], "dates": {},
            "parties": [], "position": position}


# --- shared helpers for outbound documents -------------------------------------------------


def _ccyymmdd(value: date | datetime) -> str:
    return value.strftime("%Y%m%d")


def _when(value: str | datetime | None) -> datetime:
    if value is None:
        return datetime.now(timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _party_segments(role: str, data: Mapping[str, Any] | Party | None) -> list[Segment]:
    if not data:
        return []
    if isinstance(data, Party):
        p = data
        address = p.address
    else:
        name = data.get("company") or data.get("name") or ""
        p = Party(role, name, data.get("id_qualifier", ""), data.get("id_code", ""),
                  city=data.get("city") or "", region=data.get("region") or "",
                  postal_code=data.get("postal_code") or "", country=data.get("country") or "")
        address = tuple(a for a in (data.get("address1"), data.get("address2")) if a)
        if data.get("company") and data.get("name") and data["company"] != data["name"]:
            p = replace(p, names=(data["name"],))
    out = [Segment("N1", (role, p.name[:60], p.id_qualifier if p.id_code else "", p.id_code))]
    if p.names:
        out.append(Segment("N2", tuple(n[:60] for n in p.names[:2])))
    for i in range(0, len(address), 2):
        out.append(Segment("N3", tuple(a[:55] for a in address[i:i + 2])))
    if p.city or p.region or p.postal_code or p.country:
        out.append(Segment("N4", (p.city[:30], p.region, p.postal_code, p.country)))
    return out


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return text


# --- 855 out ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineAck:
    """What we say about (part of) one PO line: IA accept, IB backorder, IR reject, IQ quantity changed."""

    status: str
    quantity: int
    expected: date | None = None  # when it ships (IB: required)


def build_855(po: PurchaseOrder, line_statuses: Mapping[str, LineAck | Sequence[LineAck]], *,
              ack_type: str | None = None, ack_date: date | None = None, seller_order_number: str = "",
              dtm_068: bool = False) -> list[Segment]:
    """The 855 body (BAK .. CTT) for ``po``: its lines echoed, each with one ACK per status.

    ``line_statuses`` maps PO line id to one LineAck or several (part accepted, part backordered);
    their quantities must add up to the ordered quantity. ``ack_type`` defaults to AD (all
    accepted as ordered), RJ (all rejected) or AC (accepted with changes).
    """
    missing = [l.line_id for l in po.lines if l.line_id not in line_statuses]
    if missing:
        raise ValueError(ngettext("The acknowledgment says nothing about line {ids} of PO {po}.",
                                  "The acknowledgment says nothing about lines {ids} of PO {po}.", len(missing)).format(
            ids=", ".join(missing), po=po.po_number))
    acks: dict[str, tuple[LineAck, ...]] = {}
    for line in po.lines:
        given = line_statuses[line.line_id]
        entries = (given,) if isinstance(given, LineAck) else tuple(given)
        if sum(a.quantity for a in entries) != line.quantity:
            raise ValueError(_("Line {id} of PO {po}: the acknowledged quantities add up to {got}, but {qty} were "
                               "ordered.").format(id=line.line_id, po=po.po_number,
                                                  got=sum(a.quantity for a in entries), qty=line.quantity))
        for a in entries:
            if a.status == "IB" and a.expected is None:
                raise ValueError(_("Line {id} of PO {po} is backordered without an expected date.").format(
                    id=line.line_id, po=po.po_number))
        acks[line.line_id] = entries
    statuses = {a.status for entries in acks.values() for a in entries}
    if ack_type is None:
        ack_type = "AD" if statuses <= {"IA"} else "RJ" if statuses == {"IR"} else "AC"
    ack_date = ack_date or datetime.now(timezone.utc).date()
    out = [Segment("BAK", ("00", ack_type, po.po_number, _ccyymmdd(po.po_date), po.release, "", "",
                           seller_order_number, _ccyymmdd(ack_date)))]
    if po.currency:
        out.append(Segment("CUR", ("SE", po.currency)))
    out.extend(_party_segments("ST", po.ship_to))
    for line in po.lines:
        ids: list[str] = []
        for q, v in line.product_ids.items():
            ids += [q, v]
        price = _decimal_text(line.unit_price) if line.unit_price is not None else ""
        out.append(Segment("PO1", (line.line_id, str(line.quantity), line.unit, price,
                                   line.price_basis if price else "", *ids)))
        for a in acks[line.line_id]:
            if a.expected is not None:
                out.append(Segment("ACK", (a.status, str(a.quantity), line.unit, "068", _ccyymmdd(a.expected))))
                if dtm_068:
                    out.append(Segment("DTM", ("068", _ccyymmdd(a.expected))))
            else:
                out.append(Segment("ACK", (a.status, str(a.quantity), line.unit)))
    out.append(Segment("CTT", (str(len(po.lines)), str(sum(l.quantity for l in po.lines)))))
    return out


def check_855_structure(transaction: Transaction) -> list[str]:
    problems = _count_problems(transaction, "855")
    po1 = 0
    lines_without_ack: list[str] = []
    current: str | None = None
    acked = True
    ctt: Segment | None = None
    for seg in transaction.segments:
        if seg.tag == "PO1":
            if current is not None and not acked:
                lines_without_ack.append(current)
            po1 += 1
            current, acked = seg.el(1) or str(po1), False
        elif seg.tag == "ACK":
            acked = True
            if seg.el(1) not in ("IA", "IB", "IR", "IQ", "IC", "ID", "IP", "IS", "R1", "R2", "AC", "BP", "DR"):
                problems.append(_("ACK status “{s}” is not an X12 line status.").format(s=seg.el(1)))
        elif seg.tag == "CTT":
            ctt = seg
    if current is not None and not acked:
        lines_without_ack.append(current)
    if not any(s.tag == "BAK" for s in transaction.segments):
        problems.append(_("The 855 has no BAK segment."))
    if lines_without_ack:
        problems.append(ngettext("Line {ids} has no ACK segment.", "Lines {ids} have no ACK segment.",
                                 len(lines_without_ack)).format(ids=", ".join(lines_without_ack)))
    if ctt is None or ctt.el(1) != str(po1):
        problems.append(_("CTT01 should be {n}, the number of PO1 lines.").format(n=po1))
    return problems


# --- 856 out ----------------------------------------------------------------------------------


def _weight_kg(grams: int | None) -> str:
    return _decimal_text((Decimal(int(grams or 0)) / 1000).quantize(Decimal("0.001")))


def build_856(asn: Mapping[str, Any], *, purpose: str = "00", po_date: date | None = None,
              bill_of_lading: str = "") -> list[Segment]:
    """The 856 body (BSN .. CTT) for one shipment, from the ``asn_data`` dict of ``oms.shipments``.

    Items may carry ``product_ids`` ({qualifier: id}, e.g. the buyer's UP/BP from the PO) and
    ``unit``; they come first in LIN, followed by VN = our SKU. Raises ValueError when a carton or
    pallet has no valid SSCC, or an item's carton or pallet is unknown: a retailer rejects such
    an ASN, and it is better to know before it is sent.
    """
    shipped = _when(asn.get("shipped_at"))
    cartons = list(asn.get("cartons") or [])
    pallets = list(asn.get("pallets") or [])
    if not cartons:
        raise ValueError(_("Shipment {id} has no cartons to describe.").format(id=asn.get("shipment_id")))
    for kind, units in (("pallet", pallets), ("carton", cartons)):
        for unit in units:
            if not is_valid_sscc(unit.get("sscc")):
                raise ValueError(_("The {kind} {id} of shipment {shipment} has no valid SSCC ({sscc}).").format(
                    kind=kind, id=unit.get("pallet_id", unit.get("package_id")), shipment=asn.get("shipment_id"),
                    sscc=unit.get("sscc") or _("none")))
    pallet_ids = {p["pallet_id"] for p in pallets}
    for c in cartons:
        if c.get("pallet_id") is not None and c["pallet_id"] not in pallet_ids:
            raise ValueError(_("Carton {id} is on pallet {pallet}, which is not in the shipment.").format(
                id=c.get("package_id"), pallet=c["pallet_id"]))

    out: list[Segment] = [Segment("BSN", (purpose, str(asn["shipment_id"]), _ccyymmdd(shipped),
                                          shipped.strftime("%H%M"), "0001"))]
    hl_count = 0
    units_total = 0

    def hl(parent: int | None, level: str) -> int:
        nonlocal hl_count
        hl_count += 1
        out.append(Segment("HL", (str(hl_count), str(parent) if parent else "", level)))
        return hl_count

    shipment_hl = hl(None, "S")
    if pallets:
        out.append(Segment("TD1", ("PLT94", str(len(pallets)), "", "", "", "G",
                                   _weight_kg(sum(p.get("weight_g") or 0 for p in pallets) or asn.get("weight_g")),
                                   "KG")))
    else:
        out.append(Segment("TD1", ("CTN25", str(len(cartons)), "", "", "", "G", _weight_kg(asn.get("weight_g")),
                                   "KG")))
    carrier = (asn.get("carrier") or "").upper()
    if carrier or asn.get("service"):
        out.append(Segment("TD5", ("B", "2" if carrier else "", carrier[:4] if carrier else "", "",
                                   str(asn.get("service") or carrier)[:35])))
    bol = bill_of_lading or asn.get("bill_of_lading") or ""
    if bol:
        out.append(Segment("REF", ("BM", str(bol))))
    if asn.get("tracking_number"):
        out.append(Segment("REF", ("CN", str(asn["tracking_number"]))))
    out.append(Segment("DTM", ("011", _ccyymmdd(shipped), shipped.strftime("%H%M"), "UT")))
    out.extend(_party_segments("ST", asn.get("ship_to")))
    ship_from = dict(asn.get("ship_from") or {})
    if ship_from.get("code") and not ship_from.get("id_code"):
        ship_from.update(id_qualifier="91", id_code=ship_from["code"])  # 91: assigned by seller
    out.extend(_party_segments("SF", ship_from))

    order_hl = hl(shipment_hl, "O")
    out.append(Segment("PRF", (str(asn.get("po_number") or asn.get("order_external_id") or ""), "", "",
                               _ccyymmdd(po_date) if po_date else "")))

    def pack(carton: Mapping[str, Any], parent: int) -> None:
        nonlocal units_total
        pack_hl = hl(parent, "P")
        out.append(Segment("MAN", ("GM", carton["sscc"])))
        for item in carton.get("items") or []:
            hl(pack_hl, "I")
            ids: list[str] = []
            product_ids = dict(item.get("product_ids") or {})
            if item.get("sku") and "VN" not in product_ids:
                product_ids["VN"] = item["sku"]
            for q, v in product_ids.items():
                ids += [q, str(v)]
            out.append(Segment("LIN", (str(item.get("external_line_id") or ""), *ids)))
            quantity = int(item["quantity"])
            units_total += quantity
            out.append(Segment("SN1", ("", str(quantity), item.get("unit") or "EA")))

    for pallet in pallets:
        tare_hl = hl(order_hl, "T")
        out.append(Segment("MAN", ("GM", pallet["sscc"])))
        for carton in cartons:
            if carton.get("pallet_id") == pallet["pallet_id"]:
                pack(carton, tare_hl)
    for carton in cartons:
        if carton.get("pallet_id") is None:
            pack(carton, order_hl)
    out.append(Segment("CTT", (str(hl_count), str(units_total))))
    return out


_LEVEL_RANK = {"S": 0, "O": 1, "T": 2, "P": 3, "I": 4}


def _count_problems(transaction: Transaction, set_id: str) -> list[str]:
    problems: list[str] = []
    if transaction.set_id != set_id:
        problems.append(_("This is transaction set {got}, not {want}.").format(got=transaction.set_id, want=set_id))
    actual = len(transaction.segments) + 2
    if transaction.se_count != actual:
        problems.append(_("SE01 says {declared} segments but the set has {actual}.").format(
            declared=transaction.se_count, actual=actual))
    return problems


def check_856_structure(transaction: Transaction) -> list[str]:
    """Plain-English problems of an 856: counts, the HL tree, CTT and the SSCCs. Empty when sound."""
    problems = _count_problems(transaction, "856")
    levels: dict[str, str] = {}
    hl_count = items = 0
    units = 0
    ctt: Segment | None = None
    current_level = ""
    for seg in transaction.segments:
        if seg.tag == "HL":
            hl_count += 1
            hl_id, parent, level = seg.el(1), seg.el(2), seg.el(3)
            current_level = level
            if hl_id != str(hl_count):
                problems.append(_("HL {id} is out of sequence: expected {n}.").format(id=hl_id, n=hl_count))
            if level not in _LEVEL_RANK:
                problems.append(_("HL {id} has level “{level}”; expected S, O, T, P or I.").format(id=hl_id, level=level))
            elif level == "S":
                if parent:
                    problems.append(_("The shipment HL {id} must not have a parent.").format(id=hl_id))
            elif parent not in levels:
                problems.append(_("HL {id} refers to parent {parent}, which does not come before it.").format(
                    id=hl_id, parent=parent or _("(none)")))
            elif levels[parent] not in _LEVEL_RANK or _LEVEL_RANK[levels[parent]] >= _LEVEL_RANK[level]:
                problems.append(_("HL {id} ({level}) cannot sit under HL {parent} ({plevel}).").format(
                    id=hl_id, level=level, parent=parent, plevel=levels[parent]))
            if hl_count == 1 and level != "S":
                problems.append(_("The first HL must be the shipment level (S)."))
            if level == "I":
                items += 1
            levels[hl_id] = level
        elif seg.tag == "MAN" and seg.el(1) == "GM":
            code = seg.el(2)
            sscc = code[2:] if len(code) == 20 and code.startswith("00") else code
            if not is_valid_sscc(sscc):
                problems.append(_("MAN*GM “{code}” is not a valid SSCC (18 digits with a check digit).").format(
                    code=code))
            if current_level not in ("T", "P"):
                problems.append(_("An SSCC (MAN*GM) belongs to a tare or pack level, not to level {level}.").format(
                    level=current_level or "?"))
        elif seg.tag == "SN1":
            try:
                units += int(Decimal(seg.el(2)))
            except InvalidOperation:
                problems.append(_("SN102 “{v}” is not a quantity.").format(v=seg.el(2)))
        elif seg.tag == "CTT":
            ctt = seg
    if not any(s.tag == "BSN" for s in transaction.segments):
        problems.append(_("The 856 has no BSN segment."))
    if hl_count == 0:
        problems.append(_("The 856 has no HL segments."))
    if ctt is not None:
        if ctt.el(1) not in (str(hl_count), str(items)):
            problems.append(_("CTT01 is {v}; it should be the number of HL segments ({hl}) or of items "
                              "({items}).").format(v=ctt.el(1), hl=hl_count, items=items))
        if ctt.el(2) and ctt.el(2) != str(units):
            problems.append(_("CTT02 is {v}, but the items add up to {units} units.").format(v=ctt.el(2), units=units))
    return problems


# --- 810 out ----------------------------------------------------------------------------------


def _price_text(minor: int, currency: str) -> str:
    return _decimal_text(Decimal(int(minor)).scaleb(-money.exponent(currency)))


def _tds_amount(minor: int, currency: str) -> str:
    cents = Decimal(int(minor)).scaleb(2 - money.exponent(currency))
    if cents != cents.to_integral_value():
        raise ValueError(_("{amount} {currency} cannot be written with two decimals in TDS01.").format(
            amount=minor, currency=currency))
    return str(int(cents))


def build_810(invoice: Mapping[str, Any], *, invoice_number: str | None = None,
              invoice_date: date | None = None, po_date: date | None = None) -> list[Segment]:
    """The 810 body (BIG .. CTT) from the ``invoice.create`` outbox payload.

    Optional payload keys: ``invoice_number`` (default: the shipment id), ``po_number`` (default:
    ``order_external_id``), ``bill_to``/``ship_to``/``remit_to`` address dicts, ``charges``
    [{code, amount_minor}] written as SAC*C, and per line ``product_ids`` and ``unit``. Raises
    ValueError when ``amount_minor`` is not the sum of lines and charges.
    """
    currency = money.check_currency(invoice.get("currency") or "USD")
    lines = list(invoice.get("lines") or [])
    if not lines:
        raise ValueError(_("An invoice needs at least one line."))
    charges = list(invoice.get("charges") or [])
    computed = sum(int(l["quantity"]) * int(l["unit_price_minor"]) for l in lines) + \
        sum(int(c["amount_minor"]) for c in charges)
    total = int(invoice.get("amount_minor", computed))
    if total != computed:
        raise ValueError(_("The invoice total {total} does not equal its lines and charges ({computed}).").format(
            total=total, computed=computed))
    shipped = _when(invoice.get("shipped_at")) if invoice.get("shipped_at") else None
    issued = invoice_date or (shipped.date() if shipped else datetime.now(timezone.utc).date())
    number = invoice_number or str(invoice.get("invoice_number") or invoice.get("shipment_id") or "")
    if not number:
        raise ValueError(_("The invoice has no number."))
    po_number = str(invoice.get("po_number") or invoice.get("order_external_id") or "")
    out = [Segment("BIG", (_ccyymmdd(issued), number, _ccyymmdd(po_date) if po_date else "", po_number))]
    out.append(Segment("CUR", ("SE", currency)))
    if invoice.get("tracking_number"):
        out.append(Segment("REF", ("CN", str(invoice["tracking_number"]))))
    for role, key in (("RI", "remit_to"), ("BT", "bill_to"), ("ST", "ship_to"), ("SF", "ship_from")):
        out.extend(_party_segments(role, invoice.get(key)))
    if shipped:
        out.append(Segment("DTM", ("011", _ccyymmdd(shipped))))
    for line in lines:
        ids: list[str] = []
        product_ids = dict(line.get("product_ids") or {})
        if line.get("sku") and "VN" not in product_ids:
            product_ids["VN"] = line["sku"]
        for q, v in product_ids.items():
            ids += [q, str(v)]
        out.append(Segment("IT1", (str(line.get("external_line_id") or ""), str(int(line["quantity"])),
                                   line.get("unit") or "EA", _price_text(line["unit_price_minor"], currency), "",
                                   *ids)))
    out.append(Segment("TDS", (_tds_amount(total, currency),)))
    for c in charges:
        out.append(Segment("SAC", ("C", str(c.get("code") or "D240"), "", "", _tds_amount(c["amount_minor"], currency))))
    out.append(Segment("CTT", (str(len(lines)),)))
    return out


def check_810_structure(transaction: Transaction) -> list[str]:
    """Counts, CTT, and TDS equal to the IT1 lines plus SAC charges (minus allowances)."""
    problems = _count_problems(transaction, "810")
    lines = 0
    total = Decimal(0)
    tds: Segment | None = None
    ctt: Segment | None = None
    for seg in transaction.segments:
        if seg.tag == "IT1":
            lines += 1
            try:
                total += Decimal(seg.el(2)) * Decimal(seg.el(4) or "0")
            except InvalidOperation:
                problems.append(_("IT1 line {id} has an unreadable quantity or price.").format(id=seg.el(1)))
        elif seg.tag == "SAC" and seg.el(5):
            amount = Decimal(seg.el(5)) / 100
            total += amount if seg.el(1) == "C" else -amount if seg.el(1) == "A" else 0
        elif seg.tag == "TDS":
            tds = seg
        elif seg.tag == "CTT":
            ctt = seg
    if not any(s.tag == "BIG" for s in transaction.segments):
        problems.append(_("The 810 has no BIG segment."))
    if tds is None:
        problems.append(_("The 810 has no TDS total."))
    elif not tds.el(1).isdigit() or Decimal(tds.el(1)) != (total * 100).quantize(Decimal(1)):
        problems.append(_("TDS01 is {tds} but the lines and charges add up to {total}.").format(
            tds=tds.el(1), total=total))
    if ctt is not None and ctt.el(1) != str(lines):
        problems.append(_("CTT01 is {v}; the invoice has {n} IT1 lines.").format(v=ctt.el(1), n=lines))
    return problems
