"""The floor: waves, scan-checked picking, short picks back to routing, packing, SSCCs, ASN data."""

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from oms import check, fulfilment, intake, inventory, orders, routing
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.gs1 import is_valid_sscc
from oms.core.models import AuditEvent, OutboxMessage
from oms.fulfilment import models as fulfilment_models
from oms.fulfilment.floor import PackedBox
from oms.fulfilment.models import Wave
from oms.inventory import models as inventory_models
from oms.inventory.models import StockLevel
from oms.orders.models import OrderLine, SalesOrder
from oms.routing import restock
from oms.shipping import shipments
from oms.shipping.models import Package, Pallet
from oms.shipping.shipments import PackageSpec
from tests.conftest import ACTOR, make_order, stock

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def floor(world):
    with world.write() as s:
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        routing.save_rule(s, ACTOR, "Reno first", {}, {"preferred_locations": ["RNO"], "split": "allow"})
    stock(world, "MUG-RED", "RNO", 10, bin="A-03-2")
    stock(world, "MUG-BLU", "RNO", 10, bin="A-01-1")
    stock(world, "LANTERN", "RNO", 1, bin="C-11-1")
    stock(world, "LANTERN", "EWR", 5, bin="B-02-1")
    return world


def place(db, ext, lines, **kw):
    with db.write() as s:
        (r,) = intake.take_in(s, ACTOR, [make_order(ext, lines, **kw)]).results
    return r.order_id


def status(db, oid):
    with db.read() as s:
        return s.get(SalesOrder, oid).status


def test_wave_totes_walk_order_and_pick_list(floor):
    a = place(floor, "1", [("MUG-RED", 2), ("MUG-BLU", 1)])
    b = place(floor, "2", [("MUG-RED", 1), ("LANTERN", 1)])
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO", limit=10)
    assert (w.orders, w.units) == (2, 5)
    with floor.read() as s:
        pl = fulfilment.pick_list(s, w.wave_id)
    assert [t.bin_code for t in pl.tasks] == ["A-01-1", "A-03-2", "C-11-1"]  # the walk path
    red = pl.tasks[1]
    assert (red.sku, red.quantity, len(red.order_numbers)) == ("MUG-RED", 3, 2)  # same SKU+bin on one line
    assert red.barcode == "4006381333931"
    assert len(set(", ".join(t.tote for t in pl.tasks).split(", "))) == 2  # a tote per order
    assert (pl.order_count, pl.unit_count, pl.location_code) == (2, 5, "RNO")
    with pytest.raises(Conflict, match="No orders at RNO are ready"):
        with floor.write() as s:
            fulfilment.build_wave(s, ACTOR, "RNO")  # both orders are in an open wave already


def test_batch_wave_of_single_unit_orders(floor):
    singles = [place(floor, f"s{i}", [("MUG-RED", 1)]) for i in range(3)]
    place(floor, "multi", [("MUG-RED", 2)])
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO", single_unit=True)
    assert w.orders == 3
    with floor.read() as s:
        pl = fulfilment.pick_list(s, w.wave_id)
        assert pl.batch_pick and len(pl.tasks) == 1 and pl.tasks[0].quantity == 3 and pl.tasks[0].tote.startswith("CART-")
    assert all(status(floor, o) == "allocated" for o in singles)


def test_wave_filters(floor):
    place(floor, "late", [("MUG-RED", 1)], ship_by=NOW + timedelta(days=3))
    soon = place(floor, "soon", [("MUG-BLU", 1)], ship_by=NOW + timedelta(hours=2))
    place(floor, "edi", [("MUG-RED", 1)], channel="edi", order_type="wholesale")
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO", cutoff_at=NOW + timedelta(hours=4), channel="web")
        orders_in = s.scalars(select(fulfilment_models.WaveOrder.order_id).where(fulfilment_models.WaveOrder.wave_id == w.wave_id)).all()
    assert orders_in == [soon]
    with pytest.raises(NotFound):
        with floor.write() as s:
            fulfilment.build_wave(s, ACTOR, "RNO", channel="ebay")


