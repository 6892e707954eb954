"""Issuing invoices and credit notes, and their number series.

One invoice per confirmed shipment (``invoice_shipment``, called by ship confirm in the same transaction):
a goods line for each order line that shipped, at the channel's unit price, and the order's shipping, discount
and tax as the channel sent them. The shipping charge goes on the order's first invoice; the discount and tax
are shared by value, cumulatively (each invoice takes the order's amount times the share of goods invoiced so
far, less what earlier invoices took), so the invoices of an order shipped in parts add up to the channel's
amounts exactly, to the cent.

A credit note gives back some of an invoice: some units of its goods lines, and its shipping if asked; its
discount and tax follow the same cumulative sharing, so crediting everything gives back the invoice's total.

Both numbers are taken from ``number_series`` by a conditional update in the issuing transaction: a number
is used only by a kept document (a rollback gives it back), and two stations wait for each other's commit
instead of taking the same number. So the series has no gaps and no repeats.

Each document is published (``outbox.publish``) to the connections that subscribe to it: an ERP hand-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from oms.core import audit, money, outbox, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.types import LINE, utcnow
from oms.core.upsert import insert_ignore
from oms.invoicing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, LineKind, NumberSeries
from oms.orders.models import Channel, SalesOrder

INVOICE_SERIES = "invoice"
CREDIT_NOTE_SERIES = "credit_note"
SERIES_PREFIX = {INVOICE_SERIES: "INV-", CREDIT_NOTE_SERIES: "CN-"}
NUMBER_DIGITS = 6

# What the domain publishes for the ERP hand-off (outbox.publish): a connection subscribes to these topics.
INVOICE_TOPIC = "invoice.issued"
CREDIT_NOTE_TOPIC = "credit_note.issued"


def next_number(session: Session, series: str) -> str:
    """Take the next number of ``series`` in the caller's transaction ("INV-000001")."""
    if series not in SERIES_PREFIX:
        raise NotFound(_("There is no number series {series}.").format(series=series))
    take = (update(NumberSeries).where(NumberSeries.name == series).values(next_value=NumberSeries.next_value + 1)
            .returning(NumberSeries.prefix, NumberSeries.next_value))
    row = session.execute(take).one_or_none()
    if row is None:  # the migration starts each series; an emptied table starts it again at 1
        insert_ignore(session, NumberSeries.__table__, {"name": series, "prefix": SERIES_PREFIX[series], "next_value": 1},
                      ["name"])
        row = session.execute(take).one()
    prefix, after = row
    return f"{prefix}{after - 1:0{NUMBER_DIGITS}d}"


def _share(total: int, part: int, whole: int) -> int:
    """``total`` times ``part``/``whole``, rounded half up, in integer arithmetic (money is never a float)."""
    if whole <= 0:
        return total
    part = min(part, whole)
    return (2 * total * part + whole) // (2 * whole)


@dataclass(frozen=True)
class ShippedLine:
    """What ship confirm hands over: an order line and how many of its units left in the shipment."""

    order_line_id: int
    quantity: int


