"""An order's life after import: holds and their release, cancellation of lines or the whole order,
notes, deallocation before an order is routed again, and picks recorded against lines. Allocation is
routing's (`oms.routing`), reached through the intake door (`oms.intake.take_in`) or a re-route."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from oms import inventory
from oms.core import audit, models as core_models, outbox, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _, ngettext
from oms.core.types import utcnow
from oms.orders.models import Allocation, Channel, OrderLine, OrderNote, OrderStatus, SalesOrder
from oms.orders.status import refresh_status
from oms.users import require


def _hold(order: SalesOrder, reason: str) -> None:
    order.on_hold = True
    order.hold_reason = (f"{order.hold_reason}; {reason}" if order.hold_reason and reason not in order.hold_reason else reason)[:300]


def _release_line(session: Session, line: OrderLine, qty: int) -> None:
    """Give back up to qty reserved-but-unpicked units of a line, newest allocation first."""
    free = line.allocated - line.picked
    qty = min(qty, free)
    if qty <= 0:
        return
    allocs = session.scalars(
        select(Allocation).where(Allocation.order_line_id == line.id).order_by(Allocation.id.desc())
    ).all()
    left = qty
    for a in allocs:
        take = min(a.quantity, left)
        if take <= 0:
            break
        inventory.release(session, a.product_id, a.location_id, take)
        a.quantity -= take
        if a.quantity == 0:
            session.delete(a)
        left -= take
    line.allocated -= qty - left


def deallocate_order(session: Session, actor: Actor, order_id: int, *, reason: str) -> int:
    """Give back every unpicked reservation of an order (before re-routing it). Returns units released."""
    order = _order_for_update(session, order_id)
    released = 0
    for line in order.lines:
        free = line.allocated - line.picked
        if free > 0:
            _release_line(session, line, free)
            released += free
        line.backordered = 0
    session.flush()
    refresh_status(session, order_id)
    audit.record(session, actor, "order.deallocated", "order", order_id,
                 summary=ngettext("Released {n} reserved unit: {reason}", "Released {n} reserved units: {reason}", released).format(
                     n=released, reason=reason), order_id=order_id)
    return released


def _order_for_update(session: Session, order_id: int) -> SalesOrder:
    order = session.get(SalesOrder, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound(_("There is no order with id {id}.").format(id=order_id))
    return order


def find_order(session: Session, ref: str | int) -> int:
    """An order id from an id, our order number or the channel's order id."""
    if isinstance(ref, int):
        if session.get(SalesOrder, ref) is None:
            raise NotFound(_("There is no order with id {id}.").format(id=ref))
        return ref
    ref = ref.strip()
    found = session.scalars(select(SalesOrder.id).where(SalesOrder.number == ref).limit(2)).all()
    if not found:
        found = session.scalars(select(SalesOrder.id).where(SalesOrder.external_id == ref).limit(2)).all()
    if not found and ref.isdigit():
        found = [int(ref)] if session.get(SalesOrder, int(ref)) else []
    if not found:
        raise NotFound(_("There is no order {ref}.").format(ref=ref))
    if len(found) > 1:
        raise InvalidInput(_("More than one order is numbered {ref}; give the channel as well.").format(ref=ref))
    return found[0]


def hold(session: Session, actor: Actor, order_id: int, reason: str) -> None:
    require(actor, "orders.hold")
    reason = validate.text(reason, "reason for the hold", 300, required=True)
    order = _order_for_update(session, order_id)
    if order.status in (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value, OrderStatus.CANCELLED.value):
        raise Conflict(_("Order {number} is {status}; it cannot be put on hold.").format(number=order.number, status=order.status.replace("_", " ")))
    before = {"on_hold": order.on_hold, "hold_reason": order.hold_reason}
    order.on_hold = True
    order.hold_reason = reason
    session.flush()
    refresh_status(session, order_id)
    audit.record(session, actor, "order.held", "order", order_id, summary=_("Put on hold: {reason}").format(reason=reason),
                 before=before, after={"on_hold": True, "hold_reason": reason}, order_id=order_id)


def release_hold(session: Session, actor: Actor, order_id: int, note: str = "") -> None:
    require(actor, "orders.hold")
    order = _order_for_update(session, order_id)
    if not order.on_hold:
        raise Conflict(_("Order {number} is not on hold.").format(number=order.number))
    unknown = [l.sku for l in order.lines if l.unknown_sku and l.cancelled < l.quantity]
    if unknown:
        raise Conflict(_("Order {number} still has unknown SKUs ({skus}): add the products or cancel those lines first.").format(
            number=order.number, skus=", ".join(unknown)))
    before = {"on_hold": True, "hold_reason": order.hold_reason}
    order.on_hold = False
    order.hold_reason = ""
    session.flush()
    refresh_status(session, order_id)
    audit.record(session, actor, "order.released", "order", order_id,
                 summary=_("Hold released") + (f": {note}" if note else ""), before=before, after={"on_hold": False}, order_id=order_id)


