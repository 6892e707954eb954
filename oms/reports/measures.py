"""The measures: each one a query over the orders, shipments and audit trail, and plain arithmetic on the rows.

The database filters and joins (every filter is a WHERE on indexed columns); the counting is done here, in
Python, because each number must also carry the ids of the orders behind it for drill-down, which a bare
``GROUP BY`` cannot give without a second pass. Percentiles are nearest-rank (the value at rank
ceil(p/100 × n) of the sorted times), so every figure is one order's real time and the orders behind it
are exact; the median is the 50th percentile by the same rule. Working hours are counted by our own small
function (an interval sum over the working days of ``WorkingHours``): the libraries of the field (holiday
calendars) bring far more than a shift pattern needs, and none adds hours between two instants.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Sequence, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, cast, exists, func, select
from sqlalchemy.orm import Session

from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.core.models import AuditEvent
from oms.core.types import utcnow
from oms.inventory.models import Location
from oms.orders.models import Channel, OrderLine, OrderStatus, OrderType, SalesOrder
from oms.routing.models import RoutingDecision
from oms.shipping.models import Package, Shipment, ShipmentLine, ShipmentStatus

S = OrderStatus
_SHIPPED = (S.SHIPPED.value, S.DELIVERED.value)
_HOUR = 3600.0

DEFINITIONS: dict[str, str] = {
    "fill-rate": _(
        "Orders placed in the period, except orders cancelled whole. Line fill rate: lines shipped complete ÷ lines "
        "ordered. Order fill rate: orders with every line shipped complete ÷ orders. Unit fill rate: units shipped ÷ "
        "units ordered. Units cancelled from a line count as not filled. First-time fill counts only lines reserved "
        "whole from stock at the order's first allocation (its first routing that was not a hold) and then shipped "
        "complete; final fill counts what has shipped by now, backorders that shipped late included."),
    "cycle-time": _(
        "Placed to shipped: orders whose last shipment left in the period, from placement to that shipment. Placed to "
        "delivered: orders delivered in the period (as tracking says), from placement to delivery. Median, 90th and "
        "99th percentile (nearest rank), in calendar hours and in working hours (Monday to Friday, 08:00 to 17:00 UTC "
        "unless set otherwise)."),
    "on-time": _(
        "On-time ship rate: orders whose ship-by date falls in the period and is past, not cancelled whole, that "
        "shipped complete by it ÷ those orders. On-time delivery rate: orders whose deliver-by date falls in the "
        "period and whose delivery tracking reported, delivered by it ÷ those orders. Perfect order rate: orders that "
        "finished shipping in the period and pass every test at once (counted, not the product of the rates): shipped "
        "by the ship-by date, delivered by the deliver-by date where tracking says when, complete (every unit "
        "ordered shipped, none cancelled), undamaged (no unit returned) and documents right (no shipment voided)."),
    "backorders": _(
        "Order lines waiting for stock now, of orders placed in the period, by how many whole days ago the order was "
        "placed: 0–3, 4–7, 8–14, 15–30 and over 30 days; by SKU and by the order's location. Promise missed: the "
        "order's ship-by date has passed."),
    "throughput": _(
        "Shipments confirmed in the period, by day or hour (UTC) and by location, channel or carrier: shipments, "
        "orders, order lines and units shipped."),
    "carrier-cost": _(
        "Shipments confirmed in the period by carrier: label cost as bought, per order and per unit shipped. Only "
        "shipments with a bought label have a cost; the others are counted apart."),
    "productivity": _(
        "From the audit trail, per worker and station: picking lines per hour (pick confirmations ÷ active hours) and "
        "packing lines per hour (lines of the shipments packed ÷ active hours). An active hour is a clock hour (UTC) "
        "in which the worker recorded at least one pick or pack at that station."),
}


# --- the question: a period, filters, and the period before ----------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Calendar days from ``start`` to ``end``, both included, in UTC."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput(_("The period ends ({end}) before it starts ({start}).").format(end=self.end, start=self.start))

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=timezone.utc)

    @property
    def before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=timezone.utc)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)


@dataclass(frozen=True)
class Filters:
    """Codes as people type them: channel code, location code, order type, carrier name."""

    channel: str | None = None
    location: str | None = None
    order_type: str | None = None
    carrier: str | None = None


@dataclass(frozen=True)
class WorkingHours:
    """The house's working week: hours from ``start`` to ``end`` on ``weekdays`` (Monday is 0) in ``tz``."""

    start: time = time(8)
    end: time = time(17)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    tz: str = "UTC"

    def between(self, a: datetime, b: datetime) -> float:
        """Working hours between two instants (0 when b is not after a)."""
        if b <= a:
            return 0.0
        zone = ZoneInfo(self.tz)
        la, lb = a.astimezone(zone), b.astimezone(zone)
        total = 0.0
        day = la.date()
        while day <= lb.date():
            if day.weekday() in self.weekdays:
                open_ = datetime.combine(day, self.start, tzinfo=zone)
                close = datetime.combine(day, self.end, tzinfo=zone)
                lo, hi = max(open_, la), min(close, lb)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total / _HOUR


