"""Cycle counts: blind counting by bin, zone and SKU, the threshold, a supervisor's approval with a reason code,
recounts, stale counts refused, and the ledger always equal to the levels (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, func, select

from oms import check, counting, inventory, transfers, users
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound, OmsError
from oms.core.models import AuditEvent
from oms.counting.models import CountBin, CountLine, CountTask
from oms.inventory.models import BinStock, StockLevel, StockMovement
from oms.transfers.models import StockTransfer, StockTransferLine
from oms.routing import restock
from tests.conftest import ACTOR, stock

COUNTER = Actor("dee", "floor-1")


@pytest.fixture
def house(world):
    """Reno's bins: A-01-1 holds 10 red mugs and 4 blue, A-03-2 holds 6 red, C-11-1 nothing. Tom supervises."""
    stock(world, "MUG-RED", "RNO", 10, bin="A-01-1")
    stock(world, "MUG-BLU", "RNO", 4, bin="A-01-1")
    stock(world, "MUG-RED", "RNO", 6, bin="A-03-2")
    with world.write() as s:
        users.add_user(s, ACTOR, "tom", "Tom Becker", "supervisor")
        users.add_user(s, ACTOR, "dee", "Dee Hart", "picker")
    return world


def _bin(db, code, sku):
    with db.read() as s:
        lid = inventory.location_id(s, "RNO")
        return s.scalar(select(BinStock.on_hand).where(BinStock.bin_id == inventory.bin_id(s, lid, code),
                                                       BinStock.product_id == inventory.product_id(s, sku))) or 0


def _on_hand(db, sku):
    with db.read() as s:
        return next(l.on_hand for l in inventory.levels(s, sku) if l.location_code == "RNO")


def _consistent(db):
    with db.read() as s:
        assert [f for f in check.run(s) if f.kind in ("ledger", "negative", "over-allocated")] == []


def test_a_count_within_the_threshold_goes_straight_through_the_ledger(house):
    with house.write() as s:
        _id, number = counting.create_count(s, ACTOR, "RNO", bin="A-01-1", threshold=2)
    assert number.startswith("CNT-")
    with house.write() as s:
        counting.scan_bin(s, COUNTER, number, "A-01-1")
        for _ in range(9):
            counting.scan_item(s, COUNTER, number, "A-01-1", "4006381333931")  # the red mug's EAN
        last = counting.scan_item(s, COUNTER, number, "A-01-1", "MUG-BLU", 4)
    assert last.message == "MUG-BLU: 4 counted in A-01-1"
    with house.read() as s:
        sheet = counting.count_sheet(s, number)
    # Blind: the sheet carries what was counted, nothing from the books.
    assert [(l.bin_code, l.sku, l.counted) for l in sheet.lines] == [("A-01-1", "MUG-BLU", 4), ("A-01-1", "MUG-RED", 9)]
    assert not hasattr(sheet.lines[0], "expected")
    with house.write() as s:
        done = counting.submit_count(s, COUNTER, number)
    assert (done.status, done.differing, done.beyond) == ("done", 1, 0)
    assert done.message == f"{number} done: 1 small differences corrected in the stock."
    assert _bin(house, "A-01-1", "MUG-RED") == 9 and _on_hand(house, "MUG-RED") == 15
    with house.read() as s:
        moved = s.execute(select(StockMovement.kind, StockMovement.quantity, StockMovement.reason)
                          .where(StockMovement.kind == "count")).all()
    assert moved == [("count", -1, f"cycle count ({number})")]
    _consistent(house)


