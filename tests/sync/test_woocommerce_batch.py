"""WooCommerce stock through the batch endpoints, handed over by the engine's batch hook: over real HTTP on loopback
against the emulator, on both databases."""

import random
from collections import Counter
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from oms import catalog, inventory
from oms.core.models import OutboxMessage
from oms.core.types import utcnow
from oms.integration import sync_store
from oms.routing import restock
from sync.channels.woocommerce import WooCommerceChannel
from sync.emulators._server import FakeClock
from sync.emulators.woocommerce import WooCommerceEmulator
from sync.engine import Engine, RunReport
from tests.conftest import ACTOR

KEY, SECRET = "ck_b4tch", "cs_b4tch"
SIMPLE = [f"MUG-{n:03d}" for n in range(200)]
VARIANTS = [f"TEE-{n:02d}" for n in range(50)]


class EngineClock:
    """The engine's wall clock, moved on by the test (retry times are on it)."""

    def __init__(self):
        self.ahead = timedelta(0)

    def __call__(self):
        return utcnow() + self.ahead

    def advance(self, seconds: float) -> None:
        self.ahead += timedelta(seconds=seconds)


@pytest.fixture
def stock_world(db):
    with db.write() as s:
        lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502")
        inventory.add_bins(s, lid, ["A-01-1"])
        sync_store.add_connector(s, ACTOR, code="woo", role="channel", kind="woocommerce", name="Woo", base_url="http://127.0.0.1:1")
        for n, sku in enumerate([*SIMPLE, *VARIANTS, "NOT-IN-SHOP"]):
            pid = catalog.add_product(s, ACTOR, sku, sku.title())
            restock.receive(s, ACTOR, pid, lid, 10 + n, bin="A-01-1")
    return db


def shop() -> WooCommerceEmulator:
    emu = WooCommerceEmulator(consumer_key=KEY, consumer_secret=SECRET, seed=4)
    for sku in SIMPLE:
        emu.add_product(sku)
    tee = emu.add_product("TEE", "T-shirt")
    for sku in VARIANTS:
        emu.add_product(sku, sku, parent=tee["id"])
    return emu


def channel(emu) -> WooCommerceChannel:
    clock = FakeClock()
    client = WooCommerceChannel.make_client(emu.url, f"{KEY}:{SECRET}", sleep=clock.sleep, rng=random.Random(1),
                                            timeout=(2, 5), max_attempts=4)
    return WooCommerceChannel("woo", emu.url, f"{KEY}:{SECRET}", client=client, location_map={"RNO": "stock"})


def messages(db) -> list[OutboxMessage]:
    with db.read() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.destination == "woo").order_by(OutboxMessage.id)))


def updated(emu) -> Counter:
    """How many times each product or variation id was updated by a batch the shop took."""
    return Counter(u["id"] for _what, body in emu.batch_calls for u in body.get("update", []))


def expected(sku: str) -> int:
    return 10 + [*SIMPLE, *VARIANTS].index(sku)


def test_every_level_goes_100_a_request_to_products_and_variations_and_the_catalogue_is_read_once(stock_world):
    clock = EngineClock()
    with shop() as emu:
        engine = Engine(stock_world, {"woo": channel(emu)}, clock=clock)
        (report,) = engine.run_once()
        assert report.pushed == 251 and report.failed == 0 and not report.errors
        assert sorted((what, len(body["update"])) for what, body in emu.batch_calls) == [
            ("product", 100), ("product", 100), ("product_variation", 50)]
        assert all(emu.stock(sku) == expected(sku) for sku in [*SIMPLE, *VARIANTS])
        assert [m.status for m in messages(stock_world)] == ["sent"] * 251  # the SKU the shop does not sell: said, sent
        catalogue_reads = [c for c in emu.calls if c[0] == "GET" and c[1] == "/wp-json/wc/v3/products"]
        assert len(catalogue_reads) == 3  # 201 products, 100 a page, read once for 251 levels

        # Stock moves on: only what changed goes, in one request, and the catalogue is not read again.
        with stock_world.write() as s:
            restock.receive(s, ACTOR, "MUG-007", "RNO", 5, bin="A-01-1")
            restock.receive(s, ACTOR, "TEE-03", "RNO", 5, bin="A-01-1")
        before = len(emu.calls)
        (report,) = engine.run_once()
        assert report.pushed == 2
        new = [c for c in emu.calls[before:] if c[0] == "POST"]
        assert sorted(p for _m, p, _s in new) == sorted(["/wp-json/wc/v3/products/batch",
                                                        f"/wp-json/wc/v3/products/{emu.product_by_sku('TEE')['id']}/variations/batch"])
        assert not [c for c in emu.calls[before:] if c[1] == "/wp-json/wc/v3/products"]
        assert emu.stock("MUG-007") == expected("MUG-007") + 5 and emu.stock("TEE-03") == expected("TEE-03") + 5


