"""Returns: RMAs and their limits, states and timeline, the number series, receiving at the dock with each
disposition, the backorder a restock releases, parcels without an RMA, and check clean, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from oms import check, inventory, invoicing, orders, purchasing, returns, routing
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.models import AuditEvent
from oms.inventory.models import StockMovement
from oms.orders.models import OrderLine, SalesOrder
from oms.purchasing.models import QuarantinedStock
from oms.returns import RmaLineInput
from oms.returns.models import ReturnReview, Rma, RmaLine
from oms.shipping import shipments
from oms.shipping.shipments import PackageSpec, PackItem
from tests.conftest import ACTOR, make_order, ship_from, stock, take_in

L = RmaLineInput


def shipped_order(db, lines=(("MUG-RED", 3),), ext="1", *, ship=True, tracking="1Z0001"):
    """An order of `lines` picked at RNO (bin A-01-1) and, with `ship`, packed and shipped: (order id, number)."""
    ship_from(db, "RNO")
    for sku, qty in lines:
        stock(db, sku, "RNO", qty, bin="A-01-1")
    with db.write() as s:
        (r,) = take_in(s, make_order(ext, lines))
        ids = s.scalars(select(OrderLine.id).where(OrderLine.order_id == r.order_id).order_by(OrderLine.id)).all()
        for lid, (_sku, qty) in zip(ids, lines):
            orders.record_pick(s, ACTOR, lid, qty, bin="A-01-1")
        if ship:
            sid = shipments.pack(s, ACTOR, r.order_id, [PackItem(lid, qty) for lid, (_sku, qty) in zip(ids, lines)],
                                 [PackageSpec("M", 900)])
            shipments.confirm(s, ACTOR, sid, carrier="UPS", service="Ground", tracking_number=tracking)
        number = s.get(SalesOrder, r.order_id).number
    return r.order_id, number


def on_hand(db, sku, loc="RNO"):
    with db.read() as s:
        return sum(l.on_hand for l in inventory.levels(s, sku) if l.location_code == loc)


def test_rma_numbers_lines_states_and_timeline(world):
    oid, number = shipped_order(world, (("MUG-RED", 3), ("MUG-BLU", 1)))
    with world.write() as s:
        rid, first = returns.create_rma(s, ACTOR, number, [L("MUG-RED", 2)], reason="damaged", note="Chipped rim",
                                        resolution="store credit", restocking_fee="1.50")
        _rid2, second = returns.create_rma(s, ACTOR, number, [L("036000291452", 1)], reason="CHANGED_MIND")
    assert (first, second) == ("RMA-1001", "RMA-1002")
    with world.write() as s:
        returns.approve(s, ACTOR, first)
        with pytest.raises(Conflict, match="RMA-1001 is approved: only a received RMA can be resolved. Receive the parcel first."):
            returns.resolve(s, ACTOR, first)
    with world.read() as s:
        d = returns.rma_detail(s, "rma-1001")
        assert (d.status, d.reason, d.customer_note, d.resolution, d.restocking_fee) == (
            "approved", "DAMAGED", "Chipped rim", "store credit", "$1.50")
        assert [(l.sku, l.quantity, l.received) for l in d.lines] == [("MUG-RED", 2, 0)]
        assert [e.action for e in d.timeline] == ["rma.requested", "rma.approved"]
        # the order's own timeline tells it too
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.order_id == oid,
                                                                           AuditEvent.action.like("rma.%"))) == 3
        assert [r.number for r in returns.order_rmas(s, oid)] == ["RMA-1001", "RMA-1002"]
        assert [r.number for r in returns.list_rmas(s, open_only=True)] == ["RMA-1001", "RMA-1002"]
    with world.write() as s:
        returns.cancel(s, ACTOR, second, "customer kept it")
        with pytest.raises(Conflict, match="cancelled; it cannot become approved"):
            returns.approve(s, ACTOR, second)


def test_quantities_never_exceed_shipped_less_returned_or_on_open_rmas(world):
    _oid, number = shipped_order(world, (("MUG-RED", 3),))
    with world.write() as s:
        returns.create_rma(s, ACTOR, number, [L("MUG-RED", 2)], reason="DAMAGED")
    with pytest.raises(Conflict, match=r"Only 1 × MUG-RED of order #1 can be returned \(3 shipped, 0 returned already, "
                                       r"2 on open RMAs\), not 2"):
        with world.write() as s:
            returns.create_rma(s, ACTOR, number, [L("MUG-RED", 2)], reason="DAMAGED")
    with pytest.raises(Conflict, match="LANTERN is not on order #1"):
        with world.write() as s:
            returns.create_rma(s, ACTOR, number, [L("LANTERN", 1)], reason="DAMAGED")
    with pytest.raises(InvalidInput, match="NOPE is not a reason code; use one of DAMAGED, WRONG_ITEM"):
        with world.write() as s:
            returns.create_rma(s, ACTOR, number, [L("MUG-RED", 1)], reason="nope")
    with pytest.raises(InvalidInput, match="refund, exchange or store credit"):
        with world.write() as s:
            returns.create_rma(s, ACTOR, number, [L("MUG-RED", 1)], reason="DAMAGED", resolution="cash")
    with pytest.raises(Conflict, match="Only 1 × MUG-RED"):  # the same item twice on one RMA adds up
        with world.write() as s:
            returns.create_rma(s, ACTOR, number, [L("MUG-RED", 1), L("MUG-RED", 1)], reason="DAMAGED")
    with world.read() as s:
        assert s.scalar(select(func.count()).select_from(Rma)) == 1  # nothing half-written


def test_a_return_of_an_unshipped_line_is_refused(world):
    _oid, number = shipped_order(world, (("MUG-RED", 1),), ship=False)
    with pytest.raises(Conflict, match="MUG-RED on order #1 has not shipped: nothing of it can be returned"):
        with world.write() as s:
            returns.create_rma(s, ACTOR, number, [L("MUG-RED", 1)], reason="DAMAGED")


def test_reason_codes_are_configurable(world):
    with world.write() as s:
        assert ("DAMAGED", "Arrived damaged or faulty") in returns.reasons(s)
        returns.add_reason(s, ACTOR, "gift", "Unwanted gift")
        returns.retire_reason(s, ACTOR, "LATE")
    with world.read() as s:
        codes = [c for c, _t in returns.reasons(s)]
        assert "GIFT" in codes and "LATE" not in codes
    with pytest.raises(InvalidInput, match="cannot contain spaces"):
        with world.write() as s:
            returns.add_reason(s, ACTOR, "TWO WORDS", "x")


def test_receive_partial_return_with_each_disposition_then_resolve(world):
    oid, number = shipped_order(world, (("MUG-RED", 5),))
    assert on_hand(world, "MUG-RED") == 0
    with world.write() as s:
        _rid, rma = returns.create_rma(s, ACTOR, number, [L("MUG-RED", 4)], reason="DAMAGED")
        returns.approve(s, ACTOR, rma)
    with world.write() as s:
        parcel = returns.open_parcel(s, ACTOR, rma)
        assert (parcel.rma_number, parcel.order_number, parcel.opened_here) == (rma, "#1", False)
        item = returns.check_item(s, rma, "4006381333931")
        assert (item.sku, item.expected, item.received, item.suggested_bin) == ("MUG-RED", 4, 0, "A-01-1")
        with pytest.raises(Conflict, match="Wrong bin: C-11-1 scanned; MUG-RED goes back to A-01-1"):
            returns.receive_unit(s, ACTOR, rma, "MUG-RED", "restock", bin="C-11-1")
        with pytest.raises(InvalidInput, match=r"Scan the bin MUG-RED goes back to \(A-01-1\)"):
            returns.receive_unit(s, ACTOR, rma, "MUG-RED", "restock")
        got = returns.receive_unit(s, ACTOR, rma, "MUG-RED", "restock", bin="A-01-1", note="as new")
        assert got.message == "MUG-RED: 1 of 4 back — restock → A-01-1"
        returns.receive_unit(s, ACTOR, rma, "MUG-RED", "quarantine", note="cracked")
        returns.receive_unit(s, ACTOR, rma, "MUG-RED", "scrap", note="shattered")
    assert on_hand(world, "MUG-RED") == 1  # only the restocked unit is back on a level
    with world.read() as s:
        d = returns.rma_detail(s, rma)
        assert d.status == "received" and [(l.quantity, l.received) for l in d.lines] == [(4, 3)]
        assert [(u.disposition, u.bin_code, u.note) for u in d.units] == [
            ("restock", "A-01-1", "as new"), ("quarantine", "", "cracked"), ("scrap", "", "shattered")]
        assert s.scalar(select(OrderLine.returned).where(OrderLine.order_id == oid)) == 3
        assert s.scalar(select(StockMovement.kind).where(StockMovement.reference == rma)) == "return"
        q = s.scalar(select(QuarantinedStock).where(QuarantinedStock.receipt_line_id.is_(None)))
        assert (q.quantity, q.reason) == (1, f"returned on {rma}: cracked")
        assert ("RNO", "MUG-RED", 1, f"returned on {rma}: cracked") in purchasing.quarantined(s)
        assert check.run(s) == []
    with world.write() as s:
        amount = returns.resolve(s, ACTOR, rma)  # 3 units received at $14.00, no fee
        returns.close(s, ACTOR, rma)
    assert amount == 4200
    with world.read() as s:
        d = returns.rma_detail(s, rma)
        assert (d.status, d.refund, d.credit_notes) == ("closed", "$42.00", "CN-000001")
        note = invoicing.credit_note_view(s, "CN-000001")
        assert [(l.sku, l.quantity) for l in note.lines if l.kind == "goods"] == [("MUG-RED", 3)]
        assert f"{rma}: returned (DAMAGED)" in (note.reason or "")
        assert [e.action for e in d.timeline][-2:] == ["rma.resolved", "rma.closed"]
        # the unit not sent back is free to go on another RMA again
        assert returns.returnable(s, s.scalar(select(OrderLine.id).where(OrderLine.order_id == oid))) == 2


def test_unexpected_items_and_a_double_receipt_are_refused_or_kept_for_review(world):
    oid, number = shipped_order(world, (("MUG-RED", 2), ("MUG-BLU", 1)))
    with world.write() as s:
        _rid, rma = returns.create_rma(s, ACTOR, number, [L("MUG-RED", 1)], reason="DAMAGED")
        returns.receive_unit(s, ACTOR, rma, "MUG-RED", "scrap")
    with pytest.raises(Conflict, match=rf"Over-return refused: {rma} names 1 × MUG-RED and 1 are received already"):
        with world.write() as s:
            returns.receive_unit(s, ACTOR, rma, "MUG-RED", "scrap")
    with pytest.raises(Conflict, match=f"MUG-BLU is not on {rma}: put it aside, or record it as received, not on the RMA"):
        with world.read() as s:
            returns.check_item(s, rma, "036000291452")
    with pytest.raises(NotFound, match="“XYZ” is no product we know"):
        with world.read() as s:
            returns.check_item(s, rma, "XYZ")
    with world.write() as s:
        returns.record_not_on_rma(s, ACTOR, rma, "036000291452", note="in the same box")
    with world.read() as s:
        (r,) = returns.reviews(s)
        assert (r.kind, r.rma_number, r.order_number, r.sku, r.note) == ("not_on_rma", rma, "#1", "MUG-BLU", "in the same box")
        assert s.scalar(select(func.sum(OrderLine.returned)).where(OrderLine.order_id == oid)) == 1
        assert check.run(s) == []


def test_a_parcel_without_rma_is_found_by_any_barcode_or_kept_as_unidentified(world):
    oid, number = shipped_order(world, (("MUG-RED", 2),), tracking="1ZOUTBOUND")
    with world.write() as s:
        parcel = returns.open_parcel(s, ACTOR, "1ZOUTBOUND")  # the old label's tracking number, still on the box
        assert parcel.opened_here and parcel.order_number == number
        assert parcel.message == f"{number} had no RMA: {parcel.rma_number} opened for this parcel. Scan each item."
        returns.receive_unit(s, ACTOR, parcel.rma_number, "MUG-RED", "restock", bin="A-01-1")
        returns.receive_unit(s, ACTOR, parcel.rma_number, "4006381333931", "restock", bin="A-01-1")
        with pytest.raises(Conflict, match="Over-return refused: RMA-1001 names 2 × MUG-RED and 2 are received already"):
            returns.receive_unit(s, ACTOR, parcel.rma_number, "MUG-RED", "restock", bin="A-01-1")
    with world.write() as s:  # the order number finds the same RMA again, not a new one
        assert returns.open_parcel(s, ACTOR, number).rma_number == parcel.rma_number
        with pytest.raises(NotFound, match="“ZZZ-999” is no RMA, order or tracking number we know"):
            returns.open_parcel(s, ACTOR, "ZZZ-999")
        returns.record_unidentified(s, ACTOR, "RNO", ["ZZZ-999", "4006381333931"], note="no paperwork")
    with world.read() as s:
        d = returns.rma_detail(s, parcel.rma_number)
        assert (d.source, d.status, [(l.sku, l.quantity, l.received) for l in d.lines]) == ("dock", "received", [("MUG-RED", 2, 2)])
        (r,) = returns.reviews(s)
        assert (r.kind, r.scanned, r.sku, r.note) == ("unidentified", "ZZZ-999 4006381333931", "MUG-RED", "no paperwork")
        assert on_hand(world, "MUG-RED") == 2
        assert check.run(s) == []


def test_a_restock_releases_a_backorder(world):
    _oid, number = shipped_order(world, (("MUG-RED", 1),))
    NOW = datetime.now(timezone.utc)
    with world.write() as s:
        (waiting,) = take_in(s, make_order("2", (("MUG-RED", 1),), placed_at=NOW - timedelta(hours=1)))
        assert s.get(SalesOrder, waiting.order_id).status == "backordered"
        _rid, rma = returns.create_rma(s, ACTOR, number, [L("MUG-RED", 1)], reason="CHANGED_MIND")
        returns.receive_unit(s, ACTOR, rma, "MUG-RED", "restock", bin="A-01-1")
    with world.read() as s:
        assert s.get(SalesOrder, waiting.order_id).status == "allocated"
        assert check.run(s) == []


def test_channel_returns_open_once(world):
    _oid, number = shipped_order(world, (("MUG-RED", 2),))
    with world.write() as s:
        first = returns.create_rma(s, ACTOR, number, [L("MUG-RED", 1)], reason="OTHER", source="web", external_id="refund-77")
        again = returns.create_rma(s, ACTOR, number, [L("MUG-RED", 1)], reason="OTHER", source="web", external_id="refund-77")
    assert first == again
    with world.read() as s:
        assert s.scalar(select(func.count()).select_from(Rma)) == 1


def test_two_stations_get_different_rma_numbers(db):
    with db.write() as s1:
        a = returns.next_rma_number(s1)
    with db.write() as s2:
        b = returns.next_rma_number(s2)
    assert (a, b) == ("RMA-1001", "RMA-1002")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["restock", "quarantine", "scrap", "refurbish", "vendor"]),
                                st.integers(min_value=1, max_value=3)), min_size=1, max_size=8))
def test_returned_never_exceeds_shipped_and_ledger_equals_levels(db, steps):
    """Any sequence of receipts, with any dispositions and quantities, some refused: nothing comes back beyond what
    shipped or what the RMA names, and the ledger equals the levels. (One database for every example: each example
    ships a new order and opens a new RMA on it.)"""
    with db.write() as s:
        if not s.scalar(select(func.count()).select_from(SalesOrder)):
            reno = inventory.add_location(s, ACTOR, "RNO", "Reno", priority=10, region="NV", postal_code="89502")
            inventory.add_bins(s, reno, ["A-01-1"])
            orders.add_channel(s, ACTOR, "web", "Web shop", "shopify")
            from oms import catalog
            catalog.add_product(s, ACTOR, "MUG-RED", "Mug, red", price="14.00", weight_g=420)
    ext = str(1 + (_count(db)))
    _oid, number = shipped_order(db, (("MUG-RED", 4),), ext=ext, tracking=f"T{ext}")
    with db.write() as s:
        _rid, rma = returns.create_rma(s, ACTOR, number, [L("MUG-RED", 3)], reason="OTHER")
    for how, qty in steps:
        try:
            with db.write() as s:
                returns.receive_unit(s, ACTOR, rma, "MUG-RED", how, quantity=qty, bin="A-01-1" if how == "restock" else None)
        except Conflict:
            pass
    with db.read() as s:
        for line in s.scalars(select(OrderLine)):
            assert line.returned <= line.shipped
        for rl in s.scalars(select(RmaLine)):
            assert rl.received <= rl.quantity
        assert check.run(s) == []


def _count(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(SalesOrder))


def _at_once(db, n: int, work) -> tuple[list, list, list]:
    """`work(session)` at n stations at the same moment, each with its own connection: (results, refusals, errors)."""
    import threading

    from oms.core.db import Database

    barrier = threading.Barrier(n)
    done, refused, errors = [], [], []

    def station() -> None:
        mine = Database(db.url, schema=db.schema)
        try:
            barrier.wait(10)
            for _ in range(2):
                try:
                    with mine.write() as s:
                        done.append(work(s))
                except Conflict as exc:
                    refused.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(repr(exc))
        finally:
            mine.dispose()

    threads = [threading.Thread(target=station) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return done, refused, errors


def test_stations_receiving_one_parcel_at_once_never_take_in_more_than_the_rma_names(world):
    """Four stations scan the same RMA's item at the same moment, eight units between them, for four named: exactly
    four come in, the rest are refused in words, never an error; the ledger and the order agree."""
    oid, number = shipped_order(world, (("MUG-RED", 4),))
    with world.write() as s:
        _rid, rma = returns.create_rma(s, ACTOR, number, [L("MUG-RED", 4)], reason="DAMAGED")
    took, refused, errors = _at_once(world, 4, lambda s: returns.receive_unit(s, ACTOR, rma, "MUG-RED", "restock", bin="A-01-1"))
    assert errors == []
    assert len(took) == 4 and len(refused) == 4 and all("Over-return refused" in r for r in refused), refused
    assert on_hand(world, "MUG-RED") == 4
    with world.read() as s:
        assert s.scalar(select(OrderLine.returned).where(OrderLine.order_id == oid)) == 4
        assert check.run(s) == []


def test_stations_opening_rmas_at_once_get_different_numbers(world):
    numbers, refused, errors = _at_once(world, 4, returns.next_rma_number)
    assert errors == [] and refused == []
    assert sorted(numbers) == [f"RMA-{n}" for n in range(1001, 1009)]


def test_a_restocking_fee_is_kept_and_an_exchange_credits_nothing(world):
    _oid, number = shipped_order(world, (("MUG-RED", 2), ("MUG-BLU", 1)))
    with world.write() as s:
        _a, refund = returns.create_rma(s, ACTOR, number, [L("MUG-RED", 2)], reason="CHANGED_MIND", restocking_fee="3.00")
        _b, swap = returns.create_rma(s, ACTOR, number, [L("MUG-BLU", 1)], reason="WRONG_ITEM", resolution="exchange")
        returns.receive_unit(s, ACTOR, refund, "MUG-RED", "restock", quantity=2, bin="A-01-1")
        returns.receive_unit(s, ACTOR, swap, "MUG-BLU", "restock", bin="A-01-1")
    with world.write() as s:
        assert returns.resolve(s, ACTOR, refund) == 2 * 1400 - 300
        assert returns.resolve(s, ACTOR, swap) == 0
    with world.read() as s:
        first, second = returns.rma_detail(s, refund), returns.rma_detail(s, swap)
        assert (first.credit_notes, first.refund) == ("CN-000001", "$25.00")
        assert "restocking fee $3.00 kept" in first.timeline[-1].summary
        assert (second.credit_notes, second.refund) == ("", "$0.00")
        assert [n for n, *_rest in invoicing.credit_notes(s)] == ["CN-000001"]
    with pytest.raises(Conflict, match="only a received RMA can be resolved"):  # once
        with world.write() as s:
            returns.resolve(s, ACTOR, refund)
