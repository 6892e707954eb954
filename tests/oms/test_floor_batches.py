"""The floor in batches and at the bench: picks confirmed in one go, stops of the walk, the packing decision, the box
weight, the totes waiting, pack and ship of many orders at once, and the wave's candidates over a large backlog."""

import itertools
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from oms import check, fulfilment, intake, inventory, orders
from oms.core.errors import Conflict, InvalidInput
from oms.core.models import AuditEvent, OutboxMessage
from oms.fulfilment.floor import PackedBox, WaveFilters, _wave_candidates
from oms.fulfilment.models import PickTask, Wave, WaveOrder
from oms.integration import sync_store
from oms.inventory.models import BinStock, StockLevel, StockMovement
from oms.orders.models import Allocation, Channel, OrderLine, SalesOrder
from oms.shipping.models import Package, Shipment
from tests.conftest import ACTOR, make_order, ship_from, stock
from tests.oms.test_fulfilment import place, status


@pytest.fixture
def floor(world):
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 50, bin="A-03-2")
    stock(world, "MUG-BLU", "RNO", 50, bin="A-01-1")
    stock(world, "LANTERN", "RNO", 20, bin="C-11-1")
    return world


def wave(db, **kw) -> int:
    with db.write() as s:
        return fulfilment.build_wave(s, ACTOR, "RNO", **kw).wave_id


def scans(db, wave_id, **change):
    with db.read() as s:
        return [fulfilment.PickScan(t.task_id, t.quantity, change.get("bin", t.bin_code or None), change.get("item", t.sku))
                for t in fulfilment.open_tasks(s, wave_id)]


def bins(db) -> dict[int, int]:
    with db.read() as s:
        return {r.product_id: r.on_hand for r in s.execute(select(BinStock.product_id, BinStock.on_hand))}


def count(db, model, *where) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def clean(db) -> None:
    with db.read() as s:
        assert check.run(s) == []


# -- picks in one go -------------------------------------------------------------------------------------------------


def test_a_waves_picks_confirmed_in_one_batch(floor):
    a = place(floor, "1", [("MUG-RED", 2), ("MUG-BLU", 1)])
    b = place(floor, "2", [("MUG-RED", 1), ("LANTERN", 1)])
    wid = wave(floor)
    before = bins(floor)
    batch = scans(floor, wid)
    with floor.write() as s:
        left = fulfilment.confirm_picks(s, ACTOR, batch)
    assert set(left.values()) == {0}
    assert status(floor, a) == status(floor, b) == "picking"
    after = bins(floor)
    assert sum(before.values()) - sum(after.values()) == 5  # out of the bins into the totes
    with floor.read() as s:
        assert s.get(Wave, wid).status == "picked"
        assert [l.picked for l in s.scalars(select(OrderLine).where(OrderLine.order_id == a).order_by(OrderLine.id))] == [2, 1]
    assert count(floor, AuditEvent, AuditEvent.action == "order.picked") == len(batch)
    clean(floor)


@pytest.mark.parametrize("change, words", [
    ({"bin": "C-11-1"}, "Wrong bin: C-11-1 scanned, the pick is in"),
    ({"item": "036000291452"}, "Wrong item: MUG-BLU scanned, the pick is"),
])
def test_one_wrong_scan_refuses_the_whole_batch_and_writes_nothing(floor, change, words):
    place(floor, "1", [("MUG-RED", 2)])
    place(floor, "2", [("MUG-RED", 1)])
    wid = wave(floor)
    good = scans(floor, wid)
    bad = scans(floor, wid, **change)
    before = bins(floor)
    with pytest.raises(Conflict, match=words):
        with floor.write() as s:
            fulfilment.confirm_picks(s, ACTOR, good[:-1] + bad[-1:])
    assert bins(floor) == before
    assert count(floor, OrderLine, OrderLine.picked > 0) == 0
    assert count(floor, PickTask, PickTask.status == "open") == len(good)
    assert count(floor, AuditEvent, AuditEvent.action == "order.picked") == 0


