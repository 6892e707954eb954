"""A 3PL over REST, end to end: the engine, the connector and the warehouse emulator over real loopback HTTP, on
SQLite and PostgreSQL. Orders routed to the 3PL go out once; its shipments, shorts and stock come back once."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from oms import routing, threepl
from oms.core.models import OutboxMessage
from oms.core.types import utcnow
from oms.integration import sync_store
from oms.inventory.models import Location, StockLevel, StockMovement
from oms.orders.models import Allocation, OrderLine, SalesOrder
from oms.shipping.models import Package, Shipment
from oms.threepl.models import ThreePLOrder, ThreePLShipment
from sync.emulators.threepl import ThreePLEmulator
from sync.engine import Engine
from sync.threepl.rest import ThreePLRestConnector
from tests.conftest import ACTOR, make_order, stock, take_in

TOKEN = "tpl_secret"


@pytest.fixture
def tpl_world(world):
    """The shared world, its 3PL preferred for every order, a 3PL connection to it, and stock there."""
    with world.write() as s:
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        routing.save_rule(s, ACTOR, "3PL first", {}, {"preferred_locations": ["3PL"], "split": "allow"})
        sync_store.add_connector(s, ACTOR, code="TPL", role="threepl", kind="threepl_json", name="ShipRight",
                                 base_url="http://127.0.0.1:1", options={"location": "3PL", "ack_hours": 4})
    stock(world, "MUG-RED", "3PL", 10)
    stock(world, "MUG-BLU", "3PL", 5)
    stock(world, "MUG-RED", "RNO", 10, bin="A-01-1")
    return world


def connector(db, emu, **kw) -> ThreePLRestConnector:
    return ThreePLRestConnector("TPL", emu.url, TOKEN, location="3PL", db=db, sleep=lambda s: None,
                                rng=random.Random(1), timeout=(2, 5), **kw)


def engine(db, emu, **kw) -> Engine:
    return Engine(db, {"TPL": connector(db, emu, **kw)}, rng=random.Random(2))


def order_in(db, ext="1001", lines=(("MUG-RED", 2),)) -> int:
    with db.write() as s:
        (r,) = take_in(s, make_order(ext, lines))
        return r.order_id


def at_3pl(db, order_id) -> int:
    with db.read() as s:
        lid = s.scalar(select(Location.id).where(Location.code == "3PL"))
        return s.scalar(select(func.coalesce(func.sum(Allocation.quantity), 0))
                        .join(OrderLine, OrderLine.id == Allocation.order_line_id)
                        .where(OrderLine.order_id == order_id, Allocation.location_id == lid))


def level(db, sku, loc="3PL") -> tuple[int, int]:
    from oms.catalog.models import Product
    with db.read() as s:
        row = s.execute(select(StockLevel.on_hand, StockLevel.allocated).join(Product, Product.id == StockLevel.product_id)
                        .join(Location, Location.id == StockLevel.location_id)
                        .where(Product.sku == sku, Location.code == loc)).first()
        return tuple(row) if row else (0, 0)


def warehouse(**kw) -> ThreePLEmulator:
    emu = ThreePLEmulator(token=TOKEN, seed=3, **kw)
    emu.stock.update({"MUG-RED": 10, "MUG-BLU": 5})
    return emu


def test_an_order_routed_to_the_3pl_goes_out_once_and_comes_back_shipped_with_cartons_and_tracking(tpl_world):
    oid = order_in(tpl_world)
    assert at_3pl(tpl_world, oid) == 2
    with warehouse(ack_delay_s=0, ship_delay_s=3600) as emu:
        eng = engine(tpl_world, emu)
        eng.run_once()
        assert [o["reference"] for o in emu.orders.values()] == ["#1001"]
        assert emu.orders[101]["lines"] == [{"line_ref": emu.orders[101]["lines"][0]["line_ref"], "sku": "MUG-RED", "quantity": 2}]
        eng.run_once()  # the acknowledgement comes back
        with tpl_world.read() as s:
            assert threepl.order_standing(s, oid) == "sent to 3PL (#101, acknowledged)"
        emu.advance(3600)
        eng.run_once()  # the warehouse shipped it; the next pass reads the shipment
        (remote,) = emu.shipments_of(101)
        eng.run_once()
        assert len(emu.orders) == 1  # nothing sent again
    with tpl_world.read() as s:
        order = s.get(SalesOrder, oid)
        assert order.status == "shipped"
        (shp,) = s.scalars(select(Shipment).where(Shipment.order_id == oid)).all()
        assert (shp.tracking_number, shp.carrier, shp.status) == (remote["tracking_number"], remote["carrier"], "shipped")
        assert [p.sscc for p in s.scalars(select(Package).where(Package.shipment_id == shp.id))] == [remote["cartons"][0]["sscc"]]
        topics = sorted(s.scalars(select(OutboxMessage.topic).where(OutboxMessage.order_id == oid,
                                                                    OutboxMessage.destination == "web")))
        assert topics == ["fulfillment.create", "payment.capture"]  # the channel hears as of our own shipments
        assert threepl.order_standing(s, oid) == "shipped by the 3PL (#101)"
    assert level(tpl_world, "MUG-RED") == (8, 0)  # and the 3PL's snapshot (8 left) agrees: no adjustment
    with tpl_world.read() as s:
        assert s.scalar(select(func.count()).select_from(StockMovement).where(StockMovement.reason == threepl.SNAPSHOT_REASON)) == 0


def test_exactly_once_through_a_5xx_a_dropped_answer_and_a_sync_killed_after_the_post(tpl_world, monkeypatch):
    oid = order_in(tpl_world)
    with warehouse(ship_delay_s=3600) as emu:
        # A 5xx, then an answer lost after the 3PL took the order: the client tries again under the same key.
        emu.fail_next_posts("503", "drop")
        eng = engine(tpl_world, emu, max_attempts=4)
        eng.run_once()
        assert [status for m, path, status in emu.calls if path == "/v1/orders"] == [503, 0, 201]
        assert len(emu.orders) == 1
        # And a bad day on every call: passes fail and resume, and the order is still there once.
        emu.set_faults(rate_5xx=0.3, rate_drop=0.2)
        for _ in range(5):
            eng.run_once()
        emu.clear_faults()
        eng.run_once()
        assert len(emu.orders) == 1

        # A second order; the sync is killed after the 3PL took it and before we wrote that down.
        second = order_in(tpl_world, "1002", (("MUG-BLU", 1),))

        class Killed(BaseException):
            pass

        def die(*a, **kw):
            raise Killed()

        monkeypatch.setattr(threepl, "mark_sent", die)
        with pytest.raises(Killed):
            engine(tpl_world, emu).run_once()
        monkeypatch.undo()
        assert len(emu.orders) == 2
        with tpl_world.read() as s:
            assert s.scalar(select(ThreePLOrder.status).where(ThreePLOrder.order_id == second)) == "queued"
        # A new sync (a restart) sends it again: the 3PL answers with the order it already has.
        reports = engine(tpl_world, emu).run_once()
        assert reports[0].pushed == 1 and len(emu.orders) == 2
        replays = [c for c in emu.calls if c[1] == "/v1/orders" and c[0] == "POST"]
        assert len(replays) >= 3
    with tpl_world.read() as s:
        rows = s.execute(select(ThreePLOrder.order_id, ThreePLOrder.status, ThreePLOrder.remote_id)
                         .order_by(ThreePLOrder.id)).all()
        assert [(r.order_id, r.status) for r in rows] == [(oid, "acknowledged"), (second, "acknowledged")]
        assert {r.remote_id for r in rows} == {"101", "102"}
        assert sync_store.waiting_count(s, "TPL") == 0


def test_a_shipment_sent_twice_is_applied_once(tpl_world):
    oid = order_in(tpl_world)
    with warehouse(double_send_rate=1.0) as emu:
        eng = engine(tpl_world, emu)
        eng.run_once()
        eng.run_once()
        assert len(emu.shipment_feed) == 2 and emu.shipment_feed[0]["id"] == emu.shipment_feed[1]["id"]
        eng.run_once()
    with tpl_world.read() as s:
        assert s.scalar(select(func.count()).select_from(Shipment).where(Shipment.order_id == oid)) == 1
        assert s.scalar(select(func.count()).select_from(ThreePLShipment)) == 1
        assert s.get(SalesOrder, oid).status == "shipped"
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.order_id == oid, OutboxMessage.topic == "fulfillment.create")) == 1
    assert level(tpl_world, "MUG-RED") == (8, 0)


def test_a_short_goes_back_to_routing_and_another_location_takes_it(tpl_world):
    oid = order_in(tpl_world, "1003", (("MUG-RED", 3),))
    assert at_3pl(tpl_world, oid) == 3
    with warehouse() as emu:
        emu.stock["MUG-RED"] = 1  # the warehouse has fewer than our books say
        eng = engine(tpl_world, emu)
        eng.run_once()
        eng.run_once()
        (remote,) = emu.shipments_of(101)
        assert remote["shorts"][0]["quantity"] == 2
        eng.run_once()
    with tpl_world.read() as s:
        order = s.get(SalesOrder, oid)
        (line,) = order.lines
        assert (line.shipped, line.allocated, line.backordered) == (1, 2, 0)
        reno = s.scalar(select(Location.id).where(Location.code == "RNO"))
        assert s.scalar(select(Allocation.quantity).where(Allocation.order_line_id == line.id)) == 2
        assert s.scalar(select(Allocation.location_id).where(Allocation.order_line_id == line.id)) == reno
        assert order.status == "partially_shipped"
        t = s.scalar(select(ThreePLOrder).where(ThreePLOrder.order_id == oid))
        assert (t.status, t.lines[0].shipped, t.lines[0].shorted) == ("shipped", 1, 2)
    assert level(tpl_world, "MUG-RED") == (0, 0)  # the 3PL's snapshot said none are left, and so do we
    with warehouse() as emu2:
        engine(tpl_world, emu2).run_once()
        assert emu2.orders == {}  # the units now at Reno are not sent to the 3PL


def test_a_silent_3pl_becomes_an_exception_once(tpl_world):
    oid = order_in(tpl_world)
    with warehouse(silent=True) as emu:
        eng = engine(tpl_world, emu, ack_hours=0)
        eng.run_once()
        eng.run_once()
        eng.run_once()
        assert emu.shipment_feed == [] and emu.orders[101]["status"] == "received"
    with tpl_world.read() as s:
        flagged = [q for q in sync_store.quarantined(s) if q.stream == "exceptions"]
        assert len(flagged) == 1 and "has not acknowledged order #1001" in flagged[0].error
        assert threepl.order_standing(s, oid) == "sent to 3PL (#101, not acknowledged yet)"


def test_stock_snapshots_reconcile_with_a_reason_and_an_older_one_waits(tpl_world):
    with warehouse() as emu:
        emu.set_stock("MUG-BLU", 7)  # the 3PL counted more than we thought
        engine(tpl_world, emu).run_once()
        assert level(tpl_world, "MUG-BLU") == (7, 0)
        with tpl_world.read() as s:
            (m,) = s.scalars(select(StockMovement).where(StockMovement.reason == threepl.SNAPSHOT_REASON)).all()
            assert m.quantity == 2 and m.kind == "adjust"
        # A snapshot taken before a movement of ours (units we sent there, received since) is not applied over it.
        emu.advance(-3600)
        emu.set_stock("MUG-RED", 4)
        emu.advance(3600)
        engine(tpl_world, emu).run_once()
        assert level(tpl_world, "MUG-RED") == (10, 0)
        emu.set_stock("MUG-RED", 9)  # a newer one is
        engine(tpl_world, emu).run_once()
        assert level(tpl_world, "MUG-RED") == (9, 0)


def test_a_shipment_for_an_order_never_sent_is_quarantined_with_its_reason(tpl_world):
    with warehouse() as emu:
        emu.shipment_feed.append({"seq": 1, "id": "SHP1", "order_id": 9, "reference": "#9999", "shipped_at": "2026-12-01T10:00:00Z",
                                  "carrier": "UPS", "service": "Ground", "tracking_number": "1Z1", "shorts": [],
                                  "cartons": [{"sscc": "", "weight_g": 100, "items": [{"line_ref": "1", "quantity": 1}]}]})
        engine(tpl_world, emu).run_once()
    with tpl_world.read() as s:
        (q,) = sync_store.quarantined(s)
        assert q.stream == "threepl.shipments" and "#9999" in q.error and "never sent" in q.error
        assert s.scalar(select(func.count()).select_from(Shipment)) == 0


def test_a_backorder_released_at_the_3pl_goes_out_as_a_further_order(tpl_world):
    oid = order_in(tpl_world, "1004", (("LANTERN", 2),))  # no lantern anywhere: backordered
    with warehouse(ship_delay_s=3600) as emu:
        eng = engine(tpl_world, emu)
        eng.run_once()
        assert emu.orders == {}
        stock(tpl_world, "LANTERN", "3PL", 2)  # stock arrives at the 3PL: the backorder is released there
        assert at_3pl(tpl_world, oid) == 2
        eng.run_once()
        assert [o["reference"] for o in emu.orders.values()] == ["#1004"]
        assert emu.orders[101]["lines"][0]["quantity"] == 2


def test_the_connection_test_and_a_refused_token(tpl_world):
    with warehouse() as emu:
        assert "ShipRight Dallas" in connector(tpl_world, emu).check_connection()
        bad = ThreePLRestConnector("TPL", emu.url, "wrong", location="3PL", db=tpl_world, sleep=lambda s: None)
        (report,) = Engine(tpl_world, {"TPL": bad}).run_once()
        assert report.refused and emu.orders == {}


def test_a_webhook_applies_a_shipment_at_once_and_a_lost_one_is_recovered_by_the_pull(tpl_world):
    from sync.threepl.webhooks import WebhookReceiver

    first = order_in(tpl_world)
    with warehouse() as emu, WebhookReceiver(tpl_world, {"TPL": TOKEN}) as hooks:
        conn = connector(tpl_world, emu)
        conn.register_webhook(hooks.url("TPL"))
        eng = Engine(tpl_world, {"TPL": conn})
        eng.run_once()  # the order goes out
        emu.tick()  # the warehouse ships it and tells us: applied before any pull
        assert hooks.received == [("TPL", "applied")]
        with tpl_world.read() as s:
            assert s.get(SalesOrder, first).status == "shipped"
        eng.run_once()  # the pull reads the same shipment: nothing changes
        with tpl_world.read() as s:
            assert s.scalar(select(func.count()).select_from(Shipment).where(Shipment.order_id == first)) == 1

        second = order_in(tpl_world, "1002", (("MUG-BLU", 1),))
        emu.webhook_drop_rate = 1.0
        eng.run_once()
        emu.tick()  # shipped, and the webhook is lost
        assert emu.webhook_log[-1][1] == 0
        with tpl_world.read() as s:
            assert s.get(SalesOrder, second).status != "shipped"
        eng.run_once()  # the reconciliation pull finds it
        with tpl_world.read() as s:
            assert s.get(SalesOrder, second).status == "shipped"
        # A forged webhook is refused and writes nothing.
        status, _text = hooks.handle("/threepl/TPL", "0" * 64, b'{"type": "shipment.created", "shipment": {}}')
        assert status == 401


def test_a_3pl_connection_needs_a_3pl_location(tpl_world):
    from oms.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="RNO is a warehouse, not a 3PL"):
        with tpl_world.write() as s:
            sync_store.add_connector(s, ACTOR, code="TPL2", role="threepl", kind="threepl_json", name="x",
                                     base_url="http://127.0.0.1:1", options={"location": "RNO"})


def test_a_carton_sscc_we_already_used_is_quarantined_not_half_applied(tpl_world):
    oid = order_in(tpl_world)
    with warehouse(ship_delay_s=3600) as emu:
        eng = engine(tpl_world, emu)
        eng.run_once()
        emu.shipment_feed.append({"seq": 1, "id": "SHP9", "order_id": 101, "reference": "#1001",
                                  "shipped_at": "2026-12-01T10:00:00Z", "carrier": "UPS", "service": "Ground",
                                  "tracking_number": "1Z9", "shorts": [],
                                  "cartons": [{"sscc": "008600040000000019", "weight_g": 100,
                                               "items": [{"line_ref": emu.orders[101]["lines"][0]["line_ref"], "quantity": 1}]},
                                              {"sscc": "008600040000000019", "weight_g": 100,
                                               "items": [{"line_ref": emu.orders[101]["lines"][0]["line_ref"], "quantity": 1}]}]})
        eng.run_once()
    with tpl_world.read() as s:
        (q,) = sync_store.quarantined(s)
        assert "same SSCC" in q.error and q.external_ref == "SHP9"
        assert s.get(SalesOrder, oid).status != "shipped" and at_3pl(tpl_world, oid) == 2
