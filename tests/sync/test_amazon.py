"""Amazon SP-API: the connector, the emulator and the engine together, over real HTTP on loopback, on both databases.

The emulator and the connector share a pretend clock (``FakeClock``): the connector's waits move the emulator's
rate-limit clock, so an hour of throttling runs in a moment and what the buckets allow is exact."""

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from oms import catalog, check, inventory, routing
from oms.integration import sync_store
from oms.inventory.models import Location
from oms.orders.models import SalesOrder
from oms.routing import restock
from sync import registry
from sync.base import OutboundMessage, PermanentError
from sync.channels.amazon import AmazonChannel, TokenBucket
from sync.emulators._server import FakeClock, iso
from sync.emulators.amazon import DEFAULT_SKUS, AmazonEmulator
from sync.engine import Engine
from tests.conftest import ACTOR

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "amazon_orders.json").read_text(encoding="utf-8"))
IDS = ("amzn1.application-oa2-client.q1", "amzn1.oa2-cs.v1.s3cr3t", "Atzr|IwEBIrefresh")
SECRET = " ".join(IDS)


@pytest.fixture
def amz_world(db):
    with db.write() as s:
        lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502")
        inventory.add_bins(s, lid, ["A-01-1"])
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        sync_store.add_connector(s, ACTOR, code="amz", role="channel", kind="amazon", name="Amazon", base_url="http://127.0.0.1:1")
        for sku in DEFAULT_SKUS:
            pid = catalog.add_product(s, ACTOR, sku, sku.title())
            restock.receive(s, ACTOR, pid, lid, 100000, bin="A-01-1")
    return db


def emulator(clock, **kw) -> AmazonEmulator:
    return AmazonEmulator(client_id=IDS[0], client_secret=IDS[1], refresh_token=IDS[2], clock=clock, seed=kw.pop("seed", 5), **kw)


def channel(emu, clock, secret=SECRET, **kw) -> AmazonChannel:
    return AmazonChannel("amz", emu.url, secret, clock=clock, sleep=clock.sleep, rng=random.Random(1), timeout=(2, 5),
                         start_at=datetime.now(timezone.utc) - timedelta(days=30), **kw)


def drain(engine, rounds=100):
    for _ in range(rounds):
        (r,) = engine.run_once()
        with engine.db.read() as s:
            waiting = sync_store.waiting_count(s, "amz")
        if r.created == 0 and r.updated == 0 and r.cancelled == 0 and not r.errors and waiting == 0:
            return r
    raise AssertionError("the engine did not settle")


def by_ext(db) -> dict[str, SalesOrder]:
    with db.read() as s:
        rows = s.scalars(select(SalesOrder)).all()
        for o in rows:
            o.lines  # noqa: B018 - loaded while the session is open
        return {o.external_id: o for o in rows}


def fixture_emulator(clock) -> AmazonEmulator:
    emu = emulator(clock)
    for order in FIXTURE["getOrders"]["payload"]["Orders"]:
        emu.add_order(order, FIXTURE["getOrderItems"][order["AmazonOrderId"]])
    return emu


# -- mapping ----------------------------------------------------------------------------------------------


