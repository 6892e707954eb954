"""The floor screens: a whole shift by scanner (wave, pick, short, pack, ship), batch waves, boxes, partial shipments, printing."""

from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from oms import check, intake, orders, printing
from oms.core.gs1 import is_valid_sscc
from oms.core.models import AuditEvent, OutboxMessage
from oms.fulfilment.models import Wave, WaveOrder
from oms.inventory.models import Location
from oms.orders.models import OrderLine, SalesOrder
from oms.shipping.models import Package, Shipment
from tests.desktop.floor_helpers import BLUE, RED, SETUP, TOTE_EAN, Scanner, add_floor, barcode_of
from tests.desktop.helpers import open_window
from tests.documents.conftest import cups  # noqa: F401 - the real CUPS fixture, shared with the document tests


@pytest.fixture(autouse=True)
def spool(tmp_path, monkeypatch):
    path = tmp_path / "spool"
    monkeypatch.setenv("OMS_SPOOL_DIR", str(path))
    return path


@pytest.fixture
def station(qtbot, qapp, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    scanner = Scanner(qapp, window)
    yield window, scanner
    scanner.close(qapp)


def build_wave(qtbot, window, *, channel="web", kind="all") -> int:
    """The one mouse action of the shift: choose the filters and click Build wave."""
    window.show_screen("waves")
    w = window.waves
    w.location.setCurrentIndex(w.location.findData("RNO"))
    w.channel.setCurrentIndex(w.channel.findData(channel))
    w.kind.setCurrentIndex(w.kind.findData(kind))
    built = []
    w.built.connect(built.append)
    qtbot.mouseClick(w.build_button, Qt.MouseButton.LeftButton)
    assert built, w.status.text()
    return built[0].wave_id


def pick_by_scanner(window, scanner, db, *, wrong_bin=False, wrong_item=None, short_sku=None) -> dict:
    """Walk the wave as the picker does: read the big bin and item, scan them; returns what was refused or shorted."""
    p = window.picking
    seen = {}
    while p.current is not None:
        t = p.current
        assert p.bin_label.text() == (t.bin_code or "no bin") and p.sku_label.text() == t.sku
        if wrong_bin and "wrong_bin" not in seen:
            ok, text = scanner.scan("H-12-4")
            assert not ok and text == f"Wrong bin: H-12-4 scanned, the pick is in {t.bin_code}."
            assert p.status.state == "error"
            seen["wrong_bin"] = text
        if t.bin_code:
            ok, text = scanner.scan(t.bin_code)
            assert ok, text
        if t.sku == short_sku:
            assert scanner.scan("SHORT") == (True, "Short pick: how many did you find?")
            ok, text = scanner.scan("SHORT")  # scanned again without items: none found
            assert ok, text
            seen["short"] = p.route_label.text()
            continue
        for _unit in range(t.quantity):
            if wrong_item and t.sku == wrong_item[0] and "wrong_item" not in seen:
                ok, text = scanner.scan(wrong_item[1])
                assert not ok
                seen["wrong_item"] = text
            ok, text = scanner.scan(barcode_of(db, t.sku))
            assert ok, text
    return seen


def totes(db, wave_id) -> dict[str, str]:
    with db.read() as s:
        return dict(s.execute(select(SalesOrder.number, WaveOrder.tote).join(WaveOrder, WaveOrder.order_id == SalesOrder.id)
                              .where(WaveOrder.wave_id == wave_id)).all())


def picked_for_packing(qtbot, window, scanner, db, **wave_filters) -> int:
    """Build a wave, pick it all by scanner, and go to the packing bench: the wave's id."""
    wave_id = build_wave(qtbot, window, **wave_filters)
    window.show_screen("picking")
    assert scanner.scan(f"WAVE-{wave_id}")[0]
    pick_by_scanner(window, scanner, db)
    window.show_screen("packing")
    return wave_id


def picked_and_at_the_bench(qtbot, window, scanner, db, number: str, **wave_filters):
    """Build a wave, pick it all by scanner, and scan order ``number``'s tote at the packing bench: (wave id, screen)."""
    wave_id = picked_for_packing(qtbot, window, scanner, db, **wave_filters)
    ok, text = scanner.scan(totes(db, wave_id)[number])
    assert ok, text
    return wave_id, window.packing


def pack_by_scanner(window, scanner, db, tote, *, wrong=None) -> None:
    k = window.packing
    ok, text = scanner.scan(tote)
    assert ok, text
    view = k.view
    for line in view.lines:
        for _unit in range(line.expected):
            if wrong is not None:
                ok, text = scanner.scan(wrong)
                assert not ok and k.status.state == "error"
                assert text == f"Wrong item: FLOOR-MUG-BLU is not in order {view.number}.", text
                assert k.totals().get(line.line_id, 0) == 0  # refused, never packed
                wrong = None
            ok, text = scanner.scan(line.barcodes[0] if line.barcodes else line.sku)
            assert ok, text
    assert k.all_scanned()
    ok, text = scanner.scan("COMPLETE")
    assert ok, text
    assert k.view is None  # the next tote is expected


def test_a_full_shift_through_the_scanner(qtbot, demo_db, station, spool):
    window, scanner = station
    ids = add_floor(demo_db, [("#F1", [("FLOOR-MUG-RED", 2), ("FLOOR-TOTE", 1)]), ("#F2", [("FLOOR-LANTERN", 1)]),
                              ("#F3", [("FLOOR-MUG-BLU", 1)])])
    with demo_db.read() as s:
        reno = s.scalar(select(Location.id).where(Location.code == "RNO"))
        assert {s.get(SalesOrder, i).location_id for i in ids.values()} == {reno}

    # 6:45 Deshawn builds the wave (the one mouse action) and picks it with the scanner alone.
    wave_id = build_wave(qtbot, window)
    window.show_screen("picking")
    ok, text = scanner.scan(f"WAVE-{wave_id}")
    assert ok, text
    seen = pick_by_scanner(window, scanner, demo_db, wrong_bin=True, wrong_item=("FLOOR-MUG-RED", BLUE),
                           short_sku="FLOOR-LANTERN")
    assert seen["wrong_item"] == "Wrong item: FLOOR-MUG-BLU scanned, the pick is FLOOR-MUG-RED."
    assert "Newark" in seen["short"] and "#F2" in seen["short"]
    assert "picked" in window.picking.step.text()
    with demo_db.read() as s:
        assert s.get(Wave, wave_id).status == "picked"
        f2 = s.get(SalesOrder, ids["#F2"])
        assert f2.status == "allocated" and s.get(Location, f2.location_id).code == "EWR"

    # 7:10 Maria packs every tote by scanner; a blue mug in a red-mug order is refused loudly.
    window.show_screen("packing")
    by_number = totes(demo_db, wave_id)
    packed = [n for n in by_number if n != "#F2"]
    for number in packed:
        pack_by_scanner(window, scanner, demo_db, by_number[number], wrong=BLUE if number == "#F1" else None)
    # A tote whose order went back to routing has nothing to pack, and says so.
    ok, text = scanner.scan(by_number["#F2"])
    assert not ok and "Nothing of order #F2 is picked" in text

    with demo_db.read() as s:
        assert check.run(s) == []
        statuses = dict(s.execute(select(SalesOrder.number, SalesOrder.status).where(SalesOrder.number.in_(list(by_number)))).all())
        assert statuses == {**{n: "shipped" for n in packed}, "#F2": "allocated"}
        shipped = s.execute(select(Shipment.id, Shipment.carrier, Shipment.tracking_number)
                            .join(SalesOrder, SalesOrder.id == Shipment.order_id)
                            .where(SalesOrder.number.in_(packed))).all()
        assert len(shipped) == len(packed) and all(c == "Own" and t == str(i) for i, c, t in shipped)
        keys = set(s.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.topic == "fulfillment.create")))
        assert {f"web:fulfillment:{i}" for i, _c, _t in shipped} <= keys
        kinds = s.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)
                          .where(AuditEvent.station == "test-station")).all()
        counts = dict(kinds)
        assert counts["wave.built"] == 1 and counts["order.short_pick"] == 1
        assert counts["shipment.packed"] == len(packed) and counts["shipment.shipped"] == len(packed)
        short = s.scalar(select(AuditEvent.summary).where(AuditEvent.action == "order.short_pick", AuditEvent.order_id == ids["#F2"]))
        assert short.startswith("Short pick at C-11-1: 0 of 1")
    # No printer is chosen at this station: every label and slip waits under Failed prints, none is lost.
    jobs = printing.failed_jobs()
    assert len(jobs) == 2 * len(packed)
    assert "did not print" in window.packing.print_label.text()


