"""A 3PL over X12: N orders go out as 940s and their 945s come back as shipments, on SQLite.

    python -m bench threepl --orders 5000

N one-line orders are taken in and routed to the 3PL's location. Then a sync pass of the 3PL's folder
connection queues a 940 per order and writes each to its outbox (control numbers, document log, file); the
figure is 940s per second. The warehouse answers with one file holding a 945 per order (a carton with an SSCC
and a tracking number each), which is imported: each becomes a picked, packed and ship-confirmed shipment,
with the channel's messages; the figure is 945s per second, and the baseline in the same run is parsing that
file alone.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select

from oms import catalog, intake, inventory, orders, routing
from oms.core.audit import Actor
from oms.core.db import Database
from oms.core.gs1 import sscc
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder
from oms.orders.models import OrderLine, SalesOrder
from oms.partners import edi
from oms.threepl.models import ThreePLOrder
from sync.channels.edi_x12.folder import EdiFolderChannel
from sync.channels.edi_x12.service import import_interchanges
from sync.channels.edi_x12.x12 import Group, Segment, Transaction, parse_interchanges, write_interchange
from sync.engine import Engine

ACTOR = Actor("bench", "bench")
WHEN = datetime(2026, 12, 6, 9, tzinfo=timezone.utc)


def the_945s(refs: list[tuple[str, str, str]]) -> str:
    """One interchange from the warehouse with a 945 per (reference, line ref, SKU): all shipped, one carton each."""
    txs = []
    for k, (reference, line_ref, sku) in enumerate(refs):
        body = (Segment("W06", ("F", reference, "20261206", f"SR{k + 1}")), Segment("W27", ("M", "UPSN", "Ground")),
                Segment("N9", ("2I", f"1Z{k:016d}")), Segment("LX", ("1",)), Segment("MAN", ("GM", sscc("0860004", k + 1))),
                Segment("W12", ("CC", "1", "1", "0", "EA", "", "VN", sku)), Segment("N9", ("LI", line_ref)))
        txs.append(Transaction(set_id="945", control=f"{k + 1:04d}", segments=body))
    group = Group(functional_id="SW", sender="SHIPRIGHT", receiver="QUAYSIDE", control="1", transactions=tuple(txs))
    return write_interchange([group], sender_id="SHIPRIGHT", receiver_id="QUAYSIDE", control=1, when=WHEN, newline=True)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench threepl", description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=5000)
    args = p.parse_args(argv)
    n = args.orders
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'tpl.sqlite3'}")
        db.migrate()
        skus = [f"SKU-{i:03d}" for i in range(100)]
        with db.write() as s:
            lid = inventory.add_location(s, ACTOR, "DFW3PL", "ShipRight Dallas", kind="3pl")
            orders.add_channel(s, ACTOR, "web", "Web shop", "manual")
            routing.seed_rates(s)
            routing.ensure_default_rule(s)
            for sku in skus:
                inventory.receive(s, ACTOR, catalog.add_product(s, ACTOR, sku, sku), lid, 1_000_000)
            edi.add_partner(s, ACTOR, code="shipright", name="ShipRight", our_id="QUAYSIDE", their_id="SHIPRIGHT",
                            documents=edi.WAREHOUSE_DOCUMENT_TYPES, transport={"kind": "folder", "path": str(Path(tmp) / "sr")},
                            location="DFW3PL")
        to = Address("Ada Lovelace", "", "1 Main St", "", "Dallas", "TX", "75201", "US")
        batch = [NormalizedOrder(channel="web", external_id=str(k), number=f"W{k:06d}", placed_at=WHEN, currency="USD",
                                 lines=(NormalizedLine("1", skus[k % len(skus)], 1, 1200, "item"),), customer_name="Ada",
                                 customer_email="ada@example.com", ship_to=to) for k in range(n)]
        for start in range(0, n, 1000):
            with db.write() as s:
                intake.take_in(s, ACTOR, batch[start:start + 1000])
        channel = EdiFolderChannel("shipright", db, Path(tmp) / "sr")
        engine = Engine(db, {"shipright": channel}, max_pages=10)
        t0 = time.perf_counter()
        sent = 0
        while True:
            (report,) = engine.run_once()
            if not report.pushed:
                break
            sent += report.pushed
        out_s = time.perf_counter() - t0
        with db.read() as s:
            refs = s.execute(select(ThreePLOrder.reference, OrderLine.id, OrderLine.sku)
                             .join(SalesOrder, SalesOrder.id == ThreePLOrder.order_id)
                             .join(OrderLine, OrderLine.order_id == SalesOrder.id)).all()
        text = the_945s([(r, str(line), sku) for r, line, sku in refs])
        t0 = time.perf_counter()
        parse_interchanges(text)
        parse_only = time.perf_counter() - t0
        t0 = time.perf_counter()
        with db.write() as s:
            report = import_interchanges(s, text, filename="945s.x12", partner_code="shipright")
        in_s = time.perf_counter() - t0
        with db.read() as s:
            shipped = s.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.status == "shipped"))
        db.dispose()
    print(f"940 out: {sent:,} documents in {out_s:.1f} s = {sent / out_s:,.0f} documents/s (queued, enveloped, logged, written)")
    print(f"945 in: {len(refs):,} documents in {in_s:.1f} s = {len(refs) / in_s:,.0f} documents/s "
          f"({shipped:,} orders shipped, {report.rejected} rejected)")
    print(f"baseline, parsing the 945 file alone: {len(refs) / parse_only:,.0f} documents/s")
    return 0 if shipped == n and sent == n else 1