def test_a_variance_beyond_the_threshold_waits_for_a_supervisor_who_approves_it_with_a_reason(house):
    with house.write() as s:
        _id, number = counting.create_count(s, ACTOR, "RNO", sku="MUG-RED", threshold=2)
    with house.write() as s:
        counting.scan_bin(s, COUNTER, number, "A-01-1")
        counting.scan_item(s, COUNTER, number, "A-01-1", "MUG-RED", 10)
        counting.scan_bin(s, COUNTER, number, "A-03-2")
        counting.scan_item(s, COUNTER, number, "A-03-2", "MUG-RED", 2)  # 6 on the books: 4 missing
        with pytest.raises(InvalidInput, match="MUG-BLU is not counted here"):
            counting.scan_item(s, COUNTER, number, "A-01-1", "MUG-BLU")
        sub = counting.submit_count(s, COUNTER, number)
    assert (sub.status, sub.beyond) == ("review", 1)
    assert "a supervisor must approve it" in sub.message
    assert _bin(house, "A-03-2", "MUG-RED") == 6  # nothing applied yet
    with house.read() as s:
        review = counting.count_review(s, number)
    assert [(l.bin_code, l.expected, l.counted, l.variance) for l in review.beyond] == [("A-03-2", 6, 2, -4)]

    with house.write() as s:
        with pytest.raises(InvalidInput, match="dee is no supervisor"):
            counting.approve_count(s, ACTOR, number, "dee", "lost")
    with house.write() as s:
        with pytest.raises(NotFound, match="There is no user zed"):
            counting.approve_count(s, ACTOR, number, "zed", "lost")
    with house.write() as s:
        with pytest.raises(InvalidInput, match="no reason code"):
            counting.approve_count(s, ACTOR, number, "tom", "gremlins")
    with house.write() as s:
        text = counting.approve_count(s, ACTOR, number, "tom", "lost", "shelf behind A-03 checked")
    assert text == f"{number} approved (Lost or stolen); the stock now follows the count."
    assert _bin(house, "A-03-2", "MUG-RED") == 2 and _on_hand(house, "MUG-RED") == 12
    with house.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "count.approve")).one()
        assert event.user == "tom" and event.after["reason"] == "lost"
        reason = s.scalar(select(StockMovement.reason).where(StockMovement.kind == "count"))
        assert reason == f"Lost or stolen: shelf behind A-03 checked ({number})"
        assert s.scalar(select(CountTask.status)) == "done"
    with house.write() as s:
        with pytest.raises(Conflict, match="is done"):
            counting.approve_count(s, ACTOR, number, "tom", "lost")
    _consistent(house)


def test_the_counter_cannot_approve_their_own_count(house):
    with house.write() as s:
        users.add_user(s, ACTOR, "sam", "Sam Ortiz", "supervisor")
        _id, number = counting.create_count(s, ACTOR, "RNO", bin="A-03-2", threshold=0)
        counting.scan_bin(s, Actor("sam", "floor-1"), number, "A-03-2")
        counting.submit_count(s, Actor("sam", "floor-1"), number)  # counted none of 6
    with house.write() as s:
        with pytest.raises(InvalidInput, match="sam counted"):
            counting.approve_count(s, ACTOR, number, "sam", "lost")


def test_every_bin_must_be_scanned_before_a_count_is_submitted_and_an_empty_bin_counts_as_empty(house):
    with house.write() as s:
        _id, number = counting.create_count(s, ACTOR, "RNO", zone="A")
    with house.write() as s:
        counting.scan_bin(s, COUNTER, number, "A-01-1")
        counting.scan_item(s, COUNTER, number, "A-01-1", "MUG-RED", 10)
        counting.scan_item(s, COUNTER, number, "A-01-1", "MUG-BLU", 4)
        with pytest.raises(InvalidInput, match="Not counted yet: A-03-2"):
            counting.submit_count(s, COUNTER, number)
    with house.write() as s:
        with pytest.raises(InvalidInput, match="Bin C-11-1 is not part of"):
            counting.scan_bin(s, COUNTER, number, "C-11-1")
    with house.write() as s:
        with pytest.raises(InvalidInput, match="Scan bin A-03-2 before the items"):
            counting.scan_item(s, COUNTER, number, "A-03-2", "MUG-RED")
    with house.write() as s:
        counting.scan_bin(s, COUNTER, number, "A-03-2")  # empty: six mugs gone
        counting.scan_item(s, COUNTER, number, "A-03-2", LANTERN := "LANTERN", 1)  # found where none was listed
        sub = counting.submit_count(s, COUNTER, number)
    assert (sub.status, sub.differing, sub.beyond) == ("review", 2, 1)
    with house.read() as s:
        found = {(l.sku, l.expected, l.counted, l.found) for l in counting.count_review(s, number).lines}
    assert ("LANTERN", 0, 1, True) in found and ("MUG-RED", 6, 0, False) in found
    with house.write() as s:
        counting.approve_count(s, ACTOR, number, "tom", "picking-error")
    assert _bin(house, "A-03-2", "MUG-RED") == 0 and _bin(house, "A-03-2", LANTERN) == 1
    _consistent(house)


