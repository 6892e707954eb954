"""Amazon: 2,000 orders with their items pulled through the SP-API emulator at time scale 100, against the
minimum time the documented rate limits allow.

    python -m bench amazon --orders 2000 --time-scale 100

The emulator runs in its own process with the documented token buckets, 100 times faster (getOrders 1.67 a
second, burst 20; getOrderItems 50 a second, burst 30). The engine pulls every page and each order's items,
imports and routes them. The baseline from the same run is the least time the buckets allow for the calls
that were made; goals: elapsed / minimum <= 1.10, and no request throttled (429) after the burst.

Stock, in the same run: the levels of ``--skus`` merchant-fulfilled SKUs (1,000) as one ``JSON_LISTINGS_FEED``
(the engine's batch hook), then all of them changed and sent one by one through ``patchListingsItem`` (5 a
second, burst 5, time-scaled), each with its requests and the least time the limits allow. The emulator takes
two minutes of Amazon's time to process a feed (1.2 s at x100), as Amazon takes minutes.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from oms import catalog, inventory, routing
from oms.core.audit import Actor
from oms.core.db import Database
from oms.integration import sync_store
from oms.orders.models import SalesOrder
from sync.channels.amazon import RATES, AmazonChannel
from sync.emulators.amazon import DEFAULT_SKUS, FEED_PROCESS_S, FEED_QUEUE_S
from sync.engine import Engine, RunReport

ACTOR = Actor("bench", "bench")
IDS = ("amzn1.application-oa2-client.bench", "amzn1.oa2-cs.v1.bench", "Atzr|bench")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench amazon", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=2000)
    p.add_argument("--time-scale", type=float, default=100.0)
    p.add_argument("--skus", type=int, default=1000, help="SKUs whose stock is pushed, as a feed and one by one")
    args = p.parse_args(argv)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "sync.emulators.amazon", "--port", str(port), "--seed-orders", str(args.orders),
                               "--listings", str(args.skus),
                               "--time-scale", f"{args.time_scale:g}", "--client-id", IDS[0], "--client-secret", IDS[1],
                               "--refresh-token", IDS[2]], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        return _run(args, f"http://127.0.0.1:{port}", server)
    finally:
        server.terminate()
        server.wait(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def minimum_seconds(calls: dict[str, int], scale: float) -> float:
    """The least time the buckets allow for these calls: past each burst, one call per 1/rate seconds."""
    return max((max(0, n - RATES[op][1]) / (RATES[op][0] * scale) for op, n in calls.items() if n), default=0.0)


def _run(args, url: str, server) -> int:
    for line in server.stdout:
        if "listening" in line:
            break
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'amazon.sqlite3'}")
        db.migrate()
        with db.write() as s:
            lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502")
            routing.seed_rates(s)
            routing.ensure_default_rule(s)
            sync_store.add_connector(s, ACTOR, code="amz", role="channel", kind="amazon", name="Amazon", base_url=url)
            for sku in DEFAULT_SKUS:
                inventory.receive(s, ACTOR, catalog.add_product(s, ACTOR, sku, sku.title()), lid, 10_000_000)
        ch = AmazonChannel("amz", url, " ".join(IDS), start_at=datetime.now(timezone.utc) - timedelta(days=30))
        calls: dict[str, int] = {}
        original = ch.call

        def counted(op, *a, **kw):
            calls[op] = calls.get(op, 0) + 1
            return original(op, *a, **kw)

        ch.call = counted
        engine = Engine(db, {"amz": ch}, max_pages=10_000)
        t0 = time.perf_counter()
        (report,) = engine.run_once()
        elapsed = time.perf_counter() - t0
        with db.read() as s:
            n = s.scalar(select(func.count()).select_from(SalesOrder))
            routed = s.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.status == "allocated"))
        stock = _stock(db, url, args.skus, args.time_scale)
        db.dispose()
    least = minimum_seconds(calls, args.time_scale)
    print(f"orders: {n} imported, {routed} routed and reserved; {report.quarantined} quarantined; errors: {report.errors or 'none'}")
    print(f"calls: {', '.join(f'{op} {k}' for op, k in sorted(calls.items()))}")
    print(f"baseline (least time the documented limits allow at x{args.time_scale:g}): {least:6.2f} s")
    print(f"engine (pull + items + import + route):                 {elapsed:6.2f} s   ratio {elapsed / least if least else float('nan'):.3f}  goal <= 1.10")
    print(f"throttled requests (429) after the burst: {ch.throttled}  goal 0")
    for label, (seconds, made, least, throttled) in zip(("as one feed", "one by one (patchListingsItem)"), stock):
        print(f"stock of {args.skus} SKUs {label + ':':32} {seconds:6.2f} s, {sum(made.values())} requests "
              f"({', '.join(f'{op} {k}' for op, k in sorted(made.items()))}); least the limits allow {least:.2f} s; "
              f"throttled {throttled}")
    return 0


def _stock(db: Database, url: str, skus: int, scale: float) -> list[tuple[float, dict[str, int], float, int]]:
    """The stock of ``skus`` SKUs as one feed, then (all changed) one by one: (seconds, requests by operation,
    least seconds the limits allow, 429s) each."""
    _push(db, url, scale, feed=False)  # what the order pull left to tell Amazon goes first, untimed
    with db.write() as s:
        for n in range(1, skus + 1):
            inventory.receive(s, ACTOR, catalog.add_product(s, ACTOR, f"P{n:05d}", f"Product {n}"), "RNO", n)
    figures = [_push(db, url, scale, feed=True)]
    with db.write() as s:  # every level changes, so every one goes again
        for n in range(1, skus + 1):
            inventory.receive(s, ACTOR, f"P{n:05d}", "RNO", 1)
    figures.append(_push(db, url, scale, feed=False))
    return figures


def _push(db: Database, url: str, scale: float, *, feed: bool) -> tuple[float, dict[str, int], float, int]:
    ch = AmazonChannel("amz", url, " ".join(IDS), seller_id="A2BENCH", location_map={"RNO": "DEFAULT"},
                       feed_threshold=50 if feed else 10**9, feed_poll_s=30 / scale, feed_wait_s=3600)
    calls: dict[str, int] = {}
    original_call, original_transfer = ch.call, ch._transfer

    def counted(op, *a, **kw):
        calls[op] = calls.get(op, 0) + 1
        return original_call(op, *a, **kw)

    def transferred(method, *a, **kw):
        calls[f"document {method}"] = calls.get(f"document {method}", 0) + 1
        return original_transfer(method, *a, **kw)

    ch.call, ch._transfer = counted, transferred
    engine = Engine(db, {"amz": ch})
    report = RunReport("amz")
    t0 = time.perf_counter()
    engine.push("amz", report)
    elapsed = time.perf_counter() - t0
    with db.write() as s:
        sync_store.release_lease(s, "amz", engine.holder)
    if report.errors or report.failed:
        raise SystemExit(f"the stock push failed: {report.errors[:3]}")
    least = minimum_seconds({op: k for op, k in calls.items() if op in RATES}, scale)
    if feed:  # and the feed's own time in Amazon's queue and processing, as the emulator has it
        least += (FEED_QUEUE_S + FEED_PROCESS_S) / scale
    return elapsed, calls, least, ch.throttled
