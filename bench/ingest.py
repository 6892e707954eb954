"""Ingest: normalized 3-line orders in through the intake door (imported and routed), against a plain-sqlite3 floor.

    python -m bench ingest --orders 20000 [--batch 500]

Every run starts from the same prepared SQLite file (3 locations, 500 products with
stock in Reno, shipping rates and the default routing rule). The floor and the door do
the same logical work per order: insert the order and its lines, reserve each line's
stock, record the allocations and an audit event. The floor does it with the standard
library's sqlite3 and executemany, with nothing checked and the location known in
advance; the door (`oms.intake.take_in`) does it with validation, idempotency lookup,
routing under the rules (candidate plans, scoring, a stored decision with its sentence)
and SQLAlchemy. The import alone (`oms.orders.import_orders`, nothing reserved) is timed
too, to show what routing adds.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from oms import catalog, intake, inventory, orders, routing
from oms.core.audit import Actor
from oms.core.db import Database
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder

ACTOR = Actor("bench", "bench")
PRODUCTS = 500


def prepare(path: Path) -> None:
    db = Database(f"sqlite:///{path}")
    db.migrate()
    with db.write() as s:
        locs = [inventory.add_location(s, ACTOR, code, code, priority=p) for code, p in (("RNO", 10), ("EWR", 20), ("DFW", 30))]
        orders.add_channel(s, ACTOR, "web", "Web shop", "shopify")
        for i in range(PRODUCTS):
            pid = catalog.add_product(s, ACTOR, f"SKU-{i:05d}", f"Product {i}", price=1000 + i)
            inventory.receive(s, ACTOR, pid, locs[0], 1_000_000)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()


def make_orders(n: int, seed: int = 1) -> list[NormalizedOrder]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    out = []
    for k in range(n):
        skus = rng.sample(range(PRODUCTS), 3)
        lines = tuple(NormalizedLine(str(j + 1), f"SKU-{s:05d}", rng.randint(1, 3), 1000 + s, f"Product {s}") for j, s in enumerate(skus))
        sub = sum(l.quantity * l.unit_price_minor for l in lines)
        out.append(NormalizedOrder(
            channel="web", external_id=str(100000 + k), number=f"#{100000 + k}", placed_at=start + timedelta(seconds=k * 7),
            currency="USD", lines=lines, customer_name="Ada Lovelace", customer_email=f"ada{k}@example.com",
            ship_to=Address("Ada Lovelace", "", "1 Main St", "", "Seattle", "WA", "98101", "US"),
            subtotal_minor=sub, total_minor=sub, ship_by=start + timedelta(days=2, seconds=k * 7),
        ))
    return out


def prepare_routing(path: Path) -> None:
    """Rates and the default rule, as a station has them: routing's setup, not timed."""
    db = Database(f"sqlite:///{path}")
    with db.write() as s:
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()


def run_intake(path: Path, batch: list[NormalizedOrder], size: int) -> float:
    db = Database(f"sqlite:///{path}")
    db.migrate()
    t0 = time.perf_counter()
    for i in range(0, len(batch), size):
        with db.write() as s:
            report = intake.take_in(s, ACTOR, batch[i:i + size])
            if report.refused or report.unrouted or any(r.outcome != "allocated" for r in report.routed):
                raise SystemExit(f"the door did not take in and allocate every order: {report.refused or report.unrouted}")
    elapsed = time.perf_counter() - t0
    db.dispose()
    return elapsed


def run_import(path: Path, batch: list[NormalizedOrder], size: int) -> float:
    db = Database(f"sqlite:///{path}")
    db.migrate()
    t0 = time.perf_counter()
    for i in range(0, len(batch), size):
        with db.write() as s:
            orders.import_orders(s, ACTOR, batch[i:i + size])
    elapsed = time.perf_counter() - t0
    db.dispose()
    return elapsed


