"""X12 warehouse documents with a 3PL: the 940 (warehouse shipping order) we send, the 945 (warehouse shipping advice)
and 846 (inventory advice) it sends back.

The shapes follow the common 4010 warehouse guides:

* 940: ``W05*N*<our reference>*<order number>``, the ship-to (``N1*ST``, ``N3``, ``N4``), ``W66`` with the service
  level, then per line ``LX*<line ref>`` and ``W01*<qty>*EA**VN*<SKU>``; ``W76`` totals the units.
* 945: ``W06*F*<our reference>*<date>*<their shipment id>``, the carrier in ``W27`` (``W27*M*<SCAC>*<service>``),
  the tracking number in ``N9*2I``; per carton ``LX`` with its SSCC in ``MAN*GM``, and per item in it
  ``W12*<status>*<ordered>*<shipped>*<short>*EA**VN*<SKU>`` followed by ``N9*LI*<line ref>``. A short is a W12 whose
  third quantity is above 0 (status ``CP``/``PR``); a line shipped short with nothing shipped may stand in an LX
  without MAN.
* 846: ``BIA*00*MM*<report id>*<date>*<time>``, then per item ``LIN**VN*<SKU>`` and ``QTY*33*<on hand>``.
* 943: ``W06*N*<transfer reference>*<date>``, where it comes from (``N1*SF``), per item ``W04*<units>*EA**VN*<SKU>``,
  ``W03`` totals the units. 944: ``W17*F*<date>*<warehouse receipt number>*<transfer reference>``, per item
  ``W07*<units received>*EA**VN*<SKU>``.
* 947: ``W15*<date>*<adjustment number>``, then per item ``W19*<reason code>*<signed units>*EA**VN*<SKU>``; the
  reason codes a warehouse uses most are spelled out (``REASONS``), any other is kept as its code.

Readers return the domain's dataclasses, or a list of ValidationIssue (which the 997 reports) when the document
cannot be read.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from oms import threepl
from oms.core.i18n import _

from .x12 import Segment, Transaction, ValidationIssue


def _clean(value: Any, limit: int = 60) -> str:
    return str(value or "").strip()[:limit]


def build_940(order: Mapping[str, Any]) -> list[Segment]:
    """The 940 body (W05 .. W76) for one shipping order, from the outbox payload of ``oms.threepl.queue_new_work``."""
    ship_to = order.get("ship_to") or {}
    out = [Segment("W05", ("N", _clean(order["reference"], 22), _clean(order.get("order_number"), 30)))]
    out.append(Segment("N1", ("ST", _clean(ship_to.get("name") or ship_to.get("company"), 60))))
    street = [_clean(ship_to.get("address1"), 55)] + ([_clean(ship_to.get("address2"), 55)] if ship_to.get("address2") else [])
    out.append(Segment("N3", tuple(street)))
    out.append(Segment("N4", (_clean(ship_to.get("city"), 30), _clean(ship_to.get("region"), 2),
                              _clean(ship_to.get("postal_code"), 15), _clean(ship_to.get("country"), 3))))
    out.append(Segment("W66", ("PP", "M", "", "", "", "", "", "", "", _clean(order.get("service_level"), 35))))
    total = 0
    for line in order["lines"]:
        out.append(Segment("LX", (str(line["line_ref"]),)))
        out.append(Segment("W01", (str(int(line["quantity"])), "EA", "", "VN", _clean(line["sku"], 48))))
        total += int(line["quantity"])
    out.append(Segment("W76", (str(total),)))
    return out


def _issue(tx: Transaction, segment: str, message: str, position: int = 1) -> ValidationIssue:
    return ValidationIssue(level="segment", code="8", position=position, segment=segment, element=None, message=message,
                           transaction_control=tx.control)


def _date(ccyymmdd: str, hhmm: str = "") -> datetime:
    text = ccyymmdd + (hhmm or "0000")[:4].ljust(4, "0")
    return datetime.strptime(text, "%Y%m%d%H%M").replace(tzinfo=timezone.utc)


def _int(value: str) -> int:
    number = float(value)
    if number != int(number) or number < 0:
        raise ValueError(value)
    return int(number)


def read_945(tx: Transaction, version: str = "004010") -> threepl.ShipmentAdvice | list[ValidationIssue]:
    """A 945 as the domain's ShipmentAdvice (what shipped in which carton, the shorts, carrier and tracking)."""
    segs = list(tx.segments)
    w06 = next((s for s in segs if s.tag == "W06"), None)
    if w06 is None or not w06.el(2) or not w06.el(4):
        return [_issue(tx, "W06", _("The 945 has no W06 with our reference and the warehouse's shipment id."))]
    try:
        shipped_at = _date(w06.el(3)) if w06.el(3) else None
    except ValueError:
        return [_issue(tx, "W06", _("The 945's ship date {d!r} is not a date.").format(d=w06.el(3)))]
    w27 = next((s for s in segs if s.tag == "W27"), None)
    tracking = next((s.el(2) for s in segs if s.tag == "N9" and s.el(1) == "2I"), "")
    cartons: list[threepl.Carton] = []
    shorts: list[threepl.Short] = []
    current: dict | None = None
    pending: tuple[int, int, str] | None = None  # (shipped, short, status) of the W12 waiting for its N9*LI

    def close_carton():
        if current is not None and current["items"]:
            cartons.append(threepl.Carton(current["sscc"], 0, tuple(current["items"])))

    for k, seg in enumerate(segs, start=1):
        if seg.tag == "LX":
            close_carton()
            current = {"sscc": None, "items": []}
        elif seg.tag == "MAN" and seg.el(1) == "GM" and current is not None:
            current["sscc"] = seg.el(2) or None
        elif seg.tag == "W12":
            try:
                pending = (_int(seg.el(3) or "0"), _int(seg.el(4) or "0"), seg.el(1))
            except ValueError:
                return [_issue(tx, "W12", _("A W12 of the 945 has a quantity that is not a whole number."), k)]
        elif seg.tag == "N9" and seg.el(1) == "LI" and pending is not None:
            shipped, short, _status = pending
            ref = seg.el(2)
            if shipped:
                if current is None:
                    return [_issue(tx, "W12", _("The 945 ships line {ref} outside any carton (LX).").format(ref=ref), k)]
                current["items"].append((ref, shipped))
            if short:
                shorts.append(threepl.Short(ref, short, _("short-shipped ({status})").format(status=_status or "?")))
            pending = None
    close_carton()
    if pending is not None:
        return [_issue(tx, "W12", _("The last W12 of the 945 has no N9*LI saying which line it is."))]
    return threepl.ShipmentAdvice(remote_id=w06.el(4), reference=w06.el(2), shipped_at=shipped_at,
                                  carrier=w27.el(2) if w27 else "", service=w27.el(3) if w27 else "",
                                  tracking_number=tracking, cartons=tuple(cartons), shorts=tuple(shorts))