def test_the_fixture_maps_promises_unicode_pending_and_fulfilled_by_amazon():
    ch = AmazonChannel("amz", "https://sellingpartnerapi-na.amazon.com", SECRET)
    orders = FIXTURE["getOrders"]["payload"]["Orders"]
    mfn, _c = ch.map_order(orders[0], FIXTURE["getOrderItems"][orders[0]["AmazonOrderId"]])
    assert mfn.order_type == "marketplace" and mfn.channel_hold == "" and mfn.service_level == "expedited"
    assert mfn.ship_by == datetime(2026, 12, 1, 7, 59, 59, tzinfo=timezone.utc)
    assert mfn.deliver_by == datetime(2026, 12, 4, 7, 59, 59, tzinfo=timezone.utc)
    assert mfn.ship_to.name == "José Ångström-Nakamura" and mfn.ship_to.city == "São Paulo" and mfn.ship_to.country == "BR"
    mug, card = mfn.lines
    assert (mug.sku, mug.quantity, mug.unit_price_minor, mug.description) == ("MUG-RED", 2, 1950, "Becher „Hafen“ – rot, 350 ml")
    assert card.sku == "AMAZON-ASIN-B0C1HARB99" and "no seller SKU" in card.description
    assert (mfn.subtotal_minor, mfn.shipping_minor, mfn.tax_minor, mfn.discount_minor, mfn.total_minor) == (4894, 599, 234, 390, 5337)
    pending, _c = ch.map_order(orders[1], FIXTURE["getOrderItems"][orders[1]["AmazonOrderId"]])
    assert pending.currency == "USD" and "Pending" in pending.channel_hold  # no total yet: the marketplace's currency
    assert (mfn.tags, pending.tags) == ("prime", "business")  # IsPrime and IsBusinessOrder, for routing rules
    afn, _c = ch.map_order(orders[2], FIXTURE["getOrderItems"][orders[2]["AmazonOrderId"]])
    assert "fulfilled by Amazon" in afn.channel_hold


def test_a_token_bucket_never_lets_more_go_than_its_rate_and_burst():
    clock = FakeClock()
    bucket = TokenBucket(0.5, 30, clock, clock.sleep)
    start = clock()
    for _ in range(130):
        bucket.take()
    # 30 at once, then one every 2 s (a little slower: the safety margin)
    assert 200 <= clock() - start <= 200 / 0.97


# -- pulling ----------------------------------------------------------------------------------------------


def test_the_whole_pull_stays_inside_every_bucket_and_lands_once(amz_world):
    clock = FakeClock()
    with emulator(clock) as emu:
        emu.seed_orders(230, DEFAULT_SKUS)
        ch = channel(emu, clock)
        drain(Engine(amz_world, {"amz": ch}))
        assert emu.throttled == {} and ch.throttled == 0  # no request beyond what a bucket allowed
        calls = [c for c in emu.calls if c[1].endswith("/orderItems")]
        assert len(calls) >= 230
        # 30 getOrderItems at once, then 0.5 a second: the pull cannot have taken less.
        assert clock.t - 1000 >= (len(calls) - 30) / 0.5
        assert emu.grants == 1  # one access token, cached
    with amz_world.read() as s:
        ids = s.scalars(select(SalesOrder.external_id)).all()
        assert len(ids) == len(set(ids)) == 230
        assert all(st == "allocated" for st in s.scalars(select(SalesOrder.status)))
        assert check.run(s) == []


def test_the_access_token_is_refreshed_mid_pull(amz_world):
    clock = FakeClock()
    with emulator(clock) as emu:
        emu.seed_orders(250, DEFAULT_SKUS)
        ch = channel(emu, clock)
        page = ch.pull_orders(None)
        assert not page.done and emu.grants == 1
        emu.expire_tokens()  # the hour is up in the middle of the pass
        cursor, seen = page.next_cursor, [o.external_id for o in page.orders]
        while True:
            page = ch.pull_orders(cursor)
            seen += [o.external_id for o in page.orders]
            cursor = page.next_cursor
            if page.done:
                break
        assert emu.grants == 2 and len(seen) == len(set(seen)) == 250
        # And the token also runs out by time: cached until just before expires_in.
        clock.sleep(3600)
        ch.pull_orders(cursor)
        assert emu.grants == 3


def test_a_429_storm_is_waited_out_and_nothing_is_lost(amz_world):
    clock = FakeClock()
    with emulator(clock, seed=8) as emu:
        emu.seed_orders(60, DEFAULT_SKUS)
        emu.storm_429 = 12
        ch = channel(emu, clock)
        drain(Engine(amz_world, {"amz": ch}))
        assert ch.throttled == 12 and emu.throttled == {}
    assert len(by_ext(amz_world)) == 60


