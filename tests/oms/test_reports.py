"""Every measure on the small house of reports_house.py, with the expected values worked out by hand here.

The period is Fri 20 – Thu 26 November 2026; the reports are read on Fri 27th 12:00. The previous period
(13th – 19th) holds order H only.
"""

from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms import reports
from oms.core.errors import InvalidInput
from oms.core.types import at_time
from oms.reports import Filters, Period, WorkingHours
from tests.oms.reports_house import NOW, build

WEEK = Period(date(2026, 11, 20), date(2026, 11, 26))


@pytest.fixture
def house(world):
    return world, build(world)


def run(db, measure, period=WEEK, filters=Filters(), **kw):
    with at_time(NOW), db.read() as s:
        return measure(s, period, filters, **kw)


def ids(o, *letters):
    return tuple(sorted(o[x] for x in letters))


def test_fill_rate_three_ways_first_time_and_final(house):
    db, o = house
    f = run(db, reports.fill_rate)
    # Orders counted: A, B, C, D, F, G (E is cancelled whole). Nine lines, 20 units:
    # A red 2 (reserved at once, shipped) · B red 1 (reserved at once, shipped), blue 3 (backordered, shipped late)
    # C red 2 (shipped), lantern 2 (reserved, not shipped) · D red 3 (shipped), lantern 1 (cancelled)
    # F lantern 4 (backordered) · G lantern 2 (backordered).
    assert (f.line_final.hits, f.line_final.total) == (5, 9)  # A red, B red, B blue, C red, D red
    assert (f.line_first.hits, f.line_first.total) == (4, 9)  # the same but B blue, which waited for stock
    assert (f.order_final.hits, f.order_final.total) == (2, 6)  # A and B have every line shipped complete
    assert (f.order_first.hits, f.order_first.total) == (1, 6)  # A only: B's blue line was backordered
    assert (f.unit_final.hits, f.unit_final.total) == (11, 20)  # 2 + 1 + 3 + 2 + 3 shipped
    assert (f.unit_first.hits, f.unit_first.total) == (8, 20)  # 2 + 1 + 2 + 3
    assert f.line_final.value == pytest.approx(5 / 9)
    # Drill-down: exactly the orders behind each number.
    assert f.order_final.hit_orders == ids(o, "A", "B")
    assert f.order_final.miss_orders == ids(o, "C", "D", "F", "G")
    assert f.order_first.hit_orders == ids(o, "A")
    assert f.line_first.miss_orders == ids(o, "B", "C", "D", "F", "G")
    assert f.unit_final.hit_orders == ids(o, "A", "B", "C", "D")
    assert f.unit_final.orders == ids(o, "A", "B", "C", "D", "F", "G")
    assert o["E"] not in f.order_final.orders


def test_fill_rate_against_the_previous_period_and_filters(house):
    db, o = house
    with at_time(NOW), db.read() as s:
        c = reports.compare(reports.fill_rate, s, WEEK)
    assert c.previous_period == Period(date(2026, 11, 13), date(2026, 11, 19))
    assert (c.previous.order_first.hits, c.previous.order_first.total) == (1, 1)  # H, shipped from stock
    assert c.previous.order_first.hit_orders == ids(o, "H")
    assert c.current.order_first.total == 6
    fedex = run(db, reports.fill_rate, filters=Filters(carrier="FedEx"))
    assert (fedex.line_final.hits, fedex.line_final.total) == (2, 2) and fedex.line_final.orders == ids(o, "B")
    assert run(db, reports.fill_rate, filters=Filters(channel="edi")).order_final.total == 0
    assert run(db, reports.fill_rate, filters=Filters(order_type="dtc", location="RNO")).order_final.total == 6
    with pytest.raises(InvalidInput, match="There is no channel nowhere"):
        run(db, reports.fill_rate, filters=Filters(channel="nowhere"))
    with pytest.raises(InvalidInput, match="There is no order type retail"):
        run(db, reports.fill_rate, filters=Filters(order_type="retail"))
    with pytest.raises(InvalidInput, match="ends"):
        Period(date(2026, 11, 26), date(2026, 11, 20))


