"""RMAs: the number series, reason codes, opening an RMA from an order, and the states it moves through, each move
audited on the RMA and on its order's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from oms import inventory
from oms.core import audit, money, series, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.types import NAME, SHORT, utcnow
from oms.core.upsert import insert_ignore
from oms.orders.models import OrderLine, SalesOrder
from oms.returns.models import Resolution, ReturnReason, Rma, RmaCounter, RmaLine, RmaStatus
from oms.shipping.models import Shipment, ShipmentStatus

FIRST_RMA_NUMBER = 1001
RMA_PREFIX = "RMA-"

S = RmaStatus
# Where an RMA may go from each state. A parcel that reaches the dock is received whatever the RMA's state before
# (never refused at the dock); units received can no longer be cancelled, only resolved.
TRANSITIONS: dict[RmaStatus, frozenset[RmaStatus]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.RECEIVED, S.CANCELLED}),
    S.APPROVED: frozenset({S.LABEL_SENT, S.IN_TRANSIT, S.RECEIVED, S.CANCELLED}),
    S.LABEL_SENT: frozenset({S.IN_TRANSIT, S.RECEIVED, S.CANCELLED}),
    S.IN_TRANSIT: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
# States whose units are still expected: they count against what else may be returned of a line.
OPEN_STATES = (S.REQUESTED.value, S.APPROVED.value, S.LABEL_SENT.value, S.IN_TRANSIT.value, S.RECEIVED.value)
# States a parcel may be received in.
RECEIVABLE_STATES = OPEN_STATES

STATUS_TITLES = {
    S.REQUESTED: "requested", S.APPROVED: "approved", S.LABEL_SENT: "label sent", S.IN_TRANSIT: "in transit",
    S.RECEIVED: "received", S.RESOLVED: "resolved", S.CLOSED: "closed", S.CANCELLED: "cancelled",
}
RESOLUTION_TITLES = {Resolution.REFUND: "refund", Resolution.EXCHANGE: "exchange", Resolution.STORE_CREDIT: "store credit"}


def status_title(status: str) -> str:
    """An RMA state in words ("label sent")."""
    try:
        return _(STATUS_TITLES[RmaStatus(status)])
    except ValueError:
        return status


def resolution_title(resolution: str) -> str:
    try:
        return _(RESOLUTION_TITLES[Resolution(resolution)])
    except ValueError:
        return resolution


@dataclass(frozen=True)
class RmaLineInput:
    """Units of one item of the order to send back: the SKU (or a barcode) and how many."""

    sku: str
    quantity: int


def parse_line(text: str) -> RmaLineInput:
    """``SKU:QTY`` as typed on the command line ("MUG-RED:2"); a bare SKU is one unit."""
    sku, sep, qty = str(text).strip().rpartition(":")
    if not sep:
        sku, qty = qty, "1"
    if not sku.strip():
        raise InvalidInput(_("Give a line as SKU:QUANTITY, for example MUG-RED:2, not {text!r}.").format(text=text))
    try:
        quantity = int(qty)
    except ValueError:
        raise InvalidInput(_("{qty!r} is not a whole number of units (in {text!r}).").format(qty=qty, text=text)) from None
    return RmaLineInput(sku.strip(), quantity)


# -- reason codes ------------------------------------------------------------------------------------------

# The reasons a fresh database starts with (migration 0016 seeds the same; a database emptied by hand gets them back
# at the first RMA).
DEFAULT_REASONS = (
    ("DAMAGED", "Arrived damaged or faulty"),
    ("WRONG_ITEM", "Wrong item sent"),
    ("NOT_AS_DESCRIBED", "Not as described"),
    ("TOO_SMALL", "Too small"),
    ("TOO_LARGE", "Too large"),
    ("CHANGED_MIND", "Changed their mind"),
    ("LATE", "Arrived too late"),
    ("OTHER", "Other"),
)


def ensure_default_reasons(session: Session) -> None:
    """Give a reason table that has never had a row the default reasons."""
    if not session.scalar(select(func.count()).select_from(ReturnReason)):
        for code, title in DEFAULT_REASONS:
            insert_ignore(session, ReturnReason, {"code": code, "title": title, "active": True}, ["code"])


def reasons(session: Session, *, active_only: bool = True) -> list[tuple[str, str]]:
    """The reason codes a customer may give: (code, title)."""
    q = select(ReturnReason.code, ReturnReason.title).order_by(ReturnReason.id)
    if active_only:
        q = q.where(ReturnReason.active.is_(True))
    rows = [(r[0], r[1]) for r in session.execute(q)]
    if not rows and not session.scalar(select(func.count()).select_from(ReturnReason)):
        return list(DEFAULT_REASONS)
    return rows


def add_reason(session: Session, actor: Actor, code: str, title: str) -> None:
    """A new reason code (upper case, no spaces), or an old one made active again with a new title."""
    code = validate.text(code, "reason code", SHORT, required=True).upper()
    if any(c.isspace() for c in code):
        raise InvalidInput(_("A reason code cannot contain spaces ({code!r}).").format(code=code))
    title = validate.text(title, "reason title", NAME, required=True)
    ensure_default_reasons(session)
    row = session.scalar(select(ReturnReason).where(ReturnReason.code == code))
    if row is None:
        session.add(ReturnReason(code=code, title=title, active=True))
    else:
        row.title, row.active = title, True
    session.flush()
    audit.record(session, actor, "return_reason.saved", "return_reason", code, summary=f"{code}: {title}")


def retire_reason(session: Session, actor: Actor, code: str) -> None:
    """A reason no longer offered (RMAs that gave it keep it)."""
    code = str(code).strip().upper()
    ensure_default_reasons(session)
    done = session.execute(update(ReturnReason).where(ReturnReason.code == code).values(active=False)).rowcount
    if not done:
        raise NotFound(_("There is no reason code {code}.").format(code=code))
    audit.record(session, actor, "return_reason.retired", "return_reason", code, summary=code)


def _reason(session: Session, code: str) -> str:
    code = validate.text(code, "reason code", SHORT, required=True).upper()
    ensure_default_reasons(session)
    if session.scalar(select(ReturnReason.id).where(ReturnReason.code == code, ReturnReason.active.is_(True))) is None:
        known = ", ".join(c for c, _t in reasons(session))
        raise InvalidInput(_("{code} is not a reason code; use one of {known}.").format(code=code, known=known))
    return code


# -- numbers -------------------------------------------------------------------------------------------------


def next_rma_number(session: Session) -> str:
    """The next number of the series (RMA-1001, RMA-1002, …), taken with a conditional update so two stations never
    get the same one."""
    return f"{RMA_PREFIX}{series.take_next(session, RmaCounter, FIRST_RMA_NUMBER)}"


def rma_id(session: Session, ref: int | str) -> int:
    """An RMA by id, or by its number as printed or scanned ("RMA-1042", "rma-1042" or "1042")."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = session.scalar(select(Rma.id).where(Rma.id == ref))
    else:
        text = str(ref).strip().upper()
        if text.isdigit():
            text = RMA_PREFIX + text
        found = session.scalar(select(Rma.id).where(Rma.number == text))
    if found is None:
        raise NotFound(_("There is no RMA {ref}.").format(ref=str(ref).strip() or "—"))
    return found