def test_killed_mid_pull_resumes_from_the_cursor_even_when_the_next_token_expired(amz_world):
    clock = FakeClock()
    with emulator(clock, seed=9) as emu:
        emu.seed_orders(320, DEFAULT_SKUS)
        (r,) = Engine(amz_world, {"amz": channel(emu, clock)}, max_pages=2).run_once()  # the process dies after two pages
        assert r.created == 200
        with amz_world.read() as s:
            cursor = json.loads(sync_store.get_cursor(s, "amz", "orders"))
        assert cursor["next"] and cursor["after"]
        emu.expire_next_tokens = True  # by the time the station is back, Amazon no longer takes the token
        drain(Engine(amz_world, {"amz": channel(emu, clock)}))
        with amz_world.read() as s:
            cursor = json.loads(sync_store.get_cursor(s, "amz", "orders"))
        assert set(cursor) == {"after"} and cursor["after"] <= iso(emu.now() - timedelta(minutes=2))
    with amz_world.read() as s:
        ids = s.scalars(select(SalesOrder.external_id)).all()
        assert len(ids) == len(set(ids)) == 320


def test_short_item_pages_and_an_order_changed_between_pages(amz_world):
    clock = FakeClock()
    with emulator(clock, seed=10) as emu:
        emu.seed_orders(150, DEFAULT_SKUS)
        emu.item_page_size = 1
        emu.change_between_pages = 1
        engine = Engine(amz_world, {"amz": channel(emu, clock)})
        drain(engine)
        changed = [o for o in emu.orders.values() if o["ShippingAddress"].get("AddressLine2") == "Gate code 4711"]
        assert len(changed) == 1
        emu.advance(180)  # Amazon shows changes two minutes late
        drain(engine)
        got = by_ext(amz_world)
        assert len(got) == 150
        assert got[changed[0]["AmazonOrderId"]].ship_address2 == "Gate code 4711"
        assert sum(len(o.lines) for o in got.values()) == sum(len(v) for v in emu.items.values())


def test_pending_waits_unreserved_afn_is_never_routed_canceled_is_reconciled(amz_world):
    clock = FakeClock()
    with fixture_emulator(clock) as emu:
        t = emu.now() - timedelta(hours=1)
        emu.orders["114-0000001-0000002"]["LastUpdateDate"] = iso(t)
        (unshipped,) = emu.seed_orders(1, DEFAULT_SKUS)
        engine = Engine(amz_world, {"amz": channel(emu, clock)})
        drain(engine)
        got = by_ext(amz_world)
        pending, afn = got["114-0000001-0000002"], got["114-0000003-0000004"]
        assert pending.on_hold and "Pending" in pending.hold_reason and all(l.allocated == 0 for l in pending.lines)
        assert afn.on_hold and "fulfilled by Amazon" in afn.hold_reason and afn.location_id is None
        assert all(l.allocated == 0 for l in afn.lines)
        emu.advance(60)
        emu.edit_order("114-0000001-0000002", OrderStatus="Unshipped", OrderTotal={"CurrencyCode": "USD", "Amount": "19.00"},
                       items=[{**FIXTURE["getOrderItems"]["114-0000001-0000002"][0], "ItemPrice": {"CurrencyCode": "USD", "Amount": "19.00"}}])
        emu.set_status(unshipped, "Canceled")
        emu.advance(180)
        drain(engine)
        got = by_ext(amz_world)
        assert not got["114-0000001-0000002"].on_hold and got["114-0000001-0000002"].status == "allocated"
        assert got[unshipped].status == "cancelled"
        assert got["114-0000003-0000004"].on_hold  # still Amazon's to ship
    with amz_world.read() as s:
        assert check.run(s) == []


