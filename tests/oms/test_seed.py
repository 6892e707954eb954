"""The demo data tells one consistent story: how parcels went matches what was bought, retailers get cartons with
SSCCs, and nothing was placed in the future."""

import random
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from desktop import demo
from oms import seed
from oms.core.gs1 import gs1_check_digit
from oms.core.types import at_time
from oms.orders.models import Channel, SalesOrder
from oms.shipping.models import Package, Shipment

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def demo_data(db):
    seed.master_data(db, rng=random.Random(7), products=80)
    seed.demo_orders(db, 120, rng=random.Random(11), now=NOW)
    return db


def shipped(db):
    with db.read() as s:
        return s.execute(select(SalesOrder.service_level, SalesOrder.order_type, Shipment.id, Shipment.carrier, Shipment.service)
                         .join(Shipment, Shipment.order_id == SalesOrder.id).where(Shipment.carrier != "")).all()


def test_parcels_go_by_the_service_the_customer_paid_for(demo_data):
    rows = shipped(demo_data)
    overnight = [(r.carrier, r.service) for r in rows if r.service_level == "overnight"]
    assert overnight and all(svc in seed.CARRIER_SERVICES["overnight"] for svc in overnight), overnight
    expedited = [(r.carrier, r.service) for r in rows if r.service_level == "expedited"]
    assert all(svc in seed.CARRIER_SERVICES["expedited"] for svc in expedited), expedited
    # A retailer's distribution centre or store is a business: never "Home Delivery".
    wholesale = [r for r in rows if r.order_type == "wholesale"]
    assert wholesale and not any(r.service == "Home Delivery" for r in wholesale)


def test_a_retailers_cartons_carry_their_own_sscc(demo_data):
    with demo_data.read() as s:
        cartons = s.execute(select(Package.sscc).join(Shipment, Shipment.id == Package.shipment_id)
                            .join(SalesOrder, SalesOrder.id == Shipment.order_id)
                            .where(SalesOrder.order_type == "wholesale")).scalars().all()
    assert cartons and all(c and len(c) == 18 and c[-1] == str(gs1_check_digit(c[:-1])) for c in cartons), cartons
    assert all(c.startswith("0" + seed.GS1_PREFIX) for c in cartons) and len(set(cartons)) == len(cartons)


def test_purchase_orders_that_arrive_early_in_the_day_are_not_placed_in_the_future(db, tmp_path, monkeypatch):
    monkeypatch.setenv("OMS_CONFIG_DIR", str(tmp_path / "config"))
    seed.master_data(db, rng=random.Random(7), products=30)
    seven_forty = datetime.now(timezone.utc).replace(hour=7, minute=40, second=0, microsecond=0)
    with at_time(seven_forty):  # the 850s are dated today; 9:00 today is still ahead
        assert demo.seed_edi(db, str(tmp_path / "acme"))
    with db.read() as s:
        placed = s.scalars(select(SalesOrder.placed_at).join(Channel).where(Channel.code == "ACME")).all()
    assert placed and all(p.replace(tzinfo=p.tzinfo or timezone.utc) <= seven_forty for p in placed), placed
