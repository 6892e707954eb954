"""Render every screen and dialog to PNG at 1366x768 and 1920x1080: `python -m desktop.screenshots --out DIR`.

Seeds a demo SQLite database in a temporary folder, opens the real main window on
it, walks through the screens the way a person would, and saves what is shown.
Window state goes to the temporary folder too, so the user's own is untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

SIZES = ((1366, 768), (1920, 1080))


def wait_until(app, condition, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the screen did not finish loading")
        app.processEvents()
        time.sleep(0.01)


def settle(app, seconds: float = 0.25) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.screenshots")
    parser.add_argument("--out", default="screenshots", help="folder for the PNG files")
    parser.add_argument("--orders", type=int, default=300, help="demo orders to seed")
    parser.add_argument("--only", default="", help="comma-separated starts of shot names, e.g. documents,dialog-partner")
    args = parser.parse_args(argv)
    only = tuple(p.strip() for p in args.only.split(",") if p.strip())

    def wanted(name: str) -> bool:
        return not only or name.startswith(only)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix="quayside-shots-"))
    os.environ["OMS_CONFIG_DIR"] = str(tmp / "config")

    from desktop.app import StartupWindow, application
    from desktop.dialogs import CancelLineDialog, NoteDialog, ReasonDialog, hold_reasons
    from desktop.main_window import MainWindow
    from desktop.qt import QMessageBox, QSettings
    from desktop.tasks import Tasks
    from desktop.window_state import WindowState
    from oms import seed
    from oms.core.db import Database
    from oms.core.settings import Settings

    app = application()
    db = Database(f"sqlite:///{tmp / 'demo.sqlite3'}")
    db.migrate()

    splash = StartupWindow()
    splash.step(splash.tr("Adding demo orders: {done} of {total}…").format(done=120, total=300), 120, 300)
    splash.show()
    settle(app)
    splash.grab().save(str(out / "dialog-startup.png"))
    splash.close()

    print(f"seeding {args.orders} demo orders…", file=sys.stderr)
    seed.master_data(db)
    seed.demo_orders(db, args.orders)
    from desktop import demo as demo_mode

    demo_mode.seed_edi(db, folder=str(tmp / "edi" / demo_mode.EDI_PARTNER))  # ACME's purchase orders, 997s and 855s

    settings = Settings(station_name="pack-1", user="maria")
    tasks = Tasks(db)
    state = WindowState(QSettings(str(tmp / "window.ini"), QSettings.Format.IniFormat))
    window = MainWindow(tasks, settings, state, install_scanner=False, sound=False)
    window.show()
    window.start()
    model = window.queue.model
    wait_until(app, lambda: model.rowCount() > 0 and not model.is_loading)
    wait_until(app, lambda: window.queue.buckets.count_text("all") != "")

    shots: list[tuple[str, callable]] = []
    from sqlalchemy import select

    from oms.core.gs1 import classify_scan
    from oms.fulfilment.models import WaveOrder
    from oms.orders.models import SalesOrder

    def queue_all():
        window.back_to_queue()
        window.queue.reset_filters()
        window.queue.buckets.select("all")
        wait_until(app, lambda: not model.is_loading)

    def queue_backordered():
        window.back_to_queue()
        window.queue.buckets.select("backordered")
        wait_until(app, lambda: not model.is_loading)

    def queue_search():
        window.back_to_queue()
        window.queue.buckets.select("all")
        window.queue.search.setText("oli")
        window.queue.apply_filters()
        wait_until(app, lambda: not model.is_loading)

    def detail_of(status: str):
        def show():
            with db.read() as s:
                from sqlalchemy import select

                from oms.orders.models import SalesOrder

                oid = s.scalar(select(SalesOrder.id).where(SalesOrder.status == status).order_by(SalesOrder.id.desc()).limit(1))
            if oid is None:
                return False
            window.queue.search.clear()
            window.open_order(oid)
            wait_until(app, lambda: window.detail.order is not None and window.detail.order.id == oid)
            return True
        return show

    def stock_product():
        window.show_screen("stock")
        window.stock.search.setText("MUG-RED-12OZ")
        window.stock.look_up()
        wait_until(app, lambda: window.stock.result is not None and window.stock.result.product is not None)

    def stock_candidates():
        window.show_screen("stock")
        window.stock.search.setText("lantern")
        window.stock.look_up()
        wait_until(app, lambda: window.stock.result is not None and bool(window.stock.result.candidates))

    def stock_scan_error():
        # A real scan of a barcode that is in no product: the error flash and its message.
        from oms.core.gs1 import classify_scan

        stock_product()
        window.router.route(classify_scan("4006381333931"))
        wait_until(app, lambda: window.stock.result is not None and window.stock.result.product is None)
        settle(app, 0.1)

    # -- the floor: a wave built for Reno, its first picks, a tote at the packing bench
    from oms import fulfilment
    from oms.core.audit import Actor

    floor_wave: dict[str, int] = {}

    def ensure_wave() -> int | None:
        if "id" not in floor_wave:
            try:
                with db.write() as s:
                    floor_wave["id"] = fulfilment.build_wave(s, Actor("deshawn", "pick-1"), "RNO", limit=12).wave_id
            except Exception as exc:  # noqa: BLE001 - no ready orders: the floor shots are skipped
                print(f"no wave for the floor screenshots: {exc}", file=sys.stderr)
                floor_wave["id"] = 0
        return floor_wave["id"] or None

    def waves_screen():
        if ensure_wave() is None:
            return False
        window.show_screen("waves")
        window.waves.refresh()
        wait_until(app, lambda: any(w.id == floor_wave["id"] for w in window.waves.waves))
        window.waves.select_wave(floor_wave["id"])
        wait_until(app, lambda: window.waves.pick_list is not None)

    def picking_task():
        if ensure_wave() is None:
            return False
        window.show_screen("picking")
        window.picking.open_wave(floor_wave["id"])
        wait_until(app, lambda: window.picking.summary is not None and window.picking.summary.id == floor_wave["id"])
        if window.picking.current is None:
            return False  # the packing shots picked it all
        settle(app, 1.6)  # the previous screen's flash fades

    def picking_wrong_bin():
        if picking_task() is False:
            return False
        window.router.route(classify_scan("H-12-4"))
        settle(app, 0.15)

    def packing_order():
        wave_id = ensure_wave()
        if wave_id is None:
            return False
        with db.write() as s:
            if s.scalar(select(WaveOrder.tote).where(WaveOrder.wave_id == wave_id).limit(1)) and not floor_wave.get("picked"):
                # Pick the first two totes' tasks so a packer has something to scan.
                first = s.scalars(select(WaveOrder.order_id).where(WaveOrder.wave_id == wave_id).order_by(WaveOrder.tote)).all()[:2]
                for t in fulfilment.open_tasks(s, wave_id):
                    number_order = s.scalar(select(SalesOrder.id).where(SalesOrder.number == t.order_number))
                    if number_order in first:
                        fulfilment.confirm_pick(s, Actor("deshawn", "pick-1"), t.task_id, t.quantity,
                                                bin_code=t.bin_code or None, item_code=t.sku)
                floor_wave["picked"] = 1
                floor_wave["tote"] = s.scalar(select(WaveOrder.tote).where(WaveOrder.order_id == first[0], WaveOrder.wave_id == wave_id))
        window.show_screen("packing")
        window.packing.go_back()
        window.packing.open_order(floor_wave["tote"])
        wait_until(app, lambda: window.packing.view is not None)
        line = window.packing.view.lines[0]
        window.packing.add_item(line.sku)
        settle(app, 1.6)

    def packing_wrong_item():
        if packing_order() is False:
            return False
        window.router.route(classify_scan("4006381333931"))
        wait_until(app, lambda: window.packing.status.state == "error")
        settle(app, 0.15)

    def printing_screen():
        window.show_screen("printing")
        window.printing.refresh()
        settle(app, 1.0)

    # -- routing: the rule list, and Tom's west-coast rule simulated before he saves it
    def routing_rules():
        screen = window.routing
        window.show_screen("routing")
        wait_until(app, lambda: screen.model.rowCount() > 0)
        screen.revert()
        screen.table.setCurrentIndex(screen.model.index(1, 2))
        wait_until(app, lambda: screen.form.rule is not None)

    def routing_simulate():
        screen = window.routing
        routing_rules()
        screen.new_rule()
        form = screen.form
        form.name.setText("Reno closed for stocktake: ship from Newark")
        form.allowed.boxes["EWR"].setChecked(True)
        screen.simulation.last.setValue(2000)
        screen.simulate()
        wait_until(app, lambda: screen.simulation.report is not None and screen.simulation.button.isEnabled())

    # -- sync: the demo shop and carrier in-process, one unreadable order, one refused message, then an outage
    os.environ.setdefault("OMS_SECRET_STORE", "file")  # never the user's keyring
    from desktop import demo as demo_mode
    from oms.core import outbox
    from oms.integration import sync_store

    demo_mode.SHOP_INTERVAL_S = demo_mode.CARRIER_INTERVAL_S = 1
    sync_demo: dict[str, object] = {}

    def ensure_sync(online: bool = True) -> None:
        if "demo" not in sync_demo:
            d = sync_demo["demo"] = demo_mode.DemoSync(db, every_seconds=30).start()
            broken = d.shop.make_order({sku: d.shop.add_product(sku) for sku in ("MUG-RED-12OZ",)}, d.shop.now())
            broken["line_items"][0]["quantity"] = broken["line_items"][0]["current_quantity"] = "two"
            d.shop.add_order(broken)
            with db.write() as s:
                outbox.enqueue(s, "easypost", "label.refund", "easypost:refund:shot", {"carrier_ref": "shp_gone"})
                s.flush()
                (row,) = sync_store.due(s, "easypost")
                sync_store.mark_failed(s, row.id, "EasyPost 422 SHIPMENT.REFUND.UNAVAILABLE: the label was already used")
            window.sync_worker.start()
        d = sync_demo["demo"]
        if online and d.shop._httpd is None:
            d.shop.start()
        if not online and d.shop._httpd is not None:
            d.shop.stop()
        want = "offline since" if not online else "shops online"  # three demo shops: counted when all are well
        wait_until(app, lambda: want in window.sync_label.text(), timeout=60)

    def sync_screen():
        ensure_sync()
        window.show_screen("sync")
        wait_until(app, lambda: window.sync_screen.quarantine_table.rowCount() > 0)
        window.sync_screen.quarantine_table.selectRow(0)

    def sync_offline():
        ensure_sync(online=False)
        window.show_screen("sync")
        window.sync_screen.refresh()
        table = window.sync_screen.connectors
        wait_until(app, lambda: any("Offline" in table.item(r, 2).text() for r in range(table.rowCount())))

    def settings_screen():
        ensure_sync()
        window.show_screen("settings")
        window.settings_screen.tabs.setCurrentIndex(0)
        wait_until(app, lambda: window.settings_screen.tokens is not None)

    def settings_partners():
        window.show_screen("settings")
        window.settings_screen.show_partners()
        panel = window.settings_screen.partners
        wait_until(app, lambda: panel.table.rowCount() > 0)
        panel.table.selectRow(0)

    # -- EDI: ACME's purchase orders in, our 997s and 855s out, one refused
    def documents_of(pick):
        def show():
            screen = window.documents
            window.show_screen("documents")
            screen.reset_filters()
            wait_until(app, lambda: screen.model.rowCount() > 0 and not screen.model.is_loading)
            row = next((r for r in range(screen.model.rowCount()) if pick(screen.model.row_at(r))), None)
            if row is None:
                return False
            doc_id = screen.model.row_at(row).id
            screen.select_row(row)
            wait_until(app, lambda: screen.pane.detail is not None and screen.pane.detail.row.id == doc_id)
        return show

    def documents_rejected():
        screen = window.documents
        window.show_screen("documents")
        screen.reset_filters()
        wait_until(app, lambda: not screen.model.is_loading and screen.chips.buttons["rejected"].isVisible())
        screen.chips.buttons["rejected"].click()
        wait_until(app, lambda: not screen.model.is_loading and screen.pane.detail is not None
                   and screen.pane.detail.row.status == "rejected")

    def reports_tab(report):
        def show():
            screen = window.reports
            window.show_screen("reports")
            wait_until(app, lambda: screen.tables and not screen.is_loading)
            screen.tabs.setCurrentWidget(screen.pages[report])
        return show

    shots = [
        ("routing-rules", routing_rules),
        ("routing-simulate", routing_simulate),
        ("order-detail-backordered", detail_of("partially_allocated")),
        ("waves", waves_screen),
        ("picking-task", picking_task),
        ("picking-wrong-bin", picking_wrong_bin),
        ("packing-order", packing_order),
        ("packing-wrong-item", packing_wrong_item),
        ("printing", printing_screen),
        ("documents", documents_of(lambda r: r.doc_type == "855")),
        ("documents-850", documents_of(lambda r: r.doc_type == "850" and r.status == "accepted")),
        ("documents-rejected", documents_rejected),
        ("orders-queue-all", queue_all),
        ("orders-queue-backordered", queue_backordered),
        ("orders-queue-search", queue_search),
        ("order-detail-delivered", detail_of("delivered")),
        ("order-detail-on-hold", detail_of("on_hold")),
        ("order-detail-packed", detail_of("packed")),
        ("stock-lookup-product", stock_product),
        ("stock-lookup-choose", stock_candidates),
        ("scan-feedback-error", stock_scan_error),
        ("sync", sync_screen),
        ("settings", settings_screen),
        ("settings-partners", settings_partners),
        ("sync-offline", sync_offline),
        ("reports", reports_tab("fill-rate")),
        ("reports-throughput", reports_tab("throughput")),
        ("reports-backorders", reports_tab("backorders")),
    ]
    # Waves and picking at every size before packing picks the wave's first totes.
    early = [shot for shot in shots if shot[0].startswith(("waves", "picking"))]
    for group in (early, [shot for shot in shots if shot not in early]):
        for width, height in SIZES:
            window.resize(width, height)
            settle(app)
            for name, show in group:
                if not wanted(name) or show() is False:
                    continue
                settle(app, 0.3)
                window.grab().save(str(out / f"{name}-{width}x{height}.png"))

    # Dialogs, each over the screen it belongs to.
    window.resize(1366, 768)
    detail_of("allocated")() or detail_of("delivered")()
    settle(app)
    number = window.detail.order.number
    dialogs = [
        ("dialog-hold", ReasonDialog(window, window.tr("Put {number} on hold").format(number=number),
                                     window.tr("Order {number} leaves the pick and ship queues until someone releases it.").format(number=number),
                                     window.tr("Put on hold"), suggestions=hold_reasons())),
        ("dialog-cancel-order", ReasonDialog(window, window.tr("Cancel order {number}").format(number=number),
                                             window.tr("Cancel every open line of {number}? Reserved stock is given back and the channel is told. "
                                                       "This cannot be undone.").format(number=number),
                                             window.tr("Cancel order"), danger=True,
                                             suggestions=(window.tr("Customer asked to cancel"), window.tr("Suspected fraud")))),
        ("dialog-cancel-line", CancelLineDialog(window, number, window.detail.order.lines[0].sku, 2)),
        ("dialog-note", NoteDialog(window, number)),
    ]
    from desktop.screens.settings_screen import ConnectionDialog

    dialogs.append(("dialog-connection", ConnectionDialog(window, "channel")))
    from desktop.screens.partners_settings import PartnerDialog
    from oms.partners import edi

    with db.read() as s:
        acme = next((p for p in edi.partners(s) if p.code == demo_mode.EDI_PARTNER), None)
        codes = (edi.item_xrefs(s, acme.id), edi.ship_tos(s, acme.id)) if acme else ((), ())
    if acme is not None:
        dialogs.append(("dialog-partner", PartnerDialog(window, acme, *codes)))
        connection = PartnerDialog(window, acme, *codes)
        connection.tabs.setCurrentIndex(1)
        dialogs.append(("dialog-partner-connection", connection))
        ship_tos = PartnerDialog(window, acme, *codes)
        ship_tos.tabs.setCurrentIndex(3)
        dialogs.append(("dialog-partner-ship-to", ship_tos))
    dialogs.append(("dialog-partner-new", PartnerDialog(window)))
    for name, dialog in dialogs:
        if not wanted(name):
            continue
        dialog.show()
        settle(app)
        dialog.grab().save(str(out / f"{name}.png"))
        dialog.close()
    # The real refusal of a database from a newer Quayside, as a person would meet it.
    from sqlalchemy import text

    from oms.core.errors import OmsError

    if not wanted("dialog-startup-error"):
        window.close()
        tasks.shutdown()
        if "demo" in sync_demo:
            sync_demo["demo"].stop()
        db.dispose()
        print(f"{len(list(out.glob('*.png')))} screenshots in {out}/")
        return 0
    newer = Database(f"sqlite:///{tmp / 'newer.sqlite3'}")
    newer.migrate()
    with newer.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    try:
        newer.migrate()
        reason = ""
    except OmsError as exc:
        reason = str(exc)
    newer.dispose()
    error = QMessageBox(QMessageBox.Icon.Critical, window.tr("Quayside cannot start"), reason)
    error.show()
    settle(app)
    error.grab().save(str(out / "dialog-startup-error.png"))
    error.close()

    window.close()
    tasks.shutdown()
    if "demo" in sync_demo:
        sync_demo["demo"].stop()
    db.dispose()
    count = len(list(out.glob("*.png")))
    print(f"{count} screenshots in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
