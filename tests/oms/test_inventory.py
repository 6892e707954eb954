"""Inventory services: ledger and levels move together; bad requests change nothing."""

import pytest
from sqlalchemy import func, select

from oms import check, inventory
from oms.core.errors import Conflict, InsufficientStock, InvalidInput, NotFound
from oms.inventory.models import BinStock, StockLevel, StockMovement
from tests.conftest import ACTOR, stock


def level(db, sku, loc):
    with db.read() as s:
        pid, lid = inventory.product_id(s, sku), inventory.location_id(s, loc)
        row = s.get(StockLevel, (pid, lid))
        return (row.on_hand, row.allocated) if row else (0, 0)


def ledger_sum(db, sku, loc):
    with db.read() as s:
        pid, lid = inventory.product_id(s, sku), inventory.location_id(s, loc)
        return s.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                        .where(StockMovement.product_id == pid, StockMovement.location_id == lid))


def test_receive_into_bin_updates_level_bin_and_ledger(world):
    stock(world, "MUG-RED", "RNO", 12, bin="A-03-2")
    assert level(world, "MUG-RED", "RNO") == (12, 0)
    assert ledger_sum(world, "MUG-RED", "RNO") == 12
    with world.read() as s:
        assert s.scalar(select(BinStock.on_hand)) == 12
        assert check.run(s) == []


def test_product_found_by_barcode(world):
    with world.read() as s:
        assert inventory.product_id(s, "4006381333931") == inventory.product_id(s, "MUG-RED")
        with pytest.raises(NotFound, match="no product NOPE"):
            inventory.product_id(s, "NOPE")


@pytest.mark.parametrize("qty", [0, -3, 2.5, "4", True])
def test_receive_rejects_bad_quantity_and_writes_nothing(world, qty):
    with pytest.raises(InvalidInput):
        stock(world, "MUG-RED", "RNO", qty)
    assert ledger_sum(world, "MUG-RED", "RNO") == 0


def test_unknown_location_and_bin(world):
    with pytest.raises(NotFound, match="no location XYZ"):
        stock(world, "MUG-RED", "XYZ", 1)
    with pytest.raises(NotFound, match="no bin Z-99 in RNO"):
        stock(world, "MUG-RED", "RNO", 1, bin="Z-99")


def test_reserve_release_and_never_oversell(world):
    stock(world, "MUG-RED", "RNO", 5)
    with world.write() as s:
        pid, lid = inventory.product_id(s, "MUG-RED"), inventory.location_id(s, "RNO")
        inventory.reserve(s, pid, lid, 3)
        assert not inventory.try_reserve(s, pid, lid, 3)
        with pytest.raises(InsufficientStock, match="only 2 available"):
            inventory.reserve(s, pid, lid, 3)
        inventory.release(s, pid, lid, 1)
        with pytest.raises(Conflict):
            inventory.release(s, pid, lid, 5)
    assert level(world, "MUG-RED", "RNO") == (5, 2)


def test_adjust_needs_reason_and_cannot_go_below_allocated(world):
    stock(world, "MUG-RED", "RNO", 5)
    with world.write() as s:
        inventory.reserve(s, inventory.product_id(s, "MUG-RED"), inventory.location_id(s, "RNO"), 4)
    with pytest.raises(InvalidInput, match="reason is required"):
        with world.write() as s:
            inventory.adjust(s, ACTOR, "MUG-RED", "RNO", -1, "")
    with pytest.raises(InsufficientStock, match="4 of them reserved"):
        with world.write() as s:
            inventory.adjust(s, ACTOR, "MUG-RED", "RNO", -2, "damaged")
    with world.write() as s:
        inventory.adjust(s, ACTOR, "MUG-RED", "RNO", -1, "damaged in aisle")
    assert level(world, "MUG-RED", "RNO") == (4, 4)
    assert ledger_sum(world, "MUG-RED", "RNO") == 4


def test_failed_bin_adjust_rolls_back_level_too(world):
    stock(world, "MUG-RED", "RNO", 5, bin="A-01-1")
    with pytest.raises(InsufficientStock, match="does not hold"):
        with world.write() as s:
            inventory.adjust(s, ACTOR, "MUG-RED", "RNO", -2, "broken", bin="A-03-2")
    assert level(world, "MUG-RED", "RNO") == (5, 0)
    assert ledger_sum(world, "MUG-RED", "RNO") == 5


def test_count_records_difference(world):
    stock(world, "MUG-RED", "RNO", 10, bin="A-01-1")
    with world.write() as s:
        assert inventory.count(s, ACTOR, "MUG-RED", "RNO", 7, bin="A-01-1").delta == -3
    with world.write() as s:
        assert inventory.count(s, ACTOR, "MUG-RED", "RNO", 7).delta == 0
    assert level(world, "MUG-RED", "RNO") == (7, 0)
    assert ledger_sum(world, "MUG-RED", "RNO") == 7
    with world.read() as s:
        assert check.run(s) == []


def test_count_below_allocated_is_refused(world):
    stock(world, "MUG-RED", "RNO", 4)
    with world.write() as s:
        inventory.reserve(s, inventory.product_id(s, "MUG-RED"), inventory.location_id(s, "RNO"), 3)
    with pytest.raises(InsufficientStock, match="3 are reserved"):
        with world.write() as s:
            inventory.count(s, ACTOR, "MUG-RED", "RNO", 1)


def test_transfer_between_bins_and_locations(world):
    stock(world, "LANTERN", "RNO", 10, bin="A-01-1")
    with world.write() as s:
        inventory.transfer(s, ACTOR, "LANTERN", 4, from_location="RNO", from_bin="A-01-1", to_bin="C-11-1")
        inventory.transfer(s, ACTOR, "LANTERN", 3, from_location="RNO", from_bin="C-11-1", to_location="EWR", to_bin="B-02-1")
    assert level(world, "LANTERN", "RNO") == (7, 0)
    assert level(world, "LANTERN", "EWR") == (3, 0)
    assert ledger_sum(world, "LANTERN", "RNO") == 7 and ledger_sum(world, "LANTERN", "EWR") == 3
    with pytest.raises(InsufficientStock):
        with world.write() as s:
            inventory.transfer(s, ACTOR, "LANTERN", 50, from_location="RNO", to_location="EWR")
    with pytest.raises(InvalidInput, match="different bin or location"):
        with world.write() as s:
            inventory.transfer(s, ACTOR, "LANTERN", 1, from_location="RNO")
    with world.read() as s:
        assert check.run(s) == []
        assert [(l.location_code, l.on_hand, l.available) for l in inventory.levels(s, "LANTERN")] == [
            ("RNO", 7, 7), ("EWR", 3, 3), ("3PL", 0, 0)]
        assert inventory.available_to_promise(s, "LANTERN") == 10
        assert inventory.available_to_promise(s, "LANTERN", "EWR") == 3


def test_database_itself_refuses_over_allocation(world):
    """Even a write that bypasses the services cannot allocate more than is on hand."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    stock(world, "MUG-RED", "RNO", 2)
    with pytest.raises(IntegrityError):
        with world.write() as s:
            s.execute(update(StockLevel).values(allocated=3))