def test_an_order_edited_upstream_after_import_is_updated(amz_world):
    clock = FakeClock()
    with emulator(clock) as emu:
        (oid,) = emu.seed_orders(1, DEFAULT_SKUS)
        engine = Engine(amz_world, {"amz": channel(emu, clock)})
        drain(engine)
        emu.advance(60)
        emu.edit_order(oid, ShippingAddress={**emu.orders[oid]["ShippingAddress"], "AddressLine1": "1 Ørsteds Allé", "City": "Zürich"})
        drain(engine)
        assert by_ext(amz_world)[oid].ship_city != "Zürich"  # not yet: Amazon shows it two minutes late
        emu.advance(180)
        drain(engine)
    o = by_ext(amz_world)[oid]
    assert (o.ship_address1, o.ship_city, o.status) == ("1 Ørsteds Allé", "Zürich", "allocated")


def test_a_refused_grant_is_said_as_refused_not_offline(amz_world):
    clock = FakeClock()
    with emulator(clock) as emu:
        emu.seed_orders(2, DEFAULT_SKUS)
        (r,) = Engine(amz_world, {"amz": channel(emu, clock, secret=f"{IDS[0]} {IDS[1]} Atzr|revoked")}).run_once()
        assert r.refused == "token refused by the shop: update it in Settings" and not r.offline
        with amz_world.read() as s:
            (st,) = sync_store.statuses(s)
        assert "refresh token" in st.last_error or "refused" in st.last_error
        built = registry.spec("amazon", "channel").build("amz", emu.url, "just-one-word", {}, sleep=clock.sleep)
        (r,) = Engine(amz_world, {"amz": built}).run_once()
        assert r.refused and not r.offline


# -- pushing ----------------------------------------------------------------------------------------------


def _package(oid, emu, sid, carrier="UPS", qty=None):
    lines = [{"external_line_id": i["OrderItemId"], "sku": i["SellerSKU"], "quantity": qty or i["QuantityOrdered"]}
             for i in emu.items[oid]]
    return OutboundMessage(sid, "fulfillment.create", f"amz:fulfillment:{sid}",
                           {"order_external_id": oid, "shipment_id": sid, "lines": lines, "carrier": carrier,
                            "service": "Ground", "tracking_number": f"1Z{sid:08d}", "shipped_at": "2026-12-06T10:00:00+00:00"})


def test_confirm_shipment_exactly_once_per_package_through_faults():
    clock = FakeClock()
    with emulator(clock, seed=12) as emu:
        ids = emu.seed_orders(5, DEFAULT_SKUS)
        ch = channel(emu, clock)
        emu.set_faults(rate_drop=0.5, rate_5xx=0.2)
        for n, oid in enumerate(ids, 1):
            msg = _package(oid, emu, 100 + n, carrier="UPS" if n % 2 else "Hafen Kurier")
            for _delivery in range(2):  # delivered, and once more after it succeeded (the outbox's at-least-once)
                for _try in range(30):  # the outbox tries until the push returns
                    try:
                        ch.push(msg)
                        break
                    except Exception:  # noqa: BLE001 - a dropped POST is not repeated by the client: the outbox tries again
                        continue
                else:
                    raise AssertionError("never delivered")
        emu.clear_faults()
        for n, oid in enumerate(ids, 1):
            (pkg,) = emu.packages[oid]
            assert pkg["packageReferenceId"] == str(100 + n) and pkg["trackingNumber"] == f"1Z{100 + n:08d}"
            assert (pkg["carrierCode"], pkg.get("carrierName")) == (("UPS", None) if n % 2 else ("Other", "Hafen Kurier"))
            assert emu.orders[oid]["OrderStatus"] == "Shipped"


