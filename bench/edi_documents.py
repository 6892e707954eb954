"""EDI document log: the Documents screen's queries at 100,000 documents, on SQLite.

    python -m bench edi_documents --docs 100000

Documents are written in bulk (the import path is measured by ``bench edi``); each
query the screen runs is then timed as the screen runs it: first page, a rare status,
one partner, the status chips, a page deep in the list, searches by PO number, control
number and file name, and one document whole.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, select

from oms import catalog
from oms.core.audit import Actor
from oms.core.db import Database
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder
from oms.orders.intake import import_orders
from oms.orders.models import SalesOrder
from oms.partners import edi, edi_queries
from oms.partners.edi_queries import DocumentFilter
from oms.partners.models import EdiDocument

ACTOR = Actor("bench", "bench")
RAW_850 = ("ST*850*0001~\nBEG*00*SA*{po}**20261123~\nN1*ST*DC 14*92*0014~\n" + "PO1*{i}*6*EA*12.50**VN*SKU-1~\nPID*F****Item~\n" * 4
           + "CTT*4~\nSE*13*0001~\n")


def timed(label: str, fn, repeat: int = 5) -> None:
    fn()  # warm the cache, as a screen that has been open a while has
    t0 = time.perf_counter()
    for _ in range(repeat):
        result = fn()
    ms = (time.perf_counter() - t0) / repeat * 1000
    size = len(result) if hasattr(result, "__len__") else result
    print(f"  {label:<44} {ms:8.1f} ms   ({size})")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench edi_documents", description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, default=100_000)
    args = p.parse_args(argv)
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'docs.sqlite3'}")
        db.migrate()
        with db.write() as s:
            catalog.add_product(s, ACTOR, "SKU-1", "Item")
            partners = [edi.add_partner(s, ACTOR, code=f"P{k}", name=f"Partner {k}", our_id="QUAYSIDE", their_id=f"THEM{k}")
                        for k in range(5)]
            orders = import_orders(s, ACTOR, [NormalizedOrder(
                channel="P0", external_id=f"PO{700000 + k}", number=f"PO{700000 + k}", placed_at=datetime.now(timezone.utc),
                currency="USD", lines=(NormalizedLine("1", "SKU-1", 1, 1250, "Item"),), order_type="wholesale",
                customer_name="Partner 0", ship_to=Address("DC", "", "1 Dock Rd", "", "Sparks", "NV", "89431", "US"))
                for k in range(2000)])
        order_ids = [o.order_id for o in orders]
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        t0 = time.perf_counter()
        rows = []
        for k in range(args.docs):
            direction = "in" if k % 3 == 0 else "out"
            doc_type = "850" if direction == "in" else rng.choice(("997", "855", "856", "810"))
            status = ("rejected" if rng.random() < 0.002 else "accepted") if direction == "in" else rng.choice(
                ("sent", "acknowledged", "acknowledged", "queued"))
            rows.append(dict(partner_id=partners[k % len(partners)], direction=direction, doc_type=doc_type,
                             isa_control=f"{k:09d}" if direction == "in" else str(k), gs_control=str(k), st_control="0001",
                             status=status, order_id=order_ids[k % len(order_ids)] if doc_type in ("850", "855") else None,
                             shipment_id=None, filename=f"P{k % 5}_{k:07d}.x12" if direction == "in" else "",
                             raw=RAW_850.format(po=f"PO{700000 + k % 2000}", i=1), error="SE count" if status == "rejected" else "",
                             created_at=start + timedelta(seconds=30 * k), acknowledged_at=None))
            if len(rows) == 10_000:
                with db.write() as s:
                    s.execute(insert(EdiDocument), rows)
                rows = []
        if rows:
            with db.write() as s:
                s.execute(insert(EdiDocument), rows)
        print(f"{args.docs:,} documents written in {time.perf_counter() - t0:.1f} s")
        with db.read() as s:
            some_id = s.scalar(select(EdiDocument.id).order_by(EdiDocument.id.desc()).limit(1))
            number = s.scalar(select(SalesOrder.number).limit(1))
            timed("count + first page, no filter", lambda: (edi_queries.count(s, DocumentFilter()),
                                                            edi_queries.page(s, DocumentFilter(), 0, 100))[1])
            timed("first page, status rejected", lambda: edi_queries.page(s, DocumentFilter(status="rejected"), 0, 100))
            timed("count, status rejected", lambda: edi_queries.count(s, DocumentFilter(status="rejected")))
            timed("first page, one partner", lambda: edi_queries.page(s, DocumentFilter(partner_id=partners[2]), 0, 100))
            timed("first page, 810s going out", lambda: edi_queries.page(s, DocumentFilter(doc_type="810", direction="out"), 0, 100))
            timed("status chips, no filter", lambda: edi_queries.status_counts(s, DocumentFilter()))
            timed("status chips, one partner", lambda: edi_queries.status_counts(s, DocumentFilter(partner_id=partners[2])))
            timed("page at row 50,000", lambda: edi_queries.page(s, DocumentFilter(), 50_000, 100))
            timed(f"search PO number {number}", lambda: edi_queries.page(s, DocumentFilter(search=number), 0, 100))
            timed("search control number 4242", lambda: edi_queries.page(s, DocumentFilter(search="4242"), 0, 100))
            timed("search file name P3_00", lambda: edi_queries.page(s, DocumentFilter(search="P3_00"), 0, 100))
            timed("one document whole", lambda: [edi_queries.document(s, some_id)])
            timed("poll (version)", lambda: edi_queries.version(s))
        db.dispose()
    return 0
