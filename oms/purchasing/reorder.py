"""Reorder points and the purchase orders they suggest.

A reorder point per product and location says: when the projected stock falls below min, order up to max, rounded
up to the multiple, from this supplier. Projected stock is what is free on the shelf (on hand less what orders have
reserved), plus what open purchase orders will still bring there (drafts too: a suggestion is never made again for
units already on a PO, even an unsent one; what the supplier confirmed in their 855, once they have), plus what is in transit to it from another location, less the units
customers wait for on backorder. A backordered line counts at its order's location, or, where routing gave it none,
at the first location by priority that has a reorder point for the product: that is where it would be sourced.

``create_suggested_pos`` makes the suggestions draft POs, one per supplier and location, that a buyer edits and
sends; the units on them stop the same suggestion coming back."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from oms import inventory, transfers
from oms.catalog.models import Product
from oms.core import audit
from oms.core.audit import Actor
from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.core.types import utcnow
from oms.core.upsert import insert_ignore
from oms.inventory.models import Location, StockLevel
from oms.orders.models import OrderLine, SalesOrder
from oms.purchasing.models import PoStatus, PurchaseOrder, PurchaseOrderLine, ReorderPoint, Supplier
from oms.purchasing.orders import PoLineInput, create_po, supplier_id

# A PO in these states will still bring what it has not delivered; drafts count, so nothing is suggested twice.
ON_ORDER_STATES = (PoStatus.DRAFT.value, PoStatus.SENT.value, PoStatus.CONFIRMED.value, PoStatus.PARTLY_RECEIVED.value)


def _whole(value, what: str, *, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInput(_("The {what} must be a whole number of at least {least}, not {value!r}.").format(
            what=what, least=least, value=value))
    return value


def set_reorder_point(session: Session, actor: Actor, product: int | str, location: int | str, *, min_qty: int,
                      max_qty: int, multiple: int = 1, supplier: str | None = None) -> None:
    """Set (or replace) a product's reorder point at a location."""
    _whole(min_qty, "minimum", least=0)
    _whole(max_qty, "maximum", least=1)
    _whole(multiple, "multiple", least=1)
    if max_qty < min_qty:
        raise InvalidInput(_("The maximum ({max}) must not be below the minimum ({min}).").format(max=max_qty, min=min_qty))
    pid, lid = inventory.product_id(session, product), inventory.location_id(session, location)
    sid = supplier_id(session, supplier) if supplier else None
    values = {"min_qty": min_qty, "max_qty": max_qty, "multiple": multiple, "supplier_id": sid, "updated_at": utcnow()}
    before = session.get(ReorderPoint, (pid, lid))
    old = None if before is None else {"min": before.min_qty, "max": before.max_qty, "multiple": before.multiple,
                                       "supplier": before.supplier_id}
    if before is None:
        insert_ignore(session, ReorderPoint, {"product_id": pid, "location_id": lid, **values},
                      ["product_id", "location_id"])
    else:
        for k, v in values.items():
            setattr(before, k, v)
    session.flush()
    sku = session.scalar(select(Product.sku).where(Product.id == pid))
    loc = session.scalar(select(Location.code).where(Location.id == lid))
    audit.record(session, actor, "reorder.set", "product", pid,
                 summary=_("Reorder point of {sku} at {loc}: min {min}, max {max}, multiple {m}").format(
                     sku=sku, loc=loc, min=min_qty, max=max_qty, m=multiple),
                 before=old, after={"location": lid, "min": min_qty, "max": max_qty, "multiple": multiple,
                                    "supplier": sid})


@dataclass(frozen=True)
class ReorderView:
    sku: str
    location: str
    min_qty: int
    max_qty: int
    multiple: int
    supplier: str


def reorder_points(session: Session, *, location: str | None = None) -> list[ReorderView]:
    q = (select(Product.sku, Location.code, ReorderPoint.min_qty, ReorderPoint.max_qty, ReorderPoint.multiple,
                Supplier.code)
         .join(Product, Product.id == ReorderPoint.product_id).join(Location, Location.id == ReorderPoint.location_id)
         .outerjoin(Supplier, Supplier.id == ReorderPoint.supplier_id).order_by(Location.code, Product.sku))
    if location:
        q = q.where(ReorderPoint.location_id == inventory.location_id(session, location))
    return [ReorderView(sku, loc, mn, mx, m, sup or "") for sku, loc, mn, mx, m, sup in session.execute(q)]


@dataclass(frozen=True)
class Suggestion:
    """One PO line to propose, with the figures behind it."""

    supplier: str  # "" when the reorder point names none
    location: str
    sku: str
    product_id: int
    min_qty: int
    max_qty: int
    multiple: int
    on_hand: int
    reserved: int
    on_order: int
    in_transit: int
    backordered: int
    quantity: int
    unit_cost_minor: int
    expected_date: date

    @property
    def projected(self) -> int:
        return self.on_hand - self.reserved + self.on_order + self.in_transit - self.backordered