def test_the_ready_count_is_what_build_wave_takes(floor):
    """Waves said "3 orders are ready to pick", then Build wave took 16: the count and the wave use one definition."""
    place(floor, "web1", [("MUG-RED", 1)], ship_by=NOW + timedelta(hours=2))
    place(floor, "web2", [("MUG-BLU", 2)], ship_by=NOW + timedelta(days=3))
    held = place(floor, "held", [("MUG-RED", 1)])
    # A wholesale order that is only partly in stock ships what is here: a wave takes it, so the count must too.
    part = place(floor, "po", [("MUG-RED", 1), ("LANTERN", 9)], channel="edi", order_type="wholesale")
    with floor.write() as s:
        orders.hold(s, ACTOR, held, "address check")
    assert status(floor, part) == "partially_allocated"
    choices = [fulfilment.WaveFilters(), fulfilment.WaveFilters(channel="web"), fulfilment.WaveFilters(single_unit=True),
               fulfilment.WaveFilters(single_unit=False), fulfilment.WaveFilters(order_type="wholesale"),
               fulfilment.WaveFilters(ship_by_before=NOW + timedelta(hours=4))]
    with floor.read() as s:
        counted = [fulfilment.ready_for_wave(s, "RNO", f) for f in choices]
    assert counted == [3, 2, 1, 2, 1, 2]
    for f, n in zip(choices, counted):
        with floor.write() as s:
            w = fulfilment.build_wave(s, ACTOR, "RNO", channel=f.channel, order_type=f.order_type, single_unit=f.single_unit,
                                      ship_by_before=f.ship_by_before)
            assert w.orders == n
            fulfilment.cancel_wave(s, ACTOR, w.wave_id, reason="count check")
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO", limit=2)
        assert fulfilment.ready_for_wave(s, "RNO") == 1  # orders in an open wave are not ready for another
    assert w.orders == 2


def test_scan_checked_picking(floor):
    oid = place(floor, "1", [("MUG-RED", 2)])
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
    with floor.read() as s:
        (task,) = fulfilment.open_tasks(s, w.wave_id)
    with pytest.raises(Conflict, match="Wrong bin: A-01-1 scanned, the pick is in A-03-2"):
        with floor.write() as s:
            fulfilment.confirm_pick(s, ACTOR, task.task_id, 1, bin_code="A-01-1", item_code="MUG-RED")
    with pytest.raises(Conflict, match="Wrong item: MUG-BLU scanned, the pick is MUG-RED"):
        with floor.write() as s:
            fulfilment.confirm_pick(s, ACTOR, task.task_id, 1, bin_code="A-03-2", item_code="036000291452")
    with floor.write() as s:
        left = fulfilment.confirm_pick(s, ACTOR, task.task_id, 1, bin_code="A-03-2", item_code="4006381333931")
    assert left == 1 and status(floor, oid) == "picking"
    with floor.write() as s:  # GS1 data carrying the GTIN counts as the item
        fulfilment.confirm_pick(s, ACTOR, task.task_id, 1, bin_code="A-03-2", item_code="]C101040063813339311021A")
    with floor.read() as s:
        assert s.get(Wave, w.wave_id).status == "picked"
        assert check.run(s) == []