T = TypeVar("T")


@dataclass(frozen=True)
class Compared:
    """A measure for a period and for the period before it."""

    period: Period
    current: Any
    previous_period: Period
    previous: Any


def compare(measure: Callable[..., T], session: Session, period: Period, filters: Filters = Filters(), **kw) -> Compared:
    """Run a measure for the period and for the period of the same length before it."""
    return Compared(period, measure(session, period, filters, **kw), period.previous(),
                    measure(session, period.previous(), filters, **kw))


# --- the answers ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """hits of total; the orders behind the hits and behind the misses (together: the orders counted)."""

    hits: int
    total: int
    hit_orders: tuple[int, ...] = ()
    miss_orders: tuple[int, ...] = ()

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    @property
    def orders(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.hit_orders) | set(self.miss_orders)))


@dataclass(frozen=True)
class FillRate:
    line_first: Rate
    line_final: Rate
    order_first: Rate
    order_final: Rate
    unit_first: Rate
    unit_final: Rate


@dataclass(frozen=True)
class Durations:
    """Hours from one event to another over ``count`` orders; ``slowest`` are the orders at or above the 90th percentile."""

    count: int
    median: float | None
    p90: float | None
    p99: float | None
    orders: tuple[int, ...] = ()
    slowest: tuple[int, ...] = ()


@dataclass(frozen=True)
class CycleTime:
    to_ship: Durations
    to_ship_working: Durations
    to_deliver: Durations
    to_deliver_working: Durations


@dataclass(frozen=True)
class OnTime:
    ship: Rate
    delivery: Rate


@dataclass(frozen=True)
class PerfectOrder:
    """The orders that pass every test, and for each test the orders that failed it."""

    rate: Rate
    failed: tuple[tuple[str, tuple[int, ...]], ...]  # (criterion, orders failing it)


BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0–3", 0, 3), ("4–7", 4, 7), ("8–14", 8, 14), ("15–30", 15, 30), (">30", 31, None))


@dataclass(frozen=True)
class BackorderRow:
    """One SKU or location: lines, units and orders waiting in each age bucket (as BUCKETS), and past promise."""

    key: str
    lines: tuple[int, ...]
    units: tuple[int, ...]
    orders: tuple[tuple[int, ...], ...]
    past_promise: int = 0
    past_promise_orders: tuple[int, ...] = ()


@dataclass(frozen=True)
class BackorderAging:
    as_of: datetime
    by_sku: tuple[BackorderRow, ...]
    by_location: tuple[BackorderRow, ...]
    total: BackorderRow


@dataclass(frozen=True)
class ThroughputRow:
    bucket: str  # YYYY-MM-DD, or YYYY-MM-DD HH:00 by hour
    key: str  # the location, channel or carrier
    shipments: int
    orders: int
    lines: int
    units: int
    order_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Throughput:
    by: str
    group: str
    rows: tuple[ThroughputRow, ...]


@dataclass(frozen=True)
class CarrierCostRow:
    carrier: str
    shipments: int
    orders: int
    units: int
    packages: int
    cost_minor: int  # label cost of the shipments with a bought label
    costed_shipments: int
    cost_per_order_minor: float | None  # over the orders of costed shipments
    cost_per_unit_minor: float | None
    order_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CarrierCost:
    rows: tuple[CarrierCostRow, ...]


@dataclass(frozen=True)
class ProductivityRow:
    activity: str  # pick or pack
    user: str
    station: str
    lines: int
    units: int
    active_hours: int
    order_ids: tuple[int, ...] = ()

    @property
    def lines_per_hour(self) -> float | None:
        return self.lines / self.active_hours if self.active_hours else None


