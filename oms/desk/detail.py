"""One order's whole story for the order screen: lines, allocations, the routing decision and its
plans, shipments and the timeline of what happened, by whom."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms import threepl
from oms.core.models import AuditEvent
from oms.core.money import format_money
from oms.desk.queue import S
from oms.inventory.models import Location
from oms.orders.models import Allocation, Channel, OrderLine, OrderNote, SalesOrder
from oms.purchasing import Expected, expected_for_lines
from oms.returns import RmaSummary, order_rmas
from oms.routing.models import RoutingDecision
from oms.shipping.models import Package, Shipment, ShipmentLine, TrackingEvent


@dataclass(frozen=True)
class LineView:
    id: int
    sku: str
    description: str
    unknown_sku: bool
    ordered: int
    allocated: int
    backordered: int
    picked: int
    packed: int
    shipped: int
    cancelled: int
    returned: int
    unit_price: str
    expected: date | None = None  # a backordered line: when its stock is expected, from an open PO
    expected_from: str = ""  # that PO's number

    @property
    def expected_text(self) -> str:
        """"expected 12 Dec from PO-1042", or "" when no open PO covers the backorder."""
        if self.expected is None:
            return ""
        return Expected(self.expected, self.expected_from).text

    @property
    def open(self) -> int:
        return self.ordered - self.shipped - self.cancelled

    @property
    def cancellable(self) -> int:
        return self.open - self.picked


@dataclass(frozen=True)
class AllocationView:
    location: str
    sku: str
    quantity: int
    at: datetime


@dataclass(frozen=True)
class ShipmentView:
    id: int
    status: str
    location: str
    carrier: str
    service: str
    tracking_number: str
    packages: int
    units: int
    created_at: datetime
    shipped_at: datetime | None


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "audit", "tracking", "note"
    text: str
    who: str = ""


@dataclass(frozen=True)
class PlanView:
    """One candidate plan of a routing decision, as the decision stored it."""

    locations: tuple[str, ...]  # location names, one per shipment
    complete: bool
    short: tuple[str, ...]  # "SKU ×n" that no allowed location had
    cost: str  # estimated shipping, formatted; "" when no rate
    delivery: date | None
    chosen: bool
    late: bool = False  # arrives after the day promised to the customer

    @property
    def shipments(self) -> int:
        return len(self.locations)


@dataclass(frozen=True)
class RoutingView:
    """The latest routing decision of an order: the rule, its sentence and the plans it weighed."""

    at: datetime
    rule: str
    outcome: str  # allocated, split, partial, backordered, held
    explanation: str
    plans: tuple[PlanView, ...]
    decisions: int  # how many times the order has been routed
    promise: date | None = None  # the day promised to the customer, when there is one

    @property
    def late(self) -> bool:
        """The chosen plan arrives after the promise."""
        return bool(self.plans) and self.plans[0].late


@dataclass(frozen=True)
class OrderDetail:
    id: int
    number: str
    channel: str
    channel_name: str
    external_id: str
    order_type: str
    status: str
    on_hold: bool
    hold_reason: str
    placed_at: datetime
    ship_by: datetime | None
    deliver_by: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    service_level: str
    customer_name: str
    customer_email: str
    ship_to: tuple[str, ...]  # address lines, ready to print
    phone: str
    location: str
    total: str
    lines: tuple[LineView, ...]
    allocations: tuple[AllocationView, ...]
    shipments: tuple[ShipmentView, ...]
    timeline: tuple[TimelineEntry, ...]
    routing: RoutingView | None = None
    rmas: tuple[RmaSummary, ...] = ()  # the order's returns, oldest first
    partner: str = ""  # where it stands at a 3PL: "sent to 3PL (#123, acknowledged)"; empty when never sent to one

    @property
    def is_open(self) -> bool:
        return self.status not in (S.SHIPPED.value, S.DELIVERED.value, S.CANCELLED.value)

    @property
    def can_cancel(self) -> bool:
        return self.is_open and not any(l.shipped or l.picked for l in self.lines)


def order_detail(session: Session, order_id: int) -> OrderDetail | None:
    o = session.execute(select(SalesOrder.__table__).where(SalesOrder.id == order_id)).mappings().first()
    if o is None:
        return None
    ch = session.execute(select(Channel.code, Channel.name).where(Channel.id == o["channel_id"])).one()
    locations = dict(session.execute(select(Location.id, Location.name)).all())  # "Reno Warehouse", not "RNO"
    lines = tuple(
        LineView(l.id, l.sku, l.description, l.unknown_sku, l.quantity, l.allocated, l.backordered, l.picked, l.packed,
                 l.shipped, l.cancelled, l.returned, format_money(l.unit_price_minor, o["currency"]))
        for l in session.execute(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)).scalars()
    )
    waiting = expected_for_lines(session, [l.id for l in lines if l.backordered])
    if waiting:
        lines = tuple(replace(l, expected=waiting[l.id].day, expected_from=waiting[l.id].po_number) if l.id in waiting else l
                      for l in lines)
    allocations = tuple(
        AllocationView(locations.get(a.location_id, ""), a.sku, a.quantity, a.created_at)
        for a in session.execute(
            select(Allocation.location_id, OrderLine.sku, Allocation.quantity, Allocation.created_at)
            .join(OrderLine, OrderLine.id == Allocation.order_line_id)
            .where(OrderLine.order_id == order_id).order_by(Allocation.id))
    )
    shipment_rows = session.execute(select(Shipment.id, Shipment.status, Shipment.location_id, Shipment.carrier, Shipment.service,
                                           Shipment.tracking_number, Shipment.created_at, Shipment.shipped_at)
                                    .where(Shipment.order_id == order_id).order_by(Shipment.id)).all()
    sids = [r.id for r in shipment_rows]
    packages = dict(session.execute(select(Package.shipment_id, func.count()).where(Package.shipment_id.in_(sids))
                                    .group_by(Package.shipment_id)).all()) if sids else {}
    units = dict(session.execute(select(ShipmentLine.shipment_id, func.sum(ShipmentLine.quantity))
                                 .where(ShipmentLine.shipment_id.in_(sids)).group_by(ShipmentLine.shipment_id)).all()) if sids else {}
    shipments = tuple(
        ShipmentView(r.id, r.status, locations.get(r.location_id, ""), r.carrier, r.service, r.tracking_number,
                     int(packages.get(r.id, 0)), int(units.get(r.id, 0) or 0), r.created_at, r.shipped_at)
        for r in shipment_rows
    )
    timeline = _timeline(session, order_id, sids)
    region_line = " ".join(p for p in (o["ship_city"] + ("," if o["ship_city"] and o["ship_region"] else ""),
                                       o["ship_region"], o["ship_postal_code"]) if p)
    ship_to = tuple(p for p in (o["ship_name"], o["ship_company"], o["ship_address1"], o["ship_address2"], region_line,
                                o["ship_country"]) if p)
    return OrderDetail(
        id=o["id"], number=o["number"], channel=ch.code, channel_name=ch.name, external_id=o["external_id"],
        order_type=o["order_type"], status=o["status"], on_hold=bool(o["on_hold"]), hold_reason=o["hold_reason"],
        placed_at=o["placed_at"], ship_by=o["ship_by"], deliver_by=o["deliver_by"], shipped_at=o["shipped_at"],
        delivered_at=o["delivered_at"], cancelled_at=o["cancelled_at"], service_level=o["service_level"],
        customer_name=o["customer_name"], customer_email=o["customer_email"], ship_to=ship_to, phone=o["ship_phone"],
        location=locations.get(o["location_id"], ""), total=format_money(o["total_minor"], o["currency"]),
        lines=lines, allocations=allocations, shipments=shipments, timeline=timeline,
        routing=latest_routing(session, order_id, o["currency"], o["deliver_by"]), rmas=tuple(order_rmas(session, order_id)),
        partner=threepl.order_standing(session, order_id),
    )


def _plan_view(plan: dict, names: dict[str, str], currency: str, chosen: bool, promise: date | None = None) -> PlanView:
    delivery = plan.get("delivery")
    cost = plan.get("cost_minor")
    arrives = date.fromisoformat(delivery) if delivery else None
    return PlanView(
        locations=tuple(names.get(code, code) for code in plan.get("locations") or ()),
        complete=bool(plan.get("complete", not plan.get("short"))),
        short=tuple(f"{s.get('sku', '')} ×{s.get('quantity', 0)}" for s in plan.get("short") or ()),
        cost=format_money(cost, currency) if cost is not None else "",
        delivery=arrives,
        chosen=chosen,
        late=bool(arrives and promise and arrives > promise),  # as routing.explain judges it
    )


def latest_routing(session: Session, order_id: int, currency: str = "USD", deliver_by: datetime | None = None
                   ) -> RoutingView | None:
    """The order's most recent routing decision with its candidate plans, best first."""
    d = session.execute(
        select(RoutingDecision.at, RoutingDecision.rule_name, RoutingDecision.outcome, RoutingDecision.explanation,
               RoutingDecision.plan, RoutingDecision.candidates)
        .where(RoutingDecision.order_id == order_id)
        .order_by(RoutingDecision.at.desc(), RoutingDecision.id.desc()).limit(1)).first()
    if d is None:
        return None
    count = int(session.scalar(select(func.count()).select_from(RoutingDecision).where(RoutingDecision.order_id == order_id)) or 0)
    names = dict(session.execute(select(Location.code, Location.name)).all())
    candidates = list((d.candidates or {}).get("plans") or [])
    if not candidates and d.plan:
        candidates = [d.plan]
    promise = deliver_by.date() if deliver_by else None
    plans = tuple(_plan_view(p, names, currency, i == 0, promise) for i, p in enumerate(candidates))
    return RoutingView(d.at, d.rule_name, d.outcome, d.explanation, plans, count, promise)


