"""Read-side queries for the screens: paged order queues, bucket counts, search, order detail, stock lookup.

Every function takes an open session and returns plain frozen dataclasses, never
ORM objects, so a GUI can hand the results across threads and render them without
touching the database again. Everything here is bounded: pages have a limit,
searches use the text indexes of oms/order_search.py or index range scans, and
counts that could grow with the table are capped or run on indexed columns only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timezone
from typing import Sequence

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from .gs1 import Gs1Error, classify_scan, is_valid_gtin, normalize_gtin
from .i18n import _
from .models import (
    AuditEvent,
    Allocation,
    Barcode,
    Bin,
    BinStock,
    Channel,
    Location,
    OrderLine,
    OrderNote,
    OrderStatus,
    OrderType,
    Package,
    Product,
    RoutingDecision,
    SalesOrder,
    Shipment,
    ShipmentLine,
    StockLevel,
    StockMovement,
    TrackingEvent,
    User,
)
from .money import format_money
from .order_search import MIN_SEARCH, search_ids

# -- buckets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    key: str
    title: str
    statuses: tuple[str, ...] = ()  # empty: not a status bucket (shipped today, all)


S = OrderStatus
BUCKETS: tuple[Bucket, ...] = (
    Bucket("to_route", _("To route"), (S.NEW.value,)),
    Bucket("on_hold", _("On hold / exceptions"), (S.ON_HOLD.value,)),
    Bucket("backordered", _("Backordered"), (S.BACKORDERED.value, S.PARTIALLY_ALLOCATED.value)),
    Bucket("ready_to_pick", _("Ready to pick"), (S.ALLOCATED.value,)),
    Bucket("picking", _("Picking"), (S.PICKING.value,)),
    Bucket("ready_to_ship", _("Ready to ship"), (S.PACKED.value,)),
    Bucket("shipped_today", _("Shipped today")),
    Bucket("all", _("All orders")),
)
BUCKETS_BY_KEY = {b.key: b for b in BUCKETS}

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


def local_midnight(now: datetime | None = None) -> datetime:
    """The start of today on this machine's clock, as an aware datetime."""
    local = (now or datetime.now(timezone.utc)).astimezone()
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)


# -- the queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows. Dates are aware datetimes: ``ship_by_from`` inclusive, ``ship_by_before`` exclusive."""

    bucket: str = "all"
    channel_id: int | None = None
    location_id: int | None = None
    order_type: str | None = None
    ship_by_from: datetime | None = None
    ship_by_before: datetime | None = None
    search: str = ""
    order_ids: tuple[int, ...] | None = None  # a search already run (resolve_search): only these orders


@dataclass(frozen=True)
class QueueSort:
    column: str = "placed"
    descending: bool = True


@dataclass(frozen=True)
class QueueRow:
    id: int
    number: str
    channel: str
    external_id: str
    order_type: str
    placed_at: datetime
    ship_by: datetime | None
    customer: str
    email: str
    destination: str
    line_count: int
    unit_count: int
    status: str
    hold_reason: str
    location: str
    deliver_by: datetime | None = None
    backordered_since: datetime | None = None  # read for the Backordered bucket only

    @property
    def promise_missed_at(self) -> datetime | None:
        """The moment the delivery promise is lost if the order has not shipped: its ship-by, else its deliver-by."""
        return self.ship_by or self.deliver_by


SORT_COLUMNS = {
    "number": SalesOrder.number,
    "channel": SalesOrder.channel_id,
    "placed": SalesOrder.placed_at,
    "ship_by": SalesOrder.ship_by,
    "customer": SalesOrder.customer_name,
    "destination": SalesOrder.ship_city,
    "units": SalesOrder.unit_count,
    "status": SalesOrder.status,
    "location": SalesOrder.location_id,
    "promise": SalesOrder.ship_by,
}
SEARCH_CAP = 5000  # a search that matches more than this is narrowed, not paged through


def _next_prefix(text: str) -> str:
    return text[:-1] + chr(ord(text[-1]) + 1)


def _prefix(column, text: str):
    """column starts with text, as an index range (LIKE would not use the index on both databases)."""
    return and_(column >= text, column < _next_prefix(text))


def _day_start(since: datetime | None) -> datetime:
    return since or local_midnight()


