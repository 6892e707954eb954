"""Flow: an order's whole life through the domain services, on top of a backlog, against plain sqlite3.

    python -m bench flow --orders 5000 --backlog 50000
    python -m bench flow --orders 5000 --backlog 50000 --db postgresql+psycopg://postgres@127.0.0.1/bench

The services are driven as the sync engine and the stations drive them, with no GUI: the orders come in
through the intake door (`oms.intake.take_in`: imported and routed, 500 a transaction), waves of 40 are built
(single-unit orders onto a batch cart, the others a tote each), each wave's picks are confirmed in one batch
(scan-checked: the bin and the item of every pick), and each wave's orders are packed and ship-confirmed in one
batch with the packing decision the packing station takes (here: own delivery, no carrier connected); the floor
works wave by wave, each built, picked and shipped before the next (the time of each phase is summed apart). Under all
of it a backlog of --backlog routed orders waits, promised for later than the timed ones, as in the busy weeks.

At a station every scan is its own transaction: two more waves, of 10 and of 40 multi-unit orders from the
backlog, are picked scan by scan as the picking screen does it, and their orders packed one by one as the
packing screen does it (look the tote up, check every unit, close the box, the packing decision, ship confirm).
The pick's time must not grow with the wave.

The baseline in the same run writes the same state changes with the standard library's sqlite3 into a SQLite
file with the same backlog: the order rows with their reservations, the wave and its tasks, the picks (task,
line, bin), the shipment with its package and lines, the ledger movement, the level, the allocation, the
order's status, the outbox and audit rows, with nothing checked and every id known in advance.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select, text

from bench.ingest import ACTOR, run_floor
from oms import catalog, fulfilment, intake, inventory, orders, routing, shipping
from oms.core.db import Database
from oms.core.errors import Conflict
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder
from oms.schema import metadata

PRODUCTS = 500
WAVE = 40
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


# -- the house and its orders -------------------------------------------------------------------------------------


def prepare(db: Database) -> None:
    """Three locations, 500 products with a bin each in Reno (walk order by SKU), rates and the default rule."""
    db.migrate()
    with db.write() as s:
        locs = [inventory.add_location(s, ACTOR, code, code, priority=p) for code, p in (("RNO", 10), ("EWR", 20), ("DFW", 30))]
        orders.add_channel(s, ACTOR, "web", "Web shop", "shopify")
        bins = inventory.add_bins(s, locs[0], [f"A-{i:03d}" for i in range(PRODUCTS)])
        for i in range(PRODUCTS):
            pid = catalog.add_product(s, ACTOR, f"SKU-{i:05d}", f"Product {i}", price=1000 + i, weight_g=150 + i)
            inventory.receive(s, ACTOR, pid, locs[0], 1_000_000, bin=bins[i])
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        fulfilment.ensure_box_presets(s)


def make_orders(n: int, first: int, ship_by: datetime, seed: int) -> list[NormalizedOrder]:
    """Half single-unit orders, half of 2 or 3 lines of 1 or 2 units, as a web shop's week has them."""
    rng = random.Random(seed)
    out = []
    for k in range(first, first + n):
        if rng.random() < 0.5:
            skus, qty = [rng.randrange(PRODUCTS)], [1]
        else:
            skus = rng.sample(range(PRODUCTS), rng.choice((2, 3)))
            qty = [rng.choice((1, 1, 2)) for _ in skus]
        lines = tuple(NormalizedLine(str(j + 1), f"SKU-{s:05d}", q, 1000 + s, f"Product {s}") for j, (s, q) in enumerate(zip(skus, qty)))
        sub = sum(l.quantity * l.unit_price_minor for l in lines)
        out.append(NormalizedOrder(
            channel="web", external_id=str(k), number=f"#{k}", placed_at=START + timedelta(seconds=k),
            currency="USD", lines=lines, customer_name="Ada Lovelace", customer_email=f"ada{k}@example.com",
            ship_to=Address("Ada Lovelace", "", "1 Main St", "", "Seattle", "WA", "98101", "US"),
            subtotal_minor=sub, total_minor=sub, ship_by=ship_by + timedelta(seconds=k)))
    return out