def test_a_count_of_stock_that_moved_since_it_was_counted_is_refused_and_can_be_recounted(house):
    with house.write() as s:
        _id, number = counting.create_count(s, ACTOR, "RNO", bin="A-03-2", threshold=0)
        counting.scan_bin(s, COUNTER, number, "A-03-2")
        counting.scan_item(s, COUNTER, number, "A-03-2", "MUG-RED", 5)
        counting.submit_count(s, COUNTER, number)
    stock(house, "MUG-RED", "RNO", 3, bin="A-03-2")  # a putaway lands in the bin meanwhile
    with house.write() as s:
        with pytest.raises(Conflict, match=r"moved since it was counted \(6 then, 9 now\)"):
            counting.approve_count(s, ACTOR, number, "tom", "miscount")
    assert _bin(house, "A-03-2", "MUG-RED") == 9
    with house.write() as s:
        assert counting.recount(s, ACTOR, number, "tom") == f"{number} goes back to be counted again."
    with house.read() as s:
        sheet = counting.count_sheet(s, number)
    assert sheet.status == "open" and [l.counted for l in sheet.lines] == [None] and sheet.bins == (("A-03-2", False),)
    with house.write() as s:
        counting.scan_bin(s, COUNTER, number, "A-03-2")
        counting.scan_item(s, COUNTER, number, "A-03-2", "MUG-RED", 9)
        assert counting.submit_count(s, COUNTER, number).status == "done"
    _consistent(house)


def test_a_count_that_would_leave_reserved_units_uncovered_changes_nothing(house):
    with house.write() as s:
        inventory.reserve(s, inventory.product_id(s, "MUG-RED"), inventory.location_id(s, "RNO"), 14)
        _id, number = counting.create_count(s, ACTOR, "RNO", bin="A-01-1", threshold=10)
        counting.scan_bin(s, COUNTER, number, "A-01-1")
        counting.scan_item(s, COUNTER, number, "A-01-1", "MUG-BLU", 4)
        counting.scan_item(s, COUNTER, number, "A-01-1", "MUG-RED", 2)  # 10 on the books, 16 at RNO, 14 reserved
    with house.write() as s:
        with pytest.raises(OmsError, match="reserved for orders"):
            counting.submit_count(s, COUNTER, number)
    assert _bin(house, "A-01-1", "MUG-RED") == 10
    with house.read() as s:
        assert s.scalar(select(CountTask.status)) == "open"


def test_bad_input_is_named(house):
    with house.write() as s:
        with pytest.raises(InvalidInput, match="one bin, one zone or one SKU"):
            counting.create_count(s, ACTOR, "RNO", bin="A-01-1", sku="MUG-RED")
        with pytest.raises(NotFound, match="No bin of RNO is in zone Q"):
            counting.create_count(s, ACTOR, "RNO", zone="Q")
        with pytest.raises(NotFound, match="No bin of RNO holds LANTERN"):
            counting.create_count(s, ACTOR, "RNO", sku="LANTERN")
        with pytest.raises(InvalidInput, match="threshold"):
            counting.create_count(s, ACTOR, "RNO", bin="A-01-1", threshold=-1)
        with pytest.raises(NotFound, match="There is no count CNT-999"):
            counting.submit_count(s, ACTOR, "CNT-999")
        _id, number = counting.create_count(s, ACTOR, "RNO", bin="A-01-1")
        with pytest.raises(InvalidInput, match="Scan the bin first"):
            counting.scan_item(s, COUNTER, number, None, "MUG-RED")
        counting.scan_bin(s, COUNTER, number, "A-01-1")
        with pytest.raises(NotFound, match="XYZ-1 is no product we know"):
            counting.scan_item(s, COUNTER, number, "A-01-1", "XYZ-1")


def test_a_sku_count_at_a_location_without_bins_counts_its_level(house):
    stock(house, "LANTERN", "3PL", 7)
    with house.write() as s:
        _id, number = counting.create_count(s, ACTOR, "3PL", sku="LANTERN")
        counting.scan_item(s, COUNTER, number, None, "LANTERN", 8)
        assert counting.submit_count(s, COUNTER, number).status == "done"
    with house.read() as s:
        assert next(l.on_hand for l in inventory.levels(s, "LANTERN") if l.location_code == "3PL") == 8
    _consistent(house)


# -- the property: whatever happens, levels and ledger agree ----------------------------------------------------

BINS = ["A-01-1", "A-03-2"]
SKUS = ["MUG-RED", "MUG-BLU"]

op = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(SKUS), st.sampled_from(BINS), st.integers(1, 12)),
    st.tuples(st.just("move"), st.sampled_from(SKUS), st.sampled_from(BINS), st.integers(1, 6)),
    st.tuples(st.just("reserve"), st.sampled_from(SKUS), st.sampled_from(BINS), st.integers(1, 6)),
    st.tuples(st.just("send"), st.sampled_from(SKUS), st.sampled_from(BINS), st.integers(1, 8)),
    st.tuples(st.just("arrive"), st.sampled_from(SKUS), st.sampled_from(BINS), st.integers(0, 8)),
    st.tuples(st.just("count"), st.sampled_from(SKUS), st.sampled_from(BINS),
              st.tuples(st.integers(0, 20), st.integers(0, 3), st.booleans(), st.booleans())),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, max_size=14))
def test_receipts_counts_and_transfers_never_leave_levels_and_ledger_disagreeing(house, ops):
    """Receipts into bins, moves between bins, reservations, transfers from Reno's bins to Newark's (in transit in
    between) and counts approved, sent back or left waiting: after every step the ledger equals the levels at each
    location, every unit on hand is in a bin, and what was received is on hand or on the road."""
    with house.write() as s:
        for model in (CountLine, CountBin, CountTask, StockTransferLine, StockTransfer, StockMovement, BinStock,
                      StockLevel):
            s.execute(delete(model))
    received = {sku: 0 for sku in SKUS}
    for kind, sku, bin_code, arg in ops:
        try:
            with house.write() as s:
                if kind == "receive":
                    restock.receive(s, ACTOR, sku, "RNO", arg, bin=bin_code)
                    received[sku] += arg
                elif kind == "send":
                    _tid, number = transfers.create_transfer(s, ACTOR, "RNO", "EWR", [(sku, arg)])
                    transfers.ship_transfer(s, ACTOR, number, bins={sku: bin_code})
                elif kind == "arrive":
                    first = s.scalar(select(StockTransfer.id).where(StockTransfer.status.in_(["shipped", "partly_received"]))
                                     .order_by(StockTransfer.id).limit(1))
                    if first is not None:
                        moving = transfers.transfer_detail(s, first).lines[0]
                        transfers.receive_transfer(s, ACTOR, first, bin="A-01-1",
                                                   lines={moving.sku: min(arg, moving.in_transit)} if arg else None)
                elif kind == "move":
                    other = BINS[1 - BINS.index(bin_code)]
                    restock.transfer(s, ACTOR, sku, arg, from_location="RNO", from_bin=bin_code, to_bin=other)
                elif kind == "reserve":
                    inventory.reserve(s, inventory.product_id(s, sku), inventory.location_id(s, "RNO"), arg)
                else:
                    counted, threshold, approve, recount_first = arg
                    _id, number = counting.create_count(s, ACTOR, "RNO", bin=bin_code, threshold=threshold)
                    counting.scan_bin(s, COUNTER, number, bin_code)
                    if counted:
                        counting.scan_item(s, COUNTER, number, bin_code, sku, counted)
                    sub = counting.submit_count(s, COUNTER, number)
                    if sub.status == "review":
                        if recount_first:
                            counting.recount(s, ACTOR, number, "tom")
                        elif approve:
                            counting.approve_count(s, ACTOR, number, "tom", "miscount")
        except OmsError:
            pass  # refused: all or nothing, checked below
        with house.read() as s:
            assert [f for f in check.run(s) if f.kind in ("ledger", "negative", "over-allocated")] == []
            on_road = transfers.in_transit(s)
            for sku_ in SKUS:
                pid = inventory.product_id(s, sku_)
                for loc in ("RNO", "EWR"):
                    lid = inventory.location_id(s, loc)
                    booked = s.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                                      .where(StockMovement.product_id == pid, StockMovement.location_id == lid))
                    level = s.scalar(select(func.coalesce(func.sum(StockLevel.on_hand), 0))
                                     .where(StockLevel.product_id == pid, StockLevel.location_id == lid))
                    assert booked == level, (sku_, loc)
                level = s.scalar(select(func.coalesce(func.sum(StockLevel.on_hand), 0))
                                 .where(StockLevel.product_id == pid))
                in_bins = s.scalar(select(func.coalesce(func.sum(BinStock.on_hand), 0))
                                   .where(BinStock.product_id == pid))
                assert level == in_bins  # every unit here went through a bin
                moving = sum(n for (p, _l), n in on_road.items() if p == pid)
                counted_off = s.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                                       .where(StockMovement.product_id == pid, StockMovement.kind == "count"))
                assert level + moving == received[sku_] + counted_off  # nothing lost on the road