@dataclass(frozen=True)
class Productivity:
    rows: tuple[ProductivityRow, ...]


# --- filters -------------------------------------------------------------------------------------------------


def _code_id(session: Session, model, code: str, what: str) -> int:
    found = session.scalar(select(model.id).where(model.code == code))
    if found is None:
        raise InvalidInput(_("There is no {what} {code}.").format(what=what, code=code))
    return found


def _order_where(session: Session, f: Filters, *, carrier_on_order: bool = True) -> list:
    """WHERE clauses on SalesOrder for the filters; an unknown code is refused with a message."""
    where = []
    if f.channel:
        where.append(SalesOrder.channel_id == _code_id(session, Channel, f.channel, _("channel")))
    if f.location:
        where.append(SalesOrder.location_id == _code_id(session, Location, f.location, _("location")))
    if f.order_type:
        if f.order_type not in {t.value for t in OrderType}:
            raise InvalidInput(_("There is no order type {t}; the types are {all}.").format(
                t=f.order_type, all=", ".join(t.value for t in OrderType)))
        where.append(SalesOrder.order_type == f.order_type)
    if f.carrier and carrier_on_order:
        where.append(exists().where(Shipment.order_id == SalesOrder.id, Shipment.status == ShipmentStatus.SHIPPED.value,
                                    Shipment.carrier == f.carrier))
    return where


def _exec(session: Session, query):
    """Run a select on the session's connection: Core rows, without the ORM's per-row loading (half the time)."""
    return session.connection().execute(query)


def _ids(ids) -> tuple[int, ...]:
    return tuple(sorted(set(ids)))


def _rate(hits: int, total: int, hit_orders, miss_orders) -> Rate:
    return Rate(hits, total, _ids(hit_orders), _ids(miss_orders))


# --- fill rate -----------------------------------------------------------------------------------------------


def _first_filled_lines(session: Session, where: list, order_ids: set[int], lines_of: dict[int, list[int]]) -> set[int]:
    """The lines reserved whole at each order's first allocation (its first routing decision that was not a hold),
    for the orders that ``where`` (on SalesOrder) picks."""
    first = (select(func.min(RoutingDecision.id).label("id"))
             .join(SalesOrder, SalesOrder.id == RoutingDecision.order_id)
             .where(RoutingDecision.outcome != "held", *where)
             .group_by(RoutingDecision.order_id).subquery())
    rows = _exec(session, select(RoutingDecision.order_id, RoutingDecision.outcome, RoutingDecision.id)
                 .join(first, first.c.id == RoutingDecision.id)).all()
    filled: set[int] = set()
    partial = []
    for oid, outcome, did in rows:
        if oid not in order_ids:
            continue
        if outcome in ("allocated", "split"):
            filled.update(lines_of.get(oid, ()))
        elif outcome == "partial":
            partial.append((oid, did))
    for i in range(0, len(partial), 500):
        chunk = dict((did, oid) for oid, did in partial[i:i + 500])
        for did, plan in _exec(session, select(RoutingDecision.id, RoutingDecision.plan).where(RoutingDecision.id.in_(chunk))):
            placed = {l["line_id"] for s in (plan or {}).get("shipments", []) for l in s.get("lines", [])}
            short = {l["line_id"] for l in (plan or {}).get("short", [])}
            filled.update(lid for lid in lines_of.get(chunk[did], ()) if lid in placed and lid not in short)
    return filled


