"""What a person reads about an order is in words: no connection codes, no X12 qualifiers, no "(s)" plurals."""

import random

import pytest
from sqlalchemy import select

from desktop import demo
from oms import desk, routing, seed
from oms.integration import sync_store
from oms.orders.models import OrderLine, SalesOrder
from oms.shipping import shipments
from oms.shipping.shipments import PackageSpec, PackItem
from tests.conftest import ACTOR
from tests.oms.test_shipments import picked_order


def timeline(db, order_id) -> list[str]:
    with db.read() as s:
        return [e.text for e in desk.order_detail(s, order_id).timeline]


def test_the_timeline_says_one_unit_one_package_and_names_the_carrier(world):
    oid, (line,) = picked_order(world, (("MUG-RED", 1),))
    with world.write() as s:
        sync_store.add_connector(s, ACTOR, code="easypost", role="carrier", kind="easypost", name="Demo carrier (EasyPost)",
                                 base_url="http://127.0.0.1:9")
        sid = shipments.pack(s, ACTOR, oid, [PackItem(line, 1)], [PackageSpec("M", 900)])
        shipments.request_label(s, ACTOR, sid, "easypost", carrier_name="Demo carrier (EasyPost)")
    texts = timeline(world, oid)
    assert any(t.startswith("Imported with 1 line, 1 unit") for t in texts), texts
    assert "Packed 1 unit in 1 package" in texts
    assert "Label asked for from Demo carrier (EasyPost): the cheapest rate that arrives in time" in texts
    assert not any("(s)" in t or "easypost" in t or "_" in t for t in texts), texts


def test_several_units_and_packages_are_plural(world):
    oid, (red, blue) = picked_order(world, (("MUG-RED", 2), ("MUG-BLU", 1)))
    with world.write() as s:
        shipments.pack(s, ACTOR, oid, [PackItem(red, 2), PackItem(blue, 1)], [PackageSpec("M", 900), PackageSpec("S", 300)])
    texts = timeline(world, oid)
    assert any(t.startswith("Imported with 2 lines, 3 units") for t in texts) and "Packed 3 units in 2 packages" in texts


def test_a_rule_that_holds_says_so_in_words():
    rule = routing.Rule(0, "High value", {"channel": ["web"]}, {"hold_reason": "High value: check payment", "service_level": "overnight"})
    assert rule.describe().endswith(": put on hold (High value: check payment); split allowed; ship Overnight")


@pytest.fixture
def demo_edi_db(db, tmp_path, monkeypatch):
    """The demo's trading partner ACME and its purchase orders, one with an item we do not know (BP ACME-99999)."""
    monkeypatch.setenv("OMS_CONFIG_DIR", str(tmp_path / "config"))
    seed.master_data(db, rng=random.Random(7), products=30)
    assert demo.seed_edi(db, str(tmp_path / "acme"))
    return db


def test_an_item_a_partner_sent_that_we_do_not_know_is_named_in_words(demo_edi_db):
    with demo_edi_db.read() as s:
        order = s.scalar(select(SalesOrder).where(SalesOrder.number == "4500813"))
        skus = list(s.scalars(select(OrderLine.sku).where(OrderLine.order_id == order.id)))
        detail = desk.order_detail(s, order.id)
    assert "BP:ACME-99999" in skus  # what the partner sent is kept as it came
    assert order.on_hold and order.hold_reason == "Not in the catalogue: Buyer's part number ACME-99999"
    assert not any("BP:" in e.text for e in detail.timeline), [e.text for e in detail.timeline]
