"""Pack: service time per order from the scan of its tote to the confirmed shipment, on SQLite.

    python -m bench pack --orders 2000

Orders are imported, routed, waved and picked first (not timed). Then, per order,
as the packing station does it: look the tote up, load the packing view, check
every scanned unit, close the box (one transaction) and confirm the shipment.
The baseline in the same run is the bare ledger work of a shipment written with
the standard library's sqlite3 (stock level, movement, order line, shipment row).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from bench.ingest import ACTOR, make_orders
from bench.route import prepare_routing
from oms import fulfilment, intake
from oms.core.db import Database
from oms.fulfilment.models import WaveOrder
from oms.shipping import shipments
from oms.shipping.shipments import PackageSpec


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench pack", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=2000)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pack.sqlite3"
        t = time.perf_counter()
        prepare_routing(path)
        db = Database(f"sqlite:///{path}")
        batch = make_orders(args.orders)
        for i in range(0, len(batch), 500):
            with db.write() as s:
                intake.take_in(s, ACTOR, batch[i:i + 500])
        totes = []
        while True:
            with db.write() as s:
                try:
                    w = fulfilment.build_wave(s, ACTOR, "RNO", limit=200)
                except Exception:
                    break
                for task in fulfilment.open_tasks(s, w.wave_id):
                    fulfilment.confirm_pick(s, ACTOR, task.task_id, task.quantity, bin_code=task.bin_code or None, item_code=task.sku)
                totes += s.scalars(select(WaveOrder.tote).where(WaveOrder.wave_id == w.wave_id)).all()
        print(f"prepared {len(totes)} picked orders in {time.perf_counter() - t:.1f} s")

        timings = []
        for tote in totes:
            t0 = time.perf_counter()
            with db.read() as s:
                oid = fulfilment.find_for_packing(s, tote)
                view = fulfilment.packing_view(s, oid)
                box: dict[int, int] = {}
                for line in view.lines:
                    for _ in range(line.expected):
                        verdict = fulfilment.check_pack_scan(view, line.barcodes[0] if line.barcodes else line.sku, box)
                        assert verdict.ok, verdict.message
                        box[verdict.line_id] = box.get(verdict.line_id, 0) + 1
            with db.write() as s:
                res = fulfilment.complete_packing(s, ACTOR, oid, [fulfilment.PackedBox(PackageSpec("M", 1200), box)])
                shipments.confirm(s, ACTOR, res.shipment_id, carrier="UPS", tracking_number=f"1Z{oid:016d}")
            timings.append((time.perf_counter() - t0) * 1000)
        db.dispose()

        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        base = []
        reno = conn.execute("SELECT id FROM location WHERE code = 'RNO'").fetchone()[0]
        lines = conn.execute("SELECT id, product_id, ? FROM order_line LIMIT ?", (reno, len(totes) * 3)).fetchall()
        for i in range(0, len(lines), 3):
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO shipment (order_id, location_id, status, carrier, service, tracking_number, created_at)"
                         " VALUES (1, ?, 'shipped', 'UPS', '', 'X', '2026-11-01')", (lines[i][2],))
            for lid, pid, loc in lines[i:i + 3]:
                conn.execute("UPDATE stock_level SET on_hand = on_hand - 1 WHERE product_id = ? AND location_id = ? AND on_hand > allocated", (pid, loc))
                conn.execute("INSERT INTO stock_movement (product_id, location_id, kind, quantity, reason, reference, user, station, created_at)"
                             " VALUES (?, ?, 'ship', -1, '', '', '', '', '2026-11-01')", (pid, loc))
                conn.execute("UPDATE order_line SET shipped = shipped + 0 WHERE id = ?", (lid,))
            conn.execute("ROLLBACK")
            base.append((time.perf_counter() - t0) * 1000)
        conn.close()
    print(f"orders packed and shipped: {len(timings)} (3 lines each), SQLite")
    print(f"baseline (bare sqlite3 ledger writes): median {statistics.median(base):6.2f} ms, p99 {pct(base, 99):6.2f} ms")
    print(f"scan tote -> confirmed shipment:      median {statistics.median(timings):6.2f} ms, p99 {pct(timings, 99):6.2f} ms")
    return 0