def fill_rate(session: Session, period: Period, filters: Filters = Filters()) -> FillRate:
    where = [SalesOrder.placed_at >= period.since, SalesOrder.placed_at < period.before,
             SalesOrder.status != S.CANCELLED.value, *_order_where(session, filters)]
    q = (select(OrderLine.order_id, OrderLine.id, OrderLine.quantity, OrderLine.shipped)
         .join(SalesOrder, SalesOrder.id == OrderLine.order_id).where(*where))
    rows = _exec(session, q).all()
    lines_of: dict[int, list[int]] = defaultdict(list)
    for oid, lid, _q, _s in rows:
        lines_of[oid].append(lid)
    first = _first_filled_lines(session, where, set(lines_of), lines_of)
    n_lines = units = units_shipped = units_first = 0
    line_final = line_first = 0
    lf_hit, lf_miss, l1_hit, l1_miss, uf_hit, uf_miss, u1_hit, u1_miss = (set() for _i in range(8))
    order_final_ok: dict[int, bool] = {}
    order_first_ok: dict[int, bool] = {}
    for oid, lid, qty, shipped in rows:
        n_lines += 1
        units += qty
        complete = shipped >= qty
        first_ok = complete and lid in first
        units_shipped += min(shipped, qty)
        units_first += qty if first_ok else 0
        line_final += complete
        line_first += first_ok
        (lf_hit if complete else lf_miss).add(oid)
        (l1_hit if first_ok else l1_miss).add(oid)
        if shipped:
            uf_hit.add(oid)
        if shipped < qty:
            uf_miss.add(oid)
        (u1_hit if first_ok else u1_miss).add(oid)
        order_final_ok[oid] = order_final_ok.get(oid, True) and complete
        order_first_ok[oid] = order_first_ok.get(oid, True) and first_ok
    of_hit = [o for o, ok in order_final_ok.items() if ok]
    o1_hit = [o for o, ok in order_first_ok.items() if ok]
    return FillRate(
        line_first=_rate(line_first, n_lines, l1_hit, l1_miss),
        line_final=_rate(line_final, n_lines, lf_hit, lf_miss),
        order_first=_rate(len(o1_hit), len(order_first_ok), o1_hit, set(order_first_ok) - set(o1_hit)),
        order_final=_rate(len(of_hit), len(order_final_ok), of_hit, set(order_final_ok) - set(of_hit)),
        unit_first=_rate(units_first, units, u1_hit, u1_miss),
        unit_final=_rate(units_shipped, units, uf_hit, uf_miss),
    )


# --- cycle time ----------------------------------------------------------------------------------------------


def _nearest_rank(values: Sequence[float], p: float) -> float:
    return values[max(1, math.ceil(p / 100 * len(values))) - 1]


def _durations(pairs: list[tuple[int, float]]) -> Durations:
    if not pairs:
        return Durations(0, None, None, None)
    values = sorted(h for _o, h in pairs)
    p90 = _nearest_rank(values, 90)
    return Durations(len(values), _nearest_rank(values, 50), p90, _nearest_rank(values, 99),
                     _ids(o for o, _h in pairs), _ids(o for o, h in pairs if h >= p90))


def cycle_time(session: Session, period: Period, filters: Filters = Filters(), *,
               hours: WorkingHours = WorkingHours()) -> CycleTime:
    where = _order_where(session, filters)
    shipped = _exec(session, select(SalesOrder.id, SalesOrder.placed_at, SalesOrder.shipped_at).where(
        SalesOrder.status.in_(_SHIPPED), SalesOrder.shipped_at >= period.since, SalesOrder.shipped_at < period.before,
        *where)).all()
    delivered = _exec(session, select(SalesOrder.id, SalesOrder.placed_at, SalesOrder.delivered_at).where(
        SalesOrder.delivered_at.is_not(None), SalesOrder.delivered_at >= period.since,
        SalesOrder.delivered_at < period.before, *where)).all()
    return CycleTime(
        to_ship=_durations([(o, (b - a).total_seconds() / _HOUR) for o, a, b in shipped]),
        to_ship_working=_durations([(o, hours.between(a, b)) for o, a, b in shipped]),
        to_deliver=_durations([(o, (b - a).total_seconds() / _HOUR) for o, a, b in delivered]),
        to_deliver_working=_durations([(o, hours.between(a, b)) for o, a, b in delivered]),
    )


# --- on time and the perfect order ---------------------------------------------------------------------------


def on_time(session: Session, period: Period, filters: Filters = Filters()) -> OnTime:
    now = utcnow()
    where = _order_where(session, filters)
    due = _exec(session, select(SalesOrder.id, SalesOrder.status, SalesOrder.ship_by, SalesOrder.shipped_at).where(
        SalesOrder.ship_by >= period.since, SalesOrder.ship_by < period.before, SalesOrder.ship_by <= now,
        SalesOrder.status != S.CANCELLED.value, *where)).all()
    ship_hit = [o for o, st, by, at in due if st in _SHIPPED and at is not None and at <= by]
    ship_miss = set(o for o, *_r in due) - set(ship_hit)
    arrived = _exec(session, select(SalesOrder.id, SalesOrder.deliver_by, SalesOrder.delivered_at).where(
        SalesOrder.deliver_by >= period.since, SalesOrder.deliver_by < period.before,
        SalesOrder.delivered_at.is_not(None), *where)).all()
    del_hit = [o for o, by, at in arrived if at <= by]
    del_miss = set(o for o, *_r in arrived) - set(del_hit)
    return OnTime(ship=_rate(len(ship_hit), len(due), ship_hit, ship_miss),
                  delivery=_rate(len(del_hit), len(arrived), del_hit, del_miss))