def _filtered(session: Session, query: Select, f: QueueFilter, *, bucket: bool = True, search: bool = True,
              since: datetime | None = None) -> Select:
    if bucket:
        b = BUCKETS_BY_KEY.get(f.bucket)
        if b is None:
            raise ValueError(f"unknown bucket {f.bucket!r}")
        if len(b.statuses) == 1:
            query = query.where(SalesOrder.status == b.statuses[0])
        elif b.statuses:
            query = query.where(SalesOrder.status.in_(b.statuses))
        elif b.key == "shipped_today":
            query = query.where(SalesOrder.shipped_at >= _day_start(since))
    if f.channel_id is not None:
        query = query.where(SalesOrder.channel_id == f.channel_id)
    if f.location_id is not None:
        query = query.where(SalesOrder.location_id == f.location_id)
    if f.order_type:
        query = query.where(SalesOrder.order_type == f.order_type)
    if f.ship_by_from is not None:
        query = query.where(SalesOrder.ship_by >= f.ship_by_from)
    if f.ship_by_before is not None:
        query = query.where(SalesOrder.ship_by < f.ship_by_before)
    if search:
        ids = search_ids(session, f.search)
        if ids is not None:
            query = query.where(SalesOrder.id.in_(ids.limit(SEARCH_CAP)))
        if f.order_ids is not None:
            query = query.where(SalesOrder.id.in_(f.order_ids))
    return query


def resolve_search(session: Session, f: QueueFilter) -> QueueFilter:
    """Run the filter's search once: the same filter with the matching order ids instead of the text.

    The count and every page of one search then read the same orders without
    searching again, which is most of the cost of a search.
    """
    ids = search_ids(session, f.search)
    if ids is None:
        return replace(f, search="")
    return replace(f, search="", order_ids=tuple(session.scalars(ids.limit(SEARCH_CAP))))


_ROW_COLUMNS = (
    SalesOrder.id, SalesOrder.number, SalesOrder.channel_id, SalesOrder.external_id, SalesOrder.order_type,
    SalesOrder.placed_at, SalesOrder.ship_by, SalesOrder.customer_name, SalesOrder.customer_email,
    SalesOrder.ship_city, SalesOrder.ship_region, SalesOrder.ship_country, SalesOrder.line_count,
    SalesOrder.unit_count, SalesOrder.status, SalesOrder.hold_reason, SalesOrder.location_id, SalesOrder.deliver_by,
)


def _names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    # Two tiny tables: read them whole rather than joining them into every page.
    channels = dict(session.execute(select(Channel.id, Channel.code)).all())
    locations = dict(session.execute(select(Location.id, Location.code)).all())
    return channels, locations


def _destination(city: str, region: str, country: str) -> str:
    place = ", ".join(p for p in (city, region) if p)
    return f"{place} {country}".strip() if country and country != "US" else place or country


def queue_page(session: Session, f: QueueFilter, sort: QueueSort, offset: int, limit: int, *,
               total: int | None = None, since: datetime | None = None) -> list[QueueRow]:
    """One page of the queue in the requested order; ``total`` lets deep pages be read from the far end."""
    column = SORT_COLUMNS.get(sort.column)
    if column is None:
        raise ValueError(f"unknown sort column {sort.column!r}")
    descending = sort.descending
    reverse = False
    if total is not None and offset > total // 2:
        # OFFSET walks the index: past the middle, walk it from the other end instead.
        reverse = True
        descending = not descending
        end = min(total, offset + limit)
        offset, limit = total - end, end - offset
        if limit <= 0:
            return []
    order = (column.desc(), SalesOrder.id.desc()) if descending else (column.asc(), SalesOrder.id.asc())
    query = _filtered(session, select(*_ROW_COLUMNS), f, since=since).order_by(*order).offset(offset).limit(limit)
    rows = session.execute(query).all()
    if reverse:
        rows.reverse()
    channels, locations = _names(session)
    since = backordered_since(session, [r.id for r in rows]) if f.bucket == "backordered" else {}
    return [
        QueueRow(r.id, r.number, channels.get(r.channel_id, ""), r.external_id, r.order_type, r.placed_at, r.ship_by,
                 r.customer_name, r.customer_email, _destination(r.ship_city, r.ship_region, r.ship_country),
                 r.line_count, r.unit_count, r.status, r.hold_reason, locations.get(r.location_id, ""), r.deliver_by,
                 since.get(r.id))
        for r in rows
    ]


BACKORDER_OUTCOMES = ("backordered", "partial")


def backordered_since(session: Session, order_ids: Sequence[int]) -> dict[int, datetime]:
    """When each order's current backorder began: its first backordered routing since it was last fully routed."""
    if not order_ids:
        return {}
    since: dict[int, datetime] = {}
    for oid, at, outcome in session.execute(
            select(RoutingDecision.order_id, RoutingDecision.at, RoutingDecision.outcome)
            .where(RoutingDecision.order_id.in_(list(order_ids)))
            .order_by(RoutingDecision.order_id, RoutingDecision.at, RoutingDecision.id)):
        if outcome in BACKORDER_OUTCOMES:
            since.setdefault(oid, at)
        else:
            since.pop(oid, None)
    return since