def take_in_all(db: Database, batch: list[NormalizedOrder], size: int) -> None:
    for i in range(0, len(batch), size):
        with db.write() as s:
            report = intake.take_in(s, ACTOR, batch[i:i + size])
            if report.refused or report.unrouted or any(r.outcome != "allocated" for r in report.routed):
                raise SystemExit(f"the door did not take in and allocate every order: {report.refused or report.unrouted}")


# -- the flow through the services -------------------------------------------------------------------------------


def build_wave(db: Database, cutoff: datetime, single: bool) -> int | None:
    """A wave of 40 of the timed orders (promised before the cut-off); None when none is left."""
    with db.write() as s:
        try:
            return fulfilment.build_wave(s, ACTOR, "RNO", single_unit=single, ship_by_before=cutoff, limit=WAVE).wave_id
        except Conflict:
            return None


def pick_wave(db: Database, wave_id: int) -> int:
    """Every pick of the wave confirmed in one transaction, each checked against its bin and item scan."""
    with db.write() as s:
        tasks = fulfilment.open_tasks(s, wave_id)
        fulfilment.confirm_picks(s, ACTOR, [fulfilment.PickScan(t.task_id, t.quantity, t.bin_code or None, t.sku)
                                            for t in tasks])
    return len(tasks)


def pack_wave(db: Database, wave_id: int) -> int:
    """The wave's orders packed, one box each, and ship-confirmed in one transaction (the station's decision)."""
    with db.write() as s:
        done = fulfilment.pack_and_ship_batch(s, ACTOR, [t.order_id for t in fulfilment.totes_to_pack(s, wave_id=wave_id)])
    return len(done)


def station_pick(db: Database, wave_id: int) -> list[float]:
    """The wave picked as the picking screen does it: each stop scanned and confirmed in its own transaction."""
    with db.read() as s:
        stops = fulfilment.open_stops(s, wave_id)
    times = []
    for stop in stops:
        t0 = time.perf_counter()
        with db.write() as s:
            fulfilment.pick_stop(s, ACTOR, stop.task_ids, stop.quantity, bin_code=stop.bin_code or None, item_code=stop.sku)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def station_pack(db: Database, wave_id: int) -> list[float]:
    """The wave's orders packed as the packing screen does it: tote scanned, every unit checked, box closed, shipped."""
    with db.read() as s:
        totes = [t.tote for t in fulfilment.totes_to_pack(s, "RNO", wave_id=wave_id)]
    times = []
    for tote in totes:
        t0 = time.perf_counter()
        with db.read() as s:
            oid = fulfilment.find_for_packing(s, tote)
            view = fulfilment.packing_view(s, oid)
            presets = fulfilment.box_choices(s)
        box: dict[int, int] = {}
        for line in view.lines:
            for _ in range(line.expected):
                verdict = fulfilment.check_pack_scan(view, line.sku, box)
                assert verdict.ok, verdict.message
                box[verdict.line_id] = box.get(verdict.line_id, 0) + 1
        preset = fulfilment.default_box(presets, view)
        spec = fulfilment.box_spec(preset, fulfilment.estimated_weight_g(view, preset, box))
        with db.write() as s:
            fulfilment.pack_and_ship(s, ACTOR, oid, [fulfilment.PackedBox(spec, box)])
        times.append((time.perf_counter() - t0) * 1000)
    return times


# -- the baseline: the same state changes with plain sqlite3 ------------------------------------------------------