def test_batch_wave_of_single_unit_orders_is_picked_onto_one_cart(qtbot, demo_db, station):
    window, scanner = station
    add_floor(demo_db, [(f"#S{i}", [("FLOOR-MUG-RED", 1)]) for i in range(3)] + [("#M1", [("FLOOR-MUG-RED", 2)])])
    wave_id = build_wave(qtbot, window, kind="single")
    w = window.waves
    assert w.pick_list is not None and w.pick_list.batch_pick
    red = [t for t in w.pick_list.tasks if t.sku == "FLOOR-MUG-RED"]
    assert len(red) == 1 and red[0].quantity == 3 and red[0].tote == f"CART-{wave_id}"
    window.show_screen("picking")
    assert scanner.scan(f"WAVE-{wave_id}")[0]
    p = window.picking
    while p.current is not None and p.current.sku != "FLOOR-MUG-RED":
        t = p.current
        assert scanner.scan(t.bin_code)[0]
        for _ in range(t.quantity):
            assert scanner.scan(barcode_of(demo_db, t.sku))[0]
    # Three red mugs for three orders: scan the bin, type 3 and scan one mug.
    t = p.current
    assert p.tote_label.text() == f"CART-{wave_id}"
    assert scanner.scan("A-03-2")[0]
    scanner.type(p.qty_edit, "3")
    assert p.qty_edit.text() == "3"
    ok, text = scanner.scan(RED)
    assert ok, text
    assert all(o.sku != "FLOOR-MUG-RED" for o in p.open)
    with demo_db.read() as s:
        assert check.run(s) == []
        multi = s.scalar(select(WaveOrder.wave_id).join(SalesOrder, SalesOrder.id == WaveOrder.order_id)
                         .where(SalesOrder.number == "#M1"))
        assert multi is None  # the two-mug order waits for a multi-unit wave