def test_a_batch_takes_no_more_than_the_task_holds_nor_a_held_order(floor):
    oid = place(floor, "1", [("MUG-RED", 2)])
    wid = wave(floor)
    (task,) = scans(floor, wid)
    with pytest.raises(Conflict, match="Only 0 more of MUG-RED are on this pick"):
        with floor.write() as s:
            fulfilment.confirm_picks(s, ACTOR, [task, task])  # 2 and 2 more of a task of 2
    with pytest.raises(Conflict, match="Only 1 more of MUG-RED"):
        with floor.write() as s:
            fulfilment.confirm_picks(s, ACTOR, [fulfilment.PickScan(task.task_id, 1, task.bin_code, "MUG-RED"), task])
    with floor.write() as s:
        orders.hold(s, ACTOR, oid, "Address check")
    with pytest.raises(Conflict, match="on hold"):
        with floor.write() as s:
            fulfilment.confirm_picks(s, ACTOR, [task])
    assert count(floor, OrderLine, OrderLine.picked > 0) == 0


def test_a_stop_fills_a_carts_orders_one_after_the_other_and_says_what_is_left(floor):
    for i in range(3):
        place(floor, f"s{i}", [("MUG-RED", 1)])
    wid = wave(floor, single_unit=True)
    with floor.read() as s:
        (stop,) = fulfilment.open_stops(s, wid)
    assert (stop.quantity, len(stop.tasks), stop.tote) == (3, 3, f"CART-{wid}")
    with floor.write() as s:
        first = fulfilment.pick_stop(s, ACTOR, stop.task_ids, 2, bin_code=stop.bin_code, item_code="4006381333931")
    assert list(first.left.values()) == [0, 0, 1] and first.picked == 2 and not first.wave_picked
    with pytest.raises(Conflict, match="Only 1 more"):
        with floor.write() as s:
            fulfilment.pick_stop(s, ACTOR, stop.task_ids, 2, bin_code=stop.bin_code, item_code="MUG-RED")
    with floor.write() as s:
        last = fulfilment.pick_stop(s, ACTOR, stop.task_ids, 1, bin_code=stop.bin_code, item_code="MUG-RED")
    assert list(last.left.values()) == [0, 0, 0] and last.wave_picked
    clean(floor)


# -- the bench: boxes, weight, the totes waiting, the packing decision ------------------------------------------------


_numbers = itertools.count(1)


def picked_wave(db, *orders_lines, **kw) -> tuple[int, list[int]]:
    ids = [place(db, f"o{next(_numbers)}", list(lines)) for lines in orders_lines]
    wid = wave(db, **kw)
    with db.write() as s:
        fulfilment.confirm_picks(s, ACTOR, [fulfilment.PickScan(t.task_id, t.quantity, t.bin_code or None, t.sku)
                                            for t in fulfilment.open_tasks(s, wid)])
    return wid, ids


def test_default_box_and_weight_from_the_catalogue(floor):
    _wid, (oid,) = picked_wave(floor, [("MUG-RED", 2), ("LANTERN", 1)])
    with floor.write() as s:
        presets = fulfilment.box_choices(s)
    with floor.read() as s:
        view = fulfilment.packing_view(s, oid)
    box = fulfilment.default_box(presets, view)
    assert box.code == "M"
    red, lantern = (l.line_id for l in view.lines)
    assert fulfilment.estimated_weight_g(view, box, {red: 2, lantern: 1}) == box.tare_g + 2 * 420 + 1100
    assert fulfilment.estimated_weight_g(view, None, {red: 1}) == 420
    spec = fulfilment.box_spec(box, 2000)
    assert (spec.box, spec.weight_g, spec.length_mm) == ("M", 2000, box.length_mm)
    wholesale = fulfilment.PackingView(1, "PO1", "edi", "wholesale", "", "standard", False, "", "picking", ())
    assert fulfilment.default_box(presets, wholesale).code == "CTN"
    assert fulfilment.default_box([], view) is None


