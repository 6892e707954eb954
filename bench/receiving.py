"""Receiving: from the scan of an item to its confirmed receipt line, on SQLite.

    python -m bench receiving --scans 2000

Purchase orders of 20 lines (5 units each) to Newark are prepared first (not timed). Then every unit is scanned
as the Receiving screen does it, one transaction per scan: the item counted on its receipt line (the PO line's
tolerance checked by the database, the unit through the ledger, waiting orders released), the putaway
suggestion, and the PO read back for the screen. After each line's last unit its bin is scanned (putaway, timed
apart). The baseline in the same run is the bare work of one scan written with the standard library's sqlite3:
the PO line's count, the receipt line, the stock level and the movement row.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.ingest import ACTOR, PRODUCTS, prepare
from bench.pack import pct
from oms import inventory, purchasing
from oms.core.db import Database

LINES, UNITS = 20, 5


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench receiving", description=__doc__.split("\n\n")[0])
    p.add_argument("--scans", type=int, default=2000)
    args = p.parse_args(argv)
    pos = max(1, args.scans // (LINES * UNITS))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "receiving.sqlite3"
        t = time.perf_counter()
        prepare(path)
        db = Database(f"sqlite:///{path}")
        numbers = []
        with db.write() as s:
            ewr = inventory.location_id(s, "EWR")
            inventory.add_bins(s, ewr, [f"{z}-{a:02d}-{b}" for z in "ABCDEF" for a in range(1, 21) for b in range(1, 5)])
            purchasing.add_supplier(s, ACTOR, "ACME", "Acme")
            for k in range(pos):
                skus = [f"SKU-{(k * LINES + i) % PRODUCTS:05d}" for i in range(LINES)]
                _id, number = purchasing.create_po(s, ACTOR, "ACME", "EWR", lines=[
                    purchasing.PoLineInput(sku, UNITS, "1.00", date(2026, 12, 20)) for sku in skus])
                purchasing.send_po(s, ACTOR, number)
                numbers.append((number, skus))
        print(f"prepared {pos} purchase orders of {LINES} lines in {time.perf_counter() - t:.1f} s")

        scans, putaways = [], []
        for number, skus in numbers:
            with db.write() as s:
                rid = purchasing.start_receipt(s, ACTOR, number).receipt_id
            for sku in skus:
                for _ in range(UNITS):
                    t0 = time.perf_counter()
                    with db.write() as s:
                        r = purchasing.scan_item(s, ACTOR, rid, sku)
                        hint = purchasing.suggest_putaway(s, r.receipt_line_id)
                        purchasing.po_detail(s, number)
                    scans.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                with db.write() as s:
                    purchasing.put_away(s, ACTOR, r.receipt_line_id, hint.bin_code)
                    purchasing.po_detail(s, number)
                putaways.append((time.perf_counter() - t0) * 1000)
            with db.write() as s:
                purchasing.finish_receipt(s, ACTOR, rid)
        db.dispose()

        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        base = []
        for k in range(len(scans)):
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE purchase_order_line SET received = received WHERE id = ? AND received <= quantity", (1 + k % LINES,))
            conn.execute("UPDATE receipt_line SET good = good WHERE id = ?", (1 + k % LINES,))
            conn.execute("UPDATE stock_level SET on_hand = on_hand + 1 WHERE product_id = ? AND location_id = 2", (1 + k % LINES,))
            conn.execute("INSERT INTO stock_movement (product_id, location_id, kind, quantity, reason, reference, user, "
                         "station, created_at) VALUES (?, 2, 'receipt', 1, '', 'PO', 'bench', 'bench', '2026-12-06')",
                         (1 + k % LINES,))
            conn.execute("COMMIT")
            base.append((time.perf_counter() - t0) * 1000)
        conn.close()

    print(f"scan to confirmed receipt line, {len(scans)} scans: median {statistics.median(scans):.2f} ms, "
          f"p99 {pct(scans, 99):.2f} ms (goal: both <= 15 ms)")
    print(f"bin scan to units put away, {len(putaways)} lines: median {statistics.median(putaways):.2f} ms, "
          f"p99 {pct(putaways, 99):.2f} ms")
    print(f"baseline, bare sqlite3 writes of one scan: median {statistics.median(base):.3f} ms, p99 {pct(base, 99):.3f} ms")
    return 0
