"""Desktop speed at warehouse scale: `python -m bench gui --orders 200000 [--skus 100000] [--db URL]`.

Builds (once, then reuses) a database with that many orders and SKUs, opens the
real main window offscreen with the real database worker, and prints medians of:
queue open to first rows, bucket switch, search, scroll to the end, and stock
scan-to-result. The demo seeder goes through every service and manages about a
thousand orders a second, so the bulk data here is written with Core executemany:
believable rows that satisfy every CHECK constraint, not a replay of history.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, insert, select

CHUNK = 20_000


def cache_path(orders: int, skus: int) -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("Quayside", "Quayside")) / f"bench-gui-{orders}-{skus}.sqlite3"


# -- building the data -----------------------------------------------------------------------------


def build(db, orders: int, skus: int, *, rng: random.Random, log) -> None:
    from oms import inventory, orders as oms_orders, seed, users
    from oms.catalog.models import Barcode, Product
    from oms.core.gs1 import gs1_check_digit
    from oms.core.models import AuditEvent
    from oms.inventory.models import Bin, BinStock, Location, StockLevel, StockMovement
    from oms.orders.models import Channel, OrderLine, SalesOrder
    from oms.shipping.models import Package, Shipment, ShipmentLine

    now = datetime.now(timezone.utc)
    t0 = time.monotonic()
    with db.write() as s:
        for code, name, kind, prio, city, region, postal, aisles in seed.LOCATIONS:
            lid = inventory.add_location(s, seed.SEED_ACTOR, code, name, kind=kind, priority=prio, city=city, region=region,
                                       postal_code=postal)
            inventory.add_bins(s, lid, [f"{a}-{bay:02d}-{lvl}" for a in aisles for bay in range(1, 13) for lvl in range(1, 5)])
        for code, name, kind, otype in seed.CHANNELS:
            oms_orders.add_channel(s, seed.SEED_ACTOR, code, name, kind, otype)
        users.add_user(s, seed.SEED_ACTOR, "maria", "Maria Lopez", "packer")
        locations = [r[0] for r in s.execute(select(Location.id).order_by(Location.priority))]
        bins = {lid: [b for b, in s.execute(select(Bin.id).where(Bin.location_id == lid))] for lid in locations}
        channels = dict(s.execute(select(Channel.code, Channel.id)).all())

    # -- products, barcodes, stock
    specs = [(p[0], p[1], v, size, p[4], p[5], p[6]) for p in seed.PRODUCTS for v in p[2] for size in p[3]]
    products, barcodes, levels, bin_rows, moves = [], [], [], [], []
    for i in range(skus):
        prefix, noun, variant, size, price, weight, tags = specs[i % len(specs)]
        pid = i + 1
        edition = i // len(specs)
        sku = f"{prefix}-{variant}" + (f"-{size}" if size != "STD" else "") + (f"-E{edition}" if edition else "")
        name = f"{noun}, {seed.COLOURS.get(variant, variant.title())}" + (f", {size.lower()}" if size != "STD" else "") \
            + (f" (edition {edition})" if edition else "")
        products.append({"id": pid, "sku": sku, "name": name, "weight_g": weight, "price_minor": price - 1, "currency": "USD",
                         "tags": tags, "active": True, "created_at": now - timedelta(days=400)})
        body = f"{seed.GS1_PREFIX}{i:05d}"[-12:]
        barcodes.append({"product_id": pid, "kind": "ean", "code": body + str(gs1_check_digit(body))})
        barcodes.append({"product_id": pid, "kind": "custom", "code": f"QS{pid}"})
        for k, lid in enumerate(locations):
            if k and rng.random() < 0.5:
                continue
            qty = rng.choice([6, 12, 24, 48, 60, 120, 240])
            bid = rng.choice(bins[lid])
            levels.append({"product_id": pid, "location_id": lid, "on_hand": qty, "allocated": 0, "updated_at": now})
            bin_rows.append({"bin_id": bid, "product_id": pid, "on_hand": qty})
            moves.append({"product_id": pid, "location_id": lid, "bin_id": bid, "kind": "receipt", "quantity": qty,
                          "reason": "", "reference": "PO-OPENING", "user": "demo", "station": "seed",
                          "created_at": now - timedelta(days=380)})
    _bulk(db, Product, products)
    _bulk(db, Barcode, barcodes)
    _bulk(db, StockLevel, levels)
    _bulk(db, BinStock, bin_rows)
    _bulk(db, StockMovement, moves)
    log(f"  {skus:,} products with barcodes and stock in {time.monotonic() - t0:.1f} s")

    # -- orders, one year of them, the last few days still in progress
    t1 = time.monotonic()
    carriers = [("UPS", "Ground"), ("USPS", "Priority"), ("FedEx", "Home Delivery")]
    placed_all = sorted(now - timedelta(minutes=rng.randint(5, 365 * 24 * 60)) for _ in range(orders))
    midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    line_id = shipment_id = 0
    for start in range(0, orders, CHUNK):
        order_rows, line_rows, audit_rows, ship_rows, pkg_rows, ship_line_rows = [], [], [], [], [], []
        for k in range(start, min(orders, start + CHUNK)):
            oid = k + 1
            placed = placed_all[k]
            age_h = (now - placed).total_seconds() / 3600
            r = rng.random()
            channel = "web" if r < 0.6 else "amazon" if r < 0.9 else "northwind"
            wholesale = channel == "northwind"
            status = _status_for(age_h, rng)
            first, last = rng.choice(seed.FIRST), rng.choice(seed.LAST)
            city, region, postal = rng.choice(seed.CITIES)
            nlines = rng.choice([1, 1, 1, 2, 2, 3]) if not wholesale else rng.randint(3, 6)
            picks = rng.sample(range(skus), nlines)
            units = 0
            shipped_at = None
            if status in ("shipped", "delivered"):
                shipped_at = min(placed + timedelta(hours=rng.uniform(4, 30)), now)
                if status == "shipped" and rng.random() < 0.3:
                    shipped_at = max(midnight, placed)  # shipped today
            sid = None
            if shipped_at is not None:
                shipment_id += 1
                sid = shipment_id
                carrier, service = rng.choice(carriers)
                tracking = {"UPS": "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16)),
                            "USPS": "9400" + "".join(rng.choice("0123456789") for _ in range(18)),
                            "FedEx": "".join(rng.choice("0123456789") for _ in range(12))}[carrier]
                ship_rows.append({"id": sid, "order_id": oid, "location_id": locations[0], "status": "shipped",
                                  "carrier": carrier, "service": service, "tracking_number": tracking,
                                  "created_at": shipped_at, "shipped_at": shipped_at})
                pkg_rows.append({"shipment_id": sid, "box": "M", "weight_g": rng.randint(300, 4000), "tracking_number": tracking})
            for j, p in enumerate(picks):
                qty = rng.choice([1, 1, 1, 2]) if not wholesale else rng.choice([6, 12, 24])
                units += qty
                line_id += 1
                q = _line_quantities(status, qty, j)
                line_rows.append({"id": line_id, "order_id": oid, "external_line_id": str(j + 1), "product_id": p + 1,
                                  "sku": products[p]["sku"], "description": products[p]["name"], "unknown_sku": False,
                                  "quantity": qty, "unit_price_minor": products[p]["price_minor"], **q})
                if sid is not None:
                    ship_line_rows.append({"shipment_id": sid, "order_line_id": line_id, "quantity": qty})
            number = {"web": f"#{100000 + k}", "amazon": f"113-{rng.randint(1000000, 9999999)}-{rng.randint(1000000, 9999999)}",
                      "northwind": f"PO{450000 + k}"}[channel]
            total = units * 1900
            order_rows.append({
                "id": oid, "channel_id": channels[channel], "external_id": f"{channel.upper()}-{100000 + k}", "number": number,
                "order_type": "wholesale" if wholesale else "marketplace" if channel == "amazon" else "dtc",
                "status": status, "on_hold": status == "on_hold",
                "hold_reason": "Address check: customer asked to confirm the apartment number" if status == "on_hold" else "",
                "currency": "USD", "subtotal_minor": total, "shipping_minor": 0, "tax_minor": 0, "discount_minor": 0,
                "total_minor": total, "customer_name": "Northwind Retail" if wholesale else f"{first} {last}",
                "customer_email": "edi@northwind.example" if wholesale else f"{first}.{last}{k % 997}@example.com".lower(),
                "ship_name": f"{first} {last}", "ship_company": "", "ship_address1": f"{rng.randint(10, 9999)} {rng.choice(seed.STREETS)}",
                "ship_address2": "", "ship_city": city, "ship_region": region, "ship_postal_code": postal, "ship_country": "US",
                "ship_phone": "", "service_level": "standard",
                "location_id": None if status in ("new", "on_hold") else locations[0],
                "placed_at": placed, "ship_by": (placed + timedelta(days=2)).replace(hour=22, minute=0, second=0, microsecond=0),
                "deliver_by": placed + timedelta(days=6), "delivered_at": shipped_at + timedelta(days=2) if status == "delivered" else None,
                "cancelled_at": placed + timedelta(hours=1) if status == "cancelled" else None, "shipped_at": shipped_at,
                "line_count": nlines, "unit_count": 0 if status == "cancelled" else units, "payload_hash": "",
                "created_at": placed, "updated_at": shipped_at or placed,
            })
            audit_rows.append({"at": placed, "user": "sync", "station": "shop", "action": "order.imported", "entity": "order",
                               "entity_id": str(oid), "order_id": oid, "summary": f"Imported with {nlines} lines, {units} units",
                               "before": None, "after": None})
        _bulk(db, SalesOrder, order_rows)
        _bulk(db, OrderLine, line_rows)
        _bulk(db, Shipment, ship_rows)
        _bulk(db, Package, pkg_rows)
        _bulk(db, ShipmentLine, ship_line_rows)
        _bulk(db, AuditEvent, audit_rows)
        done = min(orders, start + CHUNK)
        log(f"\r  {done:,}/{orders:,} orders ({done / (time.monotonic() - t1):,.0f}/s)", end="")
    log("")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def _status_for(age_h: float, rng: random.Random) -> str:
    r = rng.random()
    if age_h > 120:
        return "delivered" if r < 0.93 else "cancelled" if r < 0.97 else "shipped"
    if age_h > 48:
        return ("delivered" if r < 0.55 else "shipped" if r < 0.75 else "backordered" if r < 0.83
                else "partially_allocated" if r < 0.88 else "cancelled" if r < 0.92 else "on_hold" if r < 0.96 else "allocated")
    return ("new" if r < 0.10 else "allocated" if r < 0.35 else "picking" if r < 0.45 else "packed" if r < 0.58
            else "shipped" if r < 0.75 else "backordered" if r < 0.85 else "partially_allocated" if r < 0.92 else "on_hold")


def _line_quantities(status: str, qty: int, j: int) -> dict:
    q = dict(allocated=0, backordered=0, picked=0, packed=0, shipped=0, cancelled=0, returned=0)
    if status == "allocated":
        q["allocated"] = qty
    elif status == "picking":
        q.update(allocated=qty, picked=qty)
    elif status == "packed":
        q.update(allocated=qty, picked=qty, packed=qty)
    elif status in ("shipped", "delivered"):
        q["shipped"] = qty
    elif status == "cancelled":
        q["cancelled"] = qty
    elif status == "backordered":
        q["backordered"] = qty
    elif status == "partially_allocated":
        q["allocated" if j == 0 else "backordered"] = qty
    return q


def _bulk(db, model, rows: list[dict]) -> None:
    if not rows:
        return
    with db.write() as s:
        for i in range(0, len(rows), CHUNK):
            s.execute(insert(model), rows[i:i + CHUNK])


def open_or_build(url: str | None, orders: int, skus: int, *, rebuild: bool, log):
    from oms.catalog.models import Product
    from oms.core.db import Database
    from oms.orders.models import SalesOrder

    if url is None:
        path = cache_path(orders, skus)
        if rebuild and path.exists():
            for p in path.parent.glob(path.name + "*"):
                p.unlink()
        url = f"sqlite:///{path}"
    db = Database(url)
    db.migrate()
    with db.read() as s:
        have = s.scalar(select(func.count()).select_from(SalesOrder))
        have_skus = s.scalar(select(func.count()).select_from(Product))
    if have == orders and have_skus == skus:
        log(f"reusing {db.description}: {orders:,} orders, {skus:,} SKUs")
        return db
    if have or have_skus:
        raise SystemExit(f"{db.description} holds {have:,} orders and {have_skus:,} SKUs, not {orders:,} and {skus:,}; "
                         "use --rebuild (SQLite cache) or an empty database")
    log(f"building {orders:,} orders and {skus:,} SKUs in {db.description} …")
    t = time.monotonic()
    build(db, orders, skus, rng=random.Random(2026), log=log)
    log(f"built in {time.monotonic() - t:.0f} s")
    return db


# -- measuring ---------------------------------------------------------------------------------------


def _wait(app, condition, timeout: float = 30.0) -> None:
    """Wait in a real Qt event loop, as the application does: idle in native code between 1 ms checks.

    A Python busy loop here would hold the GIL against the database worker and make every
    measurement slower than the application is.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return
    end = time.monotonic() + timeout
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: (condition() or time.monotonic() > end) and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError("the window did not answer in time")