def test_pick_list_of_a_big_batch_keeps_the_item_readable(qtbot, demo_db, station):
    """A cart stop serving 14 orders named them all in one column, and the Item column collapsed to "I…"."""
    window, _scanner = station
    add_floor(demo_db, [(f"#S{i:02d}", [("FLOOR-MUG-RED", 1)]) for i in range(14)])
    build_wave(qtbot, window, kind="single")
    t = window.waves.list_table
    row = next(r for r in range(t.rowCount()) if t.item(r, 1).text() == "FLOOR-MUG-RED")
    item = t.item(row, 2)
    assert t.columnWidth(2) >= t.fontMetrics().horizontalAdvance(item.text()), (t.columnWidth(2), item.text())
    assert t.item(row, 5).text() == "#S00, #S01 and 12 more"
    assert t.item(row, 5).toolTip().count("#S") == 14


def test_multi_package_with_box_keys_weights_and_bulk_quantity(qtbot, demo_db, station):
    window, scanner = station
    ids = add_floor(demo_db, [("#P1", [("FLOOR-MUG-RED", 4), ("FLOOR-TOTE", 1)])])
    wave_id, k = picked_and_at_the_bench(qtbot, window, scanner, demo_db, "#P1")
    # Box 1: the large box by its number key, three mugs at once (type 3, then scan one), weight from the scale.
    scanner.type(k, "3")
    assert k.box.preset.code == k.presets[2].code
    scanner.type(k, "q")
    assert k.qty_edit.hasFocus()
    scanner.type(k.qty_edit, "3")
    assert scanner.scan(RED)[0]
    assert k.totals() == {k.view.lines[0].line_id: 3}
    scanner.type(k, "w")
    assert k.weight_edit.hasFocus()
    scanner.type(k.weight_edit, "1.9", Qt.Key.Key_Return)
    assert k.box.weight_g == 1900
    # Too many of a line is refused, never packed.
    scanner.type(k, "q")
    scanner.type(k.qty_edit, "5")
    ok, text = scanner.scan(RED)
    assert not ok and text == "Too many: only 1 more FLOOR-MUG-RED belong in this order."
    # Box 2 by a scanned command, chosen by a scanned box code; the last mug and the tote go in it.
    assert scanner.scan("NEWBOX")[0]
    assert scanner.scan("BOX-S")[0] and k.box.preset.code == "S"
    assert scanner.scan(RED)[0]
    assert scanner.scan(TOTE_EAN)[0]
    assert k.all_scanned()
    scanner.type(k, "", Qt.Key.Key_Return)  # Enter completes when everything is scanned
    assert k.view is None and k.last_result is not None and not k.last_result.partial
    with demo_db.read() as s:
        pkgs = s.execute(select(Package.box, Package.weight_g).join(Shipment, Shipment.id == Package.shipment_id)
                         .where(Shipment.order_id == ids["#P1"]).order_by(Package.id)).all()
        assert pkgs[0] == (k.presets[2].code, 1900)
        assert pkgs[1][0] == "S" and pkgs[1][1] == k.presets[0].tare_g + 420 + 350 if k.presets[0].code == "S" else True
        assert s.get(SalesOrder, ids["#P1"]).status == "shipped"
        assert check.run(s) == []


def test_partial_shipment_says_what_was_left_out(qtbot, demo_db, station):
    window, scanner = station
    ids = add_floor(demo_db, [("#Q1", [("FLOOR-MUG-RED", 1), ("FLOOR-MUG-BLU", 1)])])
    wave_id, k = picked_and_at_the_bench(qtbot, window, scanner, demo_db, "#Q1")
    assert scanner.scan(RED)[0]
    # The blue mug broke: the first COMPLETE only warns, the second ships what is in the box.
    ok, text = scanner.scan("COMPLETE")
    assert not ok and k.view is not None and "FLOOR-MUG-BLU ×1" in k.status.text()
    ok, text = scanner.scan("COMPLETE")
    assert ok, text
    assert k.last_result.partial and k.last_result.rerouted == ("FLOOR-MUG-BLU ×1",)
    assert "not in this shipment (back to routing): FLOOR-MUG-BLU ×1" in k.status.text()
    with demo_db.read() as s:
        assert s.get(SalesOrder, ids["#Q1"]).status in ("partially_shipped", "allocated")
        assert check.run(s) == []