def test_stock_goes_through_listings_items_less_the_buffer():
    clock = FakeClock()
    with emulator(clock) as emu:
        emu.add_listing("MUG-RED", "CAP/NAVY")  # the seller's listings on Amazon
        ch = channel(emu, clock, seller_id="A2SELLER", stock_buffer=2, location_map={"RNO": "DEFAULT"})
        with pytest.raises(PermanentError, match="GHOST-1: INVALID The SKU 'GHOST-1' is not listed"):
            ch.push(OutboundMessage(9, "inventory.set", "k9", {"sku": "GHOST-1", "location_code": "RNO", "available": 3}))
        assert ch.push(OutboundMessage(1, "inventory.set", "k", {"sku": "MUG-RED", "location_code": "RNO", "available": 9}))["quantity"] == 7
        ch.push(OutboundMessage(2, "inventory.set", "k2", {"sku": "CAP/NAVY", "location_code": "RNO", "available": 1}))
        assert "skipped" in ch.push(OutboundMessage(3, "inventory.set", "k3", {"sku": "MUG-RED", "location_code": "EWR", "available": 50}))
        assert emu.listings == {"MUG-RED": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
                                "CAP/NAVY": [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}]}


def test_the_engine_tells_amazon_the_stock_of_the_mapped_location_once_per_sku_after_coalescing(amz_world):
    clock = FakeClock()
    with emulator(clock) as emu:
        emu.seed_orders(3, DEFAULT_SKUS)
        ch = channel(emu, clock, seller_id="A2SELLER", stock_buffer=5, location_map={"RNO": "DEFAULT"})
        engine = Engine(amz_world, {"amz": ch})
        drain(engine)
        with amz_world.write() as s:
            for _truck in range(3):  # stock moves three times before the next pass
                restock.receive(s, ACTOR, "MUG-RED", "RNO", 10, bin="A-01-1")
        patches = len([c for c in emu.calls if c[0] == "PATCH"])
        drain(engine)
        assert len([c for c in emu.calls if c[0] == "PATCH"]) - patches == 1  # the latest figure, once
        with amz_world.read() as s:
            from oms.catalog.models import Product
            from oms.inventory.models import StockLevel
            available = s.scalar(select(StockLevel.on_hand - StockLevel.allocated).join(Product, Product.id == StockLevel.product_id)
                                 .where(Product.sku == "MUG-RED"))
        assert emu.listings["MUG-RED"] == [{"fulfillment_channel_code": "DEFAULT", "quantity": available - 5}]


def test_routing_rules_match_amazon_orders_and_prime_ones_by_their_service_level(amz_world):
    with amz_world.write() as s:
        lid = inventory.add_location(s, ACTOR, "EWR", "Newark", region="NJ", postal_code="07114")
        inventory.add_bins(s, lid, ["P-01-1"])
        for sku in DEFAULT_SKUS:
            restock.receive(s, ACTOR, sku, "EWR", 1000, bin="P-01-1")
        routing.save_rule(s, ACTOR, "Amazon Prime from Newark", {"channel": ["amz"], "service_level": ["expedited"]},
                          {"allowed_locations": ["EWR"]})
    clock = FakeClock()
    with emulator(clock, seed=14) as emu:
        ids = emu.seed_orders(40, DEFAULT_SKUS)
        for oid in ids:
            emu.orders[oid]["ShipmentServiceLevelCategory"] = "Standard"
        prime = {oid for oid in ids if emu.orders[oid]["IsPrime"]}
        assert prime and len(prime) < len(ids)
        drain(Engine(amz_world, {"amz": channel(emu, clock)}))
    with amz_world.read() as s:
        ewr = s.scalar(select(Location.id).where(Location.code == "EWR"))
    got = by_ext(amz_world)
    assert {oid for oid, o in got.items() if o.location_id == ewr} == prime
    assert all(o.order_type == "marketplace" for o in got.values())


