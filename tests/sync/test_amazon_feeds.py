"""Amazon stock as a JSON_LISTINGS_FEED when there are many levels, one by one through patchListingsItem when few:
the connector, the emulator and the engine's batch hook together, over real HTTP on loopback, on both databases.

The emulator and the connector share a pretend clock: polling a feed and the buckets' waits move it, so Amazon's
minutes of feed processing pass in a moment."""

import gzip
import json
import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import select

from oms import catalog, inventory
from oms.core.models import OutboxMessage
from oms.core.types import utcnow
from oms.integration import sync_store
from oms.routing import restock
from sync.base import IN_FLIGHT
from sync.channels.amazon import AmazonChannel
from sync.emulators._server import FakeClock
from sync.emulators.amazon import AmazonEmulator
from sync.engine import Engine
from tests.conftest import ACTOR

IDS = ("amzn1.application-oa2-client.f1", "amzn1.oa2-cs.v1.f33d", "Atzr|IwEBIfeed")
SECRET = " ".join(IDS)
SKUS = [f"SKU-{n:03d}" for n in range(80)]
GHOST = "SKU-077"  # in our catalogue, not listed on Amazon
BUFFER = 2


class EngineClock:
    """The engine's wall clock, moved on by the test (retry and poll times are on it)."""

    def __init__(self):
        self.ahead = timedelta(0)

    def __call__(self):
        return utcnow() + self.ahead

    def advance(self, seconds: float) -> None:
        self.ahead += timedelta(seconds=seconds)


class Killed(BaseException):
    """The station's process dies (nothing below the engine catches it)."""


@pytest.fixture
def feed_world(db):
    with db.write() as s:
        lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502")
        inventory.add_bins(s, lid, ["A-01-1"])
        sync_store.add_connector(s, ACTOR, code="amz", role="channel", kind="amazon", name="Amazon", base_url="http://127.0.0.1:1")
        for n, sku in enumerate(SKUS):
            restock.receive(s, ACTOR, catalog.add_product(s, ACTOR, sku, sku.title()), lid, 20 + n, bin="A-01-1")
    return db


def emulator(clock) -> AmazonEmulator:
    emu = AmazonEmulator(client_id=IDS[0], client_secret=IDS[1], refresh_token=IDS[2], clock=clock, seed=11)
    emu.add_listing(*[s for s in SKUS if s != GHOST])
    return emu


def channel(emu, clock, **kw) -> AmazonChannel:
    kw.setdefault("feed_wait_s", 900)
    return AmazonChannel("amz", emu.url, SECRET, clock=clock, sleep=kw.pop("sleep", clock.sleep), rng=random.Random(2),
                         timeout=(2, 5), seller_id="A2SELLER", stock_buffer=BUFFER, location_map={"RNO": "DEFAULT"},
                         start_at=datetime.now(timezone.utc) - timedelta(days=1), **kw)


def outbox(db) -> list[OutboxMessage]:
    with db.read() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.destination == "amz").order_by(OutboxMessage.id)))


def quantity(emu, sku) -> int | None:
    value = emu.listings.get(sku)
    return None if value is None else value[0]["quantity"]


def told_right(emu, extra: dict[str, int] | None = None) -> bool:
    extra = extra or {}
    return all(quantity(emu, sku) == 20 + n + extra.get(sku, 0) - BUFFER for n, sku in enumerate(SKUS) if sku != GHOST)


def feed_calls(emu, op: str) -> int:
    path = {"createFeedDocument": "/feeds/2021-06-30/documents", "createFeed": "/feeds/2021-06-30/feeds"}[op]
    return len([c for c in emu.calls if c[0] == "POST" and c[1] == path and c[2] < 300])


def test_many_levels_go_as_one_feed_and_an_unknown_sku_fails_on_its_own(feed_world):
    clock, when = FakeClock(), EngineClock()
    with emulator(clock) as emu:
        ch = channel(emu, clock)
        (report,) = Engine(feed_world, {"amz": ch}, clock=when).run_once()
        assert ch.feeds == 1 and feed_calls(emu, "createFeed") == 1
        assert not [c for c in emu.calls if c[0] == "PATCH"]  # no level went one by one
        assert told_right(emu) and GHOST not in emu.listings
        assert report.pushed == 79 and report.failed == 1
        states = {m.payload["sku"]: (m.status, m.last_error) for m in outbox(feed_world)}
        status, error = states[GHOST]
        (feed_id,) = emu.feeds
        assert status == "failed" and "SKU-077" in error and "not listed" in error and f"feed {feed_id}" in error
        assert Counter(s for s, _e in states.values()) == {"sent": 79, "failed": 1}
        # Every operation stayed inside its documented bucket: Amazon never throttled this client.
        assert emu.throttled == {} and ch.throttled == 0
        # What went is the documented JSON_LISTINGS_FEED document, uploaded to the presigned URL.
        (feed,) = emu.feeds.values()
        document = json.loads(emu.documents[feed["_doc"]]["body"])
        assert document["header"] == {"sellerId": "A2SELLER", "version": "2.0", "issueLocale": "en_US"}
        first = document["messages"][0]
        assert first == {"messageId": 1, "sku": "SKU-000", "operationType": "PATCH", "productType": "PRODUCT",
                         "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                      "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 20 - BUFFER}]}]}
        assert feed["processingStatus"] == "DONE"