def test_wholesale_cartons_get_ssccs_and_a_carrier_connector_means_awaiting_label(qtbot, demo_db, station):
    window, scanner = station
    from oms.integration.models import ConnectorConfig
    from tests.conftest import make_order
    from tests.desktop.floor_helpers import SETUP

    add_floor(demo_db, [])
    with demo_db.write() as s:
        (r,) = intake.take_in(s, SETUP, [make_order("FLOOR-W1", [("FLOOR-MUG-RED", 2)], channel="northwind",
                                                              number="PO-F1", order_type="wholesale")]).results
        s.add(ConnectorConfig(code="easypost", role="carrier", kind="easypost", name="EasyPost", base_url="http://127.0.0.1:9",
                              options={}, enabled=True, interval_s=60))
    wave_id, k = picked_and_at_the_bench(qtbot, window, scanner, demo_db, "PO-F1", channel="northwind")
    assert k.box.preset.code == "CTN"  # wholesale goes in cartons
    assert scanner.scan(RED)[0] and scanner.scan(RED)[0]
    assert scanner.scan("COMPLETE")[0]
    sid = k.last_shipment
    assert len(k.last_result.ssccs) == 1 and is_valid_sscc(k.last_result.ssccs[0])
    assert k.awaiting == {sid: "PO-F1"} and "Awaiting label" in k.awaiting_label.text()
    with demo_db.read() as s:
        assert s.get(Shipment, sid).status == "packed"
        assert s.scalar(select(OutboxMessage.topic).where(OutboxMessage.idempotency_key == f"easypost:label:{sid}")) == "label.buy"
    # The sync engine buys the label: the next poll prints it and the shipment leaves "awaiting".
    from oms.shipping import shipments
    from tests.desktop.floor_helpers import SETUP as ACTOR

    label = b"^XA^FO50,50^A0N,40,40^FDCARRIER LABEL^FS^XZ"
    with demo_db.write() as s:
        shipments.attach_label(s, ACTOR, sid, carrier_account="easypost", carrier="UPS", service="Ground",
                               tracking_number="1Z999AA10123456784", carrier_ref="shp_1", tracker_ref=None, cost_minor=900,
                               labels={"zpl": label, "pdf": b""})
    k.check_labels()
    assert k.awaiting == {}
    jobs = [j for j in printing.failed_jobs() if "Shipping label" in j.title]
    assert jobs and open(jobs[-1].path, "rb").read() == label  # no printer chosen: kept, byte for byte


def _cups_ready() -> bool:
    return all(shutil.which(c) or os.path.exists(f"/usr/sbin/{c}") for c in ("cupsd", "lp", "lpstat", "lpadmin")) and \
        os.path.exists("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")


@pytest.fixture
def cups_station(request):
    if not _cups_ready():
        message = "CUPS with cups-pdf is not installed"
        if os.environ.get("OMS_TEST_REQUIRE_CUPS") == "1":
            pytest.fail(message + " and OMS_TEST_REQUIRE_CUPS=1")
        pytest.skip(message + "; set OMS_TEST_REQUIRE_CUPS=1 to require it")
    return request.getfixturevalue("cups")


def test_packing_prints_label_and_slip_through_real_cups_and_failures_can_be_retried(qtbot, demo_db, station, cups_station):
    window, scanner = station
    cups = cups_station
    s = window.settings
    s.document_printer, s.label_printer, s.label_format = cups.pdf_queue, cups.zpl_queue, "zpl"
    add_floor(demo_db, [("#C1", [("FLOOR-MUG-RED", 1)]), ("#C2", [("FLOOR-MUG-BLU", 1)])])
    wave_id = picked_for_packing(qtbot, window, scanner, demo_db)
    k = window.packing
    before = len(cups.listener.jobs)
    pack_by_scanner(window, scanner, demo_db, totes(demo_db, wave_id)["#C1"])
    assert k.last_print is not None and k.last_print.ok, k.last_print
    jobs = cups.listener.wait_for(before + 1)
    assert b"^XA" in jobs[-1]
    sid = k.last_shipment
    assert cups.find_pdf(f"Packing slip, shipment {sid}").read_bytes().startswith(b"%PDF")
    # The label printer is switched off: the next label fails, is kept and shown, then Retry prints it.
    import subprocess

    subprocess.run(["cupsdisable", cups.zpl_queue], check=True, capture_output=True)
    try:
        pack_by_scanner(window, scanner, demo_db, totes(demo_db, wave_id)["#C2"])
        assert not k.last_print.ok and "paused" in k.print_label.text()
    finally:
        subprocess.run(["cupsenable", cups.zpl_queue], check=True, capture_output=True)
    window.show_screen("printing")
    p = window.printing
    p.refresh()
    assert [j.title for j in p.jobs] == [f"Shipping label, shipment {k.last_shipment}"]
    p.retry(p.selected_job())
    assert p.jobs == [] and "printed" in p.status.text()
    assert len(cups.listener.wait_for(before + 2)) >= before + 2


def _easypost_connection(db, base_url: str) -> None:
    """An EasyPost connection as Settings adds it: no options, so its own label format is the default (PDF)."""
    from oms.integration.models import ConnectorConfig

    with db.write() as s:
        s.add(ConnectorConfig(code="easypost", role="carrier", kind="easypost", name="EasyPost", base_url=base_url,
                              options={}, enabled=True, interval_s=60))
        reno = s.scalar(select(Location).where(Location.code == "RNO"))
        if not reno.address1:
            reno.address1, reno.city, reno.region, reno.postal_code = "1200 Industrial Way", "Reno", "NV", "89502"


def _buy_labels(db, base_url: str):
    """One pass of the carrier's sync, as the station's sync thread runs it."""
    from sync.carriers.easypost import EasyPostCarrier
    from sync.engine import Engine

    (report,) = Engine(db, {}, carriers={"easypost": EasyPostCarrier("easypost", "EZTK_test", base_url=base_url)}).run_once()
    return report


