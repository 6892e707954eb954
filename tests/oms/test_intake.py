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


def test_an_order_without_the_newer_fields_hashes_as_it_always_did():
    """Tags and a channel's hold came later: an order without them keeps the fingerprint it was stored with, so
    the next pull does not take every order already in for a changed one."""
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone

    from oms.orders.contract import Address, NormalizedLine, NormalizedOrder

    placed = datetime(2026, 11, 20, 8, 2, tzinfo=timezone.utc)
    order = NormalizedOrder(channel="web", external_id="G1", number="#G1", placed_at=placed, currency="USD",
                            lines=(NormalizedLine("1", "MUG-RED", 2, 1400, "Mug"),), customer_name="Ada",
                            customer_email="ada@example.com",
                            ship_to=Address("Ada", "", "1 Main St", "", "Seattle", "WA", "98101", "US"),
                            ship_by=placed + timedelta(days=2))
    assert order.fingerprint() == "787f31fa70a46cfef6d603295e957961ab04913f4d3eaf62b9d8806daf995dda"  # as on 2026-12-05
    assert replace(order, tags="prime").fingerprint() != order.fingerprint()


def test_order_tags_are_kept_tidy_and_routing_rules_match_them(world):
    db = ready(world)
    with db.write() as s:
        routing.save_rule(s, ACTOR, "Prime ships from Reno", {"order_tag": ["Prime"]}, {"hold_reason": "Prime desk"})
        report = intake.take_in(s, ACTOR, [make_order("T1", tags="Prime, gift ,prime"), make_order("T2", tags="gift")])
    assert [r.outcome for r in report.routed] == ["held", "allocated"]
    with db.read() as s:
        tagged = s.scalar(select(SalesOrder).where(SalesOrder.external_id == "T1"))
        assert tagged.tags == "gift,prime" and tagged.hold_reason == "Prime desk"
    with db.write() as s:  # the channel drops the tag: the change is kept like any other
        again = intake.take_in(s, ACTOR, [make_order("T1", tags="gift")])
    assert again.updated == 1
    with db.read() as s:
        assert s.scalar(select(SalesOrder.tags).where(SalesOrder.external_id == "T1")) == "gift"