def test_few_levels_go_one_by_one_through_patch_listings_item(feed_world):
    clock, when = FakeClock(), EngineClock()
    with emulator(clock) as emu:
        ch = channel(emu, clock, feed_threshold=100)  # 80 levels: under the connection's threshold
        (report,) = Engine(feed_world, {"amz": ch}, clock=when).run_once()
        assert ch.feeds == 0 and not emu.feeds
        assert len([c for c in emu.calls if c[0] == "PATCH"]) == 80
        assert told_right(emu) and report.pushed == 79 and report.failed == 1
        assert emu.throttled == {}  # 80 patches at 5 a second, burst 5: the bucket waited, Amazon never refused


def test_a_feed_that_ends_fatal_is_submitted_again_and_applies_once(feed_world):
    clock, when = FakeClock(), EngineClock()
    with emulator(clock) as emu:
        emu.fatal_feeds = 1
        ch = channel(emu, clock)
        engine = Engine(feed_world, {"amz": ch}, clock=when)
        (report,) = engine.run_once()
        assert report.pushed == 0 and report.errors and "ended FATAL" in report.errors[0] and "internal error" in report.errors[0]
        pending = outbox(feed_world)
        assert {m.status for m in pending} == {"pending"} and all(IN_FLIGHT not in m.payload for m in pending)
        assert emu.listings == {} and emu.applied == {}  # FATAL: nothing was applied

        when.advance(3600)  # past the back-off
        (report,) = engine.run_once()
        assert report.pushed == 79 and report.failed == 1
        assert feed_calls(emu, "createFeed") == 2 and told_right(emu)
        assert set(emu.applied.values()) == {1}  # every listing changed once


def test_killed_while_amazon_processes_the_feed_resumes_polling_and_never_submits_it_twice(feed_world):
    clock, when = FakeClock(), EngineClock()
    with emulator(clock) as emu:

        said = []

        def dies_while_polling(seconds):
            if emu.feeds:  # the feed is submitted; the station dies waiting for it
                said.append(first.progress())  # what the Sync screen shows meanwhile
                raise Killed()
            clock.sleep(seconds)

        first = channel(emu, clock, sleep=dies_while_polling)
        with pytest.raises(Killed):
            Engine(feed_world, {"amz": first}, clock=when).run_once()
        (feed_id,) = emu.feeds
        assert said == [f"Amazon is processing feed {feed_id} (80 stock levels)"]
        held = outbox(feed_world)
        assert {m.status for m in held} == {"pending"}
        assert {m.payload[IN_FLIGHT]["feed"] for m in held} == {feed_id}  # written before the first poll

        # Meanwhile stock moves: the newer level must wait for the feed that holds the older one.
        with feed_world.write() as s:
            restock.receive(s, ACTOR, "SKU-003", "RNO", 100, bin="A-01-1")
        clock.sleep(600)  # Amazon finishes the feed while the station is down
        ch = channel(emu, clock)
        (report,) = Engine(feed_world, {"amz": ch}, clock=when).run_once()
        assert feed_calls(emu, "createFeed") == 1 and ch.feeds == 0  # polled again, not submitted again
        assert told_right(emu, {"SKU-003": 100})
        assert emu.applied["SKU-003"] == 2 and all(n == 1 for sku, n in emu.applied.items() if sku != "SKU-003")
        assert report.pushed == 80 and report.failed == 1
        assert Counter(m.status for m in outbox(feed_world)) == {"sent": 80, "failed": 1}


