"""An order's status, derived from its lines' quantities, and its titles in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.core.i18n import _
from oms.orders.models import OrderLine, OrderStatus, OrderType, SalesOrder

STATUS_TITLES = {
    OrderStatus.NEW.value: _("New"),
    OrderStatus.BACKORDERED.value: _("Backordered"),
    OrderStatus.PARTIALLY_ALLOCATED.value: _("Part allocated"),
    OrderStatus.ALLOCATED.value: _("Ready to pick"),
    OrderStatus.PICKING.value: _("Picking"),
    OrderStatus.PACKED.value: _("Packed"),
    OrderStatus.PARTIALLY_SHIPPED.value: _("Part shipped"),
    OrderStatus.SHIPPED.value: _("Shipped"),
    OrderStatus.DELIVERED.value: _("Delivered"),
    OrderStatus.CANCELLED.value: _("Cancelled"),
    OrderStatus.ON_HOLD.value: _("On hold"),
}

ORDER_TYPE_TITLES = {OrderType.DTC.value: _("Direct to consumer"), OrderType.MARKETPLACE.value: _("Marketplace"),
                     OrderType.WHOLESALE.value: _("Wholesale")}


def status_title(status: str) -> str:
    return STATUS_TITLES.get(status, status.replace("_", " ").capitalize())


from sqlalchemy import bindparam, func, update

from oms.core.i18n import _
from oms.core.types import utcnow
from oms.orders.models import OrderStatus, OrderType


@dataclass
class LineQty:
    quantity: int
    allocated: int = 0
    backordered: int = 0
    picked: int = 0
    packed: int = 0
    shipped: int = 0
    cancelled: int = 0


def derive_status(lines: Sequence[LineQty], *, on_hold: bool, delivered: bool) -> OrderStatus:
    """The order's status from its line quantities and hold; the single source of this rule."""
    ordered = sum(l.quantity for l in lines)
    shipped = sum(l.shipped for l in lines)
    cancelled = sum(l.cancelled for l in lines)
    open_qty = ordered - shipped - cancelled
    if open_qty <= 0:
        if shipped == 0:
            return OrderStatus.CANCELLED
        return OrderStatus.DELIVERED if delivered else OrderStatus.SHIPPED
    if on_hold:
        return OrderStatus.ON_HOLD
    packed = sum(l.packed for l in lines)
    picked = sum(l.picked for l in lines)
    allocated = sum(l.allocated for l in lines)
    if packed >= open_qty:
        return OrderStatus.PACKED
    if picked > 0:
        return OrderStatus.PICKING
    if shipped > 0:
        return OrderStatus.PARTIALLY_SHIPPED
    if allocated >= open_qty:
        return OrderStatus.ALLOCATED
    if allocated > 0:
        return OrderStatus.PARTIALLY_ALLOCATED
    if any(l.backordered for l in lines):
        return OrderStatus.BACKORDERED
    return OrderStatus.NEW


_LINE_QTY_COLUMNS = (
    OrderLine.quantity, OrderLine.allocated, OrderLine.backordered, OrderLine.picked,
    OrderLine.packed, OrderLine.shipped, OrderLine.cancelled,
)


def refresh_status(session: Session, order_id: int) -> OrderStatus:
    """Recompute and store an order's status; every service that changes quantities calls this."""
    order = session.execute(
        select(SalesOrder.on_hold, SalesOrder.delivered_at, SalesOrder.status).where(SalesOrder.id == order_id)
    ).one()
    lines = [LineQty(*r) for r in session.execute(select(*_LINE_QTY_COLUMNS).where(OrderLine.order_id == order_id))]
    status = derive_status(lines, on_hold=order.on_hold, delivered=order.delivered_at is not None)
    values: dict = {
        "status": status.value,
        "line_count": len(lines),
        "unit_count": sum(l.quantity - l.cancelled for l in lines),
        "updated_at": utcnow(),
    }
    if status == OrderStatus.CANCELLED and order.status != OrderStatus.CANCELLED.value:
        values["cancelled_at"] = utcnow()
    session.execute(update(SalesOrder).where(SalesOrder.id == order_id).values(**values))
    return status


def refresh_statuses(session: Session, order_ids: Sequence[int], **also) -> dict[int, OrderStatus]:
    """refresh_status() for many orders at once (a wave's picks, a batch shipped): two reads and one batched update.

    ``also`` are values written to every one of these orders with their status (``shipped_at`` for a batch shipped).
    """
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        return {}
    head = {r.id: r for r in session.execute(
        select(SalesOrder.id, SalesOrder.on_hold, SalesOrder.delivered_at, SalesOrder.status).where(SalesOrder.id.in_(ids)))}
    lines: dict[int, list[LineQty]] = {oid: [] for oid in ids}
    for r in session.execute(select(OrderLine.order_id, *_LINE_QTY_COLUMNS).where(OrderLine.order_id.in_(ids))):
        lines[r[0]].append(LineQty(*r[1:]))
    now = utcnow()
    out, rows = {}, []
    for oid in ids:
        o = head[oid]
        status = derive_status(lines[oid], on_hold=o.on_hold, delivered=o.delivered_at is not None)
        out[oid] = status
        row = {"status": status.value, "line_count": len(lines[oid]),
               "unit_count": sum(l.quantity - l.cancelled for l in lines[oid]), "updated_at": now,
               "cancelled_at": now if status == OrderStatus.CANCELLED and o.status != OrderStatus.CANCELLED.value else None,
               **also}
        rows.append({"oid": oid, **{f"v_{k}": v for k, v in row.items()}})
    table = SalesOrder.__table__
    values = {k: bindparam(f"v_{k}", type_=table.c[k].type) for k in ("status", "line_count", "unit_count", "updated_at", *also)}
    values["cancelled_at"] = func.coalesce(bindparam("v_cancelled_at", type_=table.c.cancelled_at.type), table.c.cancelled_at)
    session.connection().execute(update(table).where(table.c.id == bindparam("oid")).values(values), rows)
    return out


def refresh_loaded_status(order: SalesOrder) -> OrderStatus:
    """refresh_status() for an order whose lines are loaded in the session: no queries of its own."""
    lines = [LineQty(l.quantity, l.allocated, l.backordered, l.picked, l.packed, l.shipped, l.cancelled) for l in order.lines]
    status = derive_status(lines, on_hold=order.on_hold, delivered=order.delivered_at is not None)
    if status == OrderStatus.CANCELLED and order.status != OrderStatus.CANCELLED.value:
        order.cancelled_at = utcnow()
    order.status = status.value
    order.line_count = len(lines)
    order.unit_count = sum(l.quantity - l.cancelled for l in lines)
    order.updated_at = utcnow()
    return status