@pytest.mark.slow
def test_kill_9_mid_pull_then_sync_once_resumes_with_nothing_lost_or_doubled(amz_world, tmp_path):
    """The headless sync, killed with SIGKILL while Amazon's buckets pace it, then run again."""
    import os
    import signal
    import subprocess
    import sys
    import time

    if amz_world.dialect != "sqlite":
        pytest.skip("the crash test runs the headless sync against a SQLite file")
    root = Path(__file__).resolve().parents[2]
    with AmazonEmulator(client_id=IDS[0], client_secret=IDS[1], refresh_token=IDS[2], time_scale=40, seed=15) as emu:
        emu.seed_orders(330, DEFAULT_SKUS)
        env = {**os.environ, "OMS_DATABASE_URL": amz_world.url, "OMS_CONFIG_DIR": str(tmp_path / "cfg"),
               "OMS_SECRET_STORE": "file", "QT_QPA_PLATFORM": "offscreen"}
        with amz_world.write() as s:
            from oms.integration.models import ConnectorConfig
            s.get(ConnectorConfig, "amz").base_url = emu.url
        subprocess.run([sys.executable, "-c", f"from sync import credentials; credentials.set_secret('amz', {SECRET!r})"],
                       env=env, cwd=root, check=True)
        proc = subprocess.Popen([sys.executable, "main.py", "sync"], env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while time.time() < deadline and len(by_ext(amz_world)) < 100:
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        partial = len(by_ext(amz_world))
        with amz_world.read() as s:
            cursor = json.loads(sync_store.get_cursor(s, "amz", "orders"))
        assert 100 <= partial < 330 and cursor.get("next")  # killed mid-pass, its last committed page's token kept
        out = subprocess.run([sys.executable, "main.py", "sync", "--once"], env=env, cwd=root, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr
    with amz_world.read() as s:
        ids = s.scalars(select(SalesOrder.external_id)).all()
        assert len(ids) == len(set(ids)) == 330
        assert check.run(s) == []


# -- the pull, as a property ------------------------------------------------------------------------------

from hypothesis import (  # noqa: E402
    HealthCheck,
    given,
    settings,
    strategies as st,  # noqa: E402
)


@pytest.fixture(scope="module")
def shared_amazon():
    clock = FakeClock()
    with emulator(clock, seed=31) as emu:
        yield emu, clock


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seconds=st.lists(st.integers(0, 4), min_size=1, max_size=230), item_page=st.integers(1, 3),
       changes=st.integers(0, 3), storm=st.integers(0, 6), expire_after=st.integers(0, 3), grant_lost=st.booleans())
def test_any_mix_of_ties_short_item_pages_changes_storms_and_expiries_reads_each_order(
        shared_amazon, seconds, item_page, changes, storm, expire_after, grant_lost):
    """One pass reads every order updated before it began with all its items, whatever Amazon throws at it."""
    emu, clock = shared_amazon
    with emu.lock:  # a fresh account: no orders, full buckets (each example's connector starts with full ones too)
        emu.orders.clear()
        emu.items.clear()
        emu._buckets.clear()
        emu.throttled.clear()
        emu.expire_next_tokens = False
    base = emu.now() - timedelta(hours=2)
    ids = []
    for s in seconds:
        order, items = emu.make_order(DEFAULT_SKUS[:3], base)
        order["LastUpdateDate"] = iso(base + timedelta(seconds=s))
        ids.append(emu.add_order(order, items))
    emu.item_page_size, emu.change_between_pages, emu.storm_429 = item_page, changes, storm
    ch = channel(emu, clock)
    seen, cursor, pages, restarted = [], None, 0, False
    while True:
        page = ch.pull_orders(cursor)
        pages += 1
        restarted = restarted or emu.expire_next_tokens is False and pages > expire_after > 0
        assert not page.quarantined
        seen += [o.external_id for o in page.orders]
        for o in page.orders:
            assert len(o.lines) == len(emu.items[o.external_id])
        if pages == expire_after:
            emu.expire_next_tokens = True
        if grant_lost and pages == 1:
            emu.expire_tokens()
        cursor = page.next_cursor
        if page.done:
            break
    assert set(seen) == set(ids)
    if not restarted:  # a refused NextToken starts the pass again (re-reading is harmless); otherwise each once
        assert len(seen) == len(ids)
    assert emu.throttled == {}  # the buckets kept every request inside the limits
