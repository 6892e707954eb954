"""The one intake door: every source's orders imported, reconciled and routed the same way, refusals reported."""

from sqlalchemy import func, select

from oms import intake, routing
from oms.orders.models import Allocation, OrderLine, SalesOrder
from tests.conftest import ACTOR, make_order, stock


def ready(world):
    with world.write() as s:
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
    stock(world, "MUG-RED", "RNO", 10, bin="A-01-1")
    stock(world, "MUG-BLU", "RNO", 10, bin="A-03-2")
    return world


def allocated(db, external_id: str) -> int:
    with db.read() as s:
        return s.scalar(select(func.coalesce(func.sum(Allocation.quantity), 0)).join(OrderLine).join(SalesOrder)
                        .where(SalesOrder.external_id == external_id))


def test_a_batch_is_imported_and_routed_once(world):
    db = ready(world)
    batch = [make_order("A1", (("MUG-RED", 2),)), make_order("A2", (("MUG-BLU", 1),))]
    with db.write() as s:
        report = intake.take_in(s, ACTOR, batch)
    assert (report.created, report.updated, report.unchanged, report.refused) == (2, 0, 0, [])
    assert [r.outcome for r in report.routed] == ["allocated", "allocated"]
    assert allocated(db, "A1") == 2 and allocated(db, "A2") == 1

    with db.write() as s:
        again = intake.take_in(s, ACTOR, batch)
    assert (again.created, again.unchanged, again.routed) == (0, 2, [])
    assert allocated(db, "A1") == 2


def test_a_changed_order_is_routed_for_what_it_now_needs(world):
    db = ready(world)
    with db.write() as s:
        intake.take_in(s, ACTOR, [make_order("B1", (("MUG-RED", 2),))])
    with db.write() as s:
        report = intake.take_in(s, ACTOR, [make_order("B1", (("MUG-RED", 5),))])
    assert report.updated == 1
    assert [r.order_id for r in report.routed] == [report.results[0].order_id]
    assert allocated(db, "B1") == 5


def test_a_refused_order_is_reported_with_why_and_the_rest_kept(world):
    db = ready(world)
    good, bad = make_order("C1"), make_order("C2", channel="nowhere")
    with db.write() as s:
        report = intake.take_in(s, ACTOR, [good, bad])
    assert report.created == 1
    assert report.results[1] is None
    (refused,) = report.refused
    assert refused.order is bad and "no sales channel nowhere" in refused.reason
    with db.read() as s:
        assert s.scalars(select(SalesOrder.external_id)).all() == ["C1"]
    assert allocated(db, "C1") == 2


def test_the_rules_apply_whatever_channel_the_order_came_from(world):
    db = ready(world)
    with db.write() as s:
        routing.save_rule(s, ACTOR, "Wholesale waits for a call", {"order_type": ["wholesale"]},
                          {"hold_reason": "Call the buyer"})
        report = intake.take_in(s, ACTOR, [make_order("D1", channel="edi", order_type="wholesale"), make_order("D2")])
    assert [r.outcome for r in report.routed] == ["held", "allocated"]
    with db.read() as s:
        held = s.scalar(select(SalesOrder).where(SalesOrder.external_id == "D1"))
        assert held.on_hold and held.hold_reason == "Call the buyer"
