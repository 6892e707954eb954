"""Re-routing an order that sits in an open wave: the wave stops asking for what went elsewhere."""

from __future__ import annotations

from sqlalchemy import select

from oms import fulfilment, routing
from oms.fulfilment.models import PickTask, Wave
from oms.orders.models import SalesOrder
from tests.conftest import ACTOR, make_order, ship_from, stock, take_in


def test_a_re_routed_order_loses_its_open_picks_in_the_wave(world):
    db = world
    ship_from(db, "RNO")
    stock(db, "MUG-RED", "RNO", 10, bin="A-01-1")
    stock(db, "MUG-RED", "EWR", 10, bin="A-01-1")
    with db.write() as s:
        take_in(s, make_order("7001"), make_order("7002"))
        wave = fulfilment.build_wave(s, ACTOR, "RNO")
        moved = s.scalar(select(SalesOrder.id).where(SalesOrder.external_id == "7001"))
        stays = s.scalar(select(SalesOrder.id).where(SalesOrder.external_id == "7002"))
        numbers = {t.order_number for t in fulfilment.open_tasks(s, wave.wave_id)}
        assert numbers == {"#7001", "#7002"}
        rule = routing.save_rule(s, ACTOR, "Only Newark now", {}, {"allowed_locations": ["EWR"]})
        others = [r.id for r in routing.load_rules(s) if not r.is_default and r.id != rule]
        routing.reorder(s, ACTOR, [rule, *others])
    with db.write() as s:
        result = fulfilment.reroute_order(s, ACTOR, moved, reason="Customer moved")
        assert result.outcome != "skipped"
    with db.read() as s:
        left = fulfilment.open_tasks(s, wave.wave_id)
        assert {t.order_number for t in left} == {"#7002"}, "the re-routed order's pick is off the wave"
        statuses = dict(s.execute(select(PickTask.id, PickTask.status)).all())
        assert "cancelled" in statuses.values()
        assert s.get(Wave, wave.wave_id).status == "open"
    with db.write() as s:  # the other order goes too: nothing is left to pick, the wave is done
        fulfilment.reroute_order(s, ACTOR, stays, reason="Customer moved too")
    with db.read() as s:
        assert fulfilment.open_tasks(s, wave.wave_id) == []
        assert s.get(Wave, wave.wave_id).status != "open"