def test_short_pick_goes_back_to_routing_and_newark_takes_it(floor):
    oid = place(floor, "1", [("LANTERN", 1)])
    with floor.write() as s:
        restock.adjust(s, ACTOR, "LANTERN", "RNO", 1, "mis-receipt, recorded twice", bin="C-11-1")
    # The books say C-11-1 holds 2 lanterns; the order holds one of them.
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
    with floor.read() as s:
        (task,) = fulfilment.open_tasks(s, w.wave_id)
        assert task.bin_code == "C-11-1"
    with floor.write() as s:
        res = fulfilment.short_pick(s, ACTOR, task.task_id, 0, bin_code="C-11-1")
    assert "Newark" in res.explanation and "short pick at C-11-1" in res.explanation
    with floor.read() as s:
        o = s.get(SalesOrder, oid)
        assert o.status == "allocated" and s.get(inventory_models.Location, o.location_id).code == "EWR"
        reno = s.scalar(select(StockLevel.on_hand).join(inventory_models.Location).where(
            inventory_models.Location.code == "RNO", StockLevel.product_id == inventory.product_id(s, "LANTERN")))
        assert reno == 0  # the count made the books match the empty bin
        timeline = s.scalars(select(AuditEvent.summary).where(AuditEvent.order_id == oid).order_by(AuditEvent.id)).all()
        assert any(t.startswith("Short pick at C-11-1: 0 of 1") for t in timeline)
        assert check.run(s) == []


def test_short_pick_that_undercuts_other_orders_reroutes_them_too(floor):
    first = place(floor, "1", [("MUG-RED", 4)])
    second = place(floor, "2", [("MUG-RED", 4)])
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO", limit=1)
        (task,) = fulfilment.open_tasks(s, w.wave_id)
        fulfilment.short_pick(s, ACTOR, task.task_id, 2, bin_code="A-03-2")
    # Only 2 mugs were really in Reno: the first order keeps its 2 picked ones, the rest backorders.
    assert status(floor, first) in ("picking", "partially_allocated")
    assert status(floor, second) == "backordered"
    with floor.read() as s:
        assert check.run(s) == []


def _walk_c_before_a(db):
    from oms.inventory.models import Bin

    with db.write() as s:
        for b in s.scalars(select(Bin).where(Bin.code.in_(["A-01-1", "C-11-1"]))):
            b.pick_sequence = 90 if b.code == "A-01-1" else 10


def test_short_pick_sends_the_line_to_another_bin_of_the_same_warehouse(floor):
    """C-11-1 is empty but Reno has more lanterns in A-01-1: routing keeps the order in Reno and the wave
    gets a pick at A-01-1 for the missing one, so the order still goes out complete in this wave."""
    from oms.fulfilment import floor_queries

    stock(floor, "LANTERN", "RNO", 6, bin="A-01-1")
    _walk_c_before_a(floor)
    oid = place(floor, "1", [("LANTERN", 6)])  # Newark has 5: only Reno can ship it complete
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
    with floor.read() as s:
        assert [(t.bin_code, t.quantity) for t in fulfilment.open_tasks(s, w.wave_id)] == [("C-11-1", 1), ("A-01-1", 5)]
        first = fulfilment.open_tasks(s, w.wave_id)[0]
    with floor.write() as s:
        fulfilment.short_pick(s, ACTOR, first.task_id, 0, bin_code="C-11-1")
    with floor.read() as s:
        o = s.get(SalesOrder, oid)
        assert s.get(inventory_models.Location, o.location_id).code == "RNO" and o.status == "allocated"
        tasks = fulfilment.open_tasks(s, w.wave_id)
        assert sorted((t.bin_code, t.quantity) for t in tasks) == [("A-01-1", 1), ("A-01-1", 5)]
        summary = floor_queries.wave(s, w.wave_id)
        assert (summary.picked, summary.short, summary.to_pick) == (0, 1, 6)
        assert check.run(s) == []
    pick_all(floor, w.wave_id)
    with floor.read() as s:
        assert s.get(Wave, w.wave_id).status == "picked" and s.get(SalesOrder, oid).lines[0].picked == 6
        assert check.run(s) == []


