"""Route: orders routed and reserved per second with 3 locations and 5 rules, on SQLite.

    python -m bench route --orders 20000 [--batch 500]

The orders are imported unrouted first (not timed), then routed in batches of
--batch per transaction through oms.routing.route_orders. The baseline in the
same run is the planning alone (rules, candidate plans, scoring, explanations)
over the same orders with nothing written, which shows what the database work adds.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from bench.ingest import ACTOR, PRODUCTS, make_orders, prepare
from oms import inventory, orders, routing
from oms.catalog.models import Product
from oms.core.db import Database
from oms.inventory.models import Location
from oms.orders.models import SalesOrder
from oms.routing import service

RULES = [
    ("Hold very large web orders", {"channel": ["web"], "value_min_minor": 500000}, {"hold_reason": "Check payment"}),
    ("Wholesale ships complete", {"order_type": ["wholesale"]}, {"split": "ship_complete"}),
    ("Heavy from the warehouses", {"weight_min_g": 20000}, {"allowed_locations": ["RNO", "EWR"]}),
    ("East coast prefers Newark", {"region": ["NY", "NJ", "MA", "PA"]}, {"preferred_locations": ["EWR"]}),
]


def prepare_routing(path: Path) -> None:
    prepare(path)
    db = Database(f"sqlite:///{path}")
    rng = random.Random(3)
    with db.write() as s:
        for code, region in (("RNO", "NV"), ("EWR", "NJ"), ("DFW", "TX")):
            s.scalars(select(Location).where(Location.code == code)).one().region = region
        s.flush()
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        for name, c, a in RULES:
            routing.save_rule(s, ACTOR, name, c, a)
        pids = s.scalars(select(Product.id)).all()
        ewr, dfw = inventory.location_id(s, "EWR"), inventory.location_id(s, "DFW")
        for pid in pids:
            for lid in (ewr, dfw):
                if rng.random() < 0.6:
                    inventory.receive(s, ACTOR, pid, lid, rng.randint(50, 5000))
    db.dispose()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench route", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=20000)
    p.add_argument("--batch", type=int, default=500)
    args = p.parse_args(argv)
    regions = ["WA", "CA", "NY", "TX", "FL", "IL", "MA", "CO", "GA", "OR"]
    rng = random.Random(5)
    batch = make_orders(args.orders)
    from dataclasses import replace

    from oms.orders.contract import Address

    batch = [replace(o, ship_to=Address("Ada", "", "1 Main St", "", "City", rng.choice(regions), "10001", "US")) for o in batch]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "route.sqlite3"
        t = time.perf_counter()
        prepare_routing(path)
        db = Database(f"sqlite:///{path}")
        for i in range(0, len(batch), 1000):
            with db.write() as s:
                orders.import_orders(s, ACTOR, batch[i:i + 1000])
        print(f"prepared {PRODUCTS} products, 3 locations, 5 rules and {args.orders} unrouted orders in {time.perf_counter() - t:.1f} s")
        with db.read() as s:
            ids = s.scalars(select(SalesOrder.id).order_by(SalesOrder.id)).all()
        now = datetime(2026, 11, 2, 15, tzinfo=timezone.utc)

        # Baseline: planning only, nothing written.
        with db.read() as s:
            rules = routing.load_rules(s)
            locations = service._locations(s)
            rates = routing.RateBook.load(s)
            t0 = time.perf_counter()
            for i in range(0, len(ids), args.batch):
                facts, _meta, _lines = service._facts(s, ids[i:i + args.batch])
                avail = service._available(s, {l.product_id for f in facts.values() for l in f.lines})
                for f in facts.values():
                    rule = routing.first_match(rules, f)
                    plans = routing.candidate_plans(f, rule, locations, avail, rates, now)
                    routing.explain(f, rule, plans, f.currency)
            plan_only = time.perf_counter() - t0

        t0 = time.perf_counter()
        outcomes: dict[str, int] = {}
        for i in range(0, len(ids), args.batch):
            with db.write() as s:
                for r in routing.route_orders(s, ACTOR, ids[i:i + args.batch], now=now):
                    outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        full = time.perf_counter() - t0
        db.dispose()
    n = len(ids)
    print(f"orders: {n}, {args.batch} per transaction, SQLite; outcomes: {dict(sorted(outcomes.items()))}")
    print(f"baseline (planning only, no writes): {n / plan_only:8,.0f} orders/s  ({plan_only:.2f} s)")
    print(f"route_orders (plan + reserve + write): {n / full:6,.0f} orders/s  ({full:.2f} s)")
    return 0