def invoice_shipment(session: Session, actor: Actor, order: SalesOrder, shipment_id: int, shipped: list[ShippedLine],
                     *, issued_at: datetime | None = None) -> str:
    """Issue the invoice of a confirmed shipment in the caller's transaction; returns its number.

    A shipment already invoiced is refused (Conflict): one shipment, one invoice.
    """
    if session.scalar(select(Invoice.number).where(Invoice.shipment_id == shipment_id)):
        raise Conflict(_("Shipment {id} already has an invoice.").format(id=shipment_id))
    if not shipped:
        raise InvalidInput(_("Shipment {id} has nothing on it to invoice.").format(id=shipment_id))
    issued_at = issued_at or utcnow()
    lines = {l.id: l for l in order.lines}
    earlier = session.execute(select(func.count(Invoice.id), func.coalesce(func.sum(Invoice.goods_minor), 0),
                                     func.coalesce(func.sum(Invoice.discount_minor), 0),
                                     func.coalesce(func.sum(Invoice.tax_minor), 0))
                              .where(Invoice.order_id == order.id)).one()
    count_before, goods_before, discount_before, tax_before = (int(x) for x in earlier)
    # What the order is worth in goods: the units not cancelled, at the channel's prices.
    order_goods = sum((l.quantity - l.cancelled) * l.unit_price_minor for l in order.lines)
    invoice = Invoice(number=next_number(session, INVOICE_SERIES), order_id=order.id, shipment_id=shipment_id,
                      currency=order.currency, issued_at=issued_at, customer_name=order.customer_name,
                      customer_email=order.customer_email)
    session.add(invoice)
    session.flush()
    rows: list[InvoiceLine] = []
    for item in shipped:
        line = lines[item.order_line_id]
        rows.append(InvoiceLine(kind=LineKind.GOODS.value, order_line_id=line.id, sku=line.sku,
                                description=(line.description or line.sku)[:LINE], quantity=item.quantity,
                                unit_price_minor=line.unit_price_minor, amount_minor=item.quantity * line.unit_price_minor))
    goods = sum(r.amount_minor for r in rows)
    shipping = order.shipping_minor if count_before == 0 else 0
    if shipping:
        rows.append(InvoiceLine(kind=LineKind.SHIPPING.value, description=_("Shipping"), quantity=1,
                                unit_price_minor=shipping, amount_minor=shipping))
    discount = max(0, min(order.discount_minor - discount_before,
                          _share(order.discount_minor, goods_before + goods, order_goods) - discount_before))
    if discount:
        rows.append(InvoiceLine(kind=LineKind.DISCOUNT.value, description=_("Discount"), quantity=1,
                                unit_price_minor=-discount, amount_minor=-discount))
    tax = max(0, min(order.tax_minor - tax_before, _share(order.tax_minor, goods_before + goods, order_goods) - tax_before))
    if tax:
        rows.append(InvoiceLine(kind=LineKind.TAX.value, description=_("Tax"), quantity=1, unit_price_minor=tax,
                                amount_minor=tax))
    for position, row in enumerate(rows, 1):
        row.invoice_id, row.position = invoice.id, position
        session.add(row)
    invoice.goods_minor, invoice.shipping_minor, invoice.discount_minor, invoice.tax_minor = goods, shipping, discount, tax
    invoice.total_minor = goods + shipping - discount + tax
    session.flush()
    session.expire(invoice, ["lines"])
    audit.record(session, actor, "invoice.issued", "invoice", invoice.number, order_id=order.id,
                 summary=_("Invoice {number} issued: {amount} {currency}").format(
                     number=invoice.number, amount=money.to_text(invoice.total_minor, invoice.currency),
                     currency=invoice.currency))
    outbox.publish(session, INVOICE_TOPIC, f"invoice:{invoice.number}", invoice_payload(session, invoice), order_id=order.id)
    return invoice.number


def _line_dict(l) -> dict:
    return {"position": l.position, "kind": l.kind, "sku": l.sku, "description": l.description, "quantity": l.quantity,
            "unit_price_minor": l.unit_price_minor, "amount_minor": l.amount_minor}


def invoice_payload(session: Session, invoice: Invoice) -> dict:
    """An invoice as the ERP hand-off sends it: plain JSON values, money in minor units."""
    order = session.get(SalesOrder, invoice.order_id)
    channel = session.scalar(select(Channel.code).where(Channel.id == order.channel_id))
    return {"type": "invoice", "number": invoice.number, "issued_at": invoice.issued_at.isoformat(),
            "order_number": order.number, "order_external_id": order.external_id, "channel": channel,
            "shipment_id": invoice.shipment_id, "currency": invoice.currency,
            "customer_name": invoice.customer_name, "customer_email": invoice.customer_email,
            "goods_minor": invoice.goods_minor, "shipping_minor": invoice.shipping_minor,
            "discount_minor": invoice.discount_minor, "tax_minor": invoice.tax_minor, "total_minor": invoice.total_minor,
            "lines": [_line_dict(l) for l in invoice.lines]}