def test_short_pick_split_newark_takes_the_missing_unit_and_reno_keeps_its_picks(floor):
    """One lantern of three is missing in Reno: Newark ships that one, Reno's two stay on the wave in A-01-1."""
    from oms.orders.models import Allocation

    stock(floor, "LANTERN", "RNO", 2, bin="A-01-1")
    _walk_c_before_a(floor)
    oid = place(floor, "1", [("LANTERN", 3)])
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
        first = fulfilment.open_tasks(s, w.wave_id)[0]
        assert first.bin_code == "C-11-1"
        res = fulfilment.short_pick(s, ACTOR, first.task_id, 0, bin_code="C-11-1")
    assert "Newark" in res.explanation
    with floor.read() as s:
        where = dict(s.execute(select(inventory_models.Location.code, Allocation.quantity)
                               .join(Allocation, Allocation.location_id == inventory_models.Location.id)).all())
        assert where == {"RNO": 2, "EWR": 1}
        assert [(t.bin_code, t.quantity) for t in fulfilment.open_tasks(s, w.wave_id)] == [("A-01-1", 2)]
        assert check.run(s) == []


def test_short_pick_that_takes_another_orders_reservation_closes_its_task(floor):
    """Two orders of the same wave wait on A-03-2; it is short. The count takes the second order's reservation
    back to routing: its pick leaves the wave instead of waiting there, unpickable."""
    first = place(floor, "1", [("MUG-RED", 4)])
    second = place(floor, "2", [("MUG-RED", 4)])
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
        tasks = fulfilment.open_tasks(s, w.wave_id)
        assert [t.order_number for t in tasks] == ["#1", "#2"]
        fulfilment.short_pick_stop(s, ACTOR, [tasks[0].task_id], 2, bin_code="A-03-2")
    assert status(floor, second) == "backordered"
    with floor.read() as s:
        assert fulfilment.open_tasks(s, w.wave_id) == []
        assert s.get(Wave, w.wave_id).status == "picked"
        assert s.get(SalesOrder, first).lines[0].picked == 2
        assert check.run(s) == []


def test_a_batch_stop_short_for_every_order_it_serves(floor):
    """A cart stop of three single-unit orders finds one mug: one order gets it, two go back to routing, no error."""
    with floor.write() as s:
        restock.count(s, ACTOR, "MUG-RED", "RNO", 3, bin="A-03-2", reason="test")
    singles = [place(floor, f"s{i}", [("MUG-RED", 1)]) for i in range(3)]
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO", single_unit=True)
        tasks = fulfilment.open_tasks(s, w.wave_id)
        assert len(tasks) == 3
        fulfilment.short_pick_stop(s, ACTOR, [t.task_id for t in tasks], 1, bin_code="A-03-2")
    assert sorted(status(floor, o) for o in singles) == ["backordered", "backordered", "picking"]
    with floor.read() as s:
        assert s.get(Wave, w.wave_id).status == "picked"
        assert check.run(s) == []


def test_the_timeline_names_the_bin_a_unit_was_picked_from(floor):
    oid = place(floor, "1", [("MUG-RED", 1)])
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
    pick_all(floor, w.wave_id)
    with floor.write() as s:
        restock.count(s, ACTOR, "MUG-RED", "RNO", 5, bin=inventory.bin_id(s, inventory.location_id(s, "RNO"), "A-03-2"),
                        reason="cycle count")
    with floor.read() as s:
        picked = s.scalar(select(AuditEvent.summary).where(AuditEvent.order_id == oid, AuditEvent.action == "order.picked"))
        counted = s.scalars(select(AuditEvent.summary).where(AuditEvent.action == "stock.count")).all()
    assert picked == "Picked 1 × MUG-RED from A-03-2"
    assert "RNO/A-03-2" in counted[-1]  # a count of a bin given by its id still says the bin's code


def pick_all(db, wave_id):
    with db.write() as s:
        for t in fulfilment.open_tasks(s, wave_id):
            fulfilment.confirm_pick(s, ACTOR, t.task_id, t.quantity, bin_code=t.bin_code or None, item_code=t.sku)


