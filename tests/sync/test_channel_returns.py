"""Returns from the channels: a Shopify refund with items restocked as a return opens an RMA (requested) through the
domain, once however often the order is read again; a refund that restocks nothing opens none; a return the domain
refuses is kept for a person. Real HTTP against the Shopify emulator, real databases."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from oms import returns
from oms.integration.models import QuarantinedPayload
from oms.orders.models import OrderLine, SalesOrder
from oms.returns.models import Rma
from sync.channels.shopify import ShopifyChannel
from sync.emulators._server import FakeClock
from sync.emulators.shopify import DEFAULT_SKUS, ShopifyEmulator
from sync.engine import Engine
from tests.conftest import ACTOR
from tests.sync.test_engine_shopify import TOKEN, _ship_everything, drain, shop_world  # noqa: F401 - the fixture


def channel(emu, clock):
    client = ShopifyChannel.make_client(emu.url, TOKEN, sleep=clock.sleep, rng=random.Random(1), timeout=(2, 5), max_attempts=6)
    return ShopifyChannel("web", emu.url, TOKEN, client=client, page_size=250)


def test_a_shopify_refund_with_a_return_opens_an_rma_once(shop_world):
    db = shop_world
    clock = FakeClock()
    with ShopifyEmulator(token=TOKEN, seed=12, clock=clock) as emu:
        (oid,) = emu.seed_orders(1, DEFAULT_SKUS)
        engine = Engine(db, {"web": channel(emu, clock)})
        drain(engine)
        _ship_everything(db)
        lines = emu.orders[oid]["line_items"]
        first = lines[0]
        emu.advance(600)
        emu.refund_order(oid, {first["id"]: 1}, note="Too big")
        emu.refund_order(oid, {first["id"]: 1}, restock_type="no_restock", note="Goodwill")  # the customer keeps it
        drain(engine)
        emu.advance(600)
        emu.edit_order(oid, note="read again")  # the order comes round again: no second RMA
        drain(engine)
    with db.read() as s:
        (rma,) = returns.list_rmas(s)
        d = returns.rma_detail(s, rma.number)
        sku = s.scalar(select(OrderLine.sku).where(OrderLine.external_line_id == str(first["id"])))
        assert (d.status, d.source, d.customer_note, [(l.sku, l.quantity) for l in d.lines]) == (
            "requested", "web", "Too big", [(sku, 1)])
        assert s.scalar(select(Rma.external_id)).startswith("refund-")


def test_a_channel_return_the_domain_refuses_is_kept_for_a_person(shop_world):
    db = shop_world
    clock = FakeClock()
    with ShopifyEmulator(token=TOKEN, seed=13, clock=clock) as emu:
        (oid,) = emu.seed_orders(1, DEFAULT_SKUS)
        engine = Engine(db, {"web": channel(emu, clock)})
        drain(engine)  # imported, not shipped
        first = emu.orders[oid]["line_items"][0]
        emu.advance(600)
        emu.refund_order(oid, {first["id"]: 1})
        drain(engine)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Rma)) == 0
        q = s.scalars(select(QuarantinedPayload).where(QuarantinedPayload.stream == "returns")).one()
        assert "has not shipped: nothing of it can be returned" in q.error
        assert s.scalar(select(SalesOrder.status)) != "cancelled"


def test_a_woocommerce_refund_of_items_opens_an_rma_once_and_a_money_refund_none(db):
    from oms import catalog, inventory, routing
    from oms.integration import sync_store
    from oms.routing import restock
    from sync.emulators.woocommerce import DEFAULT_SKUS as WOO_SKUS
    from tests.sync.test_woocommerce import channel as woo_channel, drain as woo_drain, emulator as woo_emulator

    with db.write() as s:
        lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502")
        inventory.add_bins(s, lid, ["A-01-1"])
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        sync_store.add_connector(s, ACTOR, code="woo", role="channel", kind="woocommerce", name="Woo", base_url="http://127.0.0.1:1")
        for sku in WOO_SKUS:
            pid = catalog.add_product(s, ACTOR, sku, sku.title())
            restock.receive(s, ACTOR, pid, lid, 1000, bin="A-01-1")
    with woo_emulator() as emu:
        (oid,) = emu.seed_orders(1, WOO_SKUS)
        engine = Engine(db, {"woo": woo_channel(emu)})
        woo_drain(engine)
        _ship_everything(db)
        item = emu.orders[oid]["line_items"][0]
        emu.advance(600)
        emu.refund(oid, "5.00", "Shipping was slow")  # money back, no items: no return
        emu.refund(oid, str(item["price"]), "Wrong colour", lines={item["id"]: 1})
        woo_drain(engine)
        emu.advance(600)
        emu.edit_order(oid, customer_note="read again")
        woo_drain(engine)
    with db.read() as s:
        (rma,) = returns.list_rmas(s)
        d = returns.rma_detail(s, rma.number)
        sku = s.scalar(select(OrderLine.sku).where(OrderLine.external_line_id == str(item["id"])))
        assert (d.status, d.source, d.customer_note, [(l.sku, l.quantity) for l in d.lines]) == (
            "requested", "woo", "Wrong colour", [(sku, 1)])


def test_a_refund_decided_here_reaches_shopify_exactly_once_through_a_misbehaving_shop(shop_world):
    """An RMA opened at the desk for a Shopify order, received and resolved: the refund goes to the shop through the
    outbox, once, however often the shop drops, throttles or garbles an answer; the units are not restocked there
    (the stock Shopify shows is ours), and reading the order again opens no second RMA."""
    from oms.core.models import OutboxMessage
    from sync.emulators._server import Faults

    db = shop_world
    clock = FakeClock()
    with ShopifyEmulator(token=TOKEN, seed=21, clock=clock, faults=Faults.chaos()) as emu:
        (oid,) = emu.seed_orders(1, DEFAULT_SKUS)
        engine = Engine(db, {"web": channel(emu, clock)})
        drain(engine)
        _ship_everything(db)
        drain(engine)  # the fulfilment and the capture reach the shop
        first = emu.orders[oid]["line_items"][0]
        with db.write() as s:
            order = s.scalar(select(SalesOrder.number))
            sku = s.scalar(select(OrderLine.sku).where(OrderLine.external_line_id == str(first["id"])))
            _id, rma = returns.create_rma(s, ACTOR, order, [returns.RmaLineInput(sku, 1)], reason="DAMAGED")
            returns.receive_unit(s, ACTOR, rma, sku, "scrap")
            amount = returns.resolve(s, ACTOR, rma)
        for _ in range(60):
            engine.run_once()
            with db.write() as s:  # make any retry due now
                s.execute(OutboxMessage.__table__.update().where(OutboxMessage.status != "sent")
                          .values(next_attempt_at=func.now()))
            with db.read() as s:
                if s.scalar(select(OutboxMessage.status).where(OutboxMessage.topic == "refund.create")) == "sent":
                    break
        emu.advance(600)
        drain(engine)
        refunds = [r for r in emu.orders[oid]["refunds"] if rma in r["note"]]
    assert len(refunds) == 1, emu.orders[oid]["refunds"]
    (refund,) = refunds
    assert [(i["line_item_id"], i["quantity"], i["restock_type"]) for i in refund["refund_line_items"]] == [(first["id"], 1, "no_restock")]
    assert sum(minor_units(t["amount"]) for t in refund["transactions"]) == amount
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Rma)) == 1
        assert s.scalar(select(OutboxMessage.status).where(OutboxMessage.topic == "refund.create")) == "sent"


def minor_units(text: str) -> int:
    whole, _dot, cents = text.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def test_a_refund_decided_here_reaches_woocommerce_exactly_once_through_a_misbehaving_shop(db):
    from oms import catalog, inventory, routing
    from oms.core.models import OutboxMessage
    from oms.integration import sync_store
    from oms.routing import restock
    from sync.emulators._server import Faults
    from sync.emulators.woocommerce import DEFAULT_SKUS as WOO_SKUS
    from tests.sync.test_woocommerce import channel as woo_channel, drain as woo_drain, emulator as woo_emulator

    with db.write() as s:
        lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502")
        inventory.add_bins(s, lid, ["A-01-1"])
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        sync_store.add_connector(s, ACTOR, code="woo", role="channel", kind="woocommerce", name="Woo", base_url="http://127.0.0.1:1")
        for sku in WOO_SKUS:
            pid = catalog.add_product(s, ACTOR, sku, sku.title())
            restock.receive(s, ACTOR, pid, lid, 1000, bin="A-01-1")
    with woo_emulator(faults=Faults.chaos()) as emu:
        (oid,) = emu.seed_orders(1, WOO_SKUS)
        engine = Engine(db, {"woo": woo_channel(emu)})
        for _ in range(20):
            engine.run_once()
        _ship_everything(db)
        item = emu.orders[oid]["line_items"][0]
        with db.write() as s:
            order = s.scalar(select(SalesOrder.number))
            sku = s.scalar(select(OrderLine.sku).where(OrderLine.external_line_id == str(item["id"])))
            _id, rma = returns.create_rma(s, ACTOR, order, [returns.RmaLineInput(sku, 1)], reason="DAMAGED")
            returns.receive_unit(s, ACTOR, rma, sku, "quarantine")
            amount = returns.resolve(s, ACTOR, rma)
        for _ in range(60):
            engine.run_once()
            with db.write() as s:
                s.execute(OutboxMessage.__table__.update().where(OutboxMessage.status != "sent")
                          .values(next_attempt_at=func.now()))
            with db.read() as s:
                if s.scalar(select(OutboxMessage.status).where(OutboxMessage.topic == "refund.create")) == "sent":
                    break
        emu.advance(600)
        for _ in range(10):
            engine.run_once()  # the order, read again with its refund, opens no second RMA
        ours = [r for r in emu.orders[oid].get("refunds", []) if rma in r["reason"]]
        lines = emu.refund_items[ours[0]["id"]] if ours else []
    assert len(ours) == 1
    assert minor_units(ours[0]["total"].lstrip("-")) == amount
    assert [(li["meta_data"][0]["value"], li["quantity"]) for li in lines] == [(str(item["id"]), -1)]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Rma)) == 1
