"""WooCommerce: orders per second from the WooCommerce emulator into routed, reserved orders on SQLite.

    python -m bench woocommerce --orders 10000

The emulator runs in its own process and serves N generated orders over loopback HTTP, 100 a page (the most
WooCommerce gives). The engine pulls every page, maps it, imports and routes it, and commits it with its
cursor. The baseline in the same run is the connector alone pulling and mapping the same pages with nothing
written: the cost of HTTP and JSON. Goal: 1,000 routed orders a second or more.

Stock, in the same run: the levels of ``--skus`` products (1,000) pushed by the engine through the batch hook
(100 a request to ``products/batch``), then all of them changed and pushed again one message at a time (one
request each), as the engine did before the hook. Both include queueing the levels and marking them sent.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from oms import catalog, inventory, routing
from oms.core.audit import Actor
from oms.core.db import Database
from oms.integration import sync_store
from oms.orders.models import SalesOrder
from sync.channels.woocommerce import WooCommerceChannel
from sync.emulators.woocommerce import DEFAULT_SKUS
from sync.engine import Engine, RunReport

ACTOR = Actor("bench", "bench")
KEYS = ("ck_bench", "cs_bench")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench woocommerce", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=10000)
    p.add_argument("--skus", type=int, default=1000, help="products whose stock is pushed, batched and one by one")
    args = p.parse_args(argv)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "sync.emulators.woocommerce", "--port", str(port), "--seed-orders", str(args.orders),
                               "--products", str(args.skus),
                               "--consumer-key", KEYS[0], "--consumer-secret", KEYS[1]],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        return _run(args, f"http://127.0.0.1:{port}", server)
    finally:
        server.terminate()
        server.wait(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args, url: str, server) -> int:
    t = time.perf_counter()
    for line in server.stdout:  # the emulator says so once the orders are generated and it listens
        if "listening" in line:
            break
    secret = ":".join(KEYS)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'woo.sqlite3'}")
        db.migrate()
        with db.write() as s:
            lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502")
            routing.seed_rates(s)
            routing.ensure_default_rule(s)
            sync_store.add_connector(s, ACTOR, code="woo", role="channel", kind="woocommerce", name="Woo", base_url=url)
            for sku in DEFAULT_SKUS:
                inventory.receive(s, ACTOR, catalog.add_product(s, ACTOR, sku, sku.title()), lid, 10_000_000)
        print(f"prepared {args.orders} orders in the emulator in {time.perf_counter() - t:.1f} s")

        ch = WooCommerceChannel("woo", url, secret)
        cursor, mapped = None, 0
        t0 = time.perf_counter()
        while True:
            page = ch.pull_orders(cursor)
            mapped += len(page.orders)
            cursor = page.next_cursor
            if page.done:
                break
        pull_only = time.perf_counter() - t0

        engine = Engine(db, {"woo": WooCommerceChannel("woo", url, secret)})
        t0 = time.perf_counter()
        (report,) = engine.run_once()
        full = time.perf_counter() - t0
        with db.read() as s:
            n = s.scalar(select(func.count()).select_from(SalesOrder))
            routed = s.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.status == "allocated"))
        batched, one_by_one = _stock(db, url, secret, args.skus)
        db.dispose()
    print(f"orders: {n} imported, {routed} routed and reserved; {report.quarantined} quarantined")
    print(f"baseline (connector pull + mapping, no database): {mapped / pull_only:7,.0f} orders/s  ({pull_only:.2f} s)")
    print(f"engine (pull + import + route + cursor commit):  {n / full:7,.0f} orders/s  ({full:.2f} s)  goal >= 1,000")
    print(f"stock of {args.skus} SKUs, batched (100 a request):  {batched[0]:.2f} s, {batched[1]} requests")
    print(f"stock of {args.skus} SKUs, one message at a time:    {one_by_one[0]:.2f} s, {one_by_one[1]} requests"
          f"  ({one_by_one[0] / batched[0]:.1f}x the batched time)")
    return 0


def _stock(db: Database, url: str, secret: str, skus: int) -> tuple[tuple[float, int], tuple[float, int]]:
    """Push every SKU's level through the batch hook, then (all changed) one message at a time; (seconds, requests) each."""
    _push(db, url, secret, batched=True)  # what the order pull left to tell the shop goes first, untimed
    with db.write() as s:
        for n in range(1, skus + 1):
            inventory.receive(s, ACTOR, catalog.add_product(s, ACTOR, f"P{n:05d}", f"Product {n}"), "RNO", n)
    figures = []
    for batched in (True, False):
        if not batched:
            with db.write() as s:  # every level changes, so every one goes again
                for n in range(1, skus + 1):
                    inventory.receive(s, ACTOR, f"P{n:05d}", "RNO", 1)
        figures.append(_push(db, url, secret, batched=batched))
    return figures[0], figures[1]


def _push(db: Database, url: str, secret: str, *, batched: bool) -> tuple[float, int]:
    """One push pass of the engine over a new connector: (seconds, POST requests)."""
    ch = WooCommerceChannel("woo", url, secret, location_map={"RNO": "stock"})
    ch.load_catalogue()  # the catalogue is read once and kept by both: not part of the figure
    if not batched:
        ch.batch_topics = ()  # the engine then hands the messages over one at a time
    calls = _Counting(ch)
    report = RunReport("woo")
    engine = Engine(db, {"woo": ch})
    t0 = time.perf_counter()
    engine.push("woo", report)
    elapsed = time.perf_counter() - t0
    with db.write() as s:
        sync_store.release_lease(s, "woo", engine.holder)
    if report.errors or report.failed:
        raise SystemExit(f"the stock push failed: {report.errors[:3]}")
    return elapsed, calls.posts


class _Counting:
    """Counts the POSTs a connector's client makes (the batch requests)."""

    def __init__(self, ch: WooCommerceChannel):
        self.posts = 0
        original = ch.client.request

        def request(method, path, **kw):
            if method.upper() == "POST":
                self.posts += 1
            return original(method, path, **kw)

        ch.client.request = request