def queue_count(session: Session, f: QueueFilter, *, since: datetime | None = None) -> int:
    """How many orders the queue holds (a search is capped at SEARCH_CAP matches)."""
    return int(session.scalar(_filtered(session, select(func.count()).select_from(SalesOrder), f, since=since)) or 0)


def bucket_counts(session: Session, f: QueueFilter = QueueFilter(), *, since: datetime | None = None) -> dict[str, int]:
    """Orders per bucket under the filters and the search (the filter's bucket aside): what each bucket's list
    would show. Without a search, one grouped pass over the status index and one range of the shipped_at index;
    with one, a single pass over the orders it found."""
    shipped_today = SalesOrder.shipped_at >= _day_start(since)
    if f.order_ids is not None:
        rows = session.execute(
            _filtered(session, select(SalesOrder.status, func.count(), func.sum(case((shipped_today, 1), else_=0)))
                      .select_from(SalesOrder), f, bucket=False).group_by(SalesOrder.status)).all()
        by_status = {status: n for status, n, _today in rows}
        today = sum(int(t or 0) for _s, _n, t in rows)
    else:
        by_status = dict(session.execute(
            _filtered(session, select(SalesOrder.status, func.count()).select_from(SalesOrder), f, bucket=False)
            .group_by(SalesOrder.status)).all())
        today = queue_count(session, replace(f, bucket="shipped_today"), since=since)
    counts = {b.key: sum(by_status.get(s, 0) for s in b.statuses) for b in BUCKETS if b.statuses}
    counts["all"] = sum(by_status.values())
    counts["shipped_today"] = today
    return counts


def queue_rows(session: Session, order_ids: Sequence[int]) -> dict[int, QueueRow]:
    """The queue rows of particular orders (to refresh a selection after an action)."""
    if not order_ids:
        return {}
    rows = session.execute(select(*_ROW_COLUMNS).where(SalesOrder.id.in_(list(order_ids)))).all()
    channels, locations = _names(session)
    return {
        r.id: QueueRow(r.id, r.number, channels.get(r.channel_id, ""), r.external_id, r.order_type, r.placed_at,
                       r.ship_by, r.customer_name, r.customer_email,
                       _destination(r.ship_city, r.ship_region, r.ship_country), r.line_count, r.unit_count, r.status,
                       r.hold_reason, locations.get(r.location_id, ""), r.deliver_by)
        for r in rows
    }


@dataclass(frozen=True)
class DataVersion:
    """A cheap fingerprint of the orders table: when it changes, the queue is stale."""

    newest_order: int | None  # orders are never deleted: a new one has a higher id
    last_change: datetime | None


def data_version(session: Session) -> DataVersion:
    # Each answered from the end of an index (the primary key, updated_at), however many orders there are; as two
    # subqueries, since SQLite reads a lone max() from an index but scans the table for two in one select.
    newest, last = session.execute(select(select(func.max(SalesOrder.id)).scalar_subquery(),
                                          select(func.max(SalesOrder.updated_at)).scalar_subquery())).one()
    if isinstance(last, str):  # SQLite returns the aggregate as text, outside the column type
        last = datetime.fromisoformat(last).replace(tzinfo=timezone.utc)
    return DataVersion(newest, last)


@dataclass(frozen=True)
class Choice:
    id: int | str
    code: str
    name: str


@dataclass(frozen=True)
class FilterOptions:
    channels: tuple[Choice, ...]
    locations: tuple[Choice, ...]
    order_types: tuple[Choice, ...]


def filter_options(session: Session) -> FilterOptions:
    channels = tuple(Choice(*r) for r in session.execute(select(Channel.id, Channel.code, Channel.name).order_by(Channel.name)))
    locations = tuple(Choice(*r) for r in session.execute(
        select(Location.id, Location.code, Location.name).where(Location.active.is_(True)).order_by(Location.priority, Location.code)))
    types = tuple(Choice(t.value, t.value, ORDER_TYPE_TITLES[t.value]) for t in OrderType)
    return FilterOptions(channels, locations, types)


# -- finding an order from a scan or a typed reference ---------------------------------------


@dataclass(frozen=True)
class OrderMatch:
    """One order a scanned reference could mean, with what tells it apart from the others."""

    order_id: int
    number: str
    channel: str  # the channel's name
    placed_at: datetime
    customer: str
    destination: str  # city, region
    status: str  # in words