def _rma(session: Session, ref: int | str) -> Rma:
    return session.get(Rma, rma_id(session, ref), with_for_update=True, populate_existing=True)


# -- what may be returned ----------------------------------------------------------------------------------


def outstanding(session: Session, order_line_id: int, *, except_rma: int | None = None) -> int:
    """Units of an order line on open RMAs that have not come back yet."""
    q = (select(func.coalesce(func.sum(RmaLine.quantity - RmaLine.received), 0)).join(Rma, Rma.id == RmaLine.rma_id)
         .where(RmaLine.order_line_id == order_line_id, Rma.status.in_(OPEN_STATES)))
    if except_rma is not None:
        q = q.where(Rma.id != except_rma)
    return int(session.scalar(q))


def returnable(session: Session, order_line_id: int, *, except_rma: int | None = None) -> int:
    """Units of an order line that may still go on an RMA: shipped, less returned, less already on open RMAs."""
    line = session.execute(select(OrderLine.shipped, OrderLine.returned).where(OrderLine.id == order_line_id)).one()
    return max(0, line.shipped - line.returned - outstanding(session, order_line_id, except_rma=except_rma))


def _order_line_for(session: Session, order_id: int, sku_or_code: str, qty: int, *, except_rma: int | None = None) -> OrderLine:
    """The order's line of that item with room for `qty` more returned units; refused in words otherwise."""
    number = session.scalar(select(SalesOrder.number).where(SalesOrder.id == order_id))
    try:
        pid = inventory.product_id(session, sku_or_code)
    except NotFound:
        raise NotFound(_("“{code}” is no product we know: give its SKU or barcode.").format(code=sku_or_code)) from None
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order_id, OrderLine.product_id == pid)
                            .order_by(OrderLine.id)).all()
    if not lines:
        raise Conflict(_("{sku} is not on order {number}.").format(sku=sku_or_code, number=number))
    room = [(l, returnable(session, l.id, except_rma=except_rma)) for l in lines]
    for line, free in room:
        if free >= qty:
            return line
    shipped = sum(l.shipped for l in lines)
    returned = sum(l.returned for l in lines)
    pending = sum(outstanding(session, l.id, except_rma=except_rma) for l in lines)
    sku = lines[0].sku
    if shipped == 0:
        raise Conflict(_("{sku} on order {number} has not shipped: nothing of it can be returned.").format(sku=sku, number=number))
    free = sum(f for _l, f in room)
    detail = _("{shipped} shipped, {returned} returned already").format(shipped=shipped, returned=returned)
    if pending:
        detail += _(", {pending} on open RMAs").format(pending=pending)
    raise Conflict(_("Only {free} × {sku} of order {number} can be returned ({detail}), not {qty}.").format(
        free=free, sku=sku, number=number, detail=detail, qty=qty))


