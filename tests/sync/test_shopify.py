"""The Shopify connector against the Shopify emulator over loopback HTTP."""

import json
import random
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sync.base import OutboundMessage, PermanentError, RemoteError
from sync.channels.shopify import ShopifyChannel
from sync.emulators._server import FakeClock
from sync.emulators.shopify import ShopifyEmulator
from sync.http import HttpClient

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "shpat_test_token"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def shop(clock):
    with ShopifyEmulator(token=TOKEN, seed=3, clock=clock) as emu:
        yield emu


def channel(shop, clock, **kw):
    client = ShopifyChannel.make_client(shop.url, TOKEN, sleep=clock.sleep, rng=random.Random(5), timeout=(2, 5))
    return ShopifyChannel("web", shop.url, TOKEN, client=client, **kw)


def fixture_order() -> dict:
    return json.loads((FIXTURES / "shopify_order.json").read_text(encoding="utf-8"))["order"]


def pull_all(ch, cursor=None, *, tolerate_errors=False):
    """Pull until done, as the engine would: a failed page is asked for again with the same cursor."""
    pages, errors = [], 0
    while True:
        try:
            page = ch.pull_orders(cursor)
        except RemoteError:
            if not tolerate_errors:
                raise
            errors += 1
            assert errors < 200
            continue
        pages.append(page)
        cursor = page.next_cursor
        if page.done:
            return pages, cursor, errors


def msg(topic, payload, n=1):
    return OutboundMessage(n, topic, f"web:{topic}:{n}", payload)


# -- mapping --------------------------------------------------------------------------------


def test_a_realistic_order_maps_exactly(shop, clock):
    shop.add_order(fixture_order())
    (page,), _, _ = pull_all(channel(shop, clock))
    assert page.quarantined == [] and page.cancellations == []
    (o,) = page.orders
    assert (o.channel, o.external_id, o.number, o.currency, o.order_type) == ("web", "5812345678901", "#2047", "USD", "dtc")
    assert o.placed_at == datetime(2024, 11, 5, 2, 15, 9, tzinfo=timezone.utc)
    # shop money (USD), not the customer's EUR presentment amounts
    assert (o.subtotal_minor, o.discount_minor, o.shipping_minor, o.tax_minor, o.total_minor) == (6960, 696, 1450, 376, 8090)
    assert o.subtotal_minor - o.discount_minor + o.shipping_minor + o.tax_minor == o.total_minor
    mug, tote = o.lines
    assert (mug.external_line_id, mug.sku, mug.quantity, mug.unit_price_minor, mug.description) == ("14001", "MUG-RED", 2, 1230, "Harbour Mug - Red")
    assert (tote.sku, tote.unit_price_minor, tote.description) == ("SHOPIFY-VARIANT-39007", 4500, "Rope Tote Bag")
    assert (o.customer_name, o.customer_email) == ("Inès Okafor", "ines.okafor@example.net")
    assert o.tags == "vip,wholesale-lead"  # the shop's own tags, tidied, for routing rules
    assert (o.ship_to.name, o.ship_to.company, o.ship_to.address1, o.ship_to.address2, o.ship_to.city, o.ship_to.region,
            o.ship_to.postal_code, o.ship_to.country) == ("Inès Okafor", "Okafor Ceramics", "88 Water Street", "Unit 3",
                                                          "Louisville", "KY", "40202", "US")
    assert o.service_level == "expedited"


def test_billing_address_stands_in_and_overnight_is_recognised(shop, clock):
    order = fixture_order()
    order["shipping_address"] = None
    order["shipping_lines"][0]["title"] = "UPS Next Day Air"
    order["shipping_lines"][0]["code"] = "NDA"
    shop.add_order(order)
    (page,), _, _ = pull_all(channel(shop, clock))
    (o,) = page.orders
    assert (o.ship_to.address1, o.ship_to.city, o.service_level) == ("12 Billing Way", "Lexington", "overnight")