def test_on_defaults_the_carriers_label_prints_by_itself_and_only_then_the_order_ships(qtbot, demo_db, station, cups_station):
    """Issue #14: the station takes ZPL (its default) while the EasyPost connection says PDF. The label is bought as
    ZPL, reaches the label printer by itself, and only then does the order read shipped and the shop hear of it."""
    from sync.emulators.easypost import EasyPostEmulator

    window, scanner = station
    cups = cups_station
    s = window.settings
    assert s.label_format == "zpl"
    s.document_printer, s.label_printer = cups.pdf_queue, cups.zpl_queue
    ids = add_floor(demo_db, [("#E1", [("FLOOR-MUG-RED", 1)])])
    with EasyPostEmulator(api_key="EZTK_test", seed=5) as ep:
        _easypost_connection(demo_db, ep.url)
        wave_id = picked_for_packing(qtbot, window, scanner, demo_db)
        k = window.packing
        before = len(cups.listener.jobs)
        pack_by_scanner(window, scanner, demo_db, totes(demo_db, wave_id)["#E1"])
        sid = k.last_shipment
        assert k.awaiting == {sid: "#E1"} and "Awaiting label" in k.awaiting_label.text()
        assert "shipment" not in k.awaiting_label.text()  # order numbers, not the database's ids
        with demo_db.read() as x:
            assert x.get(SalesOrder, ids["#E1"]).status == "packed"
        assert _buy_labels(demo_db, ep.url).pushed == 1
        tracking = next(iter(ep.shipments.values()))["tracking_code"]
    qtbot.waitUntil(lambda: not k.awaiting and k.last_print is not None and k.last_print.labels_printed == (sid,),
                    timeout=10000)
    assert k.last_print.ok, k.last_print
    jobs = cups.listener.wait_for(before + 1)
    assert any(j.lstrip().startswith(b"^XA") and tracking.encode() in j for j in jobs[before:])  # the carrier's own ZPL
    with demo_db.read() as x:
        sh = x.get(Shipment, sid)
        assert (sh.status, sh.tracking_number) == ("shipped", tracking)
        assert x.get(SalesOrder, ids["#E1"]).status == "shipped"
        assert x.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.topic == "fulfillment.create", OutboxMessage.order_id == ids["#E1"])) == 1
    assert printing.failed_jobs() == []


def test_offline_the_station_says_why_the_label_waits_and_a_label_that_cannot_print_is_kept_with_the_reason(
        qtbot, demo_db, station, tasks, window_state):
    """The carrier is unreachable: the packing screen says so in its own words. The network comes back and the label
    is bought; with no label printer it lands in Failed prints, which the Printing screen shows without F5, and the
    order stays packed ("label ready") rather than shipped. A restarted station picks the awaited label up again."""
    from desktop.screens.packing_screen import PackingScreen
    from oms.integration.models import ConnectorConfig
    from sync.emulators.easypost import EasyPostEmulator

    window, scanner = station
    ids = add_floor(demo_db, [("#O1", [("FLOOR-MUG-RED", 1)]), ("#O2", [("FLOOR-MUG-BLU", 1)])])
    _easypost_connection(demo_db, "http://127.0.0.1:1")  # nothing listens there: offline
    wave_id = picked_for_packing(qtbot, window, scanner, demo_db)
    k = window.packing
    for number in ("#O1", "#O2"):
        pack_by_scanner(window, scanner, demo_db, totes(demo_db, wave_id)[number])
    report = _buy_labels(demo_db, "http://127.0.0.1:1")
    assert report.offline
    qtbot.waitUntil(lambda: "cannot be reached" in k.awaiting_label.text(), timeout=5000)
    text = k.awaiting_label.text()
    assert "#O1, #O2" in text and "offline since" in text and "prints by itself when the network is back" in text

    # A restart: the new screen knows what this station waits for.
    again = PackingScreen(tasks, window.actor, window_state, window.settings)
    qtbot.addWidget(again)
    assert set(again.awaiting.values()) == {"#O1", "#O2"}

    # No document printer chosen either: the packing slips were kept, and the Printing screen shows them by itself.
    p = window.printing
    qtbot.waitUntil(lambda: len(p.jobs) == 2, timeout=5000)
    assert all(j.title.startswith("Packing slip") for j in p.jobs)
    with EasyPostEmulator(api_key="EZTK_test", seed=6) as ep:
        with demo_db.write() as x:
            x.scalar(select(ConnectorConfig).where(ConnectorConfig.code == "easypost")).base_url = ep.url
            x.execute(OutboxMessage.__table__.update().values(next_attempt_at=OutboxMessage.created_at))
        report = _buy_labels(demo_db, ep.url)
        assert report.pushed == 2 and not report.offline, report.errors
    again.poll.stop()
    qtbot.waitUntil(lambda: not k.awaiting, timeout=10000)
    # No label printer chosen: each label is kept under Failed prints with the reason, and shown there at once.
    qtbot.waitUntil(lambda: len(p.jobs) == 4, timeout=5000)
    labels = [j for j in p.jobs if j.title.startswith("Shipping label")]
    assert len(labels) == 2 and all("No printer is chosen" in j.error for j in labels)
    assert all(open(j.path, "rb").read().lstrip().startswith(b"^XA") for j in labels)  # the carrier's ZPL, as it came
    with demo_db.read() as x:
        assert {x.get(SalesOrder, ids[n]).status for n in ("#O1", "#O2")} == {"packed"}
        assert x.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == "fulfillment.create",
                                                                               OutboxMessage.order_id.in_(ids.values()))) == 0


