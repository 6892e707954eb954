"""A channel that makes an order wait (payment not taken, fulfilled by the marketplace): held on import, not
reserved; released and routed when the channel stops saying so; held again, its stock given back, if it says so again."""

from dataclasses import replace

from oms import check, intake, routing
from oms.orders.models import SalesOrder
from tests.conftest import ACTOR, make_order, stock


def load(db, order_id):
    with db.read() as s:
        o = s.get(SalesOrder, order_id)
        return o, list(o.lines)


def test_a_channel_hold_waits_unreserved_then_lifts_and_routes_then_holds_again(world):
    stock(world, "MUG-RED", "RNO", 10, bin="A-01-1")
    routing_ready(world)
    waiting = make_order("7", [("MUG-RED", 2)], channel_hold="Pending: payment not authorised yet")
    with world.write() as s:
        (r,) = intake.take_in(s, ACTOR, [waiting]).results
    o, lines = load(world, r.order_id)
    assert o.on_hold and o.hold_reason == "[web] Pending: payment not authorised yet" and o.location_id is None
    assert [l.allocated for l in lines] == [0]

    with world.write() as s:  # the same payload again: nothing changes
        (again,) = intake.take_in(s, ACTOR, [waiting]).results
    assert again.outcome == "unchanged"

    with world.write() as s:  # paid: the channel no longer makes it wait
        (paid,) = intake.take_in(s, ACTOR, [replace(waiting, channel_hold="")]).results
    o, lines = load(world, r.order_id)
    assert paid.outcome == "updated" and not o.on_hold and o.status == "allocated" and [l.allocated for l in lines] == [2]

    with world.write() as s:  # the payment reversed: held again, and the reservation goes back for other orders
        intake.take_in(s, ACTOR, [replace(waiting, channel_hold="Payment reversed")])
    o, lines = load(world, r.order_id)
    assert o.on_hold and "Payment reversed" in o.hold_reason and [l.allocated for l in lines] == [0]
    with world.read() as s:
        assert check.run(s) == []


def test_a_persons_hold_is_never_lifted_by_the_channel(world):
    routing_ready(world)
    with world.write() as s:
        (r,) = intake.take_in(s, ACTOR, [make_order("8", [("GHOST-1", 1)], channel_hold="on-hold")]).results
    o, _lines = load(world, r.order_id)
    assert o.on_hold and "GHOST-1" in o.hold_reason and "[web] on-hold" in o.hold_reason
    with world.write() as s:
        intake.take_in(s, ACTOR, [make_order("8", [("GHOST-1", 1)])])
    o, _lines = load(world, r.order_id)
    assert o.on_hold and "GHOST-1" in o.hold_reason  # the unknown SKU still holds it


def routing_ready(db):
    with db.write() as s:
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
