"""The sync engine against a scripted channel: pages and cursors, quarantine, cancellations, outbox order."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from oms import check, fulfilment, intake, orders, routing
from oms.core.models import OutboxMessage
from oms.fulfilment import models as fulfilment_models
from oms.integration import sync_store
from oms.integration.models import QuarantinedPayload
from oms.orders.models import SalesOrder
from oms.shipping import shipments
from sync.base import Cancellation, Offline, PermanentError, PullPage, Quarantine, RemoteError
from sync.engine import Engine, coalesce_inventory
from tests.conftest import ACTOR, make_order, run_at_once, stock


@dataclass
class ScriptedChannel:
    """A channel whose pages and answers the test writes; it keeps what it was sent."""

    code: str = "web"
    pages: list = field(default_factory=list)  # list of PullPage, served by cursor index
    offline: bool = False
    push_errors: list = field(default_factory=list)  # exceptions to raise on the next pushes
    received: list = field(default_factory=list)

    def pull_orders(self, cursor):
        if self.offline:
            raise Offline("connection refused")
        i = int(cursor or 0)
        if i >= len(self.pages):
            return PullPage([], next_cursor=str(i), done=True)
        page = self.pages[i]
        return PullPage(page.orders, page.cancellations, page.quarantined, next_cursor=str(i + 1), done=i + 1 >= len(self.pages))

    def push(self, message):
        if self.offline:
            raise Offline("connection refused")
        if self.push_errors:
            raise self.push_errors.pop(0)
        self.received.append((message.topic, message.idempotency_key))
        return {"ok": True}


@pytest.fixture
def synced(world):
    with world.write() as s:
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        sync_store.add_connector(s, ACTOR, code="web", role="channel", kind="shopify", name="Web", base_url="http://127.0.0.1:1")
    stock(world, "MUG-RED", "RNO", 50, bin="A-03-2")
    return world


def count(db, model, *where):
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_pages_import_route_and_store_the_cursor(synced):
    ch = ScriptedChannel(pages=[PullPage([make_order(f"{p}{i}", [("MUG-RED", 1)]) for i in range(3)]) for p in "abc"])
    (report,) = Engine(synced, {"web": ch}).run_once()
    assert (report.pulled, report.created) == (9, 9) and not report.offline
    assert count(synced, SalesOrder, SalesOrder.status == "allocated") == 9
    with synced.read() as s:
        assert sync_store.get_cursor(s, "web", "orders") == "3"
        (st,) = sync_store.statuses(s)
        assert st.online and st.pulled == 9
    (again,) = Engine(synced, {"web": ch}).run_once()  # nothing new after the cursor
    assert again.pulled == 0 and count(synced, SalesOrder) == 9


def test_a_page_that_fails_to_write_does_not_move_the_cursor(synced):
    bad = make_order("x", [("MUG-RED", 1)])
    ch = ScriptedChannel(pages=[PullPage([make_order("ok", [("MUG-RED", 1)])]), PullPage([bad])])

    class Boom(Exception):
        pass

    engine = Engine(synced, {"web": ch})
    real = engine.apply_page
    calls = []

    def failing(s, code, page, report):
        calls.append(page)
        real(s, code, page, report)
        if len(calls) == 2:
            raise Boom("the machine lost power here")

    engine.apply_page = failing
    with pytest.raises(Boom):
        engine.run_once()
    with synced.read() as s:
        assert sync_store.get_cursor(s, "web", "orders") == "1"  # the first page's commit, not the second
    assert count(synced, SalesOrder) == 1
    Engine(synced, {"web": ch}).run_once()
    assert count(synced, SalesOrder) == 2


def test_quarantine_keeps_bad_payloads_and_the_rest_imports(synced):
    too_long = make_order("long", [("MUG-RED", 1)], customer_name="x" * 400)
    ch = ScriptedChannel(pages=[PullPage([make_order("good", [("MUG-RED", 1)]), too_long],
                                         quarantined=[Quarantine("#1003", '{"id": 1003, "total_price": "1.2.3"}', "total_price '1.2.3' is not money")])])
    (report,) = Engine(synced, {"web": ch}).run_once()
    assert report.created == 1 and report.quarantined == 2
    with synced.read() as s:
        items = sync_store.quarantined(s)
        assert {q.external_ref for q in items} == {"#1003", "long"}
        assert any("at most 200 fit" in q.error for q in items)
        assert any('"1.2.3"' in q.raw for q in items)
    Engine(synced, {"web": ch}).run_once()
    assert count(synced, QuarantinedPayload) == 2  # the same payload is not kept twice
    with synced.write() as s:
        sync_store.close_quarantined(s, ACTOR, items[0].id, "dismissed")
    with synced.read() as s:
        assert len(sync_store.quarantined(s)) == 1


def test_upstream_cancellation_before_and_after_shipping(synced):
    ch = ScriptedChannel(pages=[PullPage([make_order("early", [("MUG-RED", 2)]), make_order("late", [("MUG-RED", 1)])])])
    Engine(synced, {"web": ch}).run_once()
    with synced.write() as s:
        late = s.scalar(select(SalesOrder.id).where(SalesOrder.external_id == "late"))
        w = fulfilment.build_wave(s, ACTOR, "RNO", channel="web", limit=5)
        for t in fulfilment.open_tasks(s, w.wave_id):
            fulfilment.confirm_pick(s, ACTOR, t.task_id, t.quantity, bin_code=t.bin_code, item_code=t.sku)
        early = s.scalar(select(SalesOrder.id).where(SalesOrder.external_id == "early"))
        orders_in_wave = s.scalars(select(fulfilment_models.WaveOrder.order_id).where(fulfilment_models.WaveOrder.wave_id == w.wave_id)).all()
        for oid in orders_in_wave:
            if oid == late:
                view = fulfilment.packing_view(s, oid)
                res = fulfilment.complete_packing(s, ACTOR, oid, [fulfilment.PackedBox(shipments.PackageSpec("S", 500), {view.lines[0].line_id: 1})])
                shipments.confirm(s, ACTOR, res.shipment_id, tracking_number="1Z")
    # "early" is picked, "late" shipped; a third order is cancelled before anything happened.
    ch.pages.append(PullPage([make_order("fresh", [("MUG-RED", 1)])]))
    Engine(synced, {"web": ch}).run_once()
    ch.pages.append(PullPage([], cancellations=[Cancellation("fresh", "customer changed mind"),
                                                Cancellation("early", "fraud"), Cancellation("late", "too slow")]))
    (report,) = Engine(synced, {"web": ch}).run_once()
    with synced.read() as s:
        status = dict(s.execute(select(SalesOrder.external_id, SalesOrder.status)).all())
        assert status["fresh"] == "cancelled"
        assert status["early"] == "on_hold"  # picked: a person puts the items back first
        assert status["late"] == "shipped"
        (exc,) = [q for q in sync_store.quarantined(s) if q.stream == "exceptions"]
        assert "after it shipped" in exc.error
        assert check.run(s) == []
    assert not any(t == "order.cancelled" for t, _k in ch.received)  # the channel told us; we do not echo it


def test_offline_then_back_drains_in_order(synced):
    ch = ScriptedChannel(pages=[PullPage([make_order(f"o{i}", [("MUG-RED", 1)]) for i in range(3)])])
    Engine(synced, {"web": ch}).run_once()
    with synced.write() as s:
        for oid in s.scalars(select(SalesOrder.id)).all():
            orders.cancel_order(s, ACTOR, oid, reason="test")  # three outbox rows for the channel
    ch.offline = True
    (report,) = Engine(synced, {"web": ch}).run_once()
    assert report.offline
    with synced.read() as s:
        (st,) = sync_store.statuses(s)
        assert not st.online and st.offline_since is not None and st.waiting == 3
    ch.offline = False
    (report,) = Engine(synced, {"web": ch}).run_once()
    assert report.pushed == 3 and [t for t, _k in ch.received] == ["order.cancelled"] * 3
    with synced.read() as s:
        keys = s.scalars(select(OutboxMessage.idempotency_key).order_by(OutboxMessage.id)).all()
        (st,) = sync_store.statuses(s)
        assert st.online and st.waiting == 0
    assert [k for _t, k in ch.received] == keys  # delivered in the order written


def test_retryable_error_backs_off_and_keeps_order_permanent_error_fails(synced):
    now = datetime.now(timezone.utc) + timedelta(seconds=1)
    clock = [now]
    with synced.write() as s:
        for i in range(3):
            from oms.core.outbox import enqueue
            enqueue(s, "web", "order.cancelled", f"k{i}", {"external_id": str(i)})
    ch = ScriptedChannel(push_errors=[RemoteError("503 from the shop", status=503)])
    engine = Engine(synced, {"web": ch}, clock=lambda: clock[0])
    (r,) = engine.run_once()
    assert r.pushed == 0 and ch.received == []
    clock[0] = now + timedelta(minutes=20)
    ch.push_errors = [PermanentError("422: order 1 does not exist", status=422)]
    (r,) = engine.run_once()
    assert r.pushed == 2 and r.failed == 1
    with synced.read() as s:
        failed = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).one()
        assert failed.idempotency_key == "k0" and "does not exist" in failed.last_error
        (st,) = sync_store.statuses(s)
        assert st.failed == 1
    with synced.write() as s:
        sync_store.requeue(s, ACTOR, failed.id)
    engine.run_once()
    assert [k for _t, k in ch.received] == ["k1", "k2", "k0"]


def test_inventory_pushes_are_coalesced():
    rows = [sync_store.OutboxRow(i, "web", "inventory.set", f"k{i}", {"sku": sku, "location_code": "RNO", "available": n}, 0)
            for i, (sku, n) in enumerate([("A", 5), ("B", 1), ("A", 4), ("A", 3)])]
    keep, superseded = coalesce_inventory(rows)
    assert [r.id for r in keep] == [1, 3] and superseded == [0, 2]


def test_retry_quarantined_needs_a_connector_that_can_reread(synced):
    ch = ScriptedChannel(pages=[PullPage([], quarantined=[Quarantine("#9", "{}", "no id")])])
    engine = Engine(synced, {"web": ch})
    engine.run_once()
    with synced.read() as s:
        (q,) = sync_store.quarantined(s)
    from oms.core.errors import OmsError

    with pytest.raises(OmsError, match="cannot read a payload again"):
        engine.retry_quarantined(q.id, ACTOR)
    ch.parse_raw = lambda raw: PullPage([make_order("9", [("MUG-RED", 1)])])
    assert "1 new" in engine.retry_quarantined(q.id, ACTOR)
    with synced.read() as s:
        assert sync_store.quarantined(s) == [] and s.scalar(select(func.count()).select_from(SalesOrder)) == 1


@dataclass
class ScriptedCarrier:
    """A carrier that sells labels and reports tracking the way the test says."""

    code: str = "easypost"
    offline: bool = False
    bought: dict = field(default_factory=dict)
    created: int = 0
    events: list = field(default_factory=list)
    refunds: list = field(default_factory=list)
    fail_after_buy: bool = False

    def rates(self, ship_from, ship_to, parcels, *, reference, label_format=None):
        from sync.base import RateQuote

        if self.offline:
            raise Offline("no route to host")
        self.created += 1
        sid = f"shp_{self.created}"
        return sid, [RateQuote("r_cheap", "USPS", "Ground", 590, "USD", 5), RateQuote("r_fast", "UPS", "NextDay", 2400, "USD", 1),
                     RateQuote("r_mid", "UPS", "Ground", 810, "USD", 2)]

    def buy(self, remote_shipment_id, rate_id, *, idempotency_key, label_format=None):
        from sync.base import LabelPurchase

        if self.offline:
            raise Offline("no route to host")
        if remote_shipment_id not in self.bought:  # read-before-write: buying again returns the same label
            self.bought[remote_shipment_id] = LabelPurchase(remote_shipment_id, f"TRK{len(self.bought) + 1}", "UPS", rate_id,
                                                            810, "USD", b"%PDF-1.4 label", b"^XA^XZ", f"trk_{remote_shipment_id}")
        if self.fail_after_buy:
            self.fail_after_buy = False
            raise RemoteError("connection reset after the purchase went through")
        return self.bought[remote_shipment_id]

    def refund(self, remote_shipment_id):
        self.refunds.append(remote_shipment_id)
        return "submitted"

    def track(self, tracker):

        return [e for e in self.events if e.tracking_number == tracker]


def packed_shipment(db, ext="lab"):
    with db.write() as s:
        (r,) = intake.take_in(s, ACTOR, [make_order(ext, [("MUG-RED", 1)], deliver_by=datetime.now(timezone.utc) + timedelta(days=3))]).results
        w = fulfilment.build_wave(s, ACTOR, "RNO", limit=50)
        for t in fulfilment.open_tasks(s, w.wave_id):
            fulfilment.confirm_pick(s, ACTOR, t.task_id, t.quantity, bin_code=t.bin_code, item_code=t.sku)
        view = fulfilment.packing_view(s, r.order_id)
        res = fulfilment.complete_packing(s, ACTOR, r.order_id, [fulfilment.PackedBox(shipments.PackageSpec("S", 700), {view.lines[0].line_id: 1})])
        shipments.request_label(s, ACTOR, res.shipment_id, "easypost")
    return r.order_id, res.shipment_id


def test_label_bought_once_even_when_the_answer_is_lost_then_tracked_to_delivery(synced):
    from oms.shipping.models import Shipment
    from sync.base import TrackingUpdate

    with synced.write() as s:
        sync_store.add_connector(s, ACTOR, code="easypost", role="carrier", kind="easypost", name="EasyPost", base_url="http://127.0.0.1:1")
    oid, sid = packed_shipment(synced)
    carrier = ScriptedCarrier(offline=True)
    engine = Engine(synced, {}, carriers={"easypost": carrier})
    (r,) = engine.run_once()
    assert r.offline
    with synced.read() as s:
        assert s.get(Shipment, sid).status == "packed"  # awaiting label
    carrier.offline, carrier.fail_after_buy = False, True
    engine.run_once()  # bought, but the answer never arrived
    with synced.read() as s:
        assert s.get(Shipment, sid).status == "packed"
    engine._stop.clear()
    with synced.write() as s:  # make the retry due now
        s.execute(OutboxMessage.__table__.update().values(next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    engine.run_once()
    assert len(carrier.bought) == 1 and carrier.created == 1  # one remote shipment, one purchase
    with synced.read() as s:
        sh = s.get(Shipment, sid)
        # Bought, not yet on the box: "label ready", and the shop hears nothing until the label has printed.
        assert (sh.status, sh.tracking_number, sh.carrier_ref, sh.label_cost_minor) == ("packed", "TRK1", "shp_1", 810)
        assert shipments.label_data(s, sid, "pdf").startswith(b"%PDF")
        assert s.scalar(select(OutboxMessage.payload).where(OutboxMessage.topic == "label.buy"))["rate_id"] == "r_mid"  # cheapest on time
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == "fulfillment.create")) == 0
    with synced.write() as s:
        assert shipments.label_printed(s, ACTOR, sid)
        assert not shipments.label_printed(s, ACTOR, sid)  # once
    with synced.read() as s:
        sh = s.get(Shipment, sid)
        assert (sh.status, sh.carrier, sh.service, sh.tracking_number) == ("shipped", "UPS", "r_mid", "TRK1")
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == "fulfillment.create")) == 1
    t0 = datetime.now(timezone.utc)
    carrier.events = [TrackingUpdate("trk_shp_1", "in_transit", t0, "Departed Reno"),
                      TrackingUpdate("trk_shp_1", "delivered", t0 + timedelta(hours=20), "Front door")]
    engine.run_once()
    engine.run_once()
    with synced.read() as s:
        assert s.get(SalesOrder, oid).status == "delivered"
        assert shipments.tracking_targets(s, "easypost") == []


def packed_for_a_station(db, ext, label_format):
    """A shipment packed at a station whose printer takes ``label_format``, its label asked for (request_label)."""
    with db.write() as s:
        (r,) = intake.take_in(s, ACTOR, [make_order(ext, [("MUG-RED", 1)])]).results
        w = fulfilment.build_wave(s, ACTOR, "RNO", limit=50)
        for t in fulfilment.open_tasks(s, w.wave_id):
            fulfilment.confirm_pick(s, ACTOR, t.task_id, t.quantity, bin_code=t.bin_code, item_code=t.sku)
        view = fulfilment.packing_view(s, r.order_id)
        res = fulfilment.complete_packing(s, ACTOR, r.order_id, [fulfilment.PackedBox(shipments.PackageSpec("S", 700), {view.lines[0].line_id: 1})])
        shipments.request_label(s, ACTOR, res.shipment_id, "easypost", label_format=label_format)
    return res.shipment_id


@pytest.mark.parametrize("station_format", ["ZPL", "PDF"])
def test_the_label_comes_in_the_format_the_station_printer_takes_over_real_http(synced, station_format):
    """Defaults: the station prints ZPL, the EasyPost connection says PDF. The station's format wins: the label is
    bought once, in that format, and waits "label ready" (the order packed) until it has printed."""
    from oms.fulfilment.floor_queries import label_states
    from oms.inventory.models import Location
    from oms.shipping.models import Shipment
    from sync.carriers.easypost import EasyPostCarrier
    from sync.emulators.easypost import EasyPostEmulator

    with synced.write() as s:
        sync_store.add_connector(s, ACTOR, code="easypost", role="carrier", kind="easypost", name="EasyPost", base_url="http://127.0.0.1:1")
        reno = s.scalar(select(Location).where(Location.code == "RNO"))
        reno.address1, reno.city, reno.region, reno.postal_code, reno.country = "1200 Industrial Way", "Reno", "NV", "89502", "US"
    sid = packed_for_a_station(synced, f"fmt-{station_format}", station_format)
    with EasyPostEmulator(api_key="EZTK_test", seed=3) as ep:
        carrier = EasyPostCarrier("easypost", "EZTK_test", base_url=ep.url)  # the connection's default: PDF
        engine = Engine(synced, {}, carriers={"easypost": carrier})
        reports = engine.run_once() + engine.run_once()
        assert ep.buy_calls == 1, [r.errors for r in reports]
    want = station_format.lower()
    with synced.read() as s:
        assert set(shipments.label_files(s, sid)) == {want}
        assert shipments.label_data(s, sid, want).startswith(b"^XA" if want == "zpl" else b"%PDF")
        (st,) = label_states(s, [sid])
        assert (st.state, st.formats) == ("ready", (want,))
        assert s.get(Shipment, sid).status == "packed"


def test_a_label_asked_for_a_box_unpacked_before_the_carrier_was_reached_is_not_bought(synced):
    from oms.fulfilment.floor_queries import label_states

    with synced.write() as s:
        sync_store.add_connector(s, ACTOR, code="easypost", role="carrier", kind="easypost", name="EasyPost", base_url="http://127.0.0.1:1")
    _oid, sid = packed_shipment(synced, "unpacked")
    carrier = ScriptedCarrier(offline=True)
    engine = Engine(synced, {}, carriers={"easypost": carrier})
    engine.run_once()
    with synced.read() as s:
        (st,) = label_states(s, [sid])
        assert st.state == "offline" and st.offline_since is not None  # what the packing station says while it waits
    with synced.write() as s:
        shipments.void(s, ACTOR, sid, reason="customer cancelled at the bench")
        s.execute(OutboxMessage.__table__.update().values(next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    carrier.offline = False
    engine._stop.clear()
    engine.run_once()
    assert carrier.created == 0 and carrier.bought == {}
    with synced.read() as s:
        assert s.scalar(select(OutboxMessage.status).where(OutboxMessage.topic == "label.buy")) == "superseded"


def test_a_label_the_carrier_refuses_says_why_to_the_station(synced):
    from oms.fulfilment.floor_queries import label_states

    with synced.write() as s:
        sync_store.add_connector(s, ACTOR, code="easypost", role="carrier", kind="easypost", name="EasyPost", base_url="http://127.0.0.1:1")
    _oid, sid = packed_shipment(synced, "refused")
    carrier = ScriptedCarrier()
    carrier.rates = lambda *a, **k: (_ for _ in ()).throw(PermanentError("ADDRESS.VERIFY.FAILURE: Address not found"))
    Engine(synced, {}, carriers={"easypost": carrier}).run_once()
    with synced.read() as s:
        (st,) = label_states(s, [sid])
        assert (st.state, st.error) == ("refused", "ADDRESS.VERIFY.FAILURE: Address not found")


def test_voiding_a_labelled_shipment_refunds_the_label(synced):
    with synced.write() as s:
        sync_store.add_connector(s, ACTOR, code="easypost", role="carrier", kind="easypost", name="EasyPost", base_url="http://127.0.0.1:1")
    _oid, sid = packed_shipment(synced, "void")
    carrier = ScriptedCarrier()
    engine = Engine(synced, {}, carriers={"easypost": carrier})
    engine.run_once()
    with synced.write() as s:
        shipments.void(s, ACTOR, sid, reason="box crushed, repack")
    engine.run_once()
    assert carrier.refunds == ["shp_1"]


def test_one_station_at_a_time_syncs_a_connector(synced):
    """Two stations on one database: while one holds a connector's lease the other leaves it alone (and says who has
    it); the lease is free again after the pass, and one left by a killed sync on this machine is taken over."""
    import os
    import subprocess
    import sys

    db = synced
    channel = ScriptedChannel()
    first, second = Engine(db, {"web": channel}), Engine(db, {"web": channel})
    with db.write() as s:
        assert sync_store.take_lease(s, "web", first.holder)
    (report,) = second.run_once(["web"])
    assert report.elsewhere == first.holder and "synced by another station" in report.line()
    with db.write() as s:
        assert sync_store.take_lease(s, "web", first.holder)  # the holder renews
        sync_store.release_lease(s, "web", first.holder)
    (report,) = second.run_once(["web"])
    assert report.elsewhere == "" and report.line().startswith("web: online")
    with db.read() as s:
        assert sync_store.lease_holder(s, "web") == ""  # released after the pass
    # A sync killed mid-pass on this machine: its process is gone, so its lease is taken over at once.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    import socket
    dead = f"{socket.gethostname()}:{gone}:abcdef"
    with db.write() as s:
        assert sync_store.take_lease(s, "web", dead)
    (report,) = second.run_once(["web"])
    assert report.elsewhere == ""
    # One held by a live process elsewhere waits for its lease to run out.
    alive = f"{socket.gethostname()}:{os.getpid()}:other"
    with db.write() as s:
        assert sync_store.take_lease(s, "web", alive)
    assert second.run_once(["web"])[0].elsewhere == alive


def test_two_stations_syncing_at_once_import_each_order_once(synced):
    db = synced
    pages = [PullPage([make_order(f"{p}{i}", [("MUG-RED", 1)]) for i in range(5)]) for p in "abcdef"]
    reports, errors = run_at_once([Engine(db, {"web": ScriptedChannel(pages=pages)}) for _ in range(2)])
    assert errors == []
    assert sum(r.created for r in reports) == 30 and count(db, SalesOrder) == 30
    assert sum(r.pulled for r in reports) in (30, 60)  # the second either found the connector busy or had nothing new