def test_a_broken_order_is_quarantined_and_the_rest_of_its_page_imports(shop, clock):
    ids = shop.seed_orders(4)
    bad_money = fixture_order() | {"id": 5900000000001, "total_price": "80.905", "total_price_set": None}
    no_id = {k: v for k, v in fixture_order().items() if k != "id"} | {"name": "#9999"}
    float_price = fixture_order() | {"id": 5900000000002}
    float_price["line_items"] = [dict(float_price["line_items"][0], price=12.3, price_set=None)]
    for o in (bad_money, no_id, float_price):
        shop.add_order(o)
    pages, _, _ = pull_all(channel(shop, clock))
    assert len(pages) == 1
    (page,) = pages
    assert sorted(o.external_id for o in page.orders) == sorted(str(i) for i in ids)
    q = {x.external_ref: x for x in page.quarantined}
    assert set(q) == {"5900000000001", "#9999", "5900000000002"}
    assert "more decimal places" in q["5900000000001"].error
    assert "no numeric id" in q["#9999"].error
    assert "as text" in q["5900000000002"].error
    assert json.loads(q["5900000000001"].raw)["total_price"] == "80.905"  # kept whole


def test_parse_raw_reads_a_quarantined_order_again(shop, clock):
    ch = channel(shop, clock)
    broken = fixture_order() | {"total_price": "oops", "total_price_set": None}
    page = ch.parse_raw(json.dumps(broken))
    assert page.orders == [] and "not an amount" in page.quarantined[0].error
    page = ch.parse_raw(json.dumps(fixture_order()))
    assert [o.external_id for o in page.orders] == ["5812345678901"]


# -- pagination and cursors -----------------------------------------------------------------


def test_pages_follow_link_headers_and_resume_after_a_crash(shop, clock):
    ids = shop.seed_orders(25)
    ch = channel(shop, clock, page_size=10)
    first = ch.pull_orders(None)
    assert len(first.orders) == 10 and not first.done
    assert json.loads(first.next_cursor)["page_info"]
    # the engine committed page 1, then crashed: a new connector resumes at page 2
    again = channel(shop, clock, page_size=10)
    pages, cursor, _ = pull_all(again, first.next_cursor)
    assert [len(p.orders) for p in pages] == [10, 5] and pages[-1].done and not pages[0].done
    seen = [o.external_id for p in [first, *pages] for o in p.orders]
    assert sorted(seen) == sorted(str(i) for i in ids) and len(set(seen)) == 25
    listing = [p for m, p, s in shop.calls if p.endswith("/orders.json")]
    assert len(listing) == 3
    assert json.loads(cursor).keys() == {"since"}


def test_after_the_last_page_only_changes_come_back(shop, clock):
    ids = shop.seed_orders(12)
    ch = channel(shop, clock, page_size=5)
    _, cursor, _ = pull_all(ch)
    shop.advance(600)  # ten minutes later the merchant edits one order
    shop.edit_order(ids[3], note="leave at the back door", tags="gift")
    pages, cursor2, _ = pull_all(ch, cursor)
    got = [o.external_id for p in pages for o in p.orders]
    # the edit, plus only what sits in the small overlap window before the last pass's high-water mark
    since = datetime.fromisoformat(json.loads(cursor)["since"])
    overlap = {str(k) for k, t in shop._updated.items() if t >= since and k != ids[3]}
    assert got[-1] == str(ids[3]) and set(got[:-1]) == overlap and len(overlap) < 4
    assert json.loads(cursor2)["since"] > json.loads(cursor)["since"]


def test_page_info_refuses_other_filters_as_the_real_api_does(shop, clock):
    shop.seed_orders(3)
    c = HttpClient(f"{shop.url}/admin/api/2024-10", headers={"X-Shopify-Access-Token": TOKEN}, sleep=clock.sleep)
    first = c.get("orders.json", params={"limit": 2, "status": "any"})
    token = first.links["next"].split("page_info=")[1]
    with pytest.raises(PermanentError) as err:
        c.get("orders.json", params={"limit": 2, "page_info": token, "status": "any"})
    assert err.value.status == 400 and "page_info" in str(err.value)
    with pytest.raises(PermanentError):
        c.get("orders.json", params={"limit": 251})


def test_a_refused_page_token_restarts_the_pass(shop, clock):
    ids = shop.seed_orders(6)
    ch = channel(shop, clock, page_size=4)
    stale = json.dumps({"since": None, "page_info": "not-a-token", "hw": None, "last": ""})
    pages, _, _ = pull_all(ch, stale)
    assert sorted(o.external_id for p in pages for o in p.orders) == sorted(str(i) for i in ids)


