"""Emulators with a state file keep their orders, fulfilments and labels across a restart, as a real shop and carrier do."""

import json

from sync.emulators._server import FakeClock
from sync.emulators.easypost import EasyPostEmulator
from sync.emulators.shopify import ShopifyEmulator
from tests.sync.test_easypost import BOX, CUSTOMER, KEY, WAREHOUSE
from tests.sync.test_easypost import carrier as easypost_carrier
from tests.sync.test_shopify import TOKEN, _shipped, channel, pull_all


def test_a_restarted_shop_keeps_its_orders_numbering_and_fulfilments(tmp_path):
    clock = FakeClock()
    state = tmp_path / "shop.json"
    with ShopifyEmulator(token=TOKEN, seed=3, clock=clock, state_file=state) as shop:
        first_ids = shop.seed_orders(3)
        names_before = [shop.orders[i]["name"] for i in first_ids]
        ch = channel(shop, clock)
        pulled = [o.external_id for p in pull_all(ch)[0] for o in p.orders]
        shipped = ch.push(_shipped(shop, first_ids[0]))
    assert names_before == ["#1001", "#1002", "#1003"] and len(pulled) == 3

    with ShopifyEmulator(token=TOKEN, seed=3, clock=clock, state_file=state) as shop:
        assert shop.load()
        ch = channel(shop, clock)
        # An order pulled before the restart can still be fulfilled (no "404 Not Found"), and the one fulfilled
        # before is known as such: pushing it again finds it instead of fulfilling twice.
        again = ch.push(_shipped(shop, first_ids[0]))
        assert again["already"] and again["fulfillment_id"] == shipped["fulfillment_id"]
        assert ch.push(_shipped(shop, first_ids[1], tracking="1Z999AA10123456785", n=2))["fulfillment_id"]
        assert shop.orders[first_ids[1]]["fulfillment_status"] == "fulfilled"
        # The numbering goes on where it stopped.
        (new_id,) = shop.seed_orders(1)
        assert shop.orders[new_id]["name"] == "#1004"
        names = [o.number for p in pull_all(ch)[0] for o in p.orders]
        assert sorted(names) == ["#1001", "#1002", "#1003", "#1004"]


def test_the_state_file_is_replaced_whole_and_an_unreadable_one_is_set_aside(tmp_path):
    state = tmp_path / "demo" / "shop.json"
    with ShopifyEmulator(token=TOKEN, seed=3, state_file=state) as shop:
        shop.seed_orders(2)
    assert len(json.loads(state.read_text())["orders"]) == 2
    assert [p.name for p in state.parent.iterdir()] == ["shop.json"]  # no temporary file left behind
    state.write_text('{"orders": [[1, {"id"')  # cut off mid-write by something else
    shop = ShopifyEmulator(token=TOKEN, seed=3, state_file=state)
    assert not shop.load() and shop.orders == {}
    assert (state.parent / "shop.unreadable").exists()


def test_a_restarted_carrier_keeps_its_labels_and_trackers(tmp_path):
    clock = FakeClock()
    state = tmp_path / "easypost.json"
    with EasyPostEmulator(api_key=KEY, seed=11, clock=clock, state_file=state) as ep:
        c = easypost_carrier(ep, clock)
        shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:48")
        label = c.buy(shipment_id, quotes[0].rate_id, idempotency_key="easypost:label:48")
        port = ep.port

    with EasyPostEmulator(api_key=KEY, seed=11, clock=clock, state_file=state, port=port) as ep:
        assert ep.load()
        c = easypost_carrier(ep, clock)
        assert c.buy(shipment_id, quotes[0].rate_id, idempotency_key="easypost:label:48") == label  # bought once
        assert ep.buy_calls == 1
        assert [u.status for u in c.track(label.tracker_id)] == ["pre_transit"]
        assert c.refund(shipment_id) == "submitted"


def test_orders_added_after_a_client_read_the_list_are_seen_on_its_next_pass(tmp_path):
    """Seeded with times before the client's last pass (as a journey seeds "the last 30 minutes"), new orders still
    come: a real shop's new order is changed now, never behind a cursor the client already holds."""
    from datetime import timedelta

    clock = FakeClock()
    with ShopifyEmulator(token=TOKEN, seed=3, clock=clock, state_file=tmp_path / "shop.json") as shop:
        shop.seed_orders(3, start=shop.now())  # the shop's latest orders are from just now
        ch = channel(shop, clock)
        _pages, cursor, _errors = pull_all(ch)
        new = shop.seed_orders(4, spread=timedelta(minutes=30))
        pages, _cursor, _errors = pull_all(ch, cursor)
        assert {str(i) for i in new} <= {o.external_id for p in pages for o in p.orders}