def order_quantity(projected: int, min_qty: int, max_qty: int, multiple: int) -> int:
    """The rule: below min, order up to max, rounded up to the multiple; else nothing."""
    if projected >= min_qty:
        return 0
    short = max_qty - projected
    return -(-short // multiple) * multiple


def suggest(session: Session, *, supplier: str | None = None, today: date | None = None) -> list[Suggestion]:
    """The PO lines the reorder points call for now, by supplier, location and SKU."""
    today = today or utcnow().date()
    q = (select(ReorderPoint, Product.sku, Location.code, Location.priority, Supplier.code, Supplier.lead_days)
         .join(Product, Product.id == ReorderPoint.product_id).join(Location, Location.id == ReorderPoint.location_id)
         .outerjoin(Supplier, Supplier.id == ReorderPoint.supplier_id))
    if supplier:
        q = q.where(ReorderPoint.supplier_id == supplier_id(session, supplier))
    points = session.execute(q).all()
    if not points:
        return []
    pids = sorted({rp.product_id for rp, *_ in points})
    levels = {(p, l): (oh, al) for p, l, oh, al in session.execute(
        select(StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand, StockLevel.allocated)
        .where(StockLevel.product_id.in_(pids)))}
    # What a supplier's 855 confirmed is what will come; until they answer, what was ordered.
    coming = func.coalesce(PurchaseOrderLine.confirmed_quantity, PurchaseOrderLine.quantity)
    on_order = {(p, l): int(n) for p, l, n in session.execute(
        select(PurchaseOrderLine.product_id, PurchaseOrder.location_id,
               func.sum(case((coming > PurchaseOrderLine.received, coming - PurchaseOrderLine.received), else_=0)))
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.po_id)
        .where(PurchaseOrder.status.in_(ON_ORDER_STATES), PurchaseOrderLine.product_id.in_(pids))
        .group_by(PurchaseOrderLine.product_id, PurchaseOrder.location_id))}
    moving = transfers.in_transit(session, products=pids)
    # Backorders, by the location that will source them (see the module's docstring).
    all_points = session.execute(
        select(ReorderPoint.product_id, ReorderPoint.location_id).join(Location, Location.id == ReorderPoint.location_id)
        .where(ReorderPoint.product_id.in_(pids)).order_by(Location.priority, Location.id)).all()
    first: dict[int, int] = {}
    has_point = set()
    for p, l in all_points:
        first.setdefault(p, l)
        has_point.add((p, l))
    waiting: dict[tuple[int, int], int] = defaultdict(int)
    for p, l, n in session.execute(
            select(OrderLine.product_id, SalesOrder.location_id, func.sum(OrderLine.backordered))
            .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
            .where(OrderLine.backordered > 0, OrderLine.product_id.in_(pids), SalesOrder.status != "cancelled")
            .group_by(OrderLine.product_id, SalesOrder.location_id)):
        waiting[(p, l if (p, l) in has_point else first[p])] += int(n)
    last_cost = {(p, s): c for p, s, c in session.execute(
        select(PurchaseOrderLine.product_id, PurchaseOrder.supplier_id, PurchaseOrderLine.unit_cost_minor)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.po_id)
        .where(PurchaseOrderLine.product_id.in_(pids)).order_by(PurchaseOrderLine.id))}
    out = []
    for rp, sku, loc, _prio, sup, lead in points:
        key = (rp.product_id, rp.location_id)
        oh, al = levels.get(key, (0, 0))
        s = Suggestion(sup or "", loc, sku, rp.product_id, rp.min_qty, rp.max_qty, rp.multiple, oh, al,
                       on_order.get(key, 0), moving.get(key, 0), waiting.get(key, 0), 0,
                       last_cost.get((rp.product_id, rp.supplier_id), 0), today + timedelta(days=lead or 0))
        qty = order_quantity(s.projected, rp.min_qty, rp.max_qty, rp.multiple)
        if qty:
            out.append(Suggestion(**{**s.__dict__, "quantity": qty}))
    out.sort(key=lambda s: (s.supplier == "", s.supplier, s.location, s.sku))
    return out


def create_suggested_pos(session: Session, actor: Actor, *, supplier: str | None = None) -> list[tuple[str, int]]:
    """The suggestions as draft POs, one per supplier and location. Returns [(PO number, lines)]; a suggestion
    without a supplier is refused in words, and nothing is written."""
    found = suggest(session, supplier=supplier)
    orphans = sorted({s.sku for s in found if not s.supplier})
    if orphans:
        raise InvalidInput(_("No supplier is set for {skus}: set one with `reorder set SKU --location L --supplier S`, "
                             "or suggest for one supplier (--supplier).").format(skus=", ".join(orphans[:8])))
    groups: dict[tuple[str, str], list[Suggestion]] = defaultdict(list)
    for s in found:
        groups[(s.supplier, s.location)].append(s)
    made = []
    for (sup, loc), items in groups.items():
        _id, number = create_po(session, actor, sup, loc, lines=[
            PoLineInput(s.sku, s.quantity, s.unit_cost_minor, s.expected_date) for s in items],
            note=_("Suggested by the reorder points"))
        made.append((number, len(items)))
    return made

