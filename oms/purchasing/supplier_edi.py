"""Suppliers that trade EDI: the trading partner a supplier's POs go to as 850s (queued through the outbox when the
PO is sent; sync writes and delivers the document), and what their 855 (confirmed quantities and dates) and 856
(a ship notice, recorded by ``asn.record_asn``) tell us about a PO. The X12 itself is read and written in
``sync.channels.edi_x12``; here is what the documents mean for the PO."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms import inventory
from oms.core import audit
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _
from oms.partners import edi
from oms.purchasing.models import PoStatus, PurchaseOrder, PurchaseOrderLine, Supplier
from oms.purchasing.orders import TRANSITIONS, move, supplier_id

def set_supplier_edi(session: Session, actor: Actor, supplier: int | str, partner_code: str | None) -> None:
    """The supplier trades EDI through this trading partner from now on (None: by e-mail and PDF again)."""
    sid = supplier_id(session, supplier)
    code = (partner_code or "").strip() or None
    if code is not None:
        edi.partner(session, code)  # refuses a partner we do not have, in words
    row = session.get(Supplier, sid)
    before = row.edi_partner
    row.edi_partner = code
    session.flush()
    audit.record(session, actor, "supplier.edi", "supplier", sid,
                 summary=_("{supplier} trades EDI through {partner}").format(supplier=row.code, partner=code) if code
                 else _("{supplier} no longer trades EDI").format(supplier=row.code),
                 before={"edi_partner": before}, after={"edi_partner": code})


def supplier_po(session: Session, partner_code: str, po_number: str) -> PurchaseOrder:
    """A PO a supplier's document names, refused unless that PO was sent to that very supplier."""
    po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == po_number.strip().upper())).first()
    if po is None:
        raise NotFound(_("{partner} names PO {po}, which we do not have.").format(partner=partner_code, po=po_number))
    code = session.scalar(select(Supplier.edi_partner).where(Supplier.id == po.supplier_id))
    if code != partner_code:
        raise InvalidInput(_("{po} was not sent to {partner}.").format(po=po.number, partner=partner_code))
    return po


@dataclass(frozen=True)
class LineConfirmation:
    """One line of an 855: our PO line number (PO101) or the item, and what the supplier confirms."""

    line_no: int | None
    item: str | None
    quantity: int
    ship_date: date | None
    status: str = "IA"  # IA accepted, IQ quantity changed, IR rejected, DR date rescheduled ...


def apply_po_ack(session: Session, actor: Actor, partner_code: str, po_number: str,
                 lines: list[LineConfirmation]) -> str:
    """The supplier's 855: each line's confirmed quantity and date (0 for a rejected line); the PO becomes
    confirmed. Returns what changed, in words."""
    po = supplier_po(session, partner_code, po_number)
    rows = list(session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.po_id == po.id)))
    by_no = {r.line_no: r for r in rows}
    by_product = {r.product_id: r for r in rows}
    changed = []
    for c in lines:
        row = by_no.get(c.line_no) if c.line_no is not None else None
        if row is None and c.item:
            try:
                row = by_product.get(inventory.product_id(session, c.item))
            except NotFound:
                row = None
        if row is None:
            raise InvalidInput(_("{partner}'s 855 confirms a line {line} that {po} does not have.").format(
                partner=partner_code, line=c.line_no or c.item, po=po.number))
        qty = 0 if c.status == "IR" else c.quantity
        if qty < 0:
            raise InvalidInput(_("A confirmed quantity cannot be negative ({qty}).").format(qty=qty))
        row.confirmed_quantity, row.confirmed_date = qty, c.ship_date
        if c.ship_date is not None:
            row.expected_date = c.ship_date  # backorders and the buyer see the supplier's date from now on
        changed.append({"line": row.line_no, "sku": row.sku, "ordered": row.quantity, "confirmed": qty,
                        "date": c.ship_date.isoformat() if c.ship_date else None})
    session.flush()
    if PoStatus.CONFIRMED in TRANSITIONS[PoStatus(po.status)]:
        move(session, actor, po, PoStatus.CONFIRMED, _("855 from {partner}").format(partner=partner_code))
    elif po.status not in (PoStatus.CONFIRMED.value, PoStatus.PARTLY_RECEIVED.value):
        raise Conflict(_("{po} is {status}: an 855 cannot confirm it now.").format(po=po.number, status=po.status))
    audit.record(session, actor, "po.acknowledged", "purchase_order", po.id,
                 summary=_("{partner} confirmed {po}: {n} lines").format(partner=partner_code, po=po.number,
                                                                          n=len(changed)),
                 after={"lines": changed})
    short = [c for c in changed if c["confirmed"] < c["ordered"]]
    return (_("{po} confirmed by {partner}").format(po=po.number, partner=partner_code)
            + (_("; short on {skus}").format(skus=", ".join(c["sku"] for c in short)) if short else ""))