def test_printing_screen_test_prints_and_discard(qtbot, demo_db, station, spool):
    window, _scanner = station
    window.show_screen("printing")
    p = window.printing
    qtbot.mouseClick(p.test_label, Qt.MouseButton.LeftButton)  # no label printer chosen: kept under Failed prints
    assert p.last_outcome is not None and not p.last_outcome.ok
    assert [j.title for j in p.jobs] == ["Test label"]
    p.discard(confirmed=True)
    assert p.jobs == [] and printing.failed_jobs() == []


def test_reprint_label_for_others_to_call(qtbot, demo_db, station):
    window, scanner = station
    from desktop.screens.packing_screen import reprint_label

    add_floor(demo_db, [("#R1", [("FLOOR-MUG-BLU", 1)])])
    wave_id = picked_for_packing(qtbot, window, scanner, demo_db)
    pack_by_scanner(window, scanner, demo_db, totes(demo_db, wave_id)["#R1"])
    sid = window.packing.last_shipment
    outcomes = []
    reprint_label(window.tasks, sid, window.settings, done=outcomes.append)
    assert outcomes and outcomes[0].failed and "Shipping label" in outcomes[0].failed[0]
    scanner.type(window.packing, "", Qt.Key.Key_F4)  # the station's own Reprint label key
    assert window.packing.last_print.failed


def test_cancel_wave_from_the_waves_screen(qtbot, demo_db, station):
    window, _scanner = station
    add_floor(demo_db, [("#X1", [("FLOOR-MUG-BLU", 1)])])
    wave_id = build_wave(qtbot, window)
    w = window.waves
    assert w.selected_wave().id == wave_id
    w.cancel_wave(reason="Truck late")
    with demo_db.read() as s:
        assert s.get(Wave, wave_id).status == "cancelled"
    assert all(x.id != wave_id for x in w.waves)


def test_manual_carrier_tracking_scanned_at_the_bench(qtbot, demo_db, station):
    window, scanner = station
    ids = add_floor(demo_db, [("#M1", [("FLOOR-MUG-RED", 1)])])
    wave_id, k = picked_and_at_the_bench(qtbot, window, scanner, demo_db, "#M1")
    assert scanner.scan(RED)[0]
    scanner.type(k, "t")
    assert k.tracking_edit.hasFocus()
    ok, text = scanner.scan("COURIER-778812")
    assert ok and k.tracking_edit.text() == "COURIER-778812"
    scanner.type(k, "", Qt.Key.Key_Return)
    assert k.view is None
    with demo_db.read() as s:
        sh = s.scalars(select(Shipment).where(Shipment.order_id == ids["#M1"])).one()
        assert (sh.carrier, sh.tracking_number, sh.status) == ("Manual", "COURIER-778812", "shipped")


def test_packing_lists_what_is_not_picked_last_and_quietly(qtbot, demo_db, station):
    """A line with nothing in the tote (backordered, or left on the shelf) is not a line to pack: it comes after
    the lines that are, without a count to reach."""
    window, _scanner = station
    ids = add_floor(demo_db, [("#Q3", [("FLOOR-MUG-BLU", 2), ("FLOOR-MUG-RED", 1)])])
    with demo_db.write() as s:
        red = s.scalars(select(OrderLine).where(OrderLine.order_id == ids["#Q3"], OrderLine.sku == "FLOOR-MUG-RED")).one()
        orders.record_pick(s, SETUP, red.id, 1, bin="A-03-2")
    window.show_screen("packing")
    k = window.packing
    k.open_order("#Q3", from_scan=False)
    qtbot.waitUntil(lambda: k.view is not None)
    assert [k.lines.item(r, 0).text() for r in range(k.lines.rowCount())] == ["FLOOR-MUG-RED", "FLOOR-MUG-BLU"]
    assert (k.lines.item(0, 3).text(), k.lines.item(1, 3).text()) == ("1", "—")
    assert "not picked" in k.lines.item(1, 1).text()


