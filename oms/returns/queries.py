"""What the screens and the command line read about returns: open RMAs by age and status, one RMA with its lines,
units and timeline, an order's RMAs, and what waits for review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms.core.models import AuditEvent
from oms.core.money import format_money
from oms.inventory.models import Bin, Location
from oms.orders.models import OrderLine, SalesOrder
from oms.catalog.models import Product
from oms.returns.models import ReturnReview, ReturnUnit, Rma, RmaLabel, RmaLine
from oms.returns.rmas import OPEN_STATES, resolution_title, rma_id, status_title
from oms.returns.receiving import disposition_title


@dataclass(frozen=True)
class RmaSummary:
    number: str
    order_number: str
    customer: str
    status: str
    status_title: str
    reason: str
    resolution: str
    units: int
    received: int
    created_at: datetime
    tracking_number: str


@dataclass(frozen=True)
class RmaLineView:
    sku: str
    quantity: int
    received: int
    description: str = ""


@dataclass(frozen=True)
class UnitView:
    sku: str
    quantity: int
    disposition: str
    bin_code: str
    note: str
    at: datetime
    user: str


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    action: str
    summary: str
    user: str
    station: str


@dataclass(frozen=True)
class RmaDetail:
    id: int
    number: str
    order_number: str
    customer: str
    location: str
    location_address: tuple[str, ...]  # where the parcel goes back to
    placed_at: datetime
    created_at: datetime
    status: str
    status_title: str
    reason: str
    customer_note: str
    resolution: str
    restocking_fee: str
    refund: str | None
    credit_notes: str
    resolution_note: str
    source: str
    carrier: str
    tracking_number: str
    has_label: bool
    lines: tuple[RmaLineView, ...]
    units: tuple[UnitView, ...]
    timeline: tuple[TimelineEntry, ...]


@dataclass(frozen=True)
class ReviewView:
    id: int
    kind: str
    location: str
    rma_number: str | None
    order_number: str | None
    sku: str | None
    scanned: str
    quantity: int
    note: str
    created_at: datetime


def _summaries(session: Session, where) -> list[RmaSummary]:
    units = (select(RmaLine.rma_id, func.sum(RmaLine.quantity).label("units"), func.sum(RmaLine.received).label("received"))
             .group_by(RmaLine.rma_id).subquery())
    q = (select(Rma, SalesOrder.number, SalesOrder.customer_name, units.c.units, units.c.received)
         .join(SalesOrder, SalesOrder.id == Rma.order_id).outerjoin(units, units.c.rma_id == Rma.id).where(*where)
         .order_by(Rma.created_at, Rma.id))
    return [RmaSummary(r.number, number, customer, r.status, status_title(r.status), r.reason_code, resolution_title(r.resolution),
                       int(n or 0), int(got or 0), r.created_at, r.tracking_number)
            for r, number, customer, n, got in session.execute(q)]


def list_rmas(session: Session, *, status: str | None = None, open_only: bool = False) -> list[RmaSummary]:
    """RMAs oldest first (the open ones by age), of one status or every one."""
    where = []
    if status:
        where.append(Rma.status == status)
    if open_only:
        where.append(Rma.status.in_(OPEN_STATES))
    return _summaries(session, where)


def order_rmas(session: Session, order_id: int) -> list[RmaSummary]:
    """The RMAs of one order, for its detail view."""
    return _summaries(session, [Rma.order_id == order_id])


def rma_detail(session: Session, ref: int | str) -> RmaDetail:
    rid = rma_id(session, ref)
    r = session.get(Rma, rid)
    order = session.get(SalesOrder, r.order_id)
    # The channel's words for the item, unless it sent none but the SKU: then our product's name.
    lines = tuple(RmaLineView(l.sku, l.quantity, l.received, description if description and description != l.sku else name)
                  for l, description, name in session.execute(
                      select(RmaLine, OrderLine.description, Product.name).join(OrderLine, OrderLine.id == RmaLine.order_line_id)
                      .join(Product, Product.id == RmaLine.product_id).where(RmaLine.rma_id == rid).order_by(RmaLine.id)))
    units = tuple(UnitView(sku, u.quantity, disposition_title(u.disposition), code or "", u.condition_note, u.created_at, u.user)
                  for u, sku, code in session.execute(
                      select(ReturnUnit, RmaLine.sku, Bin.code).join(RmaLine, RmaLine.id == ReturnUnit.rma_line_id)
                      .outerjoin(Bin, Bin.id == ReturnUnit.bin_id).where(RmaLine.rma_id == rid).order_by(ReturnUnit.id)))
    timeline = tuple(TimelineEntry(e.at, e.action, e.summary, e.user, e.station) for e in session.execute(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.summary, AuditEvent.user, AuditEvent.station)
        .where(AuditEvent.entity == "rma", AuditEvent.entity_id == str(rid)).order_by(AuditEvent.at, AuditEvent.id)))
    loc = session.get(Location, r.location_id)
    region = " ".join(p for p in (loc.city, loc.region, loc.postal_code) if p)
    address = tuple(p for p in (loc.name, loc.address1, region, loc.country) if p)
    has_label = session.scalar(select(func.count()).select_from(RmaLabel).where(RmaLabel.rma_id == rid)) > 0
    return RmaDetail(
        rid, r.number, order.number, order.customer_name or order.ship_name, loc.code, address, order.placed_at, r.created_at,
        r.status, status_title(r.status), r.reason_code,
        r.customer_note, resolution_title(r.resolution), format_money(r.restocking_fee_minor, r.currency),
        None if r.refund_minor is None else format_money(r.refund_minor, r.currency), r.credit_notes, r.resolution_note,
        r.source, r.carrier,
        r.tracking_number, has_label, lines, units, timeline)


def reviews(session: Session, *, open_only: bool = True) -> list[ReviewView]:
    """Returns waiting for a person: unidentified parcels and items received, not on their RMA."""
    q = (select(ReturnReview, Location.code, Rma.number, SalesOrder.number, Product.sku)
         .join(Location, Location.id == ReturnReview.location_id).outerjoin(Rma, Rma.id == ReturnReview.rma_id)
         .outerjoin(SalesOrder, SalesOrder.id == ReturnReview.order_id).outerjoin(Product, Product.id == ReturnReview.product_id)
         .order_by(ReturnReview.created_at, ReturnReview.id))
    if open_only:
        q = q.where(ReturnReview.reviewed_at.is_(None))
    return [ReviewView(v.id, v.kind, loc, rma, order, sku, v.scanned, v.quantity, v.note, v.created_at)
            for v, loc, rma, order, sku in session.execute(q)]


def dock_locations(session: Session) -> list[str]:
    """Codes of the warehouses a parcel can come back to, first choice first (our own, by priority)."""
    return list(session.scalars(select(Location.code).where(Location.kind == "warehouse")
                                .order_by(Location.priority, Location.code)))