def _return_location(session: Session, order: SalesOrder) -> int:
    """Where the parcel comes back to: the location the order shipped from, else the one it was routed to."""
    lid = session.scalar(select(Shipment.location_id).where(Shipment.order_id == order.id,
                                                            Shipment.status == ShipmentStatus.SHIPPED.value)
                         .order_by(Shipment.shipped_at.desc()).limit(1))
    lid = lid or order.location_id
    if lid is None:
        raise Conflict(_("Order {number} has not shipped from anywhere: nothing of it can be returned.").format(number=order.number))
    return lid


# -- opening an RMA --------------------------------------------------------------------------------------------


def create_rma(session: Session, actor: Actor, order: int | str, lines: Iterable[RmaLineInput], *, reason: str,
               note: str = "", resolution: str = Resolution.REFUND.value, restocking_fee: str | int = 0,
               source: str = "desk", external_id: str | None = None, location: int | str | None = None) -> tuple[int, str]:
    """Open an RMA on an order (requested): (id, number). Each line's quantity is at most what shipped less what came
    back or is on another open RMA; nothing is written when any line is refused.

    ``source`` and ``external_id`` name a channel's own return or refund: opening the same one again returns the RMA
    made the first time."""
    if external_id is not None:
        external_id = validate.text(external_id, "channel's return id", SHORT, required=True)
        found = session.execute(select(Rma.id, Rma.number).where(Rma.source == source, Rma.external_id == external_id)).first()
        if found:
            return found[0], found[1]
    oid = _find_order(session, order)
    o = session.get(SalesOrder, oid)
    reason = _reason(session, reason)
    note = validate.text(note, "customer's note", 300)
    try:
        res = Resolution(str(resolution).strip().lower().replace(" ", "_"))
    except ValueError:
        raise InvalidInput(_("The resolution is refund, exchange or store credit, not {value!r}.").format(value=resolution)) from None
    fee = money.to_minor(restocking_fee or 0, o.currency)
    if fee < 0:
        raise InvalidInput(_("A restocking fee cannot be negative ({fee}).").format(fee=restocking_fee))
    wanted = list(lines)
    if not wanted:
        raise InvalidInput(_("Say what comes back: at least one line, such as MUG-RED:1."))
    chosen: dict[int, tuple[OrderLine, int]] = {}
    for item in wanted:
        qty = validate.quantity(item.quantity)
        line = _order_line_for(session, oid, item.sku, qty)
        # The same item named twice on one RMA adds up, and must fit as a whole.
        have = chosen.get(line.id, (line, 0))[1]
        if have and returnable(session, line.id) < have + qty:
            raise Conflict(_("Only {free} × {sku} of order {number} can be returned, not {qty}.").format(
                free=returnable(session, line.id), sku=line.sku, number=o.number, qty=have + qty))
        chosen[line.id] = (line, have + qty)
    lid = inventory.location_id(session, location) if location is not None else _return_location(session, o)
    now = utcnow()
    rma = Rma(number=next_rma_number(session), order_id=oid, location_id=lid, status=S.REQUESTED.value, reason_code=reason,
              customer_note=note, resolution=res.value, currency=o.currency, restocking_fee_minor=fee,
              source=validate.text(source, "source", SHORT, required=True), external_id=external_id,
              user=actor.user[:64], created_at=now, updated_at=now)
    session.add(rma)
    session.flush()
    for line, qty in chosen.values():
        session.add(RmaLine(rma_id=rma.id, order_line_id=line.id, product_id=line.product_id, sku=line.sku, quantity=qty,
                            received=0))
    session.flush()
    what = ", ".join(f"{qty} × {line.sku}" for line, qty in chosen.values())
    audit.record(session, actor, "rma.requested", "rma", rma.id, order_id=oid,
                 summary=_("{number} requested: {what} ({reason}), {resolution} wanted").format(
                     number=rma.number, what=what, reason=reason, resolution=resolution_title(res.value)),
                 after={"status": rma.status, "reason": reason, "resolution": res.value, "restocking_fee_minor": fee,
                        "lines": {line.sku: qty for line, qty in chosen.values()}, "source": rma.source,
                        "external_id": external_id})
    return rma.id, rma.number


