"""Invoices and credit notes as plain data, for the command line, the documents and the screens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.core.errors import NotFound
from oms.core.i18n import _
from oms.invoicing.models import CreditNote, Invoice
from oms.invoicing.service import find_invoice
from oms.orders.models import Channel, SalesOrder


@dataclass(frozen=True)
class DocumentLine:
    position: int
    kind: str
    sku: str
    description: str
    quantity: int
    unit_price_minor: int
    amount_minor: int


@dataclass(frozen=True)
class InvoiceView:
    """An invoice or a credit note, whole: what its PDF shows and what `invoice show` prints."""

    kind: str  # invoice, credit_note
    number: str
    issued_at: datetime
    order_number: str
    channel: str
    currency: str
    customer_name: str
    customer_email: str
    bill_to: tuple[str, ...]
    goods_minor: int
    shipping_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    lines: tuple[DocumentLine, ...]
    shipment_id: int | None = None
    invoice_number: str = ""  # a credit note's invoice
    reason: str = ""

    def as_dict(self) -> dict:
        return {"kind": self.kind, "number": self.number, "issued_at": self.issued_at.isoformat(),
                "order_number": self.order_number, "channel": self.channel, "currency": self.currency,
                "customer_name": self.customer_name, "customer_email": self.customer_email,
                "goods_minor": self.goods_minor, "shipping_minor": self.shipping_minor,
                "discount_minor": self.discount_minor, "tax_minor": self.tax_minor, "total_minor": self.total_minor,
                "shipment_id": self.shipment_id, "invoice_number": self.invoice_number, "reason": self.reason,
                "lines": [l.__dict__ for l in self.lines]}


def _order_facts(session: Session, order_id: int) -> tuple[SalesOrder, str, tuple[str, ...]]:
    order = session.get(SalesOrder, order_id)
    channel = session.scalar(select(Channel.name).where(Channel.id == order.channel_id)) or ""
    region = " ".join(x for x in (order.ship_region, order.ship_postal_code) if x)
    bill_to = tuple(x for x in (order.customer_name or order.ship_name, order.ship_company, order.ship_address1,
                                order.ship_address2, ", ".join(x for x in (order.ship_city, region) if x),
                                order.ship_country) if x)
    return order, channel, bill_to


def _lines(rows) -> tuple[DocumentLine, ...]:
    return tuple(DocumentLine(l.position, l.kind, l.sku, l.description, l.quantity, l.unit_price_minor, l.amount_minor)
                 for l in rows)


def invoice_view(session: Session, number: str) -> InvoiceView:
    inv = find_invoice(session, number)
    order, channel, bill_to = _order_facts(session, inv.order_id)
    return InvoiceView("invoice", inv.number, inv.issued_at, order.number, channel, inv.currency, inv.customer_name,
                       inv.customer_email, bill_to, inv.goods_minor, inv.shipping_minor, inv.discount_minor, inv.tax_minor,
                       inv.total_minor, _lines(inv.lines), shipment_id=inv.shipment_id)


def credit_note_view(session: Session, number: str) -> InvoiceView:
    note = session.scalar(select(CreditNote).where(CreditNote.number == (number or "").strip().upper()))
    if note is None:
        raise NotFound(_("There is no credit note {number}.").format(number=number))
    inv = session.get(Invoice, note.invoice_id)
    order, channel, bill_to = _order_facts(session, inv.order_id)
    return InvoiceView("credit_note", note.number, note.issued_at, order.number, channel, note.currency, inv.customer_name,
                       inv.customer_email, bill_to, note.goods_minor, note.shipping_minor, note.discount_minor,
                       note.tax_minor, note.total_minor, _lines(note.lines), shipment_id=inv.shipment_id,
                       invoice_number=inv.number, reason=note.reason)


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    issued_at: datetime
    order_number: str
    shipment_id: int
    currency: str
    total_minor: int


def invoices(session: Session, *, order_id: int | None = None, limit: int = 200) -> list[InvoiceRow]:
    """The newest invoices first (or an order's)."""
    q = (select(Invoice.number, Invoice.issued_at, SalesOrder.number, Invoice.shipment_id, Invoice.currency, Invoice.total_minor)
         .join(SalesOrder, SalesOrder.id == Invoice.order_id).order_by(Invoice.id.desc()).limit(limit))
    if order_id is not None:
        q = q.where(Invoice.order_id == order_id)
    return [InvoiceRow(*r) for r in session.execute(q)]


def credit_notes(session: Session, invoice_number: str | None = None) -> list[tuple[str, str, int, str]]:
    """(credit note, invoice, total, currency), newest first."""
    q = (select(CreditNote.number, Invoice.number, CreditNote.total_minor, CreditNote.currency)
         .join(Invoice, Invoice.id == CreditNote.invoice_id).order_by(CreditNote.id.desc()))
    if invoice_number:
        q = q.where(Invoice.number == invoice_number.strip().upper())
    return [tuple(r) for r in session.execute(q)]
