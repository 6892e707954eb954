"""Advance ship notices: a supplier says what is on its way against a PO, carton by carton, each carton known by the
SSCC on its label (from their 856, or typed in). At the dock one scan of a carton's label receives everything the
ASN says is in it, on the PO's open receipt, under the same tolerance as items scanned one by one: all of the
carton or none of it, and never twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms import inventory
from oms.catalog.models import Product
from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.gs1 import is_valid_sscc
from oms.core.i18n import _
from oms.core.types import utcnow
from oms.purchasing.models import (
    AsnCarton,
    AsnCartonLine,
    ExpectedReceipt,
    PoStatus,
    PurchaseOrder,
    PurchaseOrderLine,
)
from oms.purchasing.orders import po_id
from oms.purchasing.receiving import ScanResult, scan_item, start_receipt

ASN_STATES = (PoStatus.SENT.value, PoStatus.CONFIRMED.value, PoStatus.PARTLY_RECEIVED.value)


@dataclass(frozen=True)
class CartonInput:
    sscc: str
    lines: tuple[tuple[str, int], ...]  # (SKU or barcode, quantity)


def record_asn(session: Session, actor: Actor, po: int | str, asn_number: str, cartons: list[CartonInput], *,
               shipped_on: date | None = None, expected_on: date | None = None, source: str = "856") -> tuple[int, bool]:
    """Record an ASN against a PO. Returns (its id, whether it is new): the same ASN number from the same supplier
    again changes nothing (a re-sent 856). Every carton's SSCC must be valid and not on another ASN, and every
    item on the PO."""
    pid = po_id(session, po)
    order = session.get(PurchaseOrder, pid)
    number = validate.text(asn_number, "ASN number", 64, required=True)
    existing = session.scalar(select(ExpectedReceipt.id).where(ExpectedReceipt.supplier_id == order.supplier_id,
                                                               ExpectedReceipt.asn_number == number))
    if existing is not None:
        return existing, False
    if order.status not in ASN_STATES:
        raise Conflict(_("{po} is {status}: no delivery can be expected against it.").format(po=order.number,
                                                                                            status=order.status))
    if not cartons:
        raise InvalidInput(_("ASN {asn} lists no cartons.").format(asn=number))
    on_po = {p for p, in session.execute(select(PurchaseOrderLine.product_id).where(PurchaseOrderLine.po_id == pid))}
    seen: set[str] = set()
    rows: list[tuple[str, dict[int, int]]] = []
    for carton in cartons:
        code = carton.sscc.strip()
        if code.startswith("00") and len(code) == 20:
            code = code[2:]
        if not is_valid_sscc(code):
            raise InvalidInput(_("“{code}” is no SSCC: an SSCC is 18 digits with a valid check digit.").format(
                code=carton.sscc))
        if code in seen or session.scalar(select(AsnCarton.id).where(AsnCarton.sscc == code)) is not None:
            raise Conflict(_("Carton {sscc} is already on an ASN.").format(sscc=code))
        seen.add(code)
        content: dict[int, int] = {}
        for item, qty in carton.lines:
            validate.quantity(qty)
            product = inventory.product_id(session, item)
            if product not in on_po:
                raise InvalidInput(_("{item} in carton {sscc} is not on {po}.").format(item=item, sscc=code,
                                                                                     po=order.number))
            content[product] = content.get(product, 0) + qty
        if not content:
            raise InvalidInput(_("Carton {sscc} holds nothing.").format(sscc=code))
        rows.append((code, content))
    expected = ExpectedReceipt(po_id=pid, asn_number=number, supplier_id=order.supplier_id, shipped_on=shipped_on,
                               expected_on=expected_on, source=source[:16], created_at=utcnow())
    session.add(expected)
    session.flush()
    for code, content in rows:
        carton = AsnCarton(expected_id=expected.id, sscc=code)
        session.add(carton)
        session.flush()
        session.add_all([AsnCartonLine(carton_id=carton.id, product_id=p, quantity=q) for p, q in content.items()])
    session.flush()
    audit.record(session, actor, "po.asn", "purchase_order", pid,
                 summary=_("ASN {asn} for {po}: {n} cartons").format(asn=number, po=order.number, n=len(rows)),
                 after={"asn": number, "cartons": [c for c, _x in rows], "source": source})
    return expected.id, True


@dataclass(frozen=True)
class CartonReceived:
    po_number: str
    receipt_id: int
    sscc: str
    results: tuple[ScanResult, ...]
    message: str


def carton_po(session: Session, sscc: str) -> str | None:
    """The PO a carton label belongs to, or None when no ASN lists it."""
    return session.scalar(select(PurchaseOrder.number).join(ExpectedReceipt, ExpectedReceipt.po_id == PurchaseOrder.id)
                          .join(AsnCarton, AsnCarton.expected_id == ExpectedReceipt.id).where(AsnCarton.sscc == sscc))


def receive_carton(session: Session, actor: Actor, sscc: str, *, tolerance_percent: int | None = None) -> CartonReceived:
    """One scan of a supplier's carton label: everything its ASN lists goes on the PO's open receipt (started if need
    be), each line as if scanned with its quantity. All or nothing; a carton is received once."""
    code = sscc.strip()
    carton = session.scalars(select(AsnCarton).where(AsnCarton.sscc == code).with_for_update()).first()
    if carton is None:
        raise NotFound(_("Carton {sscc} is on no ASN we have: open its PO and scan the items.").format(sscc=code))
    if carton.received_at is not None:
        raise Conflict(_("Carton {sscc} was received already.").format(sscc=code))
    expected = session.get(ExpectedReceipt, carton.expected_id)
    start = start_receipt(session, actor, expected.po_id)
    results = []
    for pid, qty in session.execute(select(AsnCartonLine.product_id, AsnCartonLine.quantity)
                                    .where(AsnCartonLine.carton_id == carton.id).order_by(AsnCartonLine.product_id)):
        sku = session.scalar(select(Product.sku).where(Product.id == pid))
        results.append(scan_item(session, actor, start.receipt_id, sku, qty, tolerance_percent=tolerance_percent))
    carton.received_at, carton.receipt_id = utcnow(), start.receipt_id
    session.flush()
    audit.record(session, actor, "po.carton_received", "purchase_order", expected.po_id,
                 summary=_("Carton {sscc} of ASN {asn} received on {po}").format(sscc=code, asn=expected.asn_number,
                                                                                po=start.po_number),
                 after={"sscc": code, "receipt": start.receipt_id})
    units = sum(r.quantity for r in results)
    message = _("Carton {sscc}: {units} units of {n} items received on {po}").format(
        sscc=code, units=units, n=len(results), po=start.po_number)
    return CartonReceived(start.po_number, start.receipt_id, code, tuple(results), message)


@dataclass(frozen=True)
class CartonView:
    sscc: str
    received: bool
    lines: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class AsnView:
    asn_number: str
    po_number: str
    shipped_on: date | None
    expected_on: date | None
    cartons: tuple[CartonView, ...]


def expected_receipts(session: Session, po: int | str) -> list[AsnView]:
    """The ASNs of a PO with their cartons and what is in each."""
    pid = po_id(session, po)
    number = session.scalar(select(PurchaseOrder.number).where(PurchaseOrder.id == pid))
    out = []
    for e in session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == pid).order_by(ExpectedReceipt.id)):
        cartons = []
        for c in session.scalars(select(AsnCarton).where(AsnCarton.expected_id == e.id).order_by(AsnCarton.id)):
            lines = tuple((sku, q) for sku, q in session.execute(
                select(Product.sku, AsnCartonLine.quantity).join(Product, Product.id == AsnCartonLine.product_id)
                .where(AsnCartonLine.carton_id == c.id).order_by(Product.sku)))
            cartons.append(CartonView(c.sscc, c.received_at is not None, lines))
        out.append(AsnView(e.asn_number, number, e.shipped_on, e.expected_on, tuple(cartons)))
    return out