def test_cycle_time_calendar_and_working_hours(house):
    db, o = house
    c = run(db, reports.cycle_time)
    # Shipped complete in the period: A 08:00 Fri → 12:00 Fri = 4 h; D 11:00 Sat → 10:30 Sun = 23.5 h;
    # B 09:00 Fri → 14:00 Mon = 77 h. Nearest rank of 3: median is the 2nd, p90 and p99 the 3rd.
    assert (c.to_ship.count, c.to_ship.median, c.to_ship.p90, c.to_ship.p99) == (3, 23.5, 77.0, 77.0)
    assert c.to_ship.orders == ids(o, "A", "B", "D") and c.to_ship.slowest == ids(o, "B")
    # Working hours, Mon–Fri 08–17: A 4; D 0 (a weekend); B Fri 09–17 (8) + Mon 08–14 (6) = 14.
    w = c.to_ship_working
    assert (w.median, w.p90, w.p99) == (4.0, 14.0, 14.0)
    # Delivered in the period: A Fri 08:00 → Sat 12:00 = 28 h (working: Fri 9 h);
    # D Sat 11:00 → Wed 12:00 = 97 h (working: Mon 9 + Tue 9 + Wed 4 = 22 h).
    assert (c.to_deliver.count, c.to_deliver.median, c.to_deliver.p90) == (2, 28.0, 97.0)
    assert (c.to_deliver_working.median, c.to_deliver_working.p90) == (9.0, 22.0)
    assert c.to_deliver.slowest == ids(o, "D")
    # Another working week: every day, 10–12 in Los Angeles (18–20 UTC in November): A has no such hour.
    la = run(db, reports.cycle_time, hours=WorkingHours(time(10), time(12),
                                                        tuple(range(7)), "America/Los_Angeles"))
    assert la.to_ship_working.median == 2.0  # D: Sat 18–20 UTC
    assert la.to_ship_working.p90 == 6.0  # B: Fri, Sat and Sun 18–20 UTC; Mon's come after it shipped at 14:00
    empty = run(db, reports.cycle_time, filters=Filters(channel="edi"))
    assert empty.to_ship == reports.Durations(0, None, None, None)


def test_on_time_ship_and_delivery(house):
    db, o = house
    t = run(db, reports.on_time)
    # Ship-by in the period and past: A (Sun 08:00), B (Sun 09:00), F (Sun 12:00), C (Mon 10:00), D (Mon 11:00);
    # G's is the 28th. On time and complete: A (Fri 12:00) and D (Sun 10:30). B shipped Mon, C only in part, F not.
    assert (t.ship.hits, t.ship.total) == (2, 5)
    assert t.ship.hit_orders == ids(o, "A", "D") and t.ship.miss_orders == ids(o, "B", "C", "F")
    # Deliver-by in the period with a delivery tracked: A (by Sun, Sat) on time; D (by Tue, Wed) late.
    assert (t.delivery.hits, t.delivery.total) == (1, 2)
    assert t.delivery.miss_orders == ids(o, "D")


def test_perfect_order_counts_orders_that_pass_everything(house):
    db, o = house
    p = run(db, reports.perfect_order)
    # Finished shipping in the period: A, B, D. A passes all; B shipped late; D was delivered late, had a line
    # cancelled and a shipment voided. 1 of 3, not the product of the component rates.
    assert (p.rate.hits, p.rate.total) == (1, 3)
    assert p.rate.hit_orders == ids(o, "A")
    assert dict(p.failed) == {"on_time_ship": ids(o, "B"), "on_time_delivery": ids(o, "D"), "complete": ids(o, "D"),
                              "undamaged": (), "documents": ids(o, "D")}


def test_backorder_aging_by_sku_and_location(house):
    db, o = house
    b = run(db, reports.backorder_aging)
    # Waiting now: F's 4 lanterns (placed 7 days ago: 4–7, ship-by passed) and G's 2 (1 day: 0–3).
    (lantern,) = b.by_sku
    assert lantern.key == "LANTERN"
    assert lantern.lines == (1, 1, 0, 0, 0) and lantern.units == (2, 4, 0, 0, 0)
    assert lantern.orders == (ids(o, "G"), ids(o, "F"), (), (), ())
    assert (lantern.past_promise, lantern.past_promise_orders) == (1, ids(o, "F"))
    assert [r.key for r in b.by_location] == ["RNO"] and b.by_location[0].units == lantern.units
    assert b.total.units == (2, 4, 0, 0, 0)
    later = reports.measures.BUCKETS
    assert [t for t, _lo, _hi in later] == ["0–3", "4–7", "8–14", "15–30", ">30"]
    with at_time(datetime(2027, 1, 1, tzinfo=timezone.utc)), db.read() as s:
        old = reports.backorder_aging(s, WEEK)
    assert old.total.units == (0, 0, 0, 0, 6)  # 36 and 42 days