def test_totes_waiting_to_be_packed(floor):
    cart, singles = picked_wave(floor, [("MUG-RED", 1)], [("MUG-BLU", 1)], single_unit=True)
    totes, (multi,) = picked_wave(floor, [("MUG-RED", 2), ("LANTERN", 1)])
    place(floor, "unpicked", [("MUG-BLU", 2)])
    wave(floor)  # built, not picked: nothing of it waits at the bench
    with floor.read() as s:
        waiting = fulfilment.totes_to_pack(s, "RNO")
        assert fulfilment.totes_to_pack(s, "EWR") == []
        assert [t.order_id for t in fulfilment.totes_to_pack(s, wave_id=totes)] == [multi]
    assert [(t.tote, t.order_id, t.units) for t in waiting] == [
        (f"CART-{cart}", singles[0], 1), (f"CART-{cart}", singles[1], 1), (f"T{totes}-01", multi, 3)]
    with floor.write() as s:
        orders.hold(s, ACTOR, singles[0], "Customer called")
        fulfilment.pack_and_ship(s, ACTOR, multi, [PackedBox(fulfilment.box_spec(None, 900), {
            l.line_id: l.expected for l in fulfilment.packing_view(s, multi).lines})])
    with floor.read() as s:
        assert [t.order_id for t in fulfilment.totes_to_pack(s)] == [singles[1]]  # held and packed ones do not wait


def test_the_packing_decision_manual_tracking_own_delivery_or_a_carriers_label(floor):
    _wid, (manual, own, labelled) = picked_wave(floor, [("MUG-RED", 1)], [("MUG-BLU", 1)], [("LANTERN", 1)])

    def pack(s, oid, **kw):
        view = fulfilment.packing_view(s, oid)
        return fulfilment.pack_and_ship(s, ACTOR, oid, [PackedBox(fulfilment.box_spec(None, 500),
                                                                  {l.line_id: l.expected for l in view.lines})], **kw)

    with floor.write() as s:
        _r, first = pack(s, manual, manual_tracking="  BOL-778  ")
        _r, second = pack(s, own)
    assert (first.mode, first.carrier, second.mode, second.carrier) == ("own", "Manual", "own", "Own")
    with floor.read() as s:
        assert s.get(Shipment, first.shipment_id).tracking_number == "BOL-778"
        assert s.get(Shipment, second.shipment_id).tracking_number == str(second.shipment_id)
    assert status(floor, manual) == status(floor, own) == "shipped"
    with floor.write() as s:
        sync_store.add_connector(s, ACTOR, code="easypost", role="carrier", kind="easypost", name="EasyPost",
                                 base_url="http://127.0.0.1:9")
        result, third = pack(s, labelled, label_format="zpl")
    assert (third.mode, third.carrier) == ("awaiting", "EasyPost")
    assert status(floor, labelled) == "packed"
    with floor.read() as s:
        msg = s.scalar(select(OutboxMessage).where(OutboxMessage.topic == "label.buy"))
        assert msg.payload["shipment_id"] == result.shipment_id and msg.payload["label_format"] == "ZPL"
    clean(floor)


# -- pack and ship in one go ---------------------------------------------------------------------------------------------


def shipped_rows(db, oid) -> dict:
    """What shipping an order wrote, in a form two ways of shipping can be compared by."""
    with db.read() as s:
        sh = s.scalar(select(Shipment).where(Shipment.order_id == oid))
        pkg = s.scalar(select(Package).where(Package.shipment_id == sh.id))
        outbox = {m.topic: m.payload for m in s.scalars(select(OutboxMessage).where(OutboxMessage.order_id == oid))}
        for payload in outbox.values():
            payload.pop("shipment_id", None)
            payload.pop("shipped_at", None)
            payload.pop("tracking_number", None)
            payload.pop("order_external_id", None)
        return {
            "status": s.get(SalesOrder, oid).status, "shipment": (sh.status, sh.carrier, sh.tracking_number == str(sh.id)),
            "package": (pkg.box, pkg.weight_g), "lines": [(l.allocated, l.picked, l.packed, l.shipped) for l in s.scalars(
                select(OrderLine).where(OrderLine.order_id == oid).order_by(OrderLine.id))],
            "allocations": s.scalar(select(func.count()).select_from(Allocation).join(OrderLine).where(OrderLine.order_id == oid)),
            "outbox": outbox, "audit": sorted(s.scalars(select(AuditEvent.action).where(
                AuditEvent.order_id == oid, AuditEvent.action.like("shipment.%")))),
        }


