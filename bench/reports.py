"""Reports: every measure over a year of orders, against a plain SQL GROUP BY over the same rows.

    python -m bench reports --orders 300000            (about 1,000,000 order lines; SQLite)
    python -m bench reports --orders 300000 --db postgresql+psycopg://postgres@127.0.0.1/bench

The year is written in bulk with Core executemany (orders, lines, routing decisions, shipments with their
packages and lines, and the pick and pack audit events), as ``bench gui`` does: the services that write them
are measured by their own benches. Each measure is then timed for the whole year (one period; the screen and
the command line also read the period before, which doubles it), and beside it a bare ``GROUP BY`` that
counts the same rows without the orders behind each number, the floor any report pays to read them.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import case, func, insert, select, text

from oms import reports
from oms.reports import tables
from oms.core.db import Database
from oms.core.models import AuditEvent
from oms.inventory.models import Location
from oms.orders.models import Channel, OrderLine, SalesOrder
from oms.routing.models import RoutingDecision
from oms.schema import metadata
from oms.shipping.models import Package, Shipment, ShipmentLine

END = datetime(2026, 12, 1, tzinfo=timezone.utc)
YEAR = reports.Period(date(2025, 12, 1), date(2026, 11, 30))
CARRIERS = ("UPS", "FedEx", "USPS")
PICKERS = [(f"picker{k}", f"pick-{k % 3 + 1}") for k in range(8)]
PACKERS = [(f"packer{k}", f"pack-{k % 2 + 1}") for k in range(4)]


def build(db: Database, n_orders: int, rng: random.Random) -> int:
    """A year of orders; returns the number of order lines."""
    with db.write() as s:
        conn = s.connection()
        conn.execute(insert(Channel.__table__), [
            {"id": 1, "code": "web", "name": "Web", "kind": "shopify", "default_order_type": "dtc"},
            {"id": 2, "code": "amazon", "name": "Amazon", "kind": "amazon", "default_order_type": "marketplace"},
            {"id": 3, "code": "edi", "name": "Northwind", "kind": "edi_x12", "default_order_type": "wholesale"}])
        conn.execute(insert(Location.__table__), [{"id": k + 1, "code": c, "name": c} for k, c in enumerate(("RNO", "EWR", "DFW"))])
    types = {1: "dtc", 2: "marketplace", 3: "wholesale"}
    line_id = shipment_id = package_id = 0
    total_lines = 0
    batch: dict[str, list] = {k: [] for k in ("o", "l", "r", "s", "p", "sl", "a")}

    def flush():
        with db.write() as s:
            conn = s.connection()
            for key, table in (("o", SalesOrder.__table__), ("l", OrderLine.__table__), ("r", RoutingDecision.__table__),
                               ("s", Shipment.__table__), ("p", Package.__table__), ("sl", ShipmentLine.__table__),
                               ("a", AuditEvent.__table__)):
                if batch[key]:
                    conn.execute(insert(table), batch[key])
                    batch[key].clear()

    for oid in range(1, n_orders + 1):
        placed = END - timedelta(seconds=rng.randrange(365 * 86400))
        channel = rng.choice((1, 1, 1, 2, 2, 3))
        loc = rng.choice((1, 1, 2, 3))
        roll = rng.random()
        status = ("cancelled" if roll < 0.03 else "backordered" if roll < 0.07 else "allocated" if roll < 0.10
                  else "delivered" if roll < 0.70 else "shipped")
        shipped = status in ("shipped", "delivered")
        shipped_at = placed + timedelta(minutes=rng.randrange(60, 96 * 60)) if shipped else None
        delivered_at = shipped_at + timedelta(hours=rng.randrange(20, 120)) if status == "delivered" else None
        n_lines = rng.choice((1, 2, 3, 4, 5, 5))
        batch["o"].append({
            "id": oid, "channel_id": channel, "external_id": str(oid), "number": f"#{oid}", "order_type": types[channel],
            "status": status, "currency": "USD", "location_id": loc, "placed_at": placed, "ship_by": placed + timedelta(days=2),
            "deliver_by": placed + timedelta(days=5), "shipped_at": shipped_at, "delivered_at": delivered_at,
            "cancelled_at": placed + timedelta(hours=1) if status == "cancelled" else None, "line_count": n_lines,
            "created_at": placed, "updated_at": shipped_at or placed})
        batch["r"].append({"order_id": oid, "at": placed, "rule_name": "Default", "explanation": "",
                           "outcome": "backordered" if status == "backordered" or rng.random() < 0.04 else "allocated",
                           "plan": {}, "candidates": {}})
        if shipped:
            shipment_id += 1
            batch["s"].append({"id": shipment_id, "order_id": oid, "location_id": loc, "status": "shipped",
                               "carrier": rng.choice(CARRIERS), "service": "Ground", "created_at": shipped_at,
                               "shipped_at": shipped_at, "label_cost_minor": rng.randrange(500, 2500) if rng.random() < 0.8 else None})
            first_package = package_id + 1
            for _k in range(rng.choice((1, 1, 1, 2))):
                package_id += 1
                batch["p"].append({"id": package_id, "shipment_id": shipment_id, "box": "M", "weight_g": 900})
            packer = rng.choice(PACKERS)
            batch["a"].append({"at": shipped_at - timedelta(minutes=30), "user": packer[0], "station": packer[1],
                               "action": "shipment.packed", "entity": "shipment", "entity_id": str(shipment_id), "order_id": oid})
        picker = rng.choice(PICKERS)
        for k in range(n_lines):
            line_id += 1
            qty = rng.choice((1, 1, 1, 2, 3, 6))
            short = shipped and rng.random() < 0.02
            sent = (qty - 1 if short and qty > 1 else qty) if shipped else 0
            batch["l"].append({"id": line_id, "order_id": oid, "external_line_id": str(k + 1), "sku": f"SKU-{rng.randrange(20000):05d}",
                               "quantity": qty, "shipped": sent, "cancelled": qty if status == "cancelled" else 0,
                               "backordered": qty if status == "backordered" else 0,
                               "allocated": qty if status == "allocated" else 0})
            if sent:
                batch["sl"].append({"shipment_id": shipment_id, "package_id": first_package, "order_line_id": line_id, "quantity": sent})
                batch["a"].append({"at": shipped_at - timedelta(minutes=90 - k), "user": picker[0], "station": picker[1],
                                   "action": "order.picked", "entity": "order_line", "entity_id": str(line_id), "order_id": oid,
                                   "after": {"quantity": sent}})
        total_lines += n_lines
        if oid % 5000 == 0:
            flush()
    flush()
    return total_lines


def baselines():
    """The plain GROUP BY of each report over the same rows: counts only, no orders behind them."""
    since, before = YEAR.since, YEAR.before
    o, line, sh = SalesOrder, OrderLine, Shipment
    return {
        "fill-rate": select(func.count(), func.sum(case((line.shipped >= line.quantity, 1), else_=0)),
                            func.sum(line.quantity), func.sum(line.shipped))
        .join(o, o.id == line.order_id).where(o.placed_at >= since, o.placed_at < before, o.status != "cancelled"),
        "cycle-time": select(o.status, func.count(), func.min(o.shipped_at), func.max(o.shipped_at))
        .where(o.status.in_(("shipped", "delivered")), o.shipped_at >= since, o.shipped_at < before).group_by(o.status),
        "on-time": select(func.count(), func.sum(case((o.shipped_at <= o.ship_by, 1), else_=0)))
        .where(o.ship_by >= since, o.ship_by < before, o.status != "cancelled"),
        "backorders": select(line.sku, func.count(), func.sum(line.backordered)).join(o, o.id == line.order_id)
        .where(line.backordered > 0, o.placed_at >= since, o.placed_at < before).group_by(line.sku),
        "throughput": select(func.date(sh.shipped_at), sh.location_id, func.count(func.distinct(sh.order_id)),
                             func.count(), func.sum(ShipmentLine.quantity)).join(ShipmentLine, ShipmentLine.shipment_id == sh.id)
        .where(sh.status == "shipped", sh.shipped_at >= since, sh.shipped_at < before)
        .group_by(func.date(sh.shipped_at), sh.location_id),
        "carrier-cost": select(sh.carrier, func.count(), func.sum(sh.label_cost_minor))
        .where(sh.status == "shipped", sh.shipped_at >= since, sh.shipped_at < before).group_by(sh.carrier),
        "productivity": select(AuditEvent.action, AuditEvent.user, AuditEvent.station, func.count())
        .where(AuditEvent.action.in_(("order.picked", "shipment.packed")), AuditEvent.at >= since, AuditEvent.at < before)
        .group_by(AuditEvent.action, AuditEvent.user, AuditEvent.station),
    }


MEASURES = {
    "fill-rate": reports.fill_rate, "cycle-time": reports.cycle_time, "on-time": reports.on_time,
    "perfect-order": reports.perfect_order, "backorders": reports.backorder_aging, "throughput": reports.throughput,
    "carrier-cost": reports.carrier_cost, "productivity": reports.productivity,
}


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench reports", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=300_000, help="orders over the year (about 3.3 lines each)")
    p.add_argument("--db", help="a PostgreSQL URL (its tables are dropped and made anew); default a SQLite file")
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.db or f"sqlite:///{Path(tmp) / 'reports.sqlite3'}")
        if args.db:
            with db.engine.begin() as conn:
                metadata.drop_all(conn)
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.migrate()
        t0 = time.perf_counter()
        lines = build(db, args.orders, random.Random(20))
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        print(f"{db.engine.dialect.name}: {args.orders:,} orders, {lines:,} lines over {YEAR.start} – {YEAR.end} "
              f"written in {time.perf_counter() - t0:.0f} s")
        base = baselines()
        with db.read() as s:
            print(f"  {'report':<14} {'measure, orders behind each number':>36} {'plain GROUP BY':>16}")
            for name, measure in MEASURES.items():
                took = best_of(lambda: measure(s, YEAR), args.repeat)
                q = base.get(name if name != "perfect-order" else "on-time")
                floor = best_of(lambda: s.execute(q).all(), args.repeat)
                print(f"  {name:<14} {took * 1000:>33,.0f} ms {floor * 1000:>13,.0f} ms")
            took = best_of(lambda: [tables.build(s, n, YEAR) for n in tables.REPORTS], 1)
            print(f"  every table of the screen, with the period before: {took:.1f} s")
        db.dispose()
    return 0
