"""Amazon: 2,000 orders with their items pulled through the SP-API emulator at time scale 100, against the
minimum time the documented rate limits allow.

    python -m bench amazon --orders 2000 --time-scale 100

The emulator runs in its own process with the documented token buckets, 100 times faster (getOrders 1.67 a
second, burst 20; getOrderItems 50 a second, burst 30). The engine pulls every page and each order's items,
imports and routes them. The baseline from the same run is the least time the buckets allow for the calls
that were made; goals: elapsed / minimum <= 1.10, and no request throttled (429) after the burst.
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
from sync.emulators.amazon import DEFAULT_SKUS
from sync.engine import Engine

ACTOR = Actor("bench", "bench")
IDS = ("amzn1.application-oa2-client.bench", "amzn1.oa2-cs.v1.bench", "Atzr|bench")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench amazon", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=2000)
    p.add_argument("--time-scale", type=float, default=100.0)
    args = p.parse_args(argv)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "sync.emulators.amazon", "--port", str(port), "--seed-orders", str(args.orders),
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
        db.dispose()
    least = minimum_seconds(calls, args.time_scale)
    print(f"orders: {n} imported, {routed} routed and reserved; {report.quarantined} quarantined; errors: {report.errors or 'none'}")
    print(f"calls: {', '.join(f'{op} {k}' for op, k in sorted(calls.items()))}")
    print(f"baseline (least time the documented limits allow at x{args.time_scale:g}): {least:6.2f} s")
    print(f"engine (pull + items + import + route):                 {elapsed:6.2f} s   ratio {elapsed / least if least else float('nan'):.3f}  goal <= 1.10")
    print(f"throttled requests (429) after the burst: {ch.throttled}  goal 0")
    return 0
