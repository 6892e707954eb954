"""EDI: 850 line items parsed and imported per second, and 856 documents generated per second, on SQLite.

    python -m bench edi --pos 5000

One file with N purchase orders of 4 lines each is parsed, mapped and imported (with
its 997 and, after routing, an 855 per order) in one transaction; the baseline in the
same run is the parse alone. Then N advance ship notices with two cartons each are
built and enveloped with control numbers from the database; the baseline is building
them without envelopes or control numbers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from oms import catalog, inventory, routing
from oms.core.audit import Actor
from oms.core.db import Database
from oms.core.gs1 import sscc
from oms.partners import edi
from sync.channels.edi_x12.docs import build_856
from sync.channels.edi_x12.service import import_interchanges, write_document
from sync.channels.edi_x12.x12 import Group, Segment, Transaction, parse_interchanges, write_interchange

ACTOR = Actor("bench", "bench")
WHEN = datetime(2026, 11, 23, 11, tzinfo=timezone.utc)


def make_file(n: int, skus: list[str]) -> str:
    txs = []
    for k in range(n):
        body = [Segment("BEG", ("00", "SA", f"PO{700000 + k}", "", "20261123")), Segment("DTM", ("002", "20261201")),
                Segment("N1", ("ST", "Northwind DC 14", "92", "0014"))]
        for j in range(4):
            body += [Segment("PO1", (str(j + 1), str(6 + j), "EA", "12.50", "", "VN", skus[(k * 4 + j) % len(skus)])),
                     Segment("PID", ("F", "", "", "", f"Item {j + 1}"))]
        body.append(Segment("CTT", ("4",)))
        txs.append(Transaction(set_id="850", control=f"{k + 1:04d}", segments=tuple(body)))
    group = Group(functional_id="PO", sender="NORTHWIND", receiver="QUAYSIDE", control="1", transactions=tuple(txs))
    return write_interchange([group], sender_id="NORTHWIND", receiver_id="QUAYSIDE", control=1, when=WHEN, newline=True)


def asn(k: int) -> dict:
    cartons = [{"package_id": k * 2 + c, "sscc": sscc("0614141", k * 2 + c + 1), "pallet_id": None, "weight_g": 4000,
                "items": [{"external_line_id": str(c + 1), "sku": f"SKU-{c}", "quantity": 6}]} for c in range(2)]
    return {"shipment_id": k + 1, "po_number": f"PO{700000 + k}", "ship_from": {"name": "Reno", "city": "Reno", "region": "NV",
            "postal_code": "89502"}, "ship_to": {"name": "Northwind DC 14", "city": "Sparks", "region": "NV", "postal_code": "89431",
            "country": "US"}, "carrier": "ACME", "service": "", "tracking_number": f"BOL{k}", "shipped_at": WHEN.isoformat(),
            "weight_g": 8000, "pallets": [], "cartons": cartons, "line_count": 2}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench edi", description=__doc__.split("\n\n")[0])
    p.add_argument("--pos", type=int, default=5000)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'edi.sqlite3'}")
        db.migrate()
        skus = [f"SKU-{i:03d}" for i in range(200)]
        with db.write() as s:
            lid = inventory.add_location(s, ACTOR, "RNO", "Reno", region="NV", postal_code="89502")
            routing.seed_rates(s)
            routing.ensure_default_rule(s)
            for sku in skus:
                inventory.receive(s, ACTOR, catalog.add_product(s, ACTOR, sku, sku), lid, 10_000_000)
            pid = edi.add_partner(s, ACTOR, code="northwind", name="Northwind", our_id="QUAYSIDE", their_id="NORTHWIND")
            edi.add_ship_to(s, pid, "0014", "Northwind DC 14", city="Sparks", region="NV", postal_code="89431")
        text = make_file(args.pos, skus)
        lines = args.pos * 4
        t0 = time.perf_counter()
        parse_interchanges(text)
        parse_only = time.perf_counter() - t0
        t0 = time.perf_counter()
        with db.write() as s:
            report = import_interchanges(s, text, filename="bench.x12")
        full = time.perf_counter() - t0
        t0 = time.perf_counter()
        for k in range(args.pos):
            build_856(asn(k))
        build_only = time.perf_counter() - t0
        t0 = time.perf_counter()
        with db.write() as s:
            partner = edi.partner(s, "northwind")
            for k in range(args.pos):
                write_document(s, partner, "SH", "856", build_856(asn(k)), when=WHEN)
        enveloped = time.perf_counter() - t0
        db.dispose()
    print(f"850s: {args.pos} purchase orders, {lines} line items, {len(text) / 1e6:.1f} MB; {report.line()}")
    print(f"baseline (parse only):                  {lines / parse_only:9,.0f} line items/s  ({parse_only:.2f} s)")
    print(f"parse + map + import + route + 997/855:  {lines / full:9,.0f} line items/s  ({full:.2f} s)")
    print(f"856s, baseline (build only):             {args.pos / build_only:9,.0f} documents/s")
    print(f"856s with envelopes and control numbers: {args.pos / enveloped:9,.0f} documents/s  ({enveloped:.2f} s)")
    return 0
