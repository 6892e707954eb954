"""Each report as one table: titled columns of a kind (text, count, rate, hours, money), rows of plain values,
and for every row the orders behind it. The command line prints, writes CSV, JSON and XLSX from these; the
Reports screen shows them and drills down through the row's orders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy.orm import Session

from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.core.money import exponent
from oms.reports import measures as m
from oms.reports.measures import Compared, Filters, Period, Rate


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text, count, rate (0..1), hours, money (major units), number


@dataclass(frozen=True)
class Table:
    report: str
    title: str
    definition: str
    period: Period
    previous_period: Period
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    orders: tuple[tuple[int, ...], ...]  # the orders behind each row, for drill-down
    parts: tuple[tuple[tuple[str, tuple[int, ...]], ...], ...] = ()  # per row, the orders that met and did not


REPORTS: dict[str, str] = {
    "fill-rate": _("Fill rate"),
    "cycle-time": _("Order cycle time"),
    "on-time": _("On time and perfect orders"),
    "backorders": _("Backorder aging"),
    "throughput": _("Throughput"),
    "carrier-cost": _("Carrier cost"),
    "productivity": _("Pick and pack productivity"),
}


MET, NOT_MET = _("Met"), _("Not met")


def _rate_row(title: str, now: Rate, before: Rate) -> tuple[tuple, tuple[int, ...], tuple]:
    return (title, now.hits, now.total, now.value, before.value), now.orders, ((MET, now.hit_orders), (NOT_MET, now.miss_orders))


_RATE_COLUMNS = (Column(_("Measure")), Column(_("Count"), "count"), Column(_("Of"), "count"), Column(_("Rate"), "rate"),
                 Column(_("Previous period"), "rate"))


def _fill_rate(c: Compared, **_kw) -> tuple[tuple[Column, ...], list]:
    names = (("line_first", _("Line fill, first time")), ("line_final", _("Line fill, final")),
             ("order_first", _("Order fill, first time")), ("order_final", _("Order fill, final")),
             ("unit_first", _("Unit fill, first time")), ("unit_final", _("Unit fill, final")))
    return _RATE_COLUMNS, [_rate_row(t, getattr(c.current, k), getattr(c.previous, k)) for k, t in names]


def _cycle_time(c: Compared, **_kw):
    names = (("to_ship", _("Placed to shipped, calendar hours")), ("to_ship_working", _("Placed to shipped, working hours")),
             ("to_deliver", _("Placed to delivered, calendar hours")),
             ("to_deliver_working", _("Placed to delivered, working hours")))
    cols = (Column(_("Measure")), Column(_("Orders"), "count"), Column(_("Median"), "hours"), Column(_("90th percentile"), "hours"),
            Column(_("99th percentile"), "hours"), Column(_("Previous median"), "hours"), Column(_("Previous 90th"), "hours"))
    rows = []
    for key, title in names:
        d, p = getattr(c.current, key), getattr(c.previous, key)
        rows.append(((title, d.count, d.median, d.p90, d.p99, p.median, p.p90), d.orders))
    return cols, rows


def _on_time(c: Compared, perfect: Compared | None = None, **_kw):
    rows = [_rate_row(_("On-time ship"), c.current.ship, c.previous.ship),
            _rate_row(_("On-time delivery"), c.current.delivery, c.previous.delivery)]
    if perfect is not None:
        rows.append(_rate_row(_("Perfect order"), perfect.current.rate, perfect.previous.rate))
        titles = {"on_time_ship": _("shipped late"), "on_time_delivery": _("delivered late"), "complete": _("not complete"),
                  "undamaged": _("returned"), "documents": _("shipment voided")}
        before = dict(perfect.previous.failed)
        for key, ids in perfect.current.failed:
            rows.append(((_("Not perfect: {why}").format(why=titles[key]), len(ids), perfect.current.rate.total,
                          len(ids) / perfect.current.rate.total if perfect.current.rate.total else None,
                          len(before[key]) / perfect.previous.rate.total if perfect.previous.rate.total else None), ids))
    return _RATE_COLUMNS, rows


def _backorders(c: Compared, **_kw):
    cols = (Column(_("By")), Column(_("SKU or location")),
            *(Column(_("{days} days, units").format(days=t), "count") for t, _lo, _hi in m.BUCKETS),
            Column(_("Lines"), "count"), Column(_("Promise missed, lines"), "count"))
    rows = []
    for by, group in ((_("SKU"), c.current.by_sku), (_("Location"), c.current.by_location), (_("Total"), (c.current.total,)),
                      (_("Previous period"), (c.previous.total,))):
        for r in group:
            rows.append(((by, r.key, *r.units, sum(r.lines), r.past_promise), tuple(sorted({o for b in r.orders for o in b}))))
    return cols, rows


def _throughput(c: Compared, **_kw):
    t, p = c.current, c.previous
    cols = (Column(_("Hour") if t.by == "hour" else _("Day")), Column({"location": _("Location"), "channel": _("Channel"),
                                                                         "carrier": _("Carrier")}[t.group]),
            Column(_("Shipments"), "count"), Column(_("Orders"), "count"), Column(_("Lines"), "count"), Column(_("Units"), "count"))
    rows = [((r.bucket, r.key, r.shipments, r.orders, r.lines, r.units), r.order_ids) for r in t.rows]
    for title, data in ((_("Total"), t.rows), (_("Previous period total"), p.rows)):
        rows.append(((title, "", *(sum(getattr(r, f) for r in data) for f in ("shipments", "orders", "lines", "units"))),
                     tuple(sorted({o for r in data for o in r.order_ids}))))
    return cols, rows


def _carrier_cost(c: Compared, currency: str = "USD", **_kw):
    scale = 10 ** exponent(currency)
    cols = (Column(_("Carrier")), Column(_("Shipments"), "count"), Column(_("Orders"), "count"), Column(_("Units"), "count"),
            Column(_("Packages"), "count"), Column(_("Label cost ({cur})").format(cur=currency), "money"),
            Column(_("Shipments with a label cost"), "count"), Column(_("Per order"), "money"), Column(_("Per unit"), "money"),
            Column(_("Previous per order"), "money"))
    before = {r.carrier: r for r in c.previous.rows}

    def major(v):
        return None if v is None else v / scale

    rows = [((r.carrier, r.shipments, r.orders, r.units, r.packages, major(r.cost_minor), r.costed_shipments,
              major(r.cost_per_order_minor), major(r.cost_per_unit_minor),
              major(before[r.carrier].cost_per_order_minor) if r.carrier in before else None), r.order_ids)
            for r in c.current.rows]
    return cols, rows


def _productivity(c: Compared, **_kw):
    cols = (Column(_("Work")), Column(_("Worker")), Column(_("Station")), Column(_("Lines"), "count"), Column(_("Units"), "count"),
            Column(_("Active hours"), "count"), Column(_("Lines per hour"), "number"), Column(_("Previous lines per hour"), "number"))
    before = {(r.activity, r.user, r.station): r for r in c.previous.rows}
    titles = {"pick": _("Picking"), "pack": _("Packing")}
    rows = [((titles[r.activity], r.user, r.station, r.lines, r.units, r.active_hours, r.lines_per_hour,
              before[(r.activity, r.user, r.station)].lines_per_hour if (r.activity, r.user, r.station) in before else None),
             r.order_ids) for r in c.current.rows]
    return cols, rows


_BUILD: dict[str, tuple[Callable, Callable, str]] = {
    "fill-rate": (m.fill_rate, _fill_rate, "fill-rate"),
    "cycle-time": (m.cycle_time, _cycle_time, "cycle-time"),
    "on-time": (m.on_time, _on_time, "on-time"),
    "backorders": (m.backorder_aging, _backorders, "backorders"),
    "throughput": (m.throughput, _throughput, "throughput"),
    "carrier-cost": (m.carrier_cost, _carrier_cost, "carrier-cost"),
    "productivity": (m.productivity, _productivity, "productivity"),
}


def build(session: Session, report: str, period: Period, filters: Filters = Filters(), *, by: str = "day",
          group: str = "location", currency: str = "USD") -> Table:
    """One report for the period, with the period before beside it, as a table."""
    if report not in _BUILD:
        raise InvalidInput(_("There is no report {name}; the reports are {all}.").format(name=report, all=", ".join(_BUILD)))
    measure, shape, key = _BUILD[report]
    kw = {"by": by, "group": group} if report == "throughput" else {}
    compared = m.compare(measure, session, period, filters, **kw)
    extra = {"perfect": m.compare(m.perfect_order, session, period, filters)} if report == "on-time" else {}
    cols, rows = shape(compared, currency=currency, **extra)
    return Table(report, REPORTS[report], m.DEFINITIONS[key], period, period.previous(), tuple(cols),
                 tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] if len(r) > 2 else () for r in rows))