def add_line(session: Session, actor: Actor, rma: int | str, item: RmaLineInput) -> int:
    """One more item on an RMA still open (at the dock, an item of the order that came without being named)."""
    row = _rma(session, rma)
    if row.status not in OPEN_STATES:
        raise Conflict(_("{number} is {status}: nothing can be added to it.").format(number=row.number, status=status_title(row.status)))
    qty = validate.quantity(item.quantity)
    line = _order_line_for(session, row.order_id, item.sku, qty, except_rma=None)
    existing = session.scalar(select(RmaLine).where(RmaLine.rma_id == row.id, RmaLine.order_line_id == line.id))
    if existing is None:
        existing = RmaLine(rma_id=row.id, order_line_id=line.id, product_id=line.product_id, sku=line.sku, quantity=qty, received=0)
        session.add(existing)
    else:
        existing.quantity += qty
    session.flush()
    audit.record(session, actor, "rma.line_added", "rma", row.id, order_id=row.order_id,
                 summary=_("{number}: {qty} × {sku} added").format(number=row.number, qty=qty, sku=line.sku),
                 after={"sku": line.sku, "quantity": qty})
    return existing.id


def _find_order(session: Session, order: int | str) -> int:
    from oms.orders import find_order

    return find_order(session, order)


# -- states ------------------------------------------------------------------------------------------------------