def credit_note_payload(session: Session, note: CreditNote) -> dict:
    invoice = session.get(Invoice, note.invoice_id)
    order = session.get(SalesOrder, invoice.order_id)
    return {"type": "credit_note", "number": note.number, "invoice_number": invoice.number,
            "issued_at": note.issued_at.isoformat(), "order_number": order.number, "currency": note.currency,
            "reason": note.reason, "goods_minor": note.goods_minor, "shipping_minor": note.shipping_minor,
            "discount_minor": note.discount_minor, "tax_minor": note.tax_minor, "total_minor": note.total_minor,
            "lines": [_line_dict(l) for l in note.lines]}


def find_invoice(session: Session, number: str) -> Invoice:
    invoice = session.scalar(select(Invoice).where(Invoice.number == (number or "").strip().upper()))
    if invoice is None:
        raise NotFound(_("There is no invoice {number}.").format(number=number))
    return invoice


def credited(session: Session, invoice_id: int) -> dict[int, int]:
    """Units already credited per invoice line of an invoice."""
    rows = session.execute(select(CreditNoteLine.invoice_line_id, func.sum(CreditNoteLine.quantity))
                           .join(CreditNote, CreditNote.id == CreditNoteLine.credit_note_id)
                           .where(CreditNote.invoice_id == invoice_id, CreditNoteLine.kind == LineKind.GOODS.value)
                           .group_by(CreditNoteLine.invoice_line_id)).all()
    return {int(lid): int(q) for lid, q in rows}


def issue_credit_note(session: Session, actor: Actor, invoice_number: str, quantities: dict[str, int], *,
                      shipping: bool = False, reason: str = "", issued_at: datetime | None = None) -> str:
    """Credit some of an invoice: ``quantities`` maps a goods line's SKU (or its position, as text) to the units
    given back; ``shipping`` gives back the invoice's shipping too. Returns the credit note's number.

    More units than were invoiced and not yet credited, a SKU not on the invoice, or nothing at all, is refused
    and nothing is written.
    """
    reason = validate.text(reason, "reason", LINE)
    invoice = find_invoice(session, invoice_number)
    session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())  # one credit at a time
    goods_lines = [l for l in invoice.lines if l.kind == LineKind.GOODS.value]
    done = credited(session, invoice.id)
    picked: list[tuple[InvoiceLine, int]] = []
    for ref, qty in quantities.items():
        validate.quantity(qty, _("units to credit of {ref}").format(ref=ref))
        ref_text = str(ref).strip()
        matches = ([l for l in goods_lines if l.sku.upper() == ref_text.upper()]
                   or [l for l in goods_lines if str(l.position) == ref_text])
        if not matches:
            raise InvalidInput(_("{ref} is not a line of invoice {number}; its lines are {skus}.").format(
                ref=ref_text, number=invoice.number, skus=", ".join(l.sku for l in goods_lines)))
        left = qty
        for line in matches:  # a SKU on two lines: credit the first that has units left
            free = line.quantity - done.get(line.id, 0) - sum(q for l, q in picked if l.id == line.id)
            take = min(free, left)
            if take > 0:
                picked.append((line, take))
                left -= take
        if left:
            have = sum(l.quantity - done.get(l.id, 0) for l in matches)
            raise InvalidInput(_("Invoice {number} has {have} of {ref} left to credit, not {qty}.").format(
                number=invoice.number, have=have, ref=ref_text, qty=qty))
    if not picked and not shipping:
        raise InvalidInput(_("Say what to credit: units of the invoice's lines, or its shipping."))
    return _issue_credit_note(session, actor, invoice, picked, shipping=shipping, reason=reason, issued_at=issued_at)


def _shipping_credited(session: Session, invoice_id: int) -> bool:
    return bool(session.scalar(select(func.count(CreditNoteLine.id))
                               .join(CreditNote, CreditNote.id == CreditNoteLine.credit_note_id)
                               .where(CreditNote.invoice_id == invoice_id, CreditNoteLine.kind == LineKind.SHIPPING.value)))