class Floor:
    """The flow's writes with the standard library's sqlite3: what the services write, nothing checked."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        c = self.conn
        self.reno = c.execute("SELECT id FROM location WHERE code = 'RNO'").fetchone()[0]
        self.bins = dict(c.execute("SELECT bs.product_id, b.id FROM bin_stock bs JOIN bin b ON b.id = bs.bin_id"))
        self.seq = dict(c.execute("SELECT id, pick_sequence FROM bin"))

    def orders_after(self, last_id: int) -> tuple[list[int], list[int]]:
        rows = self.conn.execute("SELECT id, unit_count FROM sales_order WHERE id > ? ORDER BY id", (last_id,)).fetchall()
        return [r[0] for r in rows if r[1] == 1], [r[0] for r in rows if r[1] != 1]

    def lines(self, order_ids: list[int]) -> list[tuple]:
        marks = ",".join("?" * len(order_ids))
        return self.conn.execute(f"SELECT id, order_id, product_id, quantity, unit_price_minor FROM order_line"
                                 f" WHERE order_id IN ({marks}) ORDER BY order_id, id", order_ids).fetchall()

    def wave(self, order_ids: list[int], batch: bool) -> int:
        c, now = self.conn, _now()
        c.execute("BEGIN IMMEDIATE")
        wid = c.execute("INSERT INTO wave (location_id, name, status, batch_pick, filters, created_by, created_at)"
                        " VALUES (?, 'w', 'open', ?, '{}', 'bench', ?)", (self.reno, batch, now)).lastrowid
        totes = {o: (f"CART-{wid}" if batch else f"T{wid}-{i:02d}") for i, o in enumerate(order_ids, 1)}
        c.executemany("INSERT INTO wave_order (wave_id, order_id, tote) VALUES (?, ?, ?)", [(wid, o, t) for o, t in totes.items()])
        c.executemany("INSERT INTO pick_task (wave_id, order_line_id, product_id, bin_id, sequence, quantity, picked, short,"
                      " tote, status) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, 'open')",
                      [(wid, lid, pid, self.bins[pid], self.seq[self.bins[pid]], q, totes[oid])
                       for lid, oid, pid, q, _p in self.lines(order_ids)])
        c.executemany("INSERT INTO audit_event (at, user, station, action, entity, entity_id, order_id, summary)"
                      " VALUES (?, 'bench', 'bench', 'order.waved', 'order', ?, ?, 'Added to wave')",
                      [(now, str(o), o) for o in order_ids])
        c.execute("COMMIT")
        return wid

    def pick(self, wid: int, order_ids: list[int]) -> int:
        c, now = self.conn, _now()
        tasks = c.execute("SELECT id, order_line_id, product_id, bin_id, quantity FROM pick_task WHERE wave_id = ?", (wid,)).fetchall()
        c.execute("BEGIN IMMEDIATE")
        c.executemany("UPDATE pick_task SET picked = quantity, status = 'done' WHERE id = ?", [(t[0],) for t in tasks])
        c.executemany("UPDATE order_line SET picked = picked + ? WHERE id = ?", [(t[4], t[1]) for t in tasks])
        c.executemany("UPDATE bin_stock SET on_hand = on_hand - ? WHERE bin_id = ? AND product_id = ?", [(t[4], t[3], t[2]) for t in tasks])
        c.executemany("INSERT INTO audit_event (at, user, station, action, entity, entity_id, order_id, summary)"
                      " VALUES (?, 'bench', 'bench', 'order.picked', 'order_line', ?, NULL, 'Picked')", [(now, str(t[1])) for t in tasks])
        c.executemany("UPDATE sales_order SET status = 'picking', updated_at = ? WHERE id = ?", [(now, o) for o in order_ids])
        c.execute("UPDATE wave SET status = 'picked', closed_at = ? WHERE id = ?", (now, wid))
        c.execute("COMMIT")
        return len(tasks)

    def pack_ship(self, order_ids: list[int]) -> None:
        c, now = self.conn, _now()
        lines = self.lines(order_ids)
        c.execute("BEGIN IMMEDIATE")
        for oid in order_ids:
            sid = c.execute("INSERT INTO shipment (order_id, location_id, status, carrier, service, tracking_number, created_at,"
                            " shipped_at, carrier_account, carrier_ref, tracker_ref) VALUES (?, ?, 'shipped', 'Own', '', ?, ?, ?, '', '', '')",
                            (oid, self.reno, str(oid), now, now)).lastrowid
            pkg = c.execute("INSERT INTO package (shipment_id, box, weight_g, length_mm, width_mm, height_mm, tracking_number)"
                            " VALUES (?, 'M', 500, 300, 230, 150, '')", (sid,)).lastrowid
            mine = [l for l in lines if l[1] == oid]
            c.executemany("INSERT INTO shipment_line (shipment_id, package_id, order_line_id, quantity) VALUES (?, ?, ?, ?)",
                          [(sid, pkg, l[0], l[3]) for l in mine])
            c.executemany("UPDATE order_line SET allocated = allocated - ?, picked = picked - ?, shipped = shipped + ? WHERE id = ?",
                          [(l[3], l[3], l[3], l[0]) for l in mine])
            c.executemany("UPDATE stock_level SET on_hand = on_hand - ?, allocated = allocated - ? WHERE product_id = ? AND location_id = ?",
                          [(l[3], l[3], l[2], self.reno) for l in mine])
            c.executemany("INSERT INTO stock_movement (product_id, location_id, kind, quantity, reason, reference, user, station, created_at)"
                          " VALUES (?, ?, 'ship', ?, '', ?, 'bench', 'bench', ?)", [(l[2], self.reno, -l[3], f"shipment:{sid}", now) for l in mine])
            c.executemany("DELETE FROM allocation WHERE order_line_id = ? AND location_id = ?", [(l[0], self.reno) for l in mine])
            c.execute("UPDATE sales_order SET status = 'shipped', shipped_at = ?, updated_at = ? WHERE id = ?", (now, now, oid))
            for topic in ("fulfillment.create", "payment.capture"):
                c.execute("INSERT INTO outbox (destination, topic, idempotency_key, order_id, payload, status, attempts, last_error,"
                          " created_at, next_attempt_at) VALUES ('web', ?, ?, ?, '{}', 'pending', 0, '', ?, ?)",
                          (topic, f"web:{topic}:{sid}", oid, now, now))
            c.executemany("INSERT INTO audit_event (at, user, station, action, entity, entity_id, order_id, summary)"
                          " VALUES (?, 'bench', 'bench', ?, 'shipment', ?, ?, 'x')",
                          [(now, a, str(sid), oid) for a in ("shipment.packed", "shipment.shipped")])
        c.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def _now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(" ")


def run_floor_flow(path: Path, timed: list[NormalizedOrder]) -> dict[str, float]:
    """The baseline's phases on a file that holds the backlog already; seconds per phase."""
    floor = Floor(path)
    last = floor.conn.execute("SELECT coalesce(max(id), 0) FROM sales_order").fetchone()[0]
    floor.close()
    out = {"intake": run_floor(path, timed, 500)}
    floor = Floor(path)
    singles, multis = floor.orders_after(last)
    groups = [(singles[i:i + WAVE], True) for i in range(0, len(singles), WAVE)] + \
             [(multis[i:i + WAVE], False) for i in range(0, len(multis), WAVE)]
    t0 = time.perf_counter()
    waves = [(floor.wave(ids, batch), ids) for ids, batch in groups]
    out["wave"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    out["picks"] = sum(floor.pick(wid, ids) for wid, ids in waves)
    out["pick"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _wid, ids in waves:
        floor.pack_ship(ids)
    out["pack"] = time.perf_counter() - t0
    out["waves"] = len(waves)
    floor.close()
    return out


# -- the run -------------------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench flow", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=5000, help="orders taken through the whole flow (timed)")
    p.add_argument("--backlog", type=int, default=50000, help="routed orders waiting underneath, promised for later")
    p.add_argument("--db", help="a PostgreSQL URL (its tables are dropped and made anew); default a SQLite file")
    args = p.parse_args(argv)
    n, m = args.orders, args.backlog
    timed = make_orders(n, 1, START + timedelta(days=1), seed=1)
    cutoff = START + timedelta(days=2)
    backlog = make_orders(m, 1 + n, START + timedelta(days=7), seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        # The baseline first: its own SQLite file with the same house and backlog.
        floor_path = Path(tmp) / "floor.sqlite3"
        fdb = Database(f"sqlite:///{floor_path}")
        prepare(fdb)
        fdb.dispose()
        run_floor(floor_path, backlog, 1000)
        base = run_floor_flow(floor_path, timed)

        t = time.perf_counter()
        db = Database(args.db or f"sqlite:///{Path(tmp) / 'flow.sqlite3'}")
        if args.db:
            with db.engine.begin() as conn:
                metadata.drop_all(conn)
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        prepare(db)
        take_in_all(db, backlog, 1000)
        if db.dialect == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        print(f"{db.dialect}: {PRODUCTS} products in bins, backlog of {m:,} routed orders waiting; prepared in "
              f"{time.perf_counter() - t:.0f} s")

        t0 = time.perf_counter()
        take_in_all(db, timed, 500)
        t_intake = time.perf_counter() - t0
        # The floor works wave by wave: built, picked, packed and shipped; the singles' carts first, then the totes.
        waves: list[float] = []
        t_pick = t_pack = 0.0
        picks = shipped = 0
        for single in (True, False):
            while True:
                t0 = time.perf_counter()
                wid = build_wave(db, cutoff, single)
                if wid is None:
                    break
                t1 = time.perf_counter()
                picks += pick_wave(db, wid)
                t2 = time.perf_counter()
                shipped += pack_wave(db, wid)
                waves.append(t1 - t0)
                t_pick += t2 - t1
                t_pack += time.perf_counter() - t2
        t_wave = sum(waves)
        if shipped != n:
            raise SystemExit(f"{shipped} of {n} orders shipped")

        # At the station: a wave of 10 and one of 40 multi-unit orders from the backlog, scan by scan.
        station = {}
        for size in (10, 40):
            with db.write() as s:
                w = fulfilment.build_wave(s, ACTOR, "RNO", single_unit=False, limit=size)
            station[size] = (station_pick(db, w.wave_id), station_pack(db, w.wave_id))
        db.dispose()
    total = t_intake + t_wave + t_pick + t_pack
    base_total = base["intake"] + base["wave"] + base["pick"] + base["pack"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"orders: {n:,} ({sum(1 for o in timed if len(o.lines) == 1):,} single-unit), {len(waves)} waves of up to {WAVE}, "
          f"{picks:,} picks; backlog {m:,}")
    print(f"{'phase':<34}{'services':>14}{'plain sqlite3':>16}")
    rows = [
        ("import + route (intake door)", f"{t_intake / n * 1000:.3f} ms/order", f"{base['intake'] / n * 1000:.3f}"),
        (f"wave build ({WAVE} orders)", f"{t_wave / len(waves) * 1000:.1f} ms/wave", f"{base['wave'] / base['waves'] * 1000:.2f}"),
        ("  median, slowest wave", f"{median(waves) * 1000:.1f}, {max(waves) * 1000:.1f} ms", ""),
        ("pick, a wave in one batch", f"{t_pick / picks * 1000:.3f} ms/pick", f"{base['pick'] / base['picks'] * 1000:.3f}"),
        ("pack + ship confirm, in batches", f"{t_pack / n * 1000:.3f} ms/order", f"{base['pack'] / n * 1000:.3f}"),
        ("end to end", f"{n / total:,.0f} orders/s", f"{n / base_total:,.0f}"),
    ]
    for name, ours, theirs in rows:
        print(f"{name:<34}{ours:>18}{theirs:>12}")
    for size, (picks_ms, packs_ms) in station.items():
        print(f"station, wave of {size:>2}: pick (one scan, one transaction) median {median(picks_ms):.2f} ms, "
              f"p90 {sorted(picks_ms)[int(0.9 * (len(picks_ms) - 1))]:.2f} ms; pack median {median(packs_ms):.2f} ms "
              f"({len(picks_ms)} picks, {len(packs_ms)} orders)")
    print(f"peak RSS {rss:.0f} MB")
    return 0