def move(session: Session, actor: Actor, rma: Rma, to: RmaStatus, reason: str = "") -> None:
    """Move an RMA to another state if the move is allowed, with its audit event; refuses any other move."""
    now = RmaStatus(rma.status)
    if to == now:
        return
    if to not in TRANSITIONS[now]:
        raise Conflict(_("{number} is {status}; it cannot become {to}.").format(
            number=rma.number, status=status_title(now), to=status_title(to)))
    rma.status = to.value
    rma.updated_at = utcnow()
    if to == S.RECEIVED:
        rma.received_at = rma.updated_at
    if to == S.RESOLVED:
        rma.resolved_at = rma.updated_at
    session.flush()
    summary = _("{number}: {before} → {after}").format(number=rma.number, before=status_title(now), after=status_title(to))
    if reason:
        summary += f" ({reason})"
    audit.record(session, actor, f"rma.{to.value}", "rma", rma.id, order_id=rma.order_id, summary=summary,
                 before={"status": now.value}, after={"status": to.value, "reason": reason})


def approve(session: Session, actor: Actor, rma: int | str) -> None:
    """Customer service agrees the return: a label can be sent."""
    move(session, actor, _rma(session, rma), S.APPROVED)


def cancel(session: Session, actor: Actor, rma: int | str, reason: str) -> None:
    """Call the return off; only while nothing of it has come back."""
    reason = validate.text(reason, "reason", 200, required=True)
    row = _rma(session, rma)
    if session.scalar(select(func.sum(RmaLine.received)).where(RmaLine.rma_id == row.id)):
        raise Conflict(_("{number} has units received already: resolve it instead of cancelling it.").format(number=row.number))
    move(session, actor, row, S.CANCELLED, reason)


def mark_in_transit(session: Session, actor: Actor, rma: int | str, *, reason: str = "") -> bool:
    """The carrier has the parcel (the return label's tracking says so): False when the RMA is already past that."""
    row = _rma(session, rma)
    if row.status not in (S.APPROVED.value, S.LABEL_SENT.value):
        return False
    move(session, actor, row, S.IN_TRANSIT, reason)
    return True


def _credit_received(session: Session, actor: Actor, row: Rma) -> list[str]:
    """Credit notes for the units received, against the invoices of the shipments they went out on (oldest invoice
    first, only what is not credited yet): the credit note numbers, none when nothing of it was invoiced."""
    from oms import invoicing
    from oms.invoicing.models import Invoice, InvoiceLine, LineKind

    per_invoice: dict[str, dict[str, int]] = {}
    for rl in session.execute(select(RmaLine.order_line_id, RmaLine.received).where(RmaLine.rma_id == row.id, RmaLine.received > 0)):
        left = rl.received
        for line_id, invoice_id, number, sku, qty in session.execute(
                select(InvoiceLine.id, Invoice.id, Invoice.number, InvoiceLine.sku, InvoiceLine.quantity)
                .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                .where(InvoiceLine.order_line_id == rl.order_line_id, InvoiceLine.kind == LineKind.GOODS.value)
                .order_by(Invoice.id, InvoiceLine.position)):
            free = qty - invoicing.credited(session, invoice_id).get(line_id, 0) - per_invoice.get(number, {}).get(sku, 0)
            take = min(max(free, 0), left)
            if take:
                per_invoice.setdefault(number, {})[sku] = per_invoice.get(number, {}).get(sku, 0) + take
                left -= take
            if not left:
                break
    reason = _("{number}: returned ({reason})").format(number=row.number, reason=row.reason_code)
    return [invoicing.issue_credit_note(session, actor, number, quantities, reason=reason)
            for number, quantities in per_invoice.items()]