def run_floor(path: Path, batch: list[NormalizedOrder], size: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    products = dict(conn.execute("SELECT sku, id FROM product"))
    reno = conn.execute("SELECT id FROM location WHERE code='RNO'").fetchone()[0]
    channel = conn.execute("SELECT id FROM channel WHERE code='web'").fetchone()[0]
    next_order = (conn.execute("SELECT coalesce(max(id), 0) FROM sales_order").fetchone()[0] or 0) + 1
    next_line = (conn.execute("SELECT coalesce(max(id), 0) FROM order_line").fetchone()[0] or 0) + 1
    t0 = time.perf_counter()
    for i in range(0, len(batch), size):
        now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(" ")
        chunk = batch[i:i + size]
        order_rows, line_rows, reserve_rows, alloc_rows, audit_rows = [], [], [], [], []
        for o in chunk:
            oid = next_order
            next_order += 1
            a = o.ship_to
            order_rows.append((oid, channel, o.external_id, o.number, o.order_type, "allocated", 0, "", o.currency,
                               o.subtotal_minor, 0, 0, 0, o.total_minor, o.customer_name, o.customer_email, a.name, "",
                               a.address1, "", a.city, a.region, a.postal_code, a.country, "", "standard", reno,
                               o.placed_at.replace(tzinfo=None).isoformat(" "), o.ship_by.replace(tzinfo=None).isoformat(" "),
                               len(o.lines), sum(l.quantity for l in o.lines), "x", now, now))
            for l in o.lines:
                pid = products[l.sku]
                line_rows.append((next_line, oid, l.external_line_id, pid, l.sku, l.description, 0, l.quantity, l.unit_price_minor,
                                  l.quantity))
                reserve_rows.append((l.quantity, pid, reno, l.quantity))
                alloc_rows.append((next_line, reno, pid, l.quantity, now))
                next_line += 1
            audit_rows.append((now, "bench", "bench", "order.imported", "order", str(oid), oid, "Imported"))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO sales_order (id, channel_id, external_id, number, order_type, status, on_hold, hold_reason, currency,"
            " subtotal_minor, shipping_minor, tax_minor, discount_minor, total_minor, customer_name, customer_email, ship_name,"
            " ship_company, ship_address1, ship_address2, ship_city, ship_region, ship_postal_code, ship_country, ship_phone,"
            " service_level, location_id, placed_at, ship_by, line_count, unit_count, payload_hash, created_at, updated_at)"
            " VALUES (" + ",".join("?" * 34) + ")", order_rows)
        conn.executemany(
            "INSERT INTO order_line (id, order_id, external_line_id, product_id, sku, description, unknown_sku, quantity,"
            " unit_price_minor, allocated, backordered, picked, packed, shipped, cancelled, returned)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,0,0,0,0,0,0)", line_rows)
        conn.executemany("UPDATE stock_level SET allocated = allocated + ? WHERE product_id = ? AND location_id = ?"
                         " AND on_hand - allocated >= ?", reserve_rows)
        conn.executemany("INSERT INTO allocation (order_line_id, location_id, product_id, quantity, created_at) VALUES (?,?,?,?,?)",
                         alloc_rows)
        conn.executemany("INSERT INTO audit_event (at, user, station, action, entity, entity_id, order_id, summary)"
                         " VALUES (?,?,?,?,?,?,?,?)", audit_rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench ingest", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=20000)
    p.add_argument("--batch", type=int, default=500, help="orders per transaction (default 500)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.sqlite3"
        t = time.perf_counter()
        prepare(base)
        prepare_routing(base)
        print(f"prepared {PRODUCTS} products, 3 locations and their rates in {time.perf_counter() - t:.1f} s")
        batch = make_orders(args.orders)
        floor_db, door_db, import_db = (Path(tmp) / f"{name}.sqlite3" for name in ("floor", "door", "import"))
        for copy in (floor_db, door_db, import_db):
            shutil.copy(base, copy)
        floor = run_floor(floor_db, batch, args.batch)
        imported = run_import(import_db, batch, args.batch)
        door = run_intake(door_db, batch, args.batch)
        n = args.orders
        print(f"orders: {n} x 3 lines, {args.batch} per transaction, SQLite")
        print(f"floor  (sqlite3 executemany, reserved at RNO): {n / floor:8,.0f} orders/s  ({floor:.2f} s)")
        print(f"import (oms.orders.import_orders, no reserve): {n / imported:8,.0f} orders/s  ({imported:.2f} s)")
        print(f"door   (oms.intake.take_in: import + route):  {n / door:8,.0f} orders/s  ({door:.2f} s)")
        print(f"ratio door/floor time: {door / floor:.1f}x; routing's share of the door: {(door - imported) / door:.0%}")
    return 0