def test_upstream_cancellation_is_detected(shop, clock):
    ids = shop.seed_orders(5)
    ch = channel(shop, clock)
    _, cursor, _ = pull_all(ch)
    shop.advance(60)
    shop.cancel_order(ids[2], reason="customer")
    (page,), _, _ = pull_all(ch, cursor)
    assert [c.external_id for c in page.cancellations] == [str(ids[2])]
    assert "customer" in page.cancellations[0].reason and page.cancellations[0].cancelled_at.tzinfo is not None
    assert str(ids[2]) in [o.external_id for o in page.orders]  # also as an order, in case it is new to us


def test_wrong_token_is_a_readable_permanent_error(shop, clock):
    client = ShopifyChannel.make_client(shop.url, "shpat_wrong", sleep=clock.sleep)
    with pytest.raises(PermanentError) as err:
        ShopifyChannel("web", shop.url, "shpat_wrong", client=client).pull_orders(None)
    assert err.value.status == 401 and "Invalid API key or access token" in str(err.value)


def test_rate_limit_is_respected_through_the_call_limit_header(shop, clock):
    shop.seed_orders(120)
    ch = channel(shop, clock, page_size=1)
    pages, _, _ = pull_all(ch)
    assert len(pages) == 120
    assert [s for _, _, s in shop.calls].count(429) == 0
    assert clock.sleeps  # it slowed down near 40/40 instead of hitting the wall


def test_five_thousand_orders_over_many_pages_with_faults_arrive_exactly_once(shop, clock):
    ids = shop.seed_orders(5000)
    shop.set_faults(burst_429=2, rate_429=0.05, rate_5xx=0.05, rate_drop=0.03, rate_malformed=0.03, rate_duplicate_page=0.15)
    ch = channel(shop, clock, page_size=200)
    pages, _, errors = pull_all(ch, tolerate_errors=True)
    seen = [o.external_id for p in pages for o in p.orders]
    assert len(pages) >= 25
    assert len(seen) == len(set(seen)) == 5000
    assert set(seen) == {str(i) for i in ids}
    assert all(not p.quarantined for p in pages)
    statuses = [s for _, _, s in shop.calls]
    assert statuses.count(429) >= 2 and len(statuses) > len(pages)  # the faults did fire


# -- push -----------------------------------------------------------------------------------


def _shipped(shop, order_id, tracking="1Z999AA10123456784", n=1):
    order = shop.orders[order_id]
    lines = [{"external_line_id": str(li["id"]), "sku": li["sku"], "quantity": li["quantity"], "unit_price_minor": 0}
             for li in order["line_items"]]
    return msg("fulfillment.create", {"order_external_id": str(order_id), "shipment_id": n, "lines": lines, "carrier": "UPS",
                                      "service": "Ground", "tracking_number": tracking, "shipped_at": "2024-11-05T15:00:00+00:00"}, n)


def test_fulfillment_is_created_once_however_often_it_is_pushed(shop, clock):
    (oid,) = shop.seed_orders(1)
    ch = channel(shop, clock)
    first = ch.push(_shipped(shop, oid))
    second = ch.push(_shipped(shop, oid))
    (f,) = shop.fulfillments(oid)
    assert first["fulfillment_id"] == second["fulfillment_id"] == f["id"] and second["already"]
    assert f["tracking_number"] == "1Z999AA10123456784" and f["tracking_company"] == "UPS"
    assert shop.orders[oid]["fulfillment_status"] == "fulfilled"


def test_part_shipments_and_untracked_repeats(shop, clock):
    order = fixture_order()
    shop.add_order(order)
    oid = order["id"]
    ch = channel(shop, clock)
    part = msg("fulfillment.create", {"order_external_id": str(oid), "shipment_id": 7, "carrier": "", "service": "",
                                      "tracking_number": "", "shipped_at": "2024-11-05T15:00:00+00:00",
                                      "lines": [{"external_line_id": "14001", "sku": "MUG-RED", "quantity": 1, "unit_price_minor": 1230}]})
    ch.push(part)
    assert ch.push(part)["already"]
    (f,) = shop.fulfillments(oid)
    assert [(li["id"], li["quantity"]) for li in f["line_items"]] == [(14001, 1)]
    assert shop.orders[oid]["fulfillment_status"] == "partial"


def test_fulfillment_cancel_is_idempotent(shop, clock):
    (oid,) = shop.seed_orders(1)
    ch = channel(shop, clock)
    ch.push(_shipped(shop, oid))
    cancel = msg("fulfillment.cancel", {"order_external_id": str(oid), "shipment_id": 1}, 2)
    assert "cancelled" in ch.push(cancel)
    assert ch.push(cancel)["already"] == "cancelled"
    assert [f["status"] for f in shop.fulfillments(oid)] == ["cancelled"]
    assert shop.orders[oid]["fulfillment_status"] is None


