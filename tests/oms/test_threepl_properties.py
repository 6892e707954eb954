"""Property test: whatever a 3PL reports, in whatever order and however often, each unit it was sent is shipped or
shorted at most once, the order's lines agree with the reports applied, and the ledger still equals the levels."""

from itertools import count

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from oms import catalog, check, routing, threepl
from oms.core.errors import OmsError
from oms.orders.models import OrderLine
from oms.threepl.models import ThreePLOrder
from tests.conftest import ACTOR, make_order, stock, take_in

_ids = count(1)

# A report: (its id among a few, so some repeat), and per line (shipped, short) units.
report = st.tuples(st.integers(0, 5), st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=2, max_size=2))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports=st.lists(report, max_size=8))
def test_a_3pl_s_reports_apply_each_unit_once(world, reports):
    n = next(_ids)
    with world.write() as s:
        if not any(rule.name == "only the 3PL" for rule in routing.load_rules(s)):
            routing.seed_rates(s)
            routing.save_rule(s, ACTOR, "only the 3PL", {}, {"allowed_locations": ["3PL"]})
    a, b = f"P{n}-A", f"P{n}-B"  # SKUs of this example's own: earlier examples' backorders do not take its stock
    with world.write() as s:
        catalog.add_product(s, ACTOR, a, a)
        catalog.add_product(s, ACTOR, b, b)
    stock(world, a, "3PL", 4)
    stock(world, b, "3PL", 4)
    with world.write() as s:
        (r,) = take_in(s, make_order(f"P{n}", ((a, 4), (b, 3))))
        queued = [s.get(ThreePLOrder, i) for i in threepl.queue_new_work(s, ACTOR, "TPL", "3PL")]
        (t,) = [q for q in queued if q.order_id == r.order_id]  # earlier examples' released shorts may go too
        tid = t.id
        refs = [str(l.order_line_id) for l in t.lines]
        reference = t.reference
    applied: dict[str, tuple[int, int]] = {}  # remote id -> what it shipped/shorted in total
    for rid, per_line in reports:
        remote = f"P{n}-S{rid}"
        cartons = tuple(threepl.Carton(None, 0, ((ref, shipped),)) for ref, (shipped, _s) in zip(refs, per_line) if shipped)
        shorts = tuple(threepl.Short(ref, short) for ref, (_x, short) in zip(refs, per_line) if short)
        advice = threepl.ShipmentAdvice(remote, reference, None, "UPS", "Ground", "1Z", cartons, shorts)
        try:
            with world.write() as s:
                done = threepl.apply_shipment(s, ACTOR, "TPL", advice)
        except OmsError:
            continue  # more than was outstanding, or nothing in it: refused whole
        if not done.duplicate:
            assert remote not in applied
            applied[remote] = (done.shipped_units, done.short_units)
    with world.read() as s:
        t = s.get(ThreePLOrder, tid)
        lines = {l.id: l for l in s.scalars(select(OrderLine).where(OrderLine.order_id == r.order_id))}
        assert all(l.shipped + l.shorted <= l.quantity for l in t.lines)
        assert sum(l.shipped for l in t.lines) == sum(a for a, _b in applied.values())
        assert sum(l.shorted for l in t.lines) == sum(b for _a, b in applied.values())
        for tl in t.lines:
            assert lines[tl.order_line_id].shipped == tl.shipped
        assert [f for f in check.run(s) if f.kind in ("ledger", "negative", "over-allocated")] == []
