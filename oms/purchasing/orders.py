"""Suppliers and purchase orders: the PO number series, lines, and the states a PO moves through, each move audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from oms import inventory
from oms.catalog.models import Product
from oms.core import audit, money, outbox, series, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.types import NAME, SHORT, utcnow
from oms.core.validate import unique
from oms.purchasing.models import PoCounter, PoStatus, PurchaseOrder, PurchaseOrderLine, Supplier

FIRST_PO_NUMBER = 1001
PO_PREFIX = "PO-"

# Where a PO may go from each state. Receiving moves it to partly received or received by itself; a PO with
# units received can no longer be cancelled, only closed (the rest will not come).
TRANSITIONS: dict[PoStatus, frozenset[PoStatus]] = {
    PoStatus.DRAFT: frozenset({PoStatus.SENT, PoStatus.CANCELLED}),
    PoStatus.SENT: frozenset({PoStatus.CONFIRMED, PoStatus.PARTLY_RECEIVED, PoStatus.RECEIVED, PoStatus.CANCELLED}),
    PoStatus.CONFIRMED: frozenset({PoStatus.PARTLY_RECEIVED, PoStatus.RECEIVED, PoStatus.CANCELLED}),
    PoStatus.PARTLY_RECEIVED: frozenset({PoStatus.RECEIVED, PoStatus.CLOSED}),
    PoStatus.RECEIVED: frozenset({PoStatus.CLOSED}),
    PoStatus.CLOSED: frozenset(),
    PoStatus.CANCELLED: frozenset(),
}
# Goods can arrive against these; the supply that backorders wait for.
OPEN_STATES = (PoStatus.SENT.value, PoStatus.CONFIRMED.value, PoStatus.PARTLY_RECEIVED.value)
# A PO received in full still takes units within the over-receipt tolerance, until it is closed.
RECEIVABLE_STATES = (*OPEN_STATES, PoStatus.RECEIVED.value)

STATUS_TITLES = {
    PoStatus.DRAFT: "draft", PoStatus.SENT: "sent", PoStatus.CONFIRMED: "confirmed",
    PoStatus.PARTLY_RECEIVED: "partly received", PoStatus.RECEIVED: "received", PoStatus.CLOSED: "closed",
    PoStatus.CANCELLED: "cancelled",
}


def status_title(status: str) -> str:
    """A PO state in words ("partly received")."""
    try:
        return _(STATUS_TITLES[PoStatus(status)])
    except ValueError:
        return status


def status_after_is(status: str) -> str:
    """A PO state as it reads after "PO-1001 is …": "a draft", "sent", "partly received"."""
    return _("a draft") if status == PoStatus.DRAFT.value else status_title(status)


@dataclass(frozen=True)
class PoLineInput:
    """A line to order: unit cost as a decimal string ("2.35") or minor units (int), in the PO's currency."""

    sku: str
    quantity: int
    unit_cost: str | int
    expected_date: date


# -- suppliers -------------------------------------------------------------------------------------------