PERFECT_CRITERIA = ("on_time_ship", "on_time_delivery", "complete", "undamaged", "documents")


def perfect_order(session: Session, period: Period, filters: Filters = Filters()) -> PerfectOrder:
    where = [SalesOrder.status.in_(_SHIPPED), SalesOrder.shipped_at >= period.since, SalesOrder.shipped_at < period.before,
             *_order_where(session, filters)]
    orders = _exec(session, select(SalesOrder.id, SalesOrder.ship_by, SalesOrder.shipped_at, SalesOrder.deliver_by,
                                   SalesOrder.delivered_at).where(*where)).all()
    ids = [o[0] for o in orders]
    incomplete: set[int] = set()
    returned: set[int] = set()
    for oid, short, ret in _exec(session, select(OrderLine.order_id, func.sum(OrderLine.quantity - OrderLine.shipped),
                                                 func.sum(OrderLine.returned))
                                 .join(SalesOrder, SalesOrder.id == OrderLine.order_id).where(*where)
                                 .group_by(OrderLine.order_id)):
        if short:
            incomplete.add(oid)
        if ret:
            returned.add(oid)
    voided = set(_exec(session, select(Shipment.order_id).join(SalesOrder, SalesOrder.id == Shipment.order_id)
                       .where(Shipment.status == ShipmentStatus.VOIDED.value, *where)).scalars())
    failed: dict[str, list[int]] = {c: [] for c in PERFECT_CRITERIA}
    for oid, ship_by, shipped_at, deliver_by, delivered_at in orders:
        if ship_by is not None and shipped_at > ship_by:
            failed["on_time_ship"].append(oid)
        if deliver_by is not None and delivered_at is not None and delivered_at > deliver_by:
            failed["on_time_delivery"].append(oid)
    failed["complete"] = sorted(incomplete)
    failed["undamaged"] = sorted(returned)
    failed["documents"] = sorted(voided)
    bad = set().union(*failed.values())
    hit = [o for o in ids if o not in bad]
    return PerfectOrder(_rate(len(hit), len(ids), hit, bad), tuple((c, _ids(failed[c])) for c in PERFECT_CRITERIA))


# --- backorder aging -----------------------------------------------------------------------------------------


def _bucket(days: int) -> int:
    for i, (_t, lo, hi) in enumerate(BUCKETS):
        if days >= lo and (hi is None or days <= hi):
            return i
    return 0


@dataclass
class _Acc:
    lines: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    units: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    orders: list[set] = field(default_factory=lambda: [set() for _b in BUCKETS])
    late: int = 0
    late_orders: set = field(default_factory=set)

    def add(self, b: int, units: int, oid: int, late: bool) -> None:
        self.lines[b] += 1
        self.units[b] += units
        self.orders[b].add(oid)
        if late:
            self.late += 1
            self.late_orders.add(oid)

    def row(self, key: str) -> BackorderRow:
        return BackorderRow(key, tuple(self.lines), tuple(self.units), tuple(_ids(o) for o in self.orders),
                            self.late, _ids(self.late_orders))


def backorder_aging(session: Session, period: Period, filters: Filters = Filters()) -> BackorderAging:
    now = utcnow()
    rows = _exec(session,
        select(SalesOrder.id, OrderLine.sku, Location.code, OrderLine.backordered, SalesOrder.placed_at, SalesOrder.ship_by)
        .join(SalesOrder, SalesOrder.id == OrderLine.order_id).outerjoin(Location, Location.id == SalesOrder.location_id)
        .where(OrderLine.backordered > 0, SalesOrder.placed_at >= period.since, SalesOrder.placed_at < period.before,
               SalesOrder.status != S.CANCELLED.value, *_order_where(session, filters))).all()
    by_sku: dict[str, _Acc] = defaultdict(_Acc)
    by_loc: dict[str, _Acc] = defaultdict(_Acc)
    total = _Acc()
    for oid, sku, loc, units, placed, ship_by in rows:
        b = _bucket((now - placed).days)
        late = ship_by is not None and ship_by < now
        for acc in (by_sku[sku], by_loc[loc or _("(no location)")], total):
            acc.add(b, units, oid, late)
    return BackorderAging(now, tuple(by_sku[k].row(k) for k in sorted(by_sku)),
                          tuple(by_loc[k].row(k) for k in sorted(by_loc)), total.row(_("All")))