def test_a_scan_of_a_number_three_orders_share_lists_them_to_choose_from(floor):
    """One shop, three orders #1002 (its numbering started again): "give the channel as well" cannot help."""
    from oms import desk
    from oms.core.errors import SeveralMatches

    ids = [place(floor, f"dup{i}", [("MUG-RED", 1)], number="#1002", customer_name=who,
                 placed_at=datetime(2026, 11, 3 + i, 9, 0, tzinfo=timezone.utc))
           for i, who in enumerate(("Ada Lovelace", "Grace Hopper", "Alan Turing"))]
    with floor.read() as s:
        found = desk.orders_matching(s, "#1002")
        assert [m.order_id for m in found] == ids[::-1]  # newest first
        assert [m.customer for m in found] == ["Alan Turing", "Grace Hopper", "Ada Lovelace"]
        assert {m.status for m in found} == {"Ready to pick"} and all(m.destination == "Seattle, WA" for m in found)
        assert desk.orders_matching(s, "1002") == found  # typed without the #
        assert desk.find_order(s, "#1002") is None  # not one order: the person must choose
        with pytest.raises(SeveralMatches, match="3 orders match #1002") as several:
            fulfilment.find_for_packing(s, "#1002")
        assert [m.order_id for m in several.value.matches] == ids[::-1]
        assert desk.orders_matching(s, "dup1")[0].order_id == ids[1]  # the channel's own order id is one order


def test_packing_verification_and_multi_package(floor):
    oid = place(floor, "10422", [("MUG-RED", 2), ("MUG-BLU", 1)], number="#10422")
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
    pick_all(floor, w.wave_id)
    with floor.read() as s:
        tote = s.scalar(select(fulfilment_models.WaveOrder.tote).where(fulfilment_models.WaveOrder.order_id == oid))
        assert fulfilment.find_for_packing(s, tote) == oid
        assert fulfilment.find_for_packing(s, "#10422") == oid
        with pytest.raises(NotFound, match="not an order number or a tote"):
            fulfilment.find_for_packing(s, "T-nothing")
        view = fulfilment.packing_view(s, oid)
        wrong = fulfilment.check_pack_scan(view, "LANTERN", {}, scanned_sku=fulfilment.identify(s, "LANTERN"))
    assert not wrong.ok and wrong.message == "Wrong item: LANTERN is not in order #10422."
    stranger = fulfilment.check_pack_scan(view, "9780201379624", {}, scanned_sku=None)
    assert stranger.message == "Wrong item: unknown barcode 9780201379624."
    red = next(l for l in view.lines if l.sku == "MUG-RED")
    assert fulfilment.check_pack_scan(view, "4006381333931", {red.line_id: 1}).ok
    surplus = fulfilment.check_pack_scan(view, "MUG-RED", {red.line_id: 2})
    assert not surplus.ok and "Too many" in surplus.message
    blue = next(l for l in view.lines if l.sku == "MUG-BLU")
    with floor.write() as s:
        res = fulfilment.complete_packing(s, ACTOR, oid, [PackedBox(PackageSpec("M", 900), {red.line_id: 2}),
                                                          PackedBox(PackageSpec("S", 500), {blue.line_id: 1})])
        shipments.confirm(s, ACTOR, res.shipment_id, tracking_number="1Z1")
    assert not res.partial and status(floor, oid) == "shipped"
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(Package).where(Package.shipment_id == res.shipment_id)) == 2
        assert check.run(s) == []


def test_partial_shipment_when_a_line_cannot_be_packed(floor):
    oid = place(floor, "1", [("MUG-RED", 1), ("MUG-BLU", 1)])
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
    pick_all(floor, w.wave_id)
    with floor.read() as s:
        view = fulfilment.packing_view(s, oid)
    red = next(l for l in view.lines if l.sku == "MUG-RED")
    with floor.write() as s:
        res = fulfilment.complete_packing(s, ACTOR, oid, [PackedBox(PackageSpec("S", 500), {red.line_id: 1})])
        shipments.confirm(s, ACTOR, res.shipment_id, tracking_number="1Z2")
    assert res.partial and res.rerouted == ("MUG-BLU ×1",)
    with floor.read() as s:
        o = s.get(SalesOrder, oid)
        assert o.status == "partially_shipped"
        blue = s.scalars(select(OrderLine).where(OrderLine.order_id == oid, OrderLine.sku == "MUG-BLU")).one()
        assert (blue.allocated, blue.picked, blue.shipped) == (1, 0, 0)  # routed again, waiting to be picked
        assert any("Ships in part" in t for t in s.scalars(select(AuditEvent.summary).where(AuditEvent.order_id == oid)))
        assert check.run(s) == []