def test_the_wave_count_progress_and_short_notice_agree_everywhere(qtbot, demo_db, station):
    """Waves says how many orders Build wave takes, and takes them; after a short the picking screen, its wave
    chooser and the Waves list say the same; the short notice goes on the next pick."""
    window, scanner = station
    add_floor(demo_db, [("#G1", [("FLOOR-MUG-RED", 2)]), ("#G2", [("FLOOR-LANTERN", 1)])])
    window.show_screen("waves")
    w = window.waves
    w.location.setCurrentIndex(w.location.findData("RNO"))
    w.channel.setCurrentIndex(w.channel.findData("web"))
    n = w.ready
    assert n >= 2 and w.ready_label.text() == (f"{n} orders at RNO are ready to pick with these choices; "
                                               f"the wave takes all {n}.")
    w.kind.setCurrentIndex(w.kind.findData("multi"))
    assert w.ready < n and str(w.ready) in w.ready_label.text()
    types = [w.order_type.itemText(i) for i in range(w.order_type.count())]
    assert "Direct to consumer" in types and "Wholesale" in types and "dtc" not in types  # words, not stored values
    w.kind.setCurrentIndex(w.kind.findData("all"))
    built = []
    w.built.connect(built.append)
    qtbot.mouseClick(w.build_button, Qt.MouseButton.LeftButton)
    assert built and built[0].orders == n
    assert w.ready_label.text() == "No orders at RNO are ready to pick with these choices."
    wave_id = built[0].wave_id

    window.show_screen("picking")
    p = window.picking
    assert scanner.scan(f"WAVE-{wave_id}")[0]
    units = p.summary.to_pick
    assert p.progress_text.text().startswith(f"0 of {units} units picked")
    while p.current.sku != "FLOOR-MUG-RED":
        assert scanner.scan(p.current.bin_code)[0]
        for _unit in range(p.current.quantity):
            assert scanner.scan(barcode_of(demo_db, p.current.sku))[0]
    picked = p.summary.picked
    # A-03-2 holds no red mugs after all: short, nothing found.
    assert scanner.scan("A-03-2")[0]
    assert scanner.scan("SHORT")[0] and scanner.scan("SHORT")[0]
    assert p.route_label.isVisible() and "#G1" in p.route_label.text()
    said = f"{picked} of {units - 2} units picked, 2 short"
    assert p.progress_text.text().startswith(said + " · ")
    assert p.wave_combo.currentText().endswith("— " + said)
    # The next pick: the short's notice is old news.
    assert scanner.scan(p.current.bin_code)[0]
    assert scanner.scan(barcode_of(demo_db, p.current.sku))[0]
    assert not p.route_label.isVisible()
    said = f"{picked + 1} of {units - 2} units picked, 2 short"
    assert p.progress_text.text().startswith(said) and p.wave_combo.currentText().endswith("— " + said)
    window.show_screen("waves")
    row = next((r for r, x in enumerate(w.waves) if x.id == wave_id), None)
    assert row is not None or p.current is None
    if row is not None:  # still open: the Waves list says what the picking screen says
        assert w.table.item(row, 4).text() == said


def _three_orders_numbered_1002(db) -> list[int]:
    """One shop that numbered three orders #1002 (its numbering started again): same channel, same number."""
    from datetime import datetime, timezone

    from tests.conftest import make_order

    add_floor(db, [])
    ids = []
    with db.write() as s:
        for i, (who, day) in enumerate((("Ada Lovelace", 3), ("Grace Hopper", 4), ("Alan Turing", 5))):
            (r,) = intake.take_in(s, SETUP, [make_order(f"DUP-{i}", [("FLOOR-MUG-RED", 1)], number="#1002",
                                                                  customer_name=who,
                                                                  placed_at=datetime(2026, 11, day, 9, 0, tzinfo=timezone.utc))]).results
            ids.append(r.order_id)
        grace = s.scalars(select(OrderLine).where(OrderLine.order_id == ids[1])).one()
        orders.record_pick(s, SETUP, grace.id, 1, bin="A-03-2")  # Grace's mug is in a tote, waiting to be packed
    return ids


def test_a_scan_that_matches_several_orders_asks_which_one_at_packing(qtbot, demo_db, station):
    from PySide6.QtWidgets import QApplication

    from desktop.order_scan import OrderChoiceDialog

    window, scanner = station
    ids = _three_orders_numbered_1002(demo_db)
    window.show_screen("packing")
    k = window.packing
    ok, text = scanner.scan("#1002")
    assert ok and text == "3 orders match #1002: choose the one to pack.", text
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, OrderChoiceDialog)
    rows = [[dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())] for r in range(3)]
    # Newest first, each with what tells it apart.
    assert [(r[0], r[1], r[3]) for r in rows] == [("1", "#1002", "Alan Turing"), ("2", "#1002", "Grace Hopper"),
                                                   ("3", "#1002", "Ada Lovelace")]
    assert len({r[2] for r in rows}) == 3 and all(r[5] for r in rows)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.table)
    scanner.type(QApplication.focusWidget(), "2")  # the packer answers with a number key
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None)
    assert k.view is not None and k.view.order_id == ids[1]
    assert k.view.number == "#1002" and "Order #1002" in k.status.text()


def test_a_scan_that_matches_several_orders_asks_which_one_in_the_orders_queue(qtbot, demo_db, station):
    from PySide6.QtWidgets import QApplication

    from desktop.order_scan import OrderChoiceDialog

    window, scanner = station
    ids = _three_orders_numbered_1002(demo_db)
    window.show_screen("orders")
    window.queue.scan_result.connect(lambda ok, said: scanner.results.append((bool(ok), said)))
    ok, text = scanner.scan("#1002")
    assert ok and text == "3 orders match #1002: choose one"
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, OrderChoiceDialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.table)
    scanner.type(QApplication.focusWidget(), "", Qt.Key.Key_Down)
    scanner.type(QApplication.focusWidget(), "", Qt.Key.Key_Down)
    scanner.type(QApplication.focusWidget(), "", Qt.Key.Key_Return)  # the third: Ada's, the oldest
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None)
    qtbot.waitUntil(lambda: window.current_screen() is window.detail and window.detail.order is not None
                    and window.detail.order.id == ids[0])