# --- throughput and carrier cost -----------------------------------------------------------------------------


def _shipment_where(session: Session, period: Period, filters: Filters) -> list:
    """WHERE clauses for shipments confirmed in the period (with SalesOrder joined): the location and carrier filters
    are the shipment's own."""
    where = [Shipment.status == ShipmentStatus.SHIPPED.value, Shipment.shipped_at >= period.since,
             Shipment.shipped_at < period.before,
             *_order_where(session, Filters(filters.channel, None, filters.order_type), carrier_on_order=False)]
    if filters.location:
        where.append(Shipment.location_id == _code_id(session, Location, filters.location, _("location")))
    if filters.carrier:
        where.append(Shipment.carrier == filters.carrier)
    return where


def _shipped_rows(session: Session, period: Period, filters: Filters) -> list:
    """One row per shipment line shipped in the period: shipment, order, order line, units, when, location, channel,
    carrier."""
    q = (select(Shipment.id, Shipment.order_id, ShipmentLine.order_line_id, ShipmentLine.quantity, Shipment.shipped_at,
                Location.code, Channel.code, Shipment.carrier)
         .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
         .join(SalesOrder, SalesOrder.id == Shipment.order_id)
         .join(Location, Location.id == Shipment.location_id)
         .join(Channel, Channel.id == SalesOrder.channel_id)
         .where(*_shipment_where(session, period, filters)))
    return _exec(session, q).all()


GROUPS = ("location", "channel", "carrier")


def throughput(session: Session, period: Period, filters: Filters = Filters(), *, by: str = "day",
               group: str = "location") -> Throughput:
    if by not in ("day", "hour"):
        raise InvalidInput(_("Throughput is by day or by hour, not {by}.").format(by=by))
    if group not in GROUPS:
        raise InvalidInput(_("Throughput is grouped by {all}, not {group}.").format(all=", ".join(GROUPS), group=group))
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    gi = 5 + GROUPS.index(group)
    for row in _shipped_rows(session, period, filters):
        sid, oid, lid, qty, at = row[:5]
        at = at.astimezone(timezone.utc)
        bucket = at.strftime("%Y-%m-%d") if by == "day" else at.strftime("%Y-%m-%d %H:00")
        c = cells.setdefault((bucket, row[gi] or _("(none)")), {"s": set(), "o": set(), "l": set(), "u": 0})
        c["s"].add(sid)
        c["o"].add(oid)
        c["l"].add(lid)
        c["u"] += qty
    return Throughput(by, group, tuple(ThroughputRow(b, k, len(c["s"]), len(c["o"]), len(c["l"]), c["u"], _ids(c["o"]))
                                      for (b, k), c in sorted(cells.items())))


def carrier_cost(session: Session, period: Period, filters: Filters = Filters()) -> CarrierCost:
    # Per shipment, its units and packages by index look-ups (correlated), not a pass over every line ever shipped.
    units = select(func.coalesce(func.sum(ShipmentLine.quantity), 0)).where(ShipmentLine.shipment_id == Shipment.id)
    boxes = select(func.count()).select_from(Package).where(Package.shipment_id == Shipment.id)
    rows = _exec(session, select(Shipment.id, Shipment.order_id, Shipment.carrier, Shipment.label_cost_minor,
                                 units.scalar_subquery(), boxes.scalar_subquery())
                 .join(SalesOrder, SalesOrder.id == Shipment.order_id)
                 .where(*_shipment_where(session, period, filters))).all()
    per: dict[str, dict[str, Any]] = {}
    for _sid, oid, carrier, cost, qty, n_boxes in rows:
        c = per.setdefault(carrier or _("(none)"), {"s": 0, "o": set(), "u": 0, "p": 0, "cs": 0, "co": set(), "cu": 0,
                                                    "spent": 0})
        c["s"] += 1
        c["o"].add(oid)
        c["u"] += qty
        c["p"] += n_boxes
        if cost is not None:
            c["cs"] += 1
            c["co"].add(oid)
            c["cu"] += qty
            c["spent"] += cost
    out = []
    for carrier in sorted(per):
        c = per[carrier]
        out.append(CarrierCostRow(carrier, c["s"], len(c["o"]), c["u"], c["p"], c["spent"], c["cs"],
                                  c["spent"] / len(c["co"]) if c["co"] else None,
                                  c["spent"] / c["cu"] if c["cu"] else None, _ids(c["o"])))
    return CarrierCost(tuple(out))


