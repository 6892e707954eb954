"""The return label of an RMA: bought through the outbox from the EasyPost emulator over real HTTP as a return
shipment (``is_return``, addresses swapped by the carrier), once however often the answer is lost, kept with the RMA;
its tracking moves the RMA to "in transit"."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from oms import returns
from oms.core.errors import Conflict
from oms.core.models import OutboxMessage
from oms.integration import sync_store
from oms.inventory.models import Location
from oms.returns.models import Rma
from sync.carriers.easypost import EasyPostCarrier
from sync.emulators._server import Faults
from sync.emulators.easypost import EasyPostEmulator
from sync.engine import Engine
from tests.conftest import ACTOR
from tests.oms.test_returns import shipped_order


@pytest.fixture
def approved_rma(world):
    _oid, number = shipped_order(world, (("MUG-RED", 2),))
    with world.write() as s:
        sync_store.add_connector(s, ACTOR, code="easypost", role="carrier", kind="easypost", name="EasyPost",
                                 base_url="http://127.0.0.1:1")
        reno = s.scalar(select(Location).where(Location.code == "RNO"))
        reno.address1, reno.city, reno.region, reno.postal_code, reno.country = "1200 Industrial Way", "Reno", "NV", "89502", "US"
        _id, rma = returns.create_rma(s, ACTOR, number, [returns.RmaLineInput("MUG-RED", 2)], reason="TOO_LARGE")
        returns.approve(s, ACTOR, rma)
    return world, rma


def test_return_label_bought_as_a_return_shipment_then_tracked_to_in_transit(approved_rma):
    db, rma = approved_rma
    with db.write() as s:
        returns.request_return_label(s, ACTOR, rma, "easypost")
    with pytest.raises(Conflict, match=f"A return label for {rma} has already been asked for"):
        with db.write() as s:
            returns.request_return_label(s, ACTOR, rma, "easypost")
    with EasyPostEmulator(api_key="EZTK_test", seed=5) as ep:
        engine = Engine(db, {}, carriers={"easypost": EasyPostCarrier("easypost", "EZTK_test", base_url=ep.url)})
        reports = engine.run_once()
        assert ep.buy_calls == 1, [r.errors for r in reports]
        (shp,) = ep.shipments.values()
        assert shp["is_return"] is True
        assert (shp["to_address"]["city"], shp["from_address"]["city"]) == ("Reno", "Seattle")  # back to us
        with db.read() as s:
            d = returns.rma_detail(s, rma)
            assert d.status == "label_sent" and d.has_label and d.tracking_number == shp["tracking_code"]
            assert returns.return_label_files(s, rma)["pdf"].startswith(b"%PDF")
            assert [e.action for e in d.timeline][-3:] == ["rma.label_requested", "rma.label_bought", "rma.label_sent"]
        engine.run_once()  # the label is made, the carrier has no parcel yet
        with db.read() as s:
            assert returns.rma_detail(s, rma).status == "label_sent"
        ep.advance_tracker(shp["tracker"]["id"])
        engine.run_once()
    with db.read() as s:
        d = returns.rma_detail(s, rma)
        assert d.status == "in_transit"
        assert "tracking: in transit" in d.timeline[-1].summary
        assert returns.tracking_targets(s, "easypost") == []


def test_return_label_bought_once_through_a_misbehaving_carrier(approved_rma):
    db, rma = approved_rma
    with db.write() as s:
        returns.request_return_label(s, ACTOR, rma, "easypost", label_format="ZPL")
    with EasyPostEmulator(api_key="EZTK_test", seed=11, faults=Faults.chaos()) as ep:
        engine = Engine(db, {}, carriers={"easypost": EasyPostCarrier("easypost", "EZTK_test", base_url=ep.url)})
        for _ in range(40):
            engine.run_once()
            with db.write() as s:  # make any retry due now
                s.execute(OutboxMessage.__table__.update().values(next_attempt_at=func.now()))
            with db.read() as s:
                if s.scalar(select(Rma.status).where(Rma.number == rma)) == "label_sent":
                    break
        bought = [x for x in ep.shipments.values() if x["postage_label"]]
    assert len(bought) == 1
    with db.read() as s:
        assert returns.rma_detail(s, rma).status == "label_sent"
        assert set(returns.return_label_files(s, rma)) == {"zpl"}


def test_a_cancelled_return_buys_no_label(approved_rma):
    db, rma = approved_rma
    with db.write() as s:
        returns.request_return_label(s, ACTOR, rma, "easypost")
        returns.cancel(s, ACTOR, rma, "customer kept it")
    with EasyPostEmulator(api_key="EZTK_test", seed=5) as ep:
        Engine(db, {}, carriers={"easypost": EasyPostCarrier("easypost", "EZTK_test", base_url=ep.url)}).run_once()
        assert ep.shipments == {}
    with db.read() as s:
        assert s.scalar(select(OutboxMessage.status).where(OutboxMessage.topic == "label.return")) == "superseded"


def test_a_label_only_for_an_approved_rma(world):
    _oid, number = shipped_order(world, (("MUG-RED", 1),))
    with world.write() as s:
        _id, rma = returns.create_rma(s, ACTOR, number, [returns.RmaLineInput("MUG-RED", 1)], reason="OTHER")
    with pytest.raises(Conflict, match=f"{rma} is requested: a return label is sent for an approved RMA"):
        with world.write() as s:
            returns.request_return_label(s, ACTOR, rma, "easypost")