def test_seven_lines_fit_at_1366x768_and_the_screen_says_how_many_items_are_left(qtbot, demo_db, station):
    """Issue #14: the 7th line was below the fold at 1366x768 and nothing said how many items were left in all."""
    from oms import catalog, orders as order_service
    from tests.conftest import make_order, stock

    window, scanner = station
    window.resize(1366, 768)
    skus = [f"SEVEN-{i}" for i in range(1, 8)]
    with demo_db.write() as s:
        for i, sku in enumerate(skus):
            catalog.add_product(s, SETUP, sku, f"Seven-line test item {i + 1}", price="5.00", weight_g=200)
    for sku in skus:
        stock(demo_db, sku, "RNO", 5, bin="A-01-1")  # only Reno has them: routing reserves them there
    with demo_db.write() as s:
        (r,) = intake.take_in(s, SETUP, [make_order("SEVEN", [(sku, 2 if i == 0 else 1) for i, sku in enumerate(skus)])]).results
        for line in s.scalars(select(OrderLine).where(OrderLine.order_id == r.order_id)):
            order_service.record_pick(s, SETUP, line.id, line.quantity, bin="A-01-1")
    window.show_screen("packing")
    k = window.packing
    ok, text = scanner.scan("#SEVEN")
    assert ok, text
    qtbot.waitUntil(lambda: k.view is not None and k.lines.rowCount() == 7)
    qtbot.wait(50)
    k.grab().save("/tmp/packing-7.png")
    viewport = k.lines.viewport().rect()
    last = k.lines.visualRect(k.lines.model().index(6, 0))
    assert viewport.contains(last), (last, viewport)  # the 7th line is on screen, whole
    assert k.left_label.text() == "8 items left to scan"
    assert k.tracking_edit.placeholderText() == "Courier's tracking number"  # what to type there, not "manual carrier"
    ok, _text = scanner.scan("SEVEN-3")
    assert ok and k.left_label.text() == "7 items left to scan"
    for sku in skus:
        while k.totals().get(next(l.line_id for l in k.view.lines if l.sku == sku), 0) < (2 if sku == "SEVEN-1" else 1):
            assert scanner.scan(sku)[0]
    assert k.left_label.text() == "All 8 items scanned"


def test_a_label_the_carrier_refuses_is_said_in_red_with_the_carriers_words_and_what_to_do(qtbot, demo_db, station):
    from sync.emulators.easypost import EasyPostEmulator

    window, scanner = station
    ids = add_floor(demo_db, [("#N1", [("FLOOR-MUG-RED", 1)])])
    with demo_db.write() as s:
        s.get(SalesOrder, ids["#N1"]).ship_address1 = "Nowhere Lane 1"  # the carrier cannot find it
    with EasyPostEmulator(api_key="EZTK_test", seed=8) as ep:
        _easypost_connection(demo_db, ep.url)
        wave_id = picked_for_packing(qtbot, window, scanner, demo_db)
        k = window.packing
        pack_by_scanner(window, scanner, demo_db, totes(demo_db, wave_id)["#N1"])
        report = _buy_labels(demo_db, ep.url)
        assert report.failed == 1 and ep.buy_calls == 0
    qtbot.waitUntil(lambda: "No label for #N1" in k.awaiting_label.text(), timeout=5000)
    text = k.awaiting_label.text()
    assert "the carrier refused it" in text and "Address not found" in text and "void the shipment" in text
    assert k.awaiting_label.property("state") == "error"
    with demo_db.read() as s:
        assert s.get(SalesOrder, ids["#N1"]).status == "packed"


def test_a_pick_scan_reads_nothing_of_the_wave_again_however_big_the_wave(qtbot, demo_db, station):
    """The picking screen shows what a confirmed stop changed: an item scan costs the same statements in a wave of
    2 orders as in one of 12, and none of them reads the wave's open tasks or its summary again."""
    from sqlalchemy import event

    from oms import fulfilment

    window, scanner = station
    add_floor(demo_db, [(f"#Q{i}", [("FLOOR-MUG-RED", 1), ("FLOOR-MUG-BLU", 1)]) for i in range(14)])
    with demo_db.write() as s:
        small = fulfilment.build_wave(s, SETUP, "RNO", limit=2).wave_id
        big = fulfilment.build_wave(s, SETUP, "RNO", limit=12).wave_id
    window.show_screen("picking")
    p = window.picking
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    per_scan = {}
    for wave_id in (small, big):
        assert scanner.scan(f"WAVE-{wave_id}")[0]
        t = p.current
        if t.bin_code:
            assert scanner.scan(t.bin_code)[0]
        left = p.summary.to_pick - p.summary.picked
        statements.clear()
        event.listen(demo_db.engine, "before_cursor_execute", seen)
        try:
            ok, text = scanner.scan(barcode_of(demo_db, t.sku))
        finally:
            event.remove(demo_db.engine, "before_cursor_execute", seen)
        assert ok, text
        assert p.summary.to_pick - p.summary.picked == left - 1  # the progress moved by the unit taken
        assert not [st for st in statements if "FROM pick_task JOIN product" in st or "FROM wave JOIN location" in st]
        per_scan[wave_id] = len(statements)
        with demo_db.read() as s:  # what the screen shows is what is in the database
            assert [(o.task_ids, o.quantity) for o in p.open] == [(o.task_ids, o.quantity) for o in fulfilment.open_stops(s, wave_id)]
    assert per_scan[small] == per_scan[big], per_scan