def _timeline(session: Session, order_id: int, shipment_ids: list[int]) -> tuple[TimelineEntry, ...]:
    """Audit events, carrier tracking and notes, newest first.

    A note and a tracking event are each also audited; the timeline shows the
    richer record (the whole note, the carrier's place) instead of both.
    """
    entries: list[TimelineEntry] = []
    for e in session.execute(select(AuditEvent.at, AuditEvent.action, AuditEvent.summary, AuditEvent.user, AuditEvent.station)
                             .where(AuditEvent.order_id == order_id).order_by(AuditEvent.at, AuditEvent.id)):
        if e.action == "order.note" or e.action.startswith("tracking."):
            continue
        who = f"{e.user} @ {e.station}" if e.station else e.user
        entries.append(TimelineEntry(e.at, "audit", e.summary or e.action, who))
    if shipment_ids:
        for t in session.execute(select(TrackingEvent.occurred_at, TrackingEvent.status, TrackingEvent.description,
                                        TrackingEvent.city, Shipment.tracking_number, Shipment.carrier)
                                 .join(Shipment, Shipment.id == TrackingEvent.shipment_id)
                                 .where(TrackingEvent.shipment_id.in_(shipment_ids))):
            text = t.status.replace("_", " ").capitalize()
            if t.description:
                text += f" — {t.description}"
            if t.city:
                text += f" ({t.city})"
            entries.append(TimelineEntry(t.occurred_at, "tracking", text, " ".join(p for p in (t.carrier, t.tracking_number) if p)))
    for n in session.execute(select(OrderNote.created_at, OrderNote.text, OrderNote.user).where(OrderNote.order_id == order_id)):
        entries.append(TimelineEntry(n.created_at, "note", n.text, n.user))
    entries.sort(key=lambda e: e.at, reverse=True)
    return tuple(entries)