def test_throughput_and_carrier_cost(house):
    db, o = house
    t = run(db, reports.throughput, group="carrier")
    assert [(r.bucket, r.key, r.shipments, r.orders, r.lines, r.units) for r in t.rows] == [
        ("2026-11-20", "UPS", 1, 1, 1, 2),  # A
        ("2026-11-21", "UPS", 1, 1, 1, 2),  # C's red mugs
        ("2026-11-22", "UPS", 1, 1, 1, 3),  # D, two packages
        ("2026-11-23", "FedEx", 1, 1, 2, 4),  # B
    ]
    assert t.rows[3].order_ids == ids(o, "B")
    by_hour = run(db, reports.throughput, by="hour", group="location")
    assert [(r.bucket, r.key) for r in by_hour.rows][0] == ("2026-11-20 12:00", "RNO")
    assert sum(r.units for r in by_hour.rows) == 11
    with pytest.raises(InvalidInput, match="by day or by hour"):
        run(db, reports.throughput, by="week")
    c = run(db, reports.carrier_cost)
    fedex, ups = c.rows
    assert (ups.shipments, ups.orders, ups.units, ups.packages, ups.cost_minor) == (3, 3, 7, 4, 2900)
    assert ups.cost_per_order_minor == pytest.approx(2900 / 3) and ups.cost_per_unit_minor == pytest.approx(2900 / 7)
    assert ups.order_ids == ids(o, "A", "C", "D")
    assert (fedex.shipments, fedex.units, fedex.costed_shipments, fedex.cost_per_order_minor) == (1, 4, 0, None)
    only_fedex = run(db, reports.carrier_cost, filters=Filters(carrier="FedEx"))
    assert [r.carrier for r in only_fedex.rows] == ["FedEx"]


def test_productivity_from_the_audit_trail(house):
    db, o = house
    p = run(db, reports.productivity)
    pack, pick = p.rows  # sorted by activity, worker, station
    # ann: picks of A (Fri 09h), C (Sat 11h), D (Sun 09h), B red and blue (Mon 10h): 5 lines, 11 units, 4 hours.
    assert (pick.activity, pick.user, pick.station, pick.lines, pick.units, pick.active_hours) == (
        "pick", "ann", "pick-1", 5, 11, 4)
    assert pick.lines_per_hour == 1.25
    # bob: A (1 line), C (1), D voided (1) and again (1), B (2): 6 lines, 14 units in 5 clock hours.
    assert (pack.activity, pack.user, pack.lines, pack.units, pack.active_hours) == ("pack", "bob", 6, 14, 5)
    assert pack.order_ids == ids(o, "A", "B", "C", "D")
    with at_time(NOW), db.read() as s:
        before = reports.compare(reports.productivity, s, WEEK).previous
    assert [(r.activity, r.lines, r.order_ids) for r in before.rows] == [("pack", 1, ids(o, "H")), ("pick", 1, ids(o, "H"))]


_instants = st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)).map(lambda d: d.replace(tzinfo=timezone.utc))


@settings(max_examples=200, deadline=None)
@given(_instants, st.integers(0, 20 * 24 * 60), st.integers(0, 20 * 24 * 60),
       st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles"]))
def test_working_hours_add_up_and_never_exceed_the_clock(a, m1, m2, tz):
    """Hours from a to c are those from a to b plus those from b to c, and never more than the calendar's."""
    hours = WorkingHours(tz=tz)
    b, c = a + timedelta(minutes=m1), a + timedelta(minutes=m1 + m2)
    whole = hours.between(a, c)
    assert whole == pytest.approx(hours.between(a, b) + hours.between(b, c), abs=1e-9)
    assert 0 <= whole <= (c - a).total_seconds() / 3600 + 1e-9
    assert whole <= 9 * ((c - a).days + 2)  # never more than a working day's 9 hours a day


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 10_000, allow_nan=False), min_size=1, max_size=60))
def test_percentiles_are_real_orders_in_order(values):
    d = reports.measures._durations(list(enumerate(values)))
    assert d.median in values and d.p90 in values and d.p99 in values
    assert min(values) <= d.median <= d.p90 <= d.p99 <= max(values)
    assert d.count == len(values) and set(d.slowest) <= set(d.orders)
    assert len(d.slowest) >= max(1, len(values) // 10) or len(values) < 10