def test_a_newer_level_replaces_one_whose_feed_came_to_nothing_while_the_station_was_down(feed_world):
    clock, when = FakeClock(), EngineClock()
    with emulator(clock) as emu:
        emu.fatal_feeds = 1

        def dies_while_polling(seconds):
            if emu.feeds:
                raise Killed()
            clock.sleep(seconds)

        with pytest.raises(Killed):
            Engine(feed_world, {"amz": channel(emu, clock, sleep=dies_while_polling)}, clock=when).run_once()
        with feed_world.write() as s:
            restock.receive(s, ACTOR, "SKU-003", "RNO", 100, bin="A-01-1")
        clock.sleep(600)  # the feed ends FATAL meanwhile
        engine = Engine(feed_world, {"amz": channel(emu, clock)}, clock=when)
        (report,) = engine.run_once()
        assert "ended FATAL" in report.errors[0] and quantity(emu, "SKU-003") == 20 + 3 + 100 - BUFFER
        old, new = [m for m in outbox(feed_world) if m.payload["sku"] == "SKU-003"]
        assert (old.status, new.status) == ("superseded", "sent")  # the older level will not overwrite the newer
        when.advance(3600)
        engine.run_once()
        assert told_right(emu, {"SKU-003": 100}) and emu.applied["SKU-003"] == 1
        assert Counter(m.status for m in outbox(feed_world)) == {"sent": 79, "failed": 1, "superseded": 1}


def test_polling_stops_after_the_wait_and_the_next_pass_reads_the_feed(feed_world):
    clock, when = FakeClock(), EngineClock()
    with emulator(clock) as emu:
        ch = channel(emu, clock, feed_wait_s=45)  # Amazon takes two minutes; the pass does not wait that long
        engine = Engine(feed_world, {"amz": ch}, clock=when)
        (report,) = engine.run_once()
        assert report.pushed == 0 and not report.errors and ch.feeds == 1
        held = outbox(feed_world)
        assert {m.status for m in held} == {"pending"} and all(m.attempts == 0 for m in held)
        assert all("Amazon feed" in m.last_error and "IN_" in m.last_error for m in held)
        (report,) = engine.run_once()  # too soon: not polled again
        assert report.pushed == 0 and len([c for c in emu.calls if c[1].startswith("/feeds/2021-06-30/feeds/")]) == 2
        when.advance(60)
        clock.sleep(120)
        (report,) = engine.run_once()
        assert report.pushed == 79 and ch.feeds == 1 and told_right(emu)


def test_the_emulator_keeps_the_feed_contracts():
    clock = FakeClock()
    with emulator(clock) as emu:
        emu.expire_tokens()
        token = requests.post(f"{emu.url}/auth/o2/token", timeout=5, data={
            "grant_type": "refresh_token", "refresh_token": IDS[2], "client_id": IDS[0], "client_secret": IDS[1]}).json()["access_token"]
        h = {"x-amz-access-token": token}
        api = f"{emu.url}/feeds/2021-06-30"
        assert requests.post(f"{api}/documents", json={}, headers=h, timeout=5).status_code == 400
        doc = requests.post(f"{api}/documents", json={"contentType": "application/json; charset=UTF-8"}, headers=h, timeout=5)
        assert doc.status_code == 201 and set(doc.json()) == {"feedDocumentId", "url"}
        url, doc_id = doc.json()["url"], doc.json()["feedDocumentId"]
        # Not uploaded yet: createFeed refuses the document.
        spec = {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": ["ATVPDKIKX0DER"], "inputFeedDocumentId": doc_id}
        assert requests.post(f"{api}/feeds", json=spec, headers=h, timeout=5).status_code == 400
        # The presigned URL wants its signature and the content type it was made for.
        assert requests.put(url.split("?")[0], data=b"{}", headers={"Content-Type": "application/json; charset=UTF-8"}, timeout=5).status_code == 403
        assert requests.put(url, data=b"{}", headers={"Content-Type": "text/plain"}, timeout=5).status_code == 403
        body = {"header": {"sellerId": "A2SELLER", "version": "2.0"}, "messages": [
            {"messageId": 1, "sku": "SKU-001", "operationType": "PATCH", "productType": "PRODUCT",
             "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                          "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 4}]}]},
            {"messageId": 2, "sku": "NOPE", "operationType": "PATCH", "productType": "PRODUCT", "patches": []},
            {"messageId": 3, "sku": "SKU-002", "operationType": "PATCH"}]}
        assert requests.put(url, data=json.dumps(body), headers={"Content-Type": "application/json; charset=UTF-8"}, timeout=5).ok
        created = requests.post(f"{api}/feeds", json=spec, headers=h, timeout=5)
        assert created.status_code == 202 and list(created.json()) == ["feedId"]
        feed_url = f"{api}/feeds/{created.json()['feedId']}"
        feed = requests.get(feed_url, headers=h, timeout=5)
        assert feed.json()["processingStatus"] == "IN_QUEUE" and feed.headers["x-amzn-RateLimit-Limit"] == "2"
        clock.sleep(60)
        assert requests.get(feed_url, headers=h, timeout=5).json()["processingStatus"] == "IN_PROGRESS"
        clock.sleep(90)
        done = requests.get(feed_url, headers=h, timeout=5).json()
        assert done["processingStatus"] == "DONE" and done["resultFeedDocumentId"]
        info = requests.get(f"{api}/documents/{done['resultFeedDocumentId']}", headers=h, timeout=5).json()
        assert info["compressionAlgorithm"] == "GZIP"
        report = json.loads(gzip.decompress(requests.get(info["url"], timeout=5).content))
        assert report["summary"] == {"errors": 2, "warnings": 0, "messagesProcessed": 3, "messagesAccepted": 1, "messagesInvalid": 2}
        assert [i["messageId"] for i in report["issues"]] == [2, 3] and report["header"]["feedId"] == done["feedId"]
        assert emu.listings == {"SKU-001": [{"fulfillment_channel_code": "DEFAULT", "quantity": 4}]}
        # getFeedDocument is 0.0222 a second, burst 10: the eleventh at once is refused without a rate header.
        answers = [requests.get(f"{api}/documents/{doc_id}", headers=h, timeout=5) for _ in range(10)]
        assert [a.status_code for a in answers] == [200] * 9 + [429] and "x-amzn-RateLimit-Limit" not in answers[-1].headers