def resolve(session: Session, actor: Actor, rma: int | str, *, refund: str | int | None = None, note: str = "") -> int:
    """Settle a received RMA and return what is refunded or credited, in minor units.

    A refund or store credit issues a credit note (``oms.invoicing``) for the units received, against the invoices
    they were billed on; the amount is the credit notes' total (or, for units never invoiced, their price on the
    order) less the restocking fee, unless ``refund`` names it. An exchange issues none: the customer gets goods,
    not money."""
    from oms.invoicing.models import CreditNote

    row = _rma(session, rma)
    if row.status != S.RECEIVED.value:
        hint = _(" Receive the parcel first.") if row.status in OPEN_STATES else ""
        raise Conflict(_("{number} is {status}: only a received RMA can be resolved.").format(
            number=row.number, status=status_title(row.status)) + hint)
    notes: list[str] = []
    if row.resolution != Resolution.EXCHANGE.value:
        notes = _credit_received(session, actor, row)
    if refund is None:
        if notes:
            value = session.scalar(select(func.coalesce(func.sum(CreditNote.total_minor), 0)).where(CreditNote.number.in_(notes)))
        else:
            value = session.scalar(select(func.coalesce(func.sum(RmaLine.received * OrderLine.unit_price_minor), 0))
                                   .join(OrderLine, OrderLine.id == RmaLine.order_line_id).where(RmaLine.rma_id == row.id))
        amount = 0 if row.resolution == Resolution.EXCHANGE.value else max(0, int(value) - row.restocking_fee_minor)
    else:
        amount = money.to_minor(refund, row.currency)
        if amount < 0:
            raise InvalidInput(_("A refund cannot be negative ({amount}).").format(amount=refund))
    row.refund_minor = amount
    row.credit_notes = ", ".join(notes)
    row.resolution_note = validate.text(note, "note", 300)
    summary = _("{resolution} of {amount}").format(resolution=resolution_title(row.resolution),
                                                   amount=money.format_money(amount, row.currency))
    if notes:
        summary += _(", credit note {numbers}").format(numbers=row.credit_notes)
    if row.restocking_fee_minor and row.resolution != Resolution.EXCHANGE.value:
        summary += _(", restocking fee {fee} kept").format(fee=money.format_money(row.restocking_fee_minor, row.currency))
    move(session, actor, row, S.RESOLVED, summary)
    _tell_channel(session, row, amount)
    return amount


def _tell_channel(session: Session, row: Rma, amount: int) -> None:
    """A refund decided here goes to the order's channel through the outbox (a shop's refund, once); not for a return
    the channel itself reported (it refunded already), a wholesale order (the partner has its credit note), or nothing
    to pay back."""
    from oms.core import outbox
    from oms.orders.models import Channel, OrderType

    if row.resolution != Resolution.REFUND.value or amount <= 0:
        return
    order = session.get(SalesOrder, row.order_id)
    channel = session.scalar(select(Channel.code).where(Channel.id == order.channel_id))
    if row.source == channel or order.order_type == OrderType.WHOLESALE.value:
        return
    lines = [{"external_line_id": ext, "sku": sku, "quantity": int(got)} for ext, sku, got in session.execute(
        select(OrderLine.external_line_id, RmaLine.sku, RmaLine.received).join(OrderLine, OrderLine.id == RmaLine.order_line_id)
        .where(RmaLine.rma_id == row.id, RmaLine.received > 0).order_by(RmaLine.id))]
    outbox.enqueue(session, channel, "refund.create", f"{channel}:refund:{row.number}",
                   {"order_external_id": order.external_id, "rma": row.number, "currency": row.currency,
                    "amount_minor": amount, "lines": lines, "credit_notes": row.credit_notes}, order_id=order.id)


def close(session: Session, actor: Actor, rma: int | str) -> None:
    """Done with the RMA."""
    move(session, actor, _rma(session, rma), S.CLOSED)