def _reference_queries(ref: str) -> tuple[Select, ...]:
    return (
        select(SalesOrder.id).where(SalesOrder.number == ref),
        select(SalesOrder.id).where(SalesOrder.number == f"#{ref}"),
        select(SalesOrder.id).where(SalesOrder.external_id == ref),
        select(Shipment.order_id).where(Shipment.tracking_number == ref),
        select(Shipment.order_id).join(Package, Package.shipment_id == Shipment.id).where(Package.sscc == ref),
    )


def orders_matching(session: Session, text: str, *, limit: int = 9) -> list[OrderMatch]:
    """Every order (up to ``limit``) a scanned or typed reference names: number, channel order id, tracking
    number or SSCC, the first of these that matches anything; newest first when there are several."""
    ref = text.strip()
    if not ref:
        return []
    for query in _reference_queries(ref):
        ids = list(dict.fromkeys(session.scalars(query.limit(limit)).all()))
        if ids:
            rows = session.execute(
                select(SalesOrder.id, SalesOrder.number, Channel.name, SalesOrder.placed_at, SalesOrder.customer_name,
                       SalesOrder.ship_city, SalesOrder.ship_region, SalesOrder.status)
                .join(Channel, Channel.id == SalesOrder.channel_id)
                .where(SalesOrder.id.in_(ids)).order_by(SalesOrder.placed_at.desc(), SalesOrder.id.desc())).all()
            return [OrderMatch(oid, number, channel, placed, customer or "", ", ".join(p for p in (city, region) if p),
                               status_title(status))
                    for oid, number, channel, placed, customer, city, region, status in rows]
    return []


def find_order(session: Session, text: str) -> int | None:
    """The one order a scanned or typed reference names; None when none or several do (orders_matching says which)."""
    found = orders_matching(session, text, limit=2)
    return found[0].order_id if len(found) == 1 else None


# -- order detail --------------------------------------------------------------------------


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
        routing=latest_routing(session, order_id, o["currency"], o["deliver_by"]),
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


# -- stock lookup --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductHit:
    id: int
    sku: str
    name: str
    on_hand: int
    available: int


@dataclass(frozen=True)
class LevelRow:
    location: str
    location_name: str
    on_hand: int
    allocated: int

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


@dataclass(frozen=True)
class BinRow:
    location: str
    bin: str
    on_hand: int


@dataclass(frozen=True)
class MovementRow:
    at: datetime
    location: str
    bin: str
    kind: str
    quantity: int
    reason: str
    reference: str
    who: str


@dataclass(frozen=True)
class StockDetail:
    id: int
    sku: str
    name: str
    active: bool
    barcodes: tuple[str, ...]
    levels: tuple[LevelRow, ...]
    bins: tuple[BinRow, ...]
    backordered: int  # units open orders wait for
    movements: tuple[MovementRow, ...]

    @property
    def on_hand(self) -> int:
        return sum(l.on_hand for l in self.levels)

    @property
    def available(self) -> int:
        return sum(l.available for l in self.levels)


@dataclass(frozen=True)
class StockLookup:
    """The answer to a typed or scanned lookup: one product, or candidates to choose from."""

    query: str
    product: StockDetail | None = None
    candidates: tuple[ProductHit, ...] = ()
    message: str = ""


def _gtin_forms(gtin14: str) -> list[str]:
    # Barcodes are stored as printed (UPC-A 12, EAN-13, GTIN-14, EAN-8); a scan gives 14 digits.
    forms = [gtin14, gtin14[1:], gtin14[2:]]
    if gtin14.startswith("000000"):
        forms.append(gtin14[6:])
    return forms


def product_for_code(session: Session, code: str) -> int | None:
    """The product a SKU, a barcode (any GTIN length) or GS1 data with an AI 01 names."""
    code = code.strip()
    if not code:
        return None
    pid = session.scalar(select(Product.id).where(Product.sku == code))
    if pid is None:
        pid = session.scalar(select(Barcode.product_id).where(Barcode.code == code))
    if pid is None:
        gtin = None
        if code.isdigit() and is_valid_gtin(code):
            gtin = normalize_gtin(code)
        else:
            try:
                gtin = classify_scan(code).gtin
            except Gs1Error:
                gtin = None
        if gtin:
            pid = session.scalar(select(Barcode.product_id).where(Barcode.code.in_(_gtin_forms(gtin))).limit(1))
    if pid is None and code.upper() != code:
        pid = session.scalar(select(Product.id).where(Product.sku == code.upper()))
    return pid