def _tolerance(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidInput(_("The over-receipt tolerance is a whole percentage from 0 to 100, not {value!r}.").format(value=value))
    return value


def add_supplier(session: Session, actor: Actor, code: str, name: str, *, email: str = "", currency: str = "USD",
                 lead_days: int = 7, over_receipt_percent: int | None = None) -> int:
    """A new supplier. ``over_receipt_percent`` (0–100) lets its deliveries exceed a line by that much; None: the
    house setting applies."""
    code = validate.text(code, "supplier code", SHORT, required=True)
    if any(c.isspace() for c in code):
        raise InvalidInput(_("A supplier code cannot contain spaces ({code!r}).").format(code=code))
    unique(session, Supplier.code, code, _("supplier"))
    s = Supplier(code=code, name=validate.text(name, "supplier name", NAME, required=True),
                 email=validate.text(email, "e-mail", NAME), currency=money.check_currency(currency),
                 lead_days=validate.quantity(lead_days, "lead time in days", allow_zero=True),
                 over_receipt_percent=_tolerance(over_receipt_percent))
    session.add(s)
    session.flush()
    audit.record(session, actor, "supplier.added", "supplier", s.id, summary=f"{code}: {s.name}",
                 after={"currency": s.currency, "lead_days": s.lead_days, "over_receipt_percent": s.over_receipt_percent})
    return s.id


def set_supplier_tolerance(session: Session, actor: Actor, supplier: int | str, percent: int | None) -> None:
    """Change a supplier's over-receipt tolerance (None: the house setting)."""
    sid = supplier_id(session, supplier)
    before = session.scalar(select(Supplier.over_receipt_percent).where(Supplier.id == sid))
    session.execute(update(Supplier).where(Supplier.id == sid).values(over_receipt_percent=_tolerance(percent)))
    audit.record(session, actor, "supplier.tolerance", "supplier", sid,
                 summary=_("Over-receipt tolerance {before} → {after}").format(
                     before=_("house") if before is None else f"{before} %", after=_("house") if percent is None else f"{percent} %"),
                 before={"over_receipt_percent": before}, after={"over_receipt_percent": percent})


def supplier_id(session: Session, ref: int | str) -> int:
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = session.scalar(select(Supplier.id).where(Supplier.id == ref))
    else:
        found = session.scalar(select(Supplier.id).where(Supplier.code == str(ref).strip()))
    if found is None:
        raise NotFound(_("There is no supplier {ref}.").format(ref=ref))
    return found


# -- purchase orders ---------------------------------------------------------------------------------------


def next_po_number(session: Session) -> str:
    """The next number of the series (PO-1001, PO-1002, …), taken with a conditional update so two stations
    never get the same one."""
    return f"{PO_PREFIX}{series.take_next(session, PoCounter, FIRST_PO_NUMBER)}"


def po_id(session: Session, ref: int | str) -> int:
    """A PO by id, or by its number as printed or scanned ("PO-1042", "po-1042" or "1042")."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.id == ref))
    else:
        text = str(ref).strip().upper()
        if text.isdigit():
            text = PO_PREFIX + text
        found = session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.number == text))
    if found is None:
        raise NotFound(_("There is no purchase order {ref}.").format(ref=str(ref).strip() or "—"))
    return found


def _po(session: Session, ref: int | str) -> PurchaseOrder:
    return session.get(PurchaseOrder, po_id(session, ref), with_for_update=True)


def create_po(session: Session, actor: Actor, supplier: int | str, location: int | str, *,
              lines: Iterable[PoLineInput] = (), note: str = "", currency: str | None = None) -> tuple[int, str]:
    """A draft PO to a supplier, delivered to a location, with its lines: (id, number)."""
    sid = supplier_id(session, supplier)
    lid = inventory.location_id(session, location)
    currency = money.check_currency(currency or session.scalar(select(Supplier.currency).where(Supplier.id == sid)))
    lines = list(lines)
    po = PurchaseOrder(number=next_po_number(session), supplier_id=sid, location_id=lid, currency=currency,
                       note=validate.text(note, "note", 300), status=PoStatus.DRAFT.value)
    session.add(po)
    session.flush()
    audit.record(session, actor, "po.created", "purchase_order", po.id,
                 summary=_("{number} created for {supplier}").format(
                     number=po.number, supplier=session.scalar(select(Supplier.code).where(Supplier.id == sid))),
                 after={"status": po.status, "location": lid, "currency": currency})
    for line in lines:
        _add_line(session, actor, po, line)
    return po.id, po.number


def add_line(session: Session, actor: Actor, po: int | str, line: PoLineInput) -> int:
    """Add a line to a draft PO; a PO already sent changes only by the supplier's word, not here."""
    return _add_line(session, actor, _po(session, po), line)


def _add_line(session: Session, actor: Actor, po: PurchaseOrder, line: PoLineInput) -> int:
    if po.status != PoStatus.DRAFT.value:
        raise Conflict(_("{number} is {status}: lines can be added only while it is a draft.").format(
            number=po.number, status=status_after_is(po.status)))
    qty = validate.quantity(line.quantity)
    pid = inventory.product_id(session, line.sku)
    cost = money.to_minor(line.unit_cost, po.currency)
    if cost < 0:
        raise InvalidInput(_("A unit cost cannot be negative ({cost}).").format(cost=line.unit_cost))
    if not isinstance(line.expected_date, date):
        raise InvalidInput(_("The expected date must be a date, not {value!r}.").format(value=line.expected_date))
    sku = session.scalar(select(Product.sku).where(Product.id == pid))
    number = (session.scalar(select(func.max(PurchaseOrderLine.line_no)).where(PurchaseOrderLine.po_id == po.id)) or 0) + 1
    row = PurchaseOrderLine(po_id=po.id, line_no=number, product_id=pid, sku=sku, quantity=qty, unit_cost_minor=cost,
                            currency=po.currency, expected_date=line.expected_date, received=0, damaged=0)
    session.add(row)
    session.flush()
    audit.record(session, actor, "po.line_added", "purchase_order", po.id,
                 summary=_("{number} line {line}: {qty} × {sku} at {cost}, expected {when}").format(
                     number=po.number, line=number, qty=qty, sku=sku, cost=money.format_money(cost, po.currency),
                     when=line.expected_date.isoformat()),
                 after={"line": number, "sku": sku, "quantity": qty, "unit_cost_minor": cost,
                        "expected_date": line.expected_date.isoformat()})
    return row.id


def move(session: Session, actor: Actor, po: PurchaseOrder, to: PoStatus, reason: str = "") -> None:
    """Move a PO to another state if the move is allowed, with its audit event; refuses any other move."""
    now = PoStatus(po.status)
    if to == now:
        return
    if to not in TRANSITIONS[now]:
        raise Conflict(_("{number} is {status}; it cannot become {to}.").format(
            number=po.number, status=status_after_is(now), to=status_title(to)))
    po.status = to.value
    if to == PoStatus.SENT:
        po.sent_at = utcnow()
    if to in (PoStatus.CLOSED, PoStatus.CANCELLED):
        po.closed_at = utcnow()
    session.flush()
    summary = _("{number}: {before} → {after}").format(number=po.number, before=status_title(now), after=status_title(to))
    if reason:
        summary += f" ({reason})"
    audit.record(session, actor, f"po.{to.value}", "purchase_order", po.id, summary=summary,
                 before={"status": now.value}, after={"status": to.value, "reason": reason})


def send_po(session: Session, actor: Actor, po: int | str) -> None:
    """The PO goes to the supplier; it needs at least one line. A supplier that trades EDI gets it as an 850 (queued
    through the outbox in this transaction)."""
    row = _po(session, po)
    if row.status == PoStatus.DRAFT.value and not session.scalar(
            select(func.count()).select_from(PurchaseOrderLine).where(PurchaseOrderLine.po_id == row.id)):
        raise Conflict(_("{number} has no lines; add what to order before sending it.").format(number=row.number))
    move(session, actor, row, PoStatus.SENT)
    queue_850(session, row)


PO_TOPIC = "po.send"  # an outbox row of this topic becomes the PO's 850 for the supplier's trading partner


def queue_850(session: Session, po: PurchaseOrder) -> str | None:
    """When the PO's supplier trades EDI, queue its 850 (once per PO); returns the partner's code, else None."""
    code = session.scalar(select(Supplier.edi_partner).where(Supplier.id == po.supplier_id))
    if not code:
        return None
    outbox.enqueue(session, code, PO_TOPIC, f"{code}:850:{po.number}", {"po": po.number})
    return code


def confirm_po(session: Session, actor: Actor, po: int | str) -> None:
    """The supplier confirmed the PO."""
    move(session, actor, _po(session, po), PoStatus.CONFIRMED)


def cancel_po(session: Session, actor: Actor, po: int | str, reason: str) -> None:
    """Call the PO off; only while nothing of it has been received."""
    reason = validate.text(reason, "reason", 200, required=True)
    move(session, actor, _po(session, po), PoStatus.CANCELLED, reason)


def close_po(session: Session, actor: Actor, po: int | str, reason: str = "") -> None:
    """Done with the PO: all received, or the rest will not come (it stops counting as supply for backorders)."""
    move(session, actor, _po(session, po), PoStatus.CLOSED, validate.text(reason, "reason", 200))