def test_a_batch_ships_each_order_as_the_station_would(floor):
    _wid, (one, two) = picked_wave(floor, [("MUG-RED", 2), ("LANTERN", 1)], [("MUG-RED", 2), ("LANTERN", 1)])
    with floor.read() as s:
        levels_before = {r.product_id: (r.on_hand, r.allocated) for r in s.scalars(select(StockLevel))}
    with floor.write() as s:
        (done,) = fulfilment.pack_and_ship_batch(s, ACTOR, [one])
        view = fulfilment.packing_view(s, two)
        presets = fulfilment.box_choices(s)
        box = fulfilment.default_box(presets, view)
        items = {l.line_id: l.expected for l in view.lines}
        fulfilment.pack_and_ship(s, ACTOR, two, [PackedBox(fulfilment.box_spec(box, fulfilment.estimated_weight_g(view, box, items)), items)])
    assert (done.order_id, done.mode, done.carrier) == (one, "own", "Own")
    assert shipped_rows(floor, one) == shipped_rows(floor, two)
    batch = shipped_rows(floor, one)
    assert batch["status"] == "shipped" and batch["allocations"] == 0 and batch["lines"] == [(0, 0, 0, 2), (0, 0, 0, 1)]
    assert batch["package"] == ("M", box.tare_g + 2 * 420 + 1100)
    assert set(batch["outbox"]) == {"fulfillment.create", "payment.capture"}
    with floor.read() as s:
        levels_after = {r.product_id: (r.on_hand, r.allocated) for r in s.scalars(select(StockLevel))}
        moved = s.scalar(select(func.sum(StockMovement.quantity)).where(StockMovement.kind == "ship"))
    assert moved == -6
    assert sum(v[0] for v in levels_before.values()) - sum(v[0] for v in levels_after.values()) == 6
    clean(floor)


def test_a_batch_of_single_unit_orders_off_a_cart(floor):
    wid, singles = picked_wave(floor, *[[("MUG-RED", 1)] for _ in range(5)], single_unit=True)
    with floor.write() as s:
        done = fulfilment.pack_and_ship_batch(s, ACTOR, [t.order_id for t in fulfilment.totes_to_pack(s, wave_id=wid)],
                                              box="MAILER")
    assert [d.order_id for d in done] == singles and len({d.shipment_id for d in done}) == 5
    assert all(status(floor, o) == "shipped" for o in singles)
    with floor.read() as s:
        assert set(s.scalars(select(Package.box))) == {"MAILER"}
        assert fulfilment.totes_to_pack(s) == []
    assert count(floor, OutboxMessage, OutboxMessage.topic == "fulfillment.create") == 5
    clean(floor)


def test_a_batch_refuses_what_the_station_must_do_and_writes_nothing(floor):
    _wid, (held, fine) = picked_wave(floor, [("MUG-RED", 1)], [("MUG-BLU", 1)])
    unpicked = place(floor, "later", [("LANTERN", 1)])
    with floor.write() as s:
        orders.hold(s, ACTOR, held, "Fraud check")
    for ids, words in (([fine, held], "on hold"), ([fine, unpicked], "Nothing of order #later is picked"),
                       ([fine], "There is no box XL")):
        with pytest.raises((Conflict, InvalidInput), match=words):
            with floor.write() as s:
                fulfilment.pack_and_ship_batch(s, ACTOR, ids, box="XL" if words.startswith("There") else None)
    assert count(floor, Shipment) == 0 and status(floor, fine) == "picking"
    oid = place(floor, "part", [("MUG-RED", 1), ("MUG-BLU", 1)])
    wid = wave(floor)
    with floor.write() as s:
        first = fulfilment.open_tasks(s, wid)[0]
        fulfilment.confirm_picks(s, ACTOR, [fulfilment.PickScan(first.task_id, 1, first.bin_code, first.sku)])
    with pytest.raises(Conflict, match="not wholly picked"):
        with floor.write() as s:
            fulfilment.pack_and_ship_batch(s, ACTOR, [oid])
    with floor.write() as s:
        sync_store.add_connector(s, ACTOR, code="easypost", role="carrier", kind="easypost", name="EasyPost",
                                 base_url="http://127.0.0.1:9")
        (awaiting,) = fulfilment.pack_and_ship_batch(s, ACTOR, [fine])
    assert awaiting.mode == "awaiting" and status(floor, fine) == "packed"
    assert count(floor, OutboxMessage, OutboxMessage.topic == "label.buy") == 1
    clean(floor)