def stock_lookup(session: Session, text: str, *, gtin: str | None = None, limit: int = 50) -> StockLookup:
    """Look stock up by SKU, barcode, GS1 data or part of a product name."""
    query = text.strip()
    pid = None
    if gtin:
        pid = session.scalar(select(Barcode.product_id).where(Barcode.code.in_(_gtin_forms(gtin))).limit(1))
    if pid is None and query:
        pid = product_for_code(session, query)
    if pid is not None:
        return StockLookup(query, product=stock_detail(session, pid))
    if len(query) < MIN_SEARCH:
        return StockLookup(query, message=_("Type at least two letters of a SKU or name, or scan a barcode."))
    hits = product_search(session, query, limit=limit)
    if not hits:
        return StockLookup(query, message=_("No product matches “{query}”.").format(query=query))
    if len(hits) == 1:
        return StockLookup(query, product=stock_detail(session, hits[0].id))
    return StockLookup(query, candidates=hits)


def product_search(session: Session, text: str, *, limit: int = 50) -> tuple[ProductHit, ...]:
    """Products whose SKU starts with, or whose name contains, the text; SKU matches first."""
    q = " ".join(text.split())
    sku_ids = list(session.scalars(select(Product.id).where(_prefix(Product.sku, q.upper())).order_by(Product.sku).limit(limit)))
    ids = list(sku_ids)
    if len(ids) < limit:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        more = session.scalars(select(Product.id).where(func.lower(Product.name).like(pattern, escape="\\"))
                               .order_by(Product.name).limit(limit)).all()
        ids += [i for i in more if i not in set(sku_ids)][: limit - len(ids)]
    if not ids:
        return ()
    stock = {r[0]: (int(r[1]), int(r[2])) for r in session.execute(
        select(StockLevel.product_id, func.sum(StockLevel.on_hand), func.sum(StockLevel.on_hand - StockLevel.allocated))
        .where(StockLevel.product_id.in_(ids)).group_by(StockLevel.product_id))}
    rows = {r.id: r for r in session.execute(select(Product.id, Product.sku, Product.name).where(Product.id.in_(ids)))}
    return tuple(ProductHit(i, rows[i].sku, rows[i].name, *stock.get(i, (0, 0))) for i in ids)


def stock_detail(session: Session, product_id: int, *, movements: int = 15) -> StockDetail | None:
    p = session.execute(select(Product.id, Product.sku, Product.name, Product.active).where(Product.id == product_id)).first()
    if p is None:
        return None
    barcodes = tuple(session.scalars(select(Barcode.code).where(Barcode.product_id == product_id).order_by(Barcode.id)))
    levels = tuple(
        LevelRow(r.code, r.name, r.on_hand or 0, r.allocated or 0)
        for r in session.execute(
            select(Location.code, Location.name, StockLevel.on_hand, StockLevel.allocated)
            .select_from(Location)
            .outerjoin(StockLevel, and_(StockLevel.location_id == Location.id, StockLevel.product_id == product_id))
            .where(Location.active.is_(True)).order_by(Location.priority, Location.code))
    )
    bins = tuple(
        BinRow(*r) for r in session.execute(
            select(Location.code, Bin.code, BinStock.on_hand)
            .join(Bin, Bin.id == BinStock.bin_id).join(Location, Location.id == Bin.location_id)
            .where(BinStock.product_id == product_id, BinStock.on_hand > 0)
            .order_by(Location.priority, Bin.pick_sequence))
    )
    backordered = int(session.scalar(select(func.coalesce(func.sum(OrderLine.backordered), 0))
                                     .where(OrderLine.product_id == product_id)) or 0)
    moves = tuple(
        MovementRow(m.created_at, m.location, m.bin or "", m.kind, m.quantity, m.reason, m.reference, m.user)
        for m in session.execute(
            select(StockMovement.created_at, Location.code.label("location"), Bin.code.label("bin"), StockMovement.kind,
                   StockMovement.quantity, StockMovement.reason, StockMovement.reference, StockMovement.user)
            .join(Location, Location.id == StockMovement.location_id)
            .outerjoin(Bin, Bin.id == StockMovement.bin_id)
            .where(StockMovement.product_id == product_id).order_by(StockMovement.id.desc()).limit(movements))
    )
    return StockDetail(p.id, p.sku, p.name, bool(p.active), barcodes, levels, bins, backordered, moves)


# -- who is signed in ------------------------------------------------------------------------


def user_display_name(session: Session, username: str) -> str | None:
    """The display name of a known, active user; None when users are not set up or unknown."""
    if not username:
        return None
    return session.scalar(select(User.display_name).where(User.username == username, User.active.is_(True)))
