"""EDI with suppliers: our purchase order out as an 850, their 855 (confirmed quantities and dates) and 856 (the
ship notice, carton by carton with each carton's SSCC) in.

Decisions worth knowing:
- A supplier trades EDI through an ordinary trading partner (identifiers, transport, control numbers, document
  log); the supplier row names the partner. The 850 is built when its outbox row is delivered, like our 856s, and
  stored whole, so a resend is the same document.
- Items go out as BP (our SKU, the buyer's part number) and, where the product has one, UP/EN (its GTIN). Items
  coming back are matched on BP, then UP/EN, then VN, each as a SKU or barcode we know.
- An 855 or 856 that names a PO we did not send to that partner, or an item not on the PO, is refused in words,
  quarantined, and answered in the 997; the rest of the file goes on.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms import purchasing
from oms.catalog.models import Barcode, Product
from oms.core import money
from oms.core.audit import Actor
from oms.core.i18n import _
from oms.partners import edi

from .x12 import Segment, Transaction, parse_date

SUPPLIER_SETS = ("855", "856")  # what a supplier sends us


def _ymd(d: date) -> str:
    return d.strftime("%Y%m%d")


def _gtin(session: Session, sku: str) -> tuple[str, str] | None:
    codes = session.scalars(select(Barcode.code).join(Product, Product.id == Barcode.product_id)
                            .where(Product.sku == sku).order_by(Barcode.id)).all()
    for code in codes:
        if code.isdigit() and len(code) in (12, 13):
            return ("UP" if len(code) == 12 else "EN"), code
    return None


def build_850(session: Session, po: purchasing.PoDetail) -> list[Segment]:
    """The 850 body (BEG .. CTT) of one of our purchase orders."""
    exp = money.exponent(po.currency)
    ordered = (po.sent_at or po.created_at).date()
    out = [Segment("BEG", ("00", "SA", po.number, "", _ymd(ordered))),
           Segment("CUR", ("BY", po.currency))]
    if po.lines:
        out.append(Segment("DTM", ("002", _ymd(min(l.expected_date for l in po.lines)))))
    out.append(Segment("N1", ("ST", po.location_name[:60], "92", po.location_code)))
    if po.location_address:
        out.append(Segment("N3", (po.location_address[0][:55],)))
    for l in po.lines:
        ids = ["BP", l.sku]
        g = _gtin(session, l.sku)
        if g:
            ids += list(g)
        price = f"{l.unit_cost_minor / 10 ** exp:.{exp}f}" if exp else str(l.unit_cost_minor)
        out.append(Segment("PO1", (str(l.line_no), str(l.quantity), "EA", price, "PE", *ids)))
        if l.description:
            out.append(Segment("PID", ("F", "", "", "", l.description[:80])))
        out.append(Segment("DTM", ("002", _ymd(l.expected_date))))
    out.append(Segment("CTT", (str(len(po.lines)), str(sum(l.quantity for l in po.lines)))))
    return out


def _item(seg: Segment, start: int) -> str | None:
    """The item a PO1 or LIN names, by our preference of qualifier (see the module's docstring)."""
    pairs = {}
    i = start
    while i + 1 <= len(seg.elements):
        q, v = seg.el(i), seg.el(i + 1)
        if q and v:
            pairs.setdefault(q, v)
        i += 2
    for q in ("BP", "UP", "EN", "UK", "VN", "VP", "SK"):
        if pairs.get(q):
            return pairs[q]
    return None


def read_855(tx: Transaction) -> tuple[str, list[purchasing.LineConfirmation]]:
    """A supplier's 855: (our PO number, the lines as they confirm them)."""
    po_number, lines = "", []
    current: tuple[int | None, str | None] | None = None
    for seg in tx.segments:
        if seg.tag == "BAK":
            po_number = seg.el(3)
        elif seg.tag == "PO1":
            line_no = int(seg.el(1)) if seg.el(1).isdigit() else None
            current = (line_no, _item(seg, 6))
        elif seg.tag == "ACK" and current is not None:
            qty = int(seg.el(2)) if seg.el(2).isdigit() else 0
            when = parse_date(seg.el(5)) if seg.el(4) in ("068", "067", "017") else None
            lines.append(purchasing.LineConfirmation(current[0], current[1], qty, when, seg.el(1) or "IA"))
        elif seg.tag == "DTM" and seg.el(1) == "068" and lines and lines[-1].ship_date is None:
            last = lines[-1]
            lines[-1] = purchasing.LineConfirmation(last.line_no, last.item, last.quantity, parse_date(seg.el(2)),
                                                    last.status)
    if not po_number:
        raise ValueError(_("The 855 names no purchase order (BAK03)."))
    # Several ACKs for one line (part now, part later): one confirmation with their sum and the latest date.
    merged: OrderedDict = OrderedDict()
    for c in lines:
        key = (c.line_no, c.item)
        if key in merged:
            m = merged[key]
            qty = m.quantity + (0 if c.status == "IR" else c.quantity)
            dates = [d for d in (m.ship_date, c.ship_date) if d]
            merged[key] = purchasing.LineConfirmation(c.line_no, c.item, qty, max(dates) if dates else None, "IC")
        else:
            merged[key] = c if c.status != "IR" else purchasing.LineConfirmation(c.line_no, c.item, 0, c.ship_date, "IR")
    return po_number, list(merged.values())


def read_856(tx: Transaction) -> tuple[str, date | None, date | None, dict[str, list[purchasing.CartonInput]]]:
    """A supplier's 856: (their shipment id, shipped on, expected on, {our PO number: cartons})."""
    asn_number, shipped, expected = "", None, None
    by_po: dict[str, list[purchasing.CartonInput]] = OrderedDict()
    po = ""
    carton: tuple[str, list[tuple[str, int]]] | None = None
    item: str | None = None

    def close_carton() -> None:
        nonlocal carton
        if carton is not None:
            by_po.setdefault(po, []).append(purchasing.CartonInput(carton[0], tuple(carton[1])))
            carton = None

    for seg in tx.segments:
        if seg.tag == "BSN":
            asn_number = seg.el(2)
        elif seg.tag == "DTM" and seg.el(1) == "011":
            shipped = parse_date(seg.el(2))
        elif seg.tag == "DTM" and seg.el(1) in ("017", "067"):
            expected = parse_date(seg.el(2))
        elif seg.tag == "HL" and seg.el(3) in ("O", "P", "T"):
            close_carton()
        elif seg.tag == "PRF":
            po = seg.el(1)
        elif seg.tag == "MAN" and seg.el(1) == "GM":
            close_carton()
            carton = (seg.el(2), [])
        elif seg.tag == "LIN":
            item = _item(seg, 2)
        elif seg.tag == "SN1" and carton is not None and item:
            qty = int(seg.el(2)) if seg.el(2).isdigit() else 0
            carton[1].append((item, qty))
            item = None
    close_carton()
    if not asn_number:
        raise ValueError(_("The 856 has no shipment id (BSN02)."))
    if not by_po or "" in by_po:
        raise ValueError(_("The 856 names no purchase order (PRF01) for its cartons."))
    return asn_number, shipped, expected, by_po


def apply_supplier_document(session: Session, partner: edi.PartnerInfo, tx: Transaction, actor: Actor) -> str:
    """An 855 or 856 from a supplier applied to our PO; returns what it did, in words. Raises OmsError (refused,
    in words) or ValueError (unreadable)."""
    if tx.set_id == "855":
        number, lines = read_855(tx)
        return purchasing.apply_po_ack(session, actor, partner.code, number, lines)
    asn_number, shipped, expected, by_po = read_856(tx)
    said = []
    for number, cartons in by_po.items():
        po = purchasing.supplier_po(session, partner.code, number)
        _id, new = purchasing.record_asn(session, actor, po.number, asn_number, cartons, shipped_on=shipped,
                                         expected_on=expected)
        said.append(_("ASN {asn} for {po}: {n} cartons expected").format(asn=asn_number, po=po.number, n=len(cartons))
                    if new else _("ASN {asn} for {po} was known already").format(asn=asn_number, po=po.number))
    return "; ".join(said)