def credit_shipment(session: Session, actor: Actor, shipment_id: int, *, reason: str) -> str | None:
    """Credit whatever of a shipment's invoice is not credited yet (a shipped shipment voided); the credit note's
    number, or None when the shipment has no invoice or nothing is left to credit."""
    invoice = session.scalar(select(Invoice).where(Invoice.shipment_id == shipment_id))
    if invoice is None:
        return None
    session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    done = credited(session, invoice.id)
    picked = [(l, l.quantity - done.get(l.id, 0)) for l in invoice.lines
              if l.kind == LineKind.GOODS.value and l.quantity - done.get(l.id, 0) > 0]
    shipping = any(l.kind == LineKind.SHIPPING.value for l in invoice.lines) and not _shipping_credited(session, invoice.id)
    if not picked and not shipping:
        return None
    return _issue_credit_note(session, actor, invoice, picked, shipping=shipping, reason=validate.text(reason, "reason", LINE))


def _issue_credit_note(session: Session, actor: Actor, invoice: Invoice, picked: list[tuple[InvoiceLine, int]], *,
                       shipping: bool, reason: str, issued_at: datetime | None = None) -> str:
    shipping_line = next((l for l in invoice.lines if l.kind == LineKind.SHIPPING.value), None)
    if shipping and (shipping_line is None or _shipping_credited(session, invoice.id)):
        raise InvalidInput(_("Invoice {number} has no shipping left to credit.").format(number=invoice.number))
    before = session.execute(select(func.coalesce(func.sum(CreditNote.goods_minor), 0),
                                    func.coalesce(func.sum(CreditNote.shipping_minor), 0),
                                    func.coalesce(func.sum(CreditNote.discount_minor), 0),
                                    func.coalesce(func.sum(CreditNote.tax_minor), 0))
                             .where(CreditNote.invoice_id == invoice.id)).one()
    goods_before, shipping_before, discount_before, tax_before = (int(x) for x in before)
    note = CreditNote(number=next_number(session, CREDIT_NOTE_SERIES), invoice_id=invoice.id, currency=invoice.currency,
                      reason=reason, issued_at=issued_at or utcnow())
    session.add(note)
    session.flush()
    rows = [CreditNoteLine(kind=LineKind.GOODS.value, invoice_line_id=l.id, sku=l.sku, description=l.description,
                           quantity=q, unit_price_minor=l.unit_price_minor, amount_minor=q * l.unit_price_minor)
            for l, q in picked]
    goods = sum(r.amount_minor for r in rows)
    ship_amount = shipping_line.amount_minor if shipping else 0
    if ship_amount:
        rows.append(CreditNoteLine(kind=LineKind.SHIPPING.value, invoice_line_id=shipping_line.id, description=_("Shipping"),
                                   quantity=1, unit_price_minor=ship_amount, amount_minor=ship_amount))
    discount = _share(invoice.discount_minor, goods_before + goods, invoice.goods_minor) - discount_before
    discount = max(0, min(discount, invoice.discount_minor - discount_before))
    if discount:
        rows.append(CreditNoteLine(kind=LineKind.DISCOUNT.value, description=_("Discount"), quantity=1,
                                   unit_price_minor=-discount, amount_minor=-discount))
    base = invoice.goods_minor - invoice.discount_minor + invoice.shipping_minor
    base_so_far = goods_before + goods - (discount_before + discount) + shipping_before + ship_amount
    tax = max(0, min(invoice.tax_minor - tax_before, _share(invoice.tax_minor, base_so_far, base) - tax_before))
    if tax:
        rows.append(CreditNoteLine(kind=LineKind.TAX.value, description=_("Tax"), quantity=1, unit_price_minor=tax,
                                   amount_minor=tax))
    for position, row in enumerate(rows, 1):
        row.credit_note_id, row.position = note.id, position
        session.add(row)
    note.goods_minor, note.shipping_minor, note.discount_minor, note.tax_minor = goods, ship_amount, discount, tax
    note.total_minor = goods + ship_amount - discount + tax
    session.flush()
    session.refresh(note)
    audit.record(session, actor, "credit_note.issued", "credit_note", note.number, order_id=invoice.order_id,
                 summary=_("Credit note {number} against {invoice}: {amount} {currency}").format(
                     number=note.number, invoice=invoice.number, amount=money.to_text(note.total_minor, note.currency),
                     currency=note.currency))
    outbox.publish(session, CREDIT_NOTE_TOPIC, f"credit_note:{note.number}", credit_note_payload(session, note),
                   order_id=invoice.order_id)
    return note.number