def test_wholesale_cartons_get_ssccs_and_asn_data(floor):
    oid = place(floor, "PO1", [("MUG-RED", 4), ("MUG-BLU", 2)], channel="edi", order_type="wholesale", number="PO450001")
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
    pick_all(floor, w.wave_id)
    with floor.read() as s:
        view = fulfilment.packing_view(s, oid)
    red, blue = (next(l for l in view.lines if l.sku == k) for k in ("MUG-RED", "MUG-BLU"))
    with floor.write() as s:
        res = fulfilment.complete_packing(
            s, ACTOR, oid, [PackedBox(PackageSpec("CTN", 4000), {red.line_id: 4}), PackedBox(PackageSpec("CTN", 2000), {blue.line_id: 2})],
            company_prefix="0614141", pallet=True)
        shipments.confirm(s, ACTOR, res.shipment_id, carrier="ACME Freight", tracking_number="BOL123")
    assert len(res.ssccs) == 3 and all(is_valid_sscc(x) for x in res.ssccs) and len(set(res.ssccs)) == 3
    assert all(x.startswith("00614141") for x in res.ssccs)
    with floor.read() as s:
        asn = s.scalar(select(OutboxMessage.payload).where(OutboxMessage.topic == "asn.create"))
        pallet = s.scalars(select(Pallet)).one()
    assert asn["po_number"] == "PO450001" and [p["sscc"] for p in asn["pallets"]] == [pallet.sscc]
    assert [c["sscc"] for c in asn["cartons"]] == list(res.ssccs[:2])
    assert all(c["pallet_id"] == pallet.id for c in asn["cartons"])
    assert [(i["sku"], i["quantity"]) for c in asn["cartons"] for i in c["items"]] == [("MUG-RED", 4), ("MUG-BLU", 2)]
    assert asn["line_count"] == 2


def test_sscc_serials_never_repeat_even_with_two_stations(floor):
    got: list[str] = []
    errors = []

    def station():
        try:
            for _ in range(15):
                with floor.write() as s:
                    got.append(fulfilment.next_sscc(s, "0614141"))
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=station) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(got) == 45 and len(set(got)) == 45
    assert all(is_valid_sscc(x) for x in got)
    serials = sorted(int(x[8:17]) for x in got)
    assert serials == list(range(1, 46))
    with pytest.raises(InvalidInput, match="company prefix"):
        with floor.write() as s:
            fulfilment.next_sscc(s, "12a")


def test_two_stations_pack_different_orders_at_once(floor):
    ids = [place(floor, f"c{i}", [("MUG-BLU", 1)]) for i in range(6)]
    with floor.write() as s:
        w = fulfilment.build_wave(s, ACTOR, "RNO")
    pick_all(floor, w.wave_id)
    errors = []

    def station(mine):
        try:
            for oid in mine:
                with floor.write() as s:
                    view = fulfilment.packing_view(s, oid)
                    res = fulfilment.complete_packing(s, ACTOR, oid, [PackedBox(PackageSpec("S", 500), {view.lines[0].line_id: 1})])
                    shipments.confirm(s, ACTOR, res.shipment_id, tracking_number=f"T{oid}")
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=station, args=(ids[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert all(status(floor, o) == "shipped" for o in ids)
    with floor.read() as s:
        assert check.run(s) == []
