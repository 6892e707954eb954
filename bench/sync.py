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
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from oms import catalog, inventory, routing, sync_store
from oms.audit import Actor
from oms.db import Database
from oms.models import SalesOrder
from sync.channels.shopify import ShopifyChannel
from sync.emulators.shopify import DEFAULT_SKUS, ShopifyEmulator
from sync.engine import Engine

ACTOR = Actor("bench", "bench")
TOKEN = "shpat_bench"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench sync", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=20000)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, ShopifyEmulator(token=TOKEN, seed=1, rate_limit=False) as emu:
        t = time.perf_counter()
        emu.seed_orders(args.orders, DEFAULT_SKUS)
        db = Database(f"sqlite:///{Path(tmp) / 'sync.sqlite3'}")
        db.migrate()
        with db.write() as s:
            lid = catalog.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502")
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