# -- a wave's candidates over a large backlog --------------------------------------------------------------------------


def test_the_wave_candidates_over_a_large_backlog_are_the_most_urgent_ready_ones(floor):
    """Against the definition, order by order: ready status (part-allocated only wholesale), not held, something
    reserved here, not in an open wave here, the filters; most urgent ship-by first, those without one last."""
    rng = random.Random(7)
    stock(floor, "MUG-RED", "EWR", 100_000)
    stock(floor, "MUG-RED", "RNO", 100_000)
    stock(floor, "MUG-BLU", "RNO", 100_000)
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    batch = []
    for k in range(1200):
        placed = start + timedelta(minutes=rng.randrange(20000))
        ship_by = None if rng.random() < 0.1 else placed + timedelta(hours=rng.choice((4, 24, 48)))
        lines = [("MUG-RED", rng.choice((1, 1, 2)))] + ([("MUG-BLU", 1)] if rng.random() < 0.4 else [])
        batch.append(make_order(f"b{k}", lines, placed_at=placed, ship_by=ship_by,
                                channel="edi" if rng.random() < 0.1 else "web"))
    with floor.write() as s:
        ewr = inventory.location_id(s, "EWR")
        for i in range(0, len(batch), 400):
            intake.take_in(s, ACTOR, batch[i:i + 400])
        ids = s.scalars(select(SalesOrder.id).order_by(SalesOrder.id)).all()
        for oid in rng.sample(ids, 60):
            orders.hold(s, ACTOR, oid, "check")
        # Some orders are reserved in Newark instead: not candidates in Reno.
        moved = rng.sample(ids, 80)
        s.execute(Allocation.__table__.update().where(Allocation.order_line_id.in_(
            select(OrderLine.id).where(OrderLine.order_id.in_(moved)))).values(location_id=ewr))
    for _ in range(3):
        wave(floor, limit=25)
    with floor.write() as s:
        s.execute(SalesOrder.__table__.update().where(SalesOrder.id.in_(rng.sample(ids, 50)))
                  .values(status="partially_allocated"))

    def expected(s, lid, f: WaveFilters) -> list[int]:
        open_waved = set(s.scalars(select(WaveOrder.order_id).join(Wave).where(Wave.status == "open", Wave.location_id == lid)))
        here = set(s.scalars(select(OrderLine.order_id).join(Allocation).where(Allocation.location_id == lid)))
        channels = dict(s.execute(select(Channel.code, Channel.id)).all())
        out = []
        for o in s.scalars(select(SalesOrder)):
            ready = o.status in ("allocated", "partially_shipped") or (o.status == "partially_allocated" and o.order_type == "wholesale")
            if not ready or o.on_hold or o.id not in here or o.id in open_waved:
                continue
            if f.channel and o.channel_id != channels[f.channel]:
                continue
            if f.single_unit is True and o.unit_count != 1 or f.single_unit is False and o.unit_count <= 1:
                continue
            if f.ship_by_before is not None and (o.ship_by is None or o.ship_by > f.ship_by_before):
                continue
            out.append(o)
        out.sort(key=lambda o: (o.ship_by is None, o.ship_by or start, o.placed_at, o.id))
        return [o.id for o in out]

    cut = start + timedelta(days=5)
    with floor.read() as s:
        lid = inventory.location_id(s, "RNO")
        for f in (WaveFilters(), WaveFilters(single_unit=True), WaveFilters(single_unit=False, channel="web"),
                  WaveFilters(ship_by_before=cut), WaveFilters(channel="edi")):
            want = expected(s, lid, f)
            assert len(want) > 20, f
            for limit in (10, 160, 5000):
                assert [r.id for r in _wave_candidates(s, lid, f, limit)] == want[:limit], (f, limit)
            assert fulfilment.ready_for_wave(s, "RNO", f) == len(want)