def read_846(tx: Transaction, version: str = "004010") -> tuple[datetime, list[tuple[str, int]]] | list[ValidationIssue]:
    """An 846 as (as of, [(SKU, on hand)])."""
    segs = list(tx.segments)
    bia = next((s for s in segs if s.tag == "BIA"), None)
    if bia is None or not bia.el(4):
        return [_issue(tx, "BIA", _("The 846 has no BIA with the report's date."))]
    try:
        as_of = _date(bia.el(4), bia.el(5))
    except ValueError:
        return [_issue(tx, "BIA", _("The 846's date {d!r} is not a date.").format(d=bia.el(4)))]
    items: list[tuple[str, int]] = []
    sku = None
    for k, seg in enumerate(segs, start=1):
        if seg.tag == "LIN":
            pairs = dict(zip(seg.elements[1::2], seg.elements[2::2]))
            sku = pairs.get("VN") or pairs.get("SK")
            if not sku:
                return [_issue(tx, "LIN", _("An LIN of the 846 gives no SKU (VN)."), k)]
        elif seg.tag == "QTY" and seg.el(1) in ("33", "17") and sku:
            try:
                items.append((sku, _int(seg.el(2))))
            except ValueError:
                return [_issue(tx, "QTY", _("The 846 gives {sku} a quantity that is not a whole number.").format(sku=sku), k)]
            sku = None
    return as_of, items