# -- exactly once, whatever happens -------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@pytest.fixture
def shared(feed_world):
    clock = FakeClock()
    with emulator(clock) as emu:
        yield feed_world, emu, clock, EngineClock()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.tuples(st.integers(0, len(SKUS) - 1), st.integers(1, 30)), max_size=120),
       later=st.lists(st.tuples(st.integers(0, len(SKUS) - 1), st.integers(1, 30)), max_size=60),
       threshold=st.sampled_from([0, 10, 50, 200]), fatal=st.integers(0, 2), kill=st.booleans(), wait=st.sampled_from([0, 45, 900]))
def test_any_mix_of_feeds_patches_fatal_feeds_and_kills_applies_each_sent_level_once(shared, moves, later, threshold, fatal, kill, wait):
    """Whatever the pass sizes, FATAL feeds, short waits and a station killed while Amazon processes: in the end
    Amazon has every listed SKU's level less the buffer, and each level marked sent changed its listing once."""
    db, emu, clock, when = shared
    with emu.lock:  # full buckets, as each example's first connector believes (a new station cannot know better)
        emu._buckets.clear()
        emu.throttled.clear()
    with db.write() as s:
        for n, qty in moves:
            restock.receive(s, ACTOR, SKUS[n], "RNO", qty, bin="A-01-1")
    emu.fatal_feeds = fatal

    def dies_while_polling(seconds):
        if kill and emu.feeds and any(f["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS") for f in emu.feeds.values()):
            raise Killed()
        clock.sleep(seconds)

    first = channel(emu, clock, feed_threshold=threshold, feed_wait_s=wait, sleep=dies_while_polling)
    try:
        Engine(db, {"amz": first}, clock=when).run_once()
    except Killed:
        pass
    with db.write() as s:  # stock moves on while the station is down (or between passes)
        for n, qty in later:
            restock.receive(s, ACTOR, SKUS[n], "RNO", qty, bin="A-01-1")
    for _pass in range(12):
        when.advance(3600)
        clock.sleep(600)
        Engine(db, {"amz": channel(emu, clock, feed_threshold=threshold, feed_wait_s=wait)}, clock=when).run_once()
        with db.read() as s:
            if not sync_store.waiting_count(s, "amz"):
                break
    with db.read() as s:
        from oms.catalog.models import Product
        from oms.inventory.models import StockLevel
        available = dict(s.execute(select(Product.sku, StockLevel.on_hand - StockLevel.allocated)
                                   .join(Product, Product.id == StockLevel.product_id)).all())
    rows = outbox(db)
    assert not [m for m in rows if m.status == "pending"]
    assert all(quantity(emu, sku) == available[sku] - BUFFER for sku in SKUS if sku != GHOST)
    sent = Counter(m.payload["sku"] for m in rows if m.status == "sent")
    assert {sku: n for sku, n in emu.applied.items()} == dict(sent)  # each sent level applied exactly once
    assert {m.payload["sku"] for m in rows if m.status == "failed"} <= {GHOST}
    assert emu.throttled == {}