def _loaded(window):
    return lambda: (not window.queue.model.is_loading and window.queue.model.rowCount() > 0
                    and window.queue.model.row_at(0) is not None)


def measure(db, repeats: int, log) -> dict[str, list[float]]:
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.app import application
    from desktop.main_window import MainWindow
    from desktop.qt import QSettings
    from desktop.tasks import Tasks
    from desktop.window_state import WindowState
    from oms import desk
    from oms.catalog.models import Barcode
    from oms.core.gs1 import classify_scan
    from oms.core.settings import Settings
    from oms.orders.models import OrderLine, SalesOrder
    from oms.shipping.models import Shipment

    app = application()
    tmp = Path(tempfile.mkdtemp(prefix="quayside-bench-"))
    results: dict[str, list[float]] = {k: [] for k in ("window", "open", "bucket", "search", "scroll_end", "scan", "counts")}
    settings = Settings(station_name="bench", user="maria", sound_enabled=False)

    def new_window():
        state = WindowState(QSettings(str(tmp / "w.ini"), QSettings.Format.IniFormat))
        tasks = Tasks(db)
        return tasks, MainWindow(tasks, settings, state, install_scanner=False, sound=False)

    # Queue open to first rows: a new window each time; the queue opens when the window starts
    # (filter choices, count and first page on the worker) and ends with the first rows painted.
    for _ in range(repeats):
        t = time.perf_counter()
        tasks, window = new_window()
        window.resize(1366, 768)
        window.show()
        app.processEvents()
        results["window"].append(time.perf_counter() - t)
        t = time.perf_counter()
        window.start()
        _wait(app, _loaded(window))
        window.queue.table.viewport().repaint()
        results["open"].append(time.perf_counter() - t)
        window.close()
        tasks.shutdown()

    tasks, window = new_window()
    window.resize(1366, 768)
    window.show()
    window.start()
    _wait(app, _loaded(window))
    model = window.queue.model

    for _ in range(repeats):
        for key in [b.key for b in desk.BUCKETS]:
            t = time.perf_counter()
            window.queue.buckets.select(key)
            _wait(app, lambda: not model.is_loading and model.query_filter.bucket == key)
            window.queue.table.viewport().repaint()
            results["bucket"].append(time.perf_counter() - t)
    window.queue.buckets.select("all")
    _wait(app, lambda: not model.is_loading)

    # Bucket counts run in the background (after a filter change, F5 or another station's change).
    for _ in range(repeats):
        t = time.perf_counter()
        with db.read() as s:
            desk.bucket_counts(s)
        results["counts"].append(time.perf_counter() - t)

    with db.read() as s:
        rng = random.Random(5)
        emails = s.scalars(select(SalesOrder.customer_email).where(SalesOrder.id.in_([rng.randint(1, 1000) * 97 for _ in range(20)]))).all()
        numbers = s.scalars(select(SalesOrder.number).where(SalesOrder.id.in_([rng.randint(1, 1000) * 131 for _ in range(20)]))).all()
        skus = s.scalars(select(OrderLine.sku).where(OrderLine.id.in_([rng.randint(1, 2000) * 97 for _ in range(20)]))).all()
        tracking = s.scalars(select(Shipment.tracking_number).where(Shipment.id.in_([rng.randint(1, 1000) * 53 for _ in range(20)]))).all()
        top = s.scalar(select(func.max(Barcode.id))) or 1  # any size of catalogue: sixty EANs picked at random
        eans = s.scalars(select(Barcode.code).where(Barcode.kind == "ean", Barcode.id.in_([rng.randint(1, top) for _ in range(120)]))
                         .limit(60)).all()
    terms = [e[:4] for e in emails[:8]] + [n[:6] for n in numbers[:8]] + [k for k in skus[:6]] + [t[:10] for t in tracking[:6]] \
        + ["olivia", "Garcia", "Northwind"] \
        + [e[3:8] for e in emails[8:14]] + [n[-5:] for n in numbers[8:12]] + ["obins", "arcia", "on7@"]  # inside words
    for _ in range(max(1, repeats // 3)):
        for term in terms:
            window.queue.search.blockSignals(True)
            window.queue.search.setText(term)
            window.queue.search.blockSignals(False)
            t = time.perf_counter()
            window.queue.apply_filters()  # what the debounce timer calls once typing pauses
            _wait(app, lambda: not model.is_loading and model.query_filter.search == term)
            window.queue.table.viewport().repaint()
            results["search"].append(time.perf_counter() - t)
    window.queue.search.clear()
    window.queue.apply_filters()
    _wait(app, lambda: not model.is_loading and model.query_filter.search == "")

    for _ in range(repeats):
        window.queue.table.scrollToTop()
        _wait(app, lambda: model.row_at(0) is not None)
        t = time.perf_counter()
        window.queue.table.scrollToBottom()
        last = model.rowCount() - 1
        _wait(app, lambda: model.row_at(last) is not None)
        window.queue.table.viewport().repaint()
        results["scroll_end"].append(time.perf_counter() - t)

    window.show_screen("stock")
    stock = window.stock
    for code in eans:
        scan = classify_scan(code)
        done = []
        stock.shown.connect(lambda: done.append(1))
        t = time.perf_counter()
        window.router.route(scan)
        _wait(app, lambda: bool(done))
        stock.repaint()
        results["scan"].append(time.perf_counter() - t)
        stock.shown.disconnect()
        assert stock.result.product is not None, code
    window.close()
    tasks.shutdown()
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench gui", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--db", help="database URL (default: a cached SQLite file built on first use)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="build the cached SQLite database again")
    args = parser.parse_args(argv)

    def log(text: str, end: str = "\n") -> None:
        print(text, end=end, file=sys.stderr, flush=True)

    db = open_or_build(args.db, args.orders, args.skus, rebuild=args.rebuild, log=log)
    results = measure(db, args.repeats, log)
    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    p90 = lambda xs: sorted(xs)[int(len(xs) * 0.9) - 1] * 1000 if len(xs) >= 10 else max(xs) * 1000  # noqa: E731
    print(f"GUI bench: {args.orders:,} orders, {args.skus:,} SKUs, {db.description}")
    rows = [
        ("main window built and shown", "window", None),
        ("queue open to first rows", "open", 300),
        ("bucket switch", "bucket", 150),
        ("search (after debounce)", "search", 150),
        ("scroll to the last row", "scroll_end", None),
        ("stock scan to result", "scan", 20),
        ("bucket counts (background)", "counts", None),
    ]
    for title, key, target in rows:
        xs = results[key]
        goal = f"  (target {target} ms)" if target else ""
        print(f"  {title:<28} median {ms(xs):7.1f} ms   p90 {p90(xs):7.1f} ms   n={len(xs)}{goal}")
    db.dispose()
    return 0