# Adjustment reason codes (W1901) as warehouse guides use them; any other is shown as its code.
REASONS = {"AA": "physical count", "AB": "damaged", "AC": "found", "AD": "lost", "AE": "expired", "AF": "quality hold",
           "AG": "returned to stock", "AH": "recall"}


def read_947(tx: Transaction, version: str = "004010") -> tuple[str, list[tuple[str, int, str]]] | list[ValidationIssue]:
    """A 947 as (adjustment number, [(SKU, signed units, reason in words)])."""
    segs = list(tx.segments)
    w15 = next((s for s in segs if s.tag == "W15"), None)
    if w15 is None or not w15.el(2):
        return [_issue(tx, "W15", _("The 947 has no W15 with the warehouse's adjustment number."))]
    items = []
    for k, seg in enumerate(segs, start=1):
        if seg.tag != "W19":
            continue
        sku = seg.el(6) if seg.el(5) in ("VN", "SK") else ""
        if not sku:
            return [_issue(tx, "W19", _("A W19 of the 947 gives no SKU (VN)."), k)]
        try:
            number = float(seg.el(2))
            if number != int(number):
                raise ValueError
        except ValueError:
            return [_issue(tx, "W19", _("The 947 adjusts {sku} by {q!r}, not a whole number.").format(sku=sku, q=seg.el(2)), k)]
        code = seg.el(1)
        items.append((sku, int(number), REASONS.get(code, code)))
    if not items:
        return [_issue(tx, "W15", _("The 947 adjusts nothing."))]
    return w15.el(2), items


def build_943(transfer: Mapping[str, Any]) -> list[Segment]:
    """The 943 body for stock we send to the 3PL, from the outbox payload of ``oms.threepl.send_transfer``."""
    src = transfer.get("ship_from") or {}
    out = [Segment("W06", ("N", _clean(transfer["reference"], 22), datetime.now(timezone.utc).strftime("%Y%m%d"))),
           Segment("N1", ("SF", _clean(src.get("name") or src.get("code"), 60), "92", _clean(src.get("code"), 20))),
           Segment("N4", (_clean(src.get("city"), 30), _clean(src.get("region"), 2), _clean(src.get("postal_code"), 15)))]
    total = 0
    for line in transfer["lines"]:
        out.append(Segment("W04", (str(int(line["quantity"])), "EA", "", "VN", _clean(line["sku"], 48))))
        total += int(line["quantity"])
    out.append(Segment("W03", (str(total),)))
    return out


def read_944(tx: Transaction, version: str = "004010") -> tuple[str, list[tuple[str, int]]] | list[ValidationIssue]:
    """A 944 as (our transfer reference, [(SKU, units received)])."""
    segs = list(tx.segments)
    w17 = next((s for s in segs if s.tag == "W17"), None)
    if w17 is None or not w17.el(4):
        return [_issue(tx, "W17", _("The 944 has no W17 with our transfer reference."))]
    items = []
    for k, seg in enumerate(segs, start=1):
        if seg.tag != "W07":
            continue
        sku = seg.el(5) if seg.el(4) in ("VN", "SK") else ""
        if not sku:
            return [_issue(tx, "W07", _("A W07 of the 944 gives no SKU (VN)."), k)]
        try:
            items.append((sku, _int(seg.el(1))))
        except ValueError:
            return [_issue(tx, "W07", _("The 944 receives {q!r} of {sku}, not a whole number.").format(q=seg.el(1), sku=sku), k)]
    return w17.el(4), items
