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
    args = parser.parse_args(argv)
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
    from oms.db import Database
    from oms.settings import Settings

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

                from oms.models import SalesOrder

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
        from oms.gs1 import classify_scan

        stock_product()
        window.router.route(classify_scan("4006381333931"))
        wait_until(app, lambda: window.stock.result is not None and window.stock.result.product is None)
        settle(app, 0.1)

    shots = [
        ("orders-queue-all", queue_all),
        ("orders-queue-backordered", queue_backordered),
        ("orders-queue-search", queue_search),
        ("order-detail-delivered", detail_of("delivered")),
        ("order-detail-on-hold", detail_of("on_hold")),
        ("order-detail-packed", detail_of("packed")),
        ("stock-lookup-product", stock_product),
        ("stock-lookup-choose", stock_candidates),
        ("scan-feedback-error", stock_scan_error),
    ]
    for width, height in SIZES:
        window.resize(width, height)
        settle(app)
        for name, show in shots:
            if show() is False:
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
    for name, dialog in dialogs:
        dialog.show()
        settle(app)
        dialog.grab().save(str(out / f"{name}.png"))
        dialog.close()
    # The real refusal of a database from a newer Quayside, as a person would meet it.
    from sqlalchemy import text

    from oms.errors import OmsError

    newer = Database(f"sqlite:///{tmp / 'newer.sqlite3'}")
    newer.migrate()
    with newer.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0009'"))
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
    db.dispose()
    count = len(list(out.glob("*.png")))
    print(f"{count} screenshots in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