# --- productivity from the audit trail -----------------------------------------------------------------------


def productivity(session: Session, period: Period, filters: Filters = Filters()) -> Productivity:
    q = (select(AuditEvent.action, AuditEvent.user, AuditEvent.station, AuditEvent.at, AuditEvent.order_id,
                AuditEvent.entity_id, AuditEvent.after["quantity"].as_integer())  # the database reads the JSON
         .join(SalesOrder, SalesOrder.id == AuditEvent.order_id)
         .where(AuditEvent.action.in_(("order.picked", "shipment.packed")), AuditEvent.at >= period.since,
                AuditEvent.at < period.before, *_order_where(session, filters)))
    events = _exec(session, q).all()
    packed = (select(cast(AuditEvent.entity_id, Integer)).join(SalesOrder, SalesOrder.id == AuditEvent.order_id)
              .where(AuditEvent.action == "shipment.packed", AuditEvent.at >= period.since, AuditEvent.at < period.before,
                     *_order_where(session, filters)))
    pack_lines: dict[int, tuple[int, int]] = {
        sid: (lines, units or 0) for sid, lines, units in _exec(session, select(
            ShipmentLine.shipment_id, func.count(func.distinct(ShipmentLine.order_line_id)), func.sum(ShipmentLine.quantity))
            .where(ShipmentLine.shipment_id.in_(packed)).group_by(ShipmentLine.shipment_id))}
    acc: dict[tuple[str, str, str], dict[str, Any]] = {}
    for action, user, station, at, oid, entity_id, picked in events:
        kind = "pick" if action == "order.picked" else "pack"
        a = acc.setdefault((kind, user, station), {"l": 0, "u": 0, "h": set(), "o": set()})
        if kind == "pick":
            a["l"] += 1
            a["u"] += picked or 0
        else:
            lines, units = pack_lines.get(int(entity_id), (0, 0))
            a["l"] += lines
            a["u"] += units
        a["h"].add(at.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0))
        a["o"].add(oid)
    return Productivity(tuple(ProductivityRow(k, u, st, a["l"], a["u"], len(a["h"]), _ids(a["o"]))
                              for (k, u, st), a in sorted(acc.items())))


# --- drill-down ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRef:
    id: int
    number: str
    channel: str
    status: str
    placed_at: datetime
    customer: str
    location: str


def orders_behind(session: Session, order_ids: Sequence[int], limit: int = 1000) -> tuple[OrderRef, ...]:
    """The orders behind a number, oldest placed first (at most ``limit``)."""
    ids = sorted(set(order_ids))[:limit]
    out: list[OrderRef] = []
    for i in range(0, len(ids), 500):
        out += [OrderRef(*r) for r in _exec(session,
            select(SalesOrder.id, SalesOrder.number, Channel.code, SalesOrder.status, SalesOrder.placed_at,
                   SalesOrder.customer_name, func.coalesce(Location.code, ""))
            .join(Channel, Channel.id == SalesOrder.channel_id).outerjoin(Location, Location.id == SalesOrder.location_id)
            .where(SalesOrder.id.in_(ids[i:i + 500])))]
    return tuple(sorted(out, key=lambda r: (r.placed_at, r.id)))


def choices(session: Session) -> dict[str, list[str]]:
    """What the filters can be set to: channel and location codes, order types, carriers that have shipped."""
    return {
        "channel": list(session.scalars(select(Channel.code).order_by(Channel.code))),
        "location": list(session.scalars(select(Location.code).order_by(Location.code))),
        "order_type": [t.value for t in OrderType],
        "carrier": [c for c in session.scalars(select(Shipment.carrier).distinct().order_by(Shipment.carrier)) if c],
    }
