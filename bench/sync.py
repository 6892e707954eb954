"""Sync: orders per second from the Shopify emulator into routed, reserved orders on SQLite.

    python -m bench sync --orders 20000

The emulator serves N generated orders over loopback HTTP (250 per page); the engine
pulls every page, maps it, imports and routes it, and commits it with its cursor.
The baseline in the same run is the connector alone pulling and mapping the same
pages with nothing written, which is the cost of HTTP and JSON.
"""

from __future__ import annotations

import argparse
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import func, select

from oms import catalog, inventory, routing
from oms.core.audit import Actor
from oms.core.db import Database
from oms.integration import sync_store
from oms.orders.models import SalesOrder
from sync.channels.shopify import ShopifyChannel
from sync.emulators.shopify import DEFAULT_SKUS
from sync.engine import Engine

ACTOR = Actor("bench", "bench")
TOKEN = "shpat_bench"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench sync", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=20000)
    args = p.parse_args(argv)
    # The emulator runs in its own process, as Shopify's servers would: serving JSON is not our cost.
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "sync.emulators.shopify", "--port", str(port), "--token", TOKEN,
                               "--seed-orders", str(args.orders), "--no-rate-limit"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    emu = SimpleNamespace(url=f"http://127.0.0.1:{port}")
    try:
        return _run(args, emu, server)
    finally:
        server.terminate()
        server.wait(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args, emu, server) -> int:
    t = time.perf_counter()
    for line in server.stdout:  # the emulator says so once the orders are generated and it listens
        if "listening" in line:
            break
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'sync.sqlite3'}")
        db.migrate()
        with db.write() as s:
            lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502")
            routing.seed_rates(s)
            routing.ensure_default_rule(s)
            sync_store.add_connector(s, ACTOR, code="web", role="channel", kind="shopify", name="Web", base_url=emu.url)
            for sku in DEFAULT_SKUS:
                inventory.receive(s, ACTOR, catalog.add_product(s, ACTOR, sku, sku.title()), lid, 10_000_000)
        print(f"prepared {args.orders} orders in the emulator in {time.perf_counter() - t:.1f} s")

        def connector():
            client = ShopifyChannel.make_client(emu.url, TOKEN, rng=random.Random(1))
            return ShopifyChannel("web", emu.url, TOKEN, client=client)

        ch = connector()
        cursor, mapped = None, 0
        t0 = time.perf_counter()
        while True:
            page = ch.pull_orders(cursor)
            mapped += len(page.orders)
            cursor = page.next_cursor
            if page.done:
                break
        pull_only = time.perf_counter() - t0

        engine = Engine(db, {"web": connector()})
        t0 = time.perf_counter()
        (report,) = engine.run_once()
        full = time.perf_counter() - t0
        with db.read() as s:
            n = s.scalar(select(func.count()).select_from(SalesOrder))
            routed = s.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.status == "allocated"))
        db.dispose()
    print(f"orders: {n} imported, {routed} routed and reserved; {report.quarantined} quarantined")
    print(f"baseline (connector pull + mapping, no database): {mapped / pull_only:7,.0f} orders/s  ({pull_only:.2f} s)")
    print(f"engine (pull + import + route + cursor commit):  {n / full:7,.0f} orders/s  ({full:.2f} s)")
    return 0
