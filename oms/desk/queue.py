"""The orders queue: paged rows, buckets and their counts, filters and finding an order by any reference."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timezone
from typing import Sequence

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from oms import threepl
from oms.core.i18n import _
from oms.desk.search import search_ids
from oms.inventory.models import Location
from oms.orders.models import Channel, OrderStatus, OrderType, SalesOrder
from oms.orders.status import ORDER_TYPE_TITLES, status_title
from oms.routing.models import RoutingDecision
from oms.shipping.models import Package, Shipment


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


def local_midnight(now: datetime | None = None) -> datetime:
    """The start of today on this machine's clock, as an aware datetime."""
    local = (now or datetime.now(timezone.utc)).astimezone()
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)


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
    pinned_ids: tuple[int, ...] | None = None  # the orders behind a report's figure: only these, with any other filter


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
    partner: str = ""  # where it stands at a 3PL: "sent to 3PL (#123, acknowledged)"; empty when never sent to one

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
PIN_CAP = 30000  # the most orders a report's figure opens in the queue (one bound parameter each)


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
    if f.pinned_ids is not None:
        query = query.where(SalesOrder.id.in_(f.pinned_ids))
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
    partners = threepl.standings(session, [r.id for r in rows])
    return [
        QueueRow(r.id, r.number, channels.get(r.channel_id, ""), r.external_id, r.order_type, r.placed_at, r.ship_by,
                 r.customer_name, r.customer_email, _destination(r.ship_city, r.ship_region, r.ship_country),
                 r.line_count, r.unit_count, r.status, r.hold_reason, locations.get(r.location_id, ""), r.deliver_by,
                 since.get(r.id), partners.get(r.id, ""))
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
    if f.order_ids is not None or f.pinned_ids is not None:
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
    partners = threepl.standings(session, [r.id for r in rows])
    return {
        r.id: QueueRow(r.id, r.number, channels.get(r.channel_id, ""), r.external_id, r.order_type, r.placed_at,
                       r.ship_by, r.customer_name, r.customer_email,
                       _destination(r.ship_city, r.ship_region, r.ship_country), r.line_count, r.unit_count, r.status,
                       r.hold_reason, locations.get(r.location_id, ""), r.deliver_by, partner=partners.get(r.id, ""))
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