def test_a_5xx_mid_batch_sends_again_only_what_the_shop_did_not_take(stock_world):
    clock = EngineClock()
    with shop() as emu:
        emu.batch_5xx_after, emu.batch_5xx = 1, 4  # the first request goes through; the next fails every retry
        engine = Engine(stock_world, {"woo": channel(emu)}, clock=clock)
        (report,) = engine.run_once()
        assert report.pushed == 100 + 1 and report.errors and "503" in report.errors[0]
        states = Counter(m.status for m in messages(stock_world))
        assert states == {"sent": 101, "pending": 150}
        waiting = [m for m in messages(stock_world) if m.status == "pending"]
        assert all("503" in m.last_error and m.attempts == 1 for m in waiting)

        clock.advance(3600)  # past the back-off
        (report,) = engine.run_once()
        assert report.pushed == 150 and not report.errors
        assert all(m.status == "sent" for m in messages(stock_world))
        # Each product and variation was changed by exactly one request the shop took: none twice, none lost.
        ids = [emu.product_by_sku(sku)["id"] for sku in [*SIMPLE, *VARIANTS]]
        assert updated(emu) == Counter(ids)
        assert all(emu.stock(sku) == expected(sku) for sku in [*SIMPLE, *VARIANTS])


def test_offline_keeps_the_whole_batch_waiting_and_it_goes_once_the_shop_is_back(stock_world):
    clock = EngineClock()
    emu = shop().start()
    ch = channel(emu)
    emu.stop()  # the shop cannot be reached when the stock is to go
    engine = Engine(stock_world, {"woo": ch}, clock=clock)
    report = RunReport("woo")
    engine.push("woo", report)
    assert report.offline and report.pushed == 0 and "could not connect" in report.errors[0]
    assert Counter(m.status for m in messages(stock_world)) == {"pending": 251}
    assert all(m.attempts == 0 for m in messages(stock_world))  # being offline is no failed attempt
    emu.start()  # back, on the same port
    try:
        (report,) = engine.run_once()
        assert report.pushed == 251 and not report.offline
        assert all(emu.stock(sku) == expected(sku) for sku in [*SIMPLE, *VARIANTS])
    finally:
        emu.stop()


def test_a_product_made_again_under_a_new_id_is_found_by_reading_the_catalogue_again(stock_world):
    clock = EngineClock()
    with shop() as emu:
        engine = Engine(stock_world, {"woo": channel(emu)}, clock=clock)
        engine.run_once()
        old = emu.products.pop(emu.product_by_sku("MUG-001")["id"])  # deleted in the shop and made again
        emu.add_product("MUG-001")
        with stock_world.write() as s:
            restock.receive(s, ACTOR, "MUG-001", "RNO", 1, bin="A-01-1")
        (report,) = engine.run_once()
        assert report.pushed == 1 and not report.errors
        assert emu.product_by_sku("MUG-001")["id"] != old["id"] and emu.stock("MUG-001") == expected("MUG-001") + 1


def test_the_shop_refuses_more_than_100_items_a_request_in_its_own_words():
    with shop() as emu:
        ids = [emu.product_by_sku(sku)["id"] for sku in SIMPLE[:101]]
        reply = requests.post(f"{emu.url}/wp-json/wc/v3/products/batch", auth=(KEY, SECRET), timeout=5,
                              json={"update": [{"id": i, "stock_quantity": 1} for i in ids]})
        assert reply.status_code == 413
        assert reply.json() == {"code": "woocommerce_rest_request_entity_too_large",
                                "message": "Unable to accept more than 100 items for this request.", "data": {"status": 413}}
        assert emu.stock(SIMPLE[0]) == 0 and emu.batch_calls == []


def test_a_batch_goes_at_the_place_of_its_first_message_and_a_retry_holds_back_what_follows(stock_world):
    """The engine's order: stock levels (one batch) before a cancellation queued after the first of them; when the
    shop fails the batch, the cancellation behind it waits too, and everything goes once the shop is well."""
    from datetime import datetime, timezone

    from oms.core import outbox

    clock = EngineClock()
    with shop() as emu:
        oid = emu.add_order(emu.make_order({s: emu.product_by_sku(s) for s in SIMPLE[:2]}, datetime.now(timezone.utc)))
        with stock_world.write() as s:
            outbox.enqueue(s, "woo", "inventory.set", "woo:inv:1", {"sku": "MUG-001", "location_code": "RNO", "available": 7})
            outbox.enqueue(s, "woo", "order.cancelled", "woo:cancel:1", {"external_id": str(oid)})
            outbox.enqueue(s, "woo", "inventory.set", "woo:inv:2", {"sku": "TEE-04", "location_code": "RNO", "available": 9})
        ch = channel(emu)
        ch.location_map = {}  # only the messages above go (no levels queued from our stock)
        emu.batch_5xx = 4  # the shop fails the first batch request and each of its retries
        engine = Engine(stock_world, {"woo": ch}, clock=clock)
        (report,) = engine.run_once()
        assert report.pushed == 0 and "503" in report.errors[0]
        assert [m.status for m in messages(stock_world)] == ["pending"] * 3
        assert emu.orders[oid]["status"] == "processing"  # the cancellation waited behind the stock levels

        clock.advance(3600)
        before = len(emu.calls)
        (report,) = engine.run_once()
        assert report.pushed == 3 and [m.status for m in messages(stock_world)] == ["sent"] * 3
        writes = [(m, p) for m, p, _s in emu.calls[before:] if m in ("POST", "PUT")]
        assert [m for m, _p in writes] == ["POST", "POST", "PUT"]  # both batches first, then the cancellation
        assert emu.stock("MUG-001") == 7 and emu.stock("TEE-04") == 9 and emu.orders[oid]["status"] == "cancelled"