def test_final_capture_takes_what_is_left_once(shop, clock):
    order = fixture_order()
    shop.add_order(order)
    ch = channel(shop, clock)
    payload = {"order_external_id": str(order["id"]), "currency": "USD", "amount_minor": 8280, "final": True}
    result = ch.push(msg("payment.capture", payload))
    assert result["captured_minor"] == 8090  # the whole authorization, shipping and tax included
    assert ch.push(msg("payment.capture", payload))["already"] == "captured"
    assert [c["amount"] for c in shop.captures(order["id"])] == ["80.90"]
    assert shop.orders[order["id"]]["financial_status"] == "paid"


def test_part_capture_needs_to_know_what_came_before(shop, clock):
    order = fixture_order()
    shop.add_order(order)
    ch = channel(shop, clock)
    oid = str(order["id"])
    assert "skipped" in ch.push(msg("payment.capture", {"order_external_id": oid, "currency": "USD", "amount_minor": 1230, "final": False}))
    part = {"order_external_id": oid, "currency": "USD", "amount_minor": 1230, "final": False, "captured_before_minor": 0}
    ch.push(msg("payment.capture", part))
    ch.push(msg("payment.capture", part))
    assert [c["amount"] for c in shop.captures(order["id"])] == ["12.30"]
    ch.push(msg("payment.capture", {"order_external_id": oid, "currency": "USD", "amount_minor": 5700, "final": True}))
    assert [c["amount"] for c in shop.captures(order["id"])] == ["12.30", "68.60"]


def test_capture_of_an_order_paid_at_checkout_is_skipped(shop, clock):
    order = fixture_order() | {"financial_status": "paid"}
    shop.add_order(order)
    result = channel(shop, clock).push(msg("payment.capture", {"order_external_id": str(order["id"]), "currency": "USD",
                                                              "amount_minor": 100, "final": True}))
    assert "skipped" in result and shop.captures(order["id"]) == []


def test_order_cancel_is_idempotent_and_partial_cancels_are_not_sent(shop, clock):
    (a,) = shop.seed_orders(1)
    ch = channel(shop, clock)
    lines = [{"external_line_id": str(li["id"]), "quantity": li["quantity"]} for li in shop.orders[a]["line_items"]]
    payload = {"external_id": str(a), "reason": "Customer changed their mind", "lines": lines}
    assert ch.push(msg("order.cancelled", payload))["reason"] == "customer"
    assert ch.push(msg("order.cancelled", payload)) == {"already": "cancelled"}
    assert shop.orders[a]["cancelled_at"] and shop.orders[a]["cancel_reason"] == "customer"
    order = fixture_order()
    shop.add_order(order)
    partial = {"external_id": str(order["id"]), "reason": "out of stock", "lines": [{"external_line_id": "14001", "quantity": 1}]}
    assert "skipped" in ch.push(msg("order.cancelled", partial))
    assert not shop.orders[order["id"]]["cancelled_at"]


def test_inventory_set_maps_sku_and_location(shop, clock):
    shop.add_product("MUG-RED")
    shop.add_product("TEE-M-BLK")
    ch = channel(shop, clock, location_map={"SHOP": 655441492})
    r1 = ch.push(msg("inventory.set", {"sku": "MUG-RED", "location_code": "main warehouse", "available": 17}))
    r2 = ch.push(msg("inventory.set", {"sku": "TEE-M-BLK", "location_code": "SHOP", "available": 0}))
    assert (r1["location_id"], r1["available"], r2["location_id"]) == (655441491, 17, 655441492)
    assert sorted((l["location_id"], l["available"]) for l in shop.inventory_levels()) == [(655441491, 17), (655441492, 0)]
    assert "skipped" in ch.push(msg("inventory.set", {"sku": "NOPE", "location_code": "SHOP", "available": 1}))
    with pytest.raises(PermanentError, match="location"):
        ch.push(msg("inventory.set", {"sku": "MUG-RED", "location_code": "Basement", "available": 1}))


def test_unknown_topics_are_skipped_and_bad_payloads_are_permanent(shop, clock):
    ch = channel(shop, clock)
    assert "skipped" in ch.push(msg("asn.create", {}))
    with pytest.raises(PermanentError):
        ch.push(msg("fulfillment.create", {"lines": []}))