def cancel_line(session: Session, actor: Actor, line_id: int, quantity: int | None = None, *, reason: str,
                notify_channel: bool = True) -> int:
    """Cancel what is still open of a line (or part of it). Picked units must be put back first."""
    require(actor, "orders.cancel")
    reason = validate.text(reason, "reason for the cancellation", 300, required=True)
    line = session.get(OrderLine, line_id)
    if line is None:
        raise NotFound(_("There is no order line {id}.").format(id=line_id))
    order = _order_for_update(session, line.order_id)
    open_qty = line.quantity - line.shipped - line.cancelled
    cancellable = open_qty - line.picked
    qty = cancellable if quantity is None else validate.quantity(quantity)
    if open_qty <= 0:
        raise Conflict(_("Line {sku} of order {number} has nothing left to cancel.").format(sku=line.sku, number=order.number))
    if qty > cancellable or qty <= 0:
        raise Conflict(_("Only {n} of {sku} on order {number} can be cancelled; {picked} are picked or packed and must be put back first.").format(
            n=cancellable, sku=line.sku, number=order.number, picked=line.picked))
    unreserved = open_qty - line.allocated
    from_reservation = max(0, qty - unreserved)
    if from_reservation:
        _release_line(session, line, from_reservation)
    line.cancelled += qty
    line.backordered = max(0, min(line.backordered, line.quantity - line.shipped - line.cancelled - line.allocated))
    session.flush()
    status = refresh_status(session, order.id)
    audit.record(session, actor, "order.line_cancelled", "order_line", line.id, order_id=order.id,
                 summary=_("Cancelled {qty} × {sku}: {reason}").format(qty=qty, sku=line.sku, reason=reason),
                 after={"cancelled": line.cancelled, "status": status.value})
    if notify_channel:
        _notify_cancel(session, order, reason, [(line.external_line_id, qty)])
    return qty


def cancel_order(session: Session, actor: Actor, order_id: int, *, reason: str, notify_channel: bool = True) -> None:
    """Cancel everything still open on an order; refused once any unit is picked or shipped."""
    require(actor, "orders.cancel")
    reason = validate.text(reason, "reason for the cancellation", 300, required=True)
    order = _order_for_update(session, order_id)
    if order.status == OrderStatus.CANCELLED.value:
        raise Conflict(_("Order {number} is already cancelled.").format(number=order.number))
    if any(l.shipped for l in order.lines):
        raise Conflict(_("Order {number} has already shipped in part; cancel the remaining lines one by one.").format(number=order.number)
                       if order.status not in (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value)
                       else _("Order {number} has already shipped; it cannot be cancelled.").format(number=order.number))
    if any(l.picked for l in order.lines):
        raise Conflict(_("Order {number} is being picked or packed; put the items back before cancelling.").format(number=order.number))
    cancelled = []
    for line in order.lines:
        open_qty = line.quantity - line.cancelled
        if open_qty <= 0:
            continue
        if line.allocated:
            _release_line(session, line, line.allocated)
        line.cancelled += open_qty
        line.backordered = 0
        cancelled.append((line.external_line_id, open_qty))
    order.on_hold = False
    session.flush()
    refresh_status(session, order_id)
    audit.record(session, actor, "order.cancelled", "order", order_id, order_id=order_id,
                 summary=_("Order cancelled: {reason}").format(reason=reason), after={"status": OrderStatus.CANCELLED.value})
    if notify_channel:
        _notify_cancel(session, order, reason, cancelled)


def _notify_cancel(session: Session, order: SalesOrder, reason: str, lines: list[tuple[str, int]]) -> None:
    code = session.scalar(select(Channel.code).where(Channel.id == order.channel_id))
    n = session.scalar(select(core_models.AuditEvent.id).where(core_models.AuditEvent.order_id == order.id).order_by(core_models.AuditEvent.id.desc()).limit(1))
    outbox.enqueue(session, code, "order.cancelled", f"{code}:cancel:{order.external_id}:{n}",
                  {"external_id": order.external_id, "reason": reason, "lines": [{"external_line_id": e, "quantity": q} for e, q in lines]},
                  order_id=order.id)


def add_note(session: Session, actor: Actor, order_id: int, text: str) -> int:
    text = validate.text(text, "note", 4000, required=True)
    _order_for_update(session, order_id)
    note = OrderNote(order_id=order_id, text=text, user=actor.user, created_at=utcnow())
    session.add(note)
    session.flush()
    audit.record(session, actor, "order.note", "order", order_id, summary=text[:300], order_id=order_id)
    return note.id


def record_pick(session: Session, actor: Actor, line_id: int, qty: int, *, bin: int | str | None = None) -> None:
    """A picker has taken qty units of a line (from a bin, when known) into a tote."""
    validate.quantity(qty)
    line = session.get(OrderLine, line_id)
    if line is None:
        raise NotFound(_("There is no order line {id}.").format(id=line_id))
    order = _order_for_update(session, line.order_id)
    if order.on_hold:
        raise Conflict(_("Order {number} is on hold ({reason}).").format(number=order.number, reason=order.hold_reason))
    ok = session.execute(
        update(OrderLine).where(OrderLine.id == line_id, OrderLine.picked + qty <= OrderLine.allocated)
        .values(picked=OrderLine.picked + qty)
    ).rowcount == 1
    if not ok:
        raise Conflict(_("Only {n} of {sku} are reserved and not yet picked for order {number}.").format(
            n=line.allocated - line.picked, sku=line.sku, number=order.number))
    bid = None
    if bin is not None:
        loc = session.scalar(select(Allocation.location_id).where(Allocation.order_line_id == line_id).limit(1))
        bid = inventory.take_from_bin(session, line.product_id, loc, bin, qty)
    session.expire(line)
    refresh_status(session, order.id)
    audit.record(session, actor, "order.picked", "order_line", line_id, order_id=order.id,
                 summary=(_("Picked {qty} × {sku} from {bin}").format(qty=qty, sku=line.sku, bin=inventory.bin_code(session, bid))
                          if bid is not None else _("Picked {qty} × {sku}").format(qty=qty, sku=line.sku)),
                 after={"bin_id": bid, "quantity": qty})
