"""Headless commands on the domain: seed, db upgrade, orders, stock, check."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from oms import check as integrity, inventory, orders, purchasing, seed, transfers
from oms.cli.options import add_db_option, open_db
from oms.core import audit, backup
from oms.core.db import Database
from oms.core.errors import InvalidInput, NotFound
from oms.core.i18n import _, ngettext
from oms.core.money import format_money
from oms.inventory.models import Location, StockMovement
from oms.orders.models import Channel, OrderLine, OrderStatus, SalesOrder
from oms.orders.status import status_title
from oms.shipping.models import Shipment


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seed", help=_("fill the database with demo data"))
    add_db_option(p)
    p.add_argument("--orders", type=int, default=300, help=_("number of demo orders (default 300)"))
    p.add_argument("--products", type=int, default=500, help=_("number of products (default 500)"))
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser("db", help=_("database maintenance"))
    dsub = p.add_subparsers(dest="db_command", required=True)
    u = dsub.add_parser("upgrade", help=_("create or migrate the database schema"))
    add_db_option(u)
    u.set_defaults(func=cmd_db_upgrade)
    b = dsub.add_parser("backup", help=_("back the database up now (SQLite backup API, or pg_dump) and rotate old backups"))
    add_db_option(b)
    b.add_argument("--folder", metavar="DIR", help=_("where backups go (default: the backup_folder setting, "
                                                      "else backups/ beside the SQLite file)"))
    b.set_defaults(func=cmd_db_backup)
    ls = dsub.add_parser("backups", help=_("list this database's backups, newest last"))
    add_db_option(ls)
    ls.add_argument("--folder", metavar="DIR")
    ls.set_defaults(func=cmd_db_backups)
    r = dsub.add_parser("restore", help=_("replace the SQLite database with a backup, after checking the backup"))
    add_db_option(r)
    r.add_argument("file", nargs="?", metavar="FILE", help=_("the backup file"))
    r.add_argument("--latest", action="store_true", help=_("restore the newest backup in the backup folder"))
    r.add_argument("--folder", metavar="DIR")
    r.set_defaults(func=cmd_db_restore)

    p = sub.add_parser("orders", help=_("list or show orders"))
    osub = p.add_subparsers(dest="orders_command", required=True)
    ls = osub.add_parser("list", help=_("list orders, newest first"))
    add_db_option(ls)
    ls.add_argument("--status", choices=[s.value for s in OrderStatus])
    ls.add_argument("--channel", help=_("channel code"))
    ls.add_argument("--number", help=_("order number or channel order id (prefix match)"))
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_orders_list)
    sh = osub.add_parser("show", help=_("one order with lines and shipments"))
    add_db_option(sh)
    sh.add_argument("ref", help=_("order number, channel order id or id"))
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=cmd_orders_show)

    p = sub.add_parser("stock", help=_("stock of a product"))
    ssub = p.add_subparsers(dest="stock_command", required=True)
    st = ssub.add_parser("show", help=_("stock of one SKU or barcode at every location"))
    add_db_option(st)
    st.add_argument("sku")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_stock_show)

    p = sub.add_parser("products", help=_("the product catalogue"))
    psub = p.add_subparsers(dest="products_command", required=True)
    im = psub.add_parser("import", help=_("add products from a CSV file (SKU, title, barcodes, bin, stock); "
                                          "all or nothing"))
    add_db_option(im)
    im.add_argument("file", metavar="FILE")
    im.add_argument("--location", default="MAIN", help=_("where the stock is (created when missing; default MAIN)"))
    im.add_argument("--location-name", default="Main warehouse")
    im.set_defaults(func=cmd_products_import)

    p = sub.add_parser("check", help=_("check the database's integrity; exits 1 on any finding"))
    add_db_option(p)
    p.set_defaults(func=cmd_check)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))
    sys.stdout.write("\n")


def cmd_seed(args) -> int:
    db = open_db(args)
    if args.orders < 0 or args.products < 1:
        raise SystemExit(_("error: --orders must be 0 or more and --products at least 1"))
    seed.master_data(db, products=args.products)
    report = seed.demo_orders(db, args.orders, progress=lambda n: print(f"\r{n}/{args.orders} orders", end="", file=sys.stderr))
    print(file=sys.stderr)
    print(_("Seeded {orders} orders over {products} products in {where}.").format(orders=report.orders, products=report.products, where=db.description))
    for status, n in sorted(report.by_status.items()):
        print(f"  {status_title(status):20} {n}")
    return 0


def cmd_db_upgrade(args) -> int:
    db = Database(args.db)
    report = db.migrate()
    if report.before == report.after:
        print(_("The database {where} is up to date (schema {rev}).").format(where=db.description, rev=report.after))
    else:
        print(_("Upgraded {where} from schema {old} to {new}.").format(where=db.description, old=report.before or _("empty"), new=report.after))
        if report.backup:
            print(_("A copy of the database before the upgrade is at {path}.").format(path=report.backup))
    return 0


def cmd_products_import(args) -> int:
    from oms.core.audit import Actor
    from oms.product_import import import_products, read_products

    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(_("Cannot read {path}: {error}").format(path=args.file, error=exc)) from exc
    rows = read_products(text)
    db = open_db(args)
    with db.write() as s:
        report = import_products(s, Actor("cli", "cli"), rows, location=args.location, location_name=args.location_name)
    print(_("Imported {n} products with {units} units in stock into {location} ({bins} new bins).").format(
        n=report.products, units=report.units, location=report.location, bins=report.bins))
    return 0


def _backup_folder(args, url: str):
    from oms.core.settings import Settings

    return backup.backup_folder(url, getattr(args, "folder", None) or Settings.load().backup_folder)


def cmd_db_backup(args) -> int:
    db = Database(getattr(args, "db", None))
    try:
        report = backup.backup(db.url, _backup_folder(args, db.url), schema=db.schema)
    finally:
        db.dispose()
    print(_("Backed up {where} to {path}.").format(where=db.description, path=report.path))
    for p in report.removed:
        print(_("Removed the older backup {path}.").format(path=p))
    return 0


def cmd_db_backups(args) -> int:
    db = Database(getattr(args, "db", None))
    db.dispose()
    folder = _backup_folder(args, db.url)
    found = backup.list_backups(db.url, folder)
    if not found:
        print(_("There is no backup of {where} in {folder}.").format(where=db.description, folder=folder))
        return 0
    for b in found:
        print(f"{b.taken_at:%Y-%m-%d %H:%M:%S}  {b.size / 1_048_576:8.1f} MB  {b.path}")
    return 0


def cmd_db_restore(args) -> int:
    if bool(args.file) == bool(args.latest):
        raise InvalidInput(_("Name the backup file to restore, or give --latest (not both)."))
    db = Database(getattr(args, "db", None))
    db.dispose()
    source = backup.latest_backup(db.url, _backup_folder(args, db.url)).path if args.latest else Path(args.file)
    report = backup.restore(db.url, source)
    print(_("Restored {where} from {path} (schema {rev}).").format(where=db.description, path=report.restored_from,
                                                                  rev=report.revision))
    if report.saved_previous:
        print(_("The database as it was before is at {path}.").format(path=report.saved_previous))
    db = Database(db.url)
    try:
        migrated = db.migrate()
    finally:
        db.dispose()
    if migrated.before != migrated.after:
        print(_("Upgraded the restored database from schema {old} to {new}.").format(old=migrated.before, new=migrated.after))
    return 0


def _order_summary(row) -> dict:
    return {
        "id": row.id, "number": row.number, "channel": row.channel, "external_id": row.external_id,
        "status": row.status, "placed_at": row.placed_at, "ship_by": row.ship_by, "customer": row.customer_name,
        "email": row.customer_email, "ship_to": f"{row.ship_city}, {row.ship_region} {row.ship_country}".strip(", "),
        "lines": row.line_count, "units": row.unit_count, "total": format_money(row.total_minor, row.currency),
        "total_minor": row.total_minor, "currency": row.currency, "location": row.location,
        "hold_reason": row.hold_reason,
    }


def cmd_orders_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        q = (select(SalesOrder.id, SalesOrder.number, Channel.code.label("channel"), SalesOrder.external_id, SalesOrder.status,
                    SalesOrder.placed_at, SalesOrder.ship_by, SalesOrder.customer_name, SalesOrder.customer_email,
                    SalesOrder.ship_city, SalesOrder.ship_region, SalesOrder.ship_country, SalesOrder.line_count,
                    SalesOrder.unit_count, SalesOrder.total_minor, SalesOrder.currency, Location.code.label("location"),
                    SalesOrder.hold_reason)
             .join(Channel, Channel.id == SalesOrder.channel_id)
             .outerjoin(Location, Location.id == SalesOrder.location_id)
             .order_by(SalesOrder.placed_at.desc()).limit(max(1, args.limit)))
        if args.status:
            q = q.where(SalesOrder.status == args.status)
        if args.channel:
            if not s.scalar(select(Channel.id).where(Channel.code == args.channel)):
                raise NotFound(_("There is no sales channel {code}.").format(code=args.channel))
            q = q.where(Channel.code == args.channel)
        if args.number:
            q = q.where(or_(SalesOrder.number.startswith(args.number), SalesOrder.external_id.startswith(args.number)))
        rows = [_order_summary(r) for r in s.execute(q)]
    if args.json:
        _print_json(rows)
    else:
        if not rows:
            print(_("No orders match."))
        for r in rows:
            print(f"{r['number']:<22} {r['channel']:<10} {status_title(r['status']):<20} {r['placed_at']:%Y-%m-%d %H:%M}  "
                  f"{r['units']:>4} {ngettext('unit ', 'units', r['units'])} {r['total']:>11}  {r['customer']}")
    return 0


def order_detail(s, order_id: int) -> dict:
    o = s.get(SalesOrder, order_id)
    loc = s.scalar(select(Location.code).where(Location.id == o.location_id)) if o.location_id else None
    data = {
        "id": o.id, "number": o.number, "channel": o.channel.code, "external_id": o.external_id, "type": o.order_type,
        "status": o.status, "on_hold": o.on_hold, "hold_reason": o.hold_reason, "placed_at": o.placed_at,
        "ship_by": o.ship_by, "deliver_by": o.deliver_by, "shipped_at": o.shipped_at, "delivered_at": o.delivered_at,
        "customer": {"name": o.customer_name, "email": o.customer_email},
        "ship_to": {k: getattr(o, f"ship_{k}") for k in ("name", "company", "address1", "address2", "city", "region",
                                                          "postal_code", "country", "phone")},
        "currency": o.currency, "total_minor": o.total_minor, "total": format_money(o.total_minor, o.currency),
        "location": loc, "service_level": o.service_level,
        "lines": [
            {"id": l.id, "external_line_id": l.external_line_id, "sku": l.sku, "description": l.description,
             "unknown_sku": l.unknown_sku, "quantity": l.quantity, "allocated": l.allocated, "backordered": l.backordered,
             "picked": l.picked, "packed": l.packed, "shipped": l.shipped, "cancelled": l.cancelled, "returned": l.returned,
             "unit_price_minor": l.unit_price_minor}
            for l in o.lines
        ],
        "shipments": [
            {"id": sh.id, "status": sh.status, "carrier": sh.carrier, "service": sh.service, "tracking_number": sh.tracking_number,
             "shipped_at": sh.shipped_at, "packages": len(sh.packages)}
            for sh in s.scalars(select(Shipment).where(Shipment.order_id == o.id).order_by(Shipment.id))
        ],
    }
    waiting = purchasing.expected_for_lines(s, [l["id"] for l in data["lines"] if l["backordered"]])
    for l in data["lines"]:
        if l["id"] in waiting:
            l["expected"] = {"date": waiting[l["id"]].day, "po": waiting[l["id"]].po_number, "text": waiting[l["id"]].text}
    return data


def cmd_orders_show(args) -> int:
    db = open_db(args)
    with db.read() as s:
        data = order_detail(s, orders.find_order(s, args.ref))
    if args.json:
        _print_json(data)
        return 0
    print(f"{data['number']}  ({data['channel']} {data['external_id']}, {data['type']})  {status_title(data['status'])}")
    if data["on_hold"]:
        print(_("On hold: {reason}").format(reason=data["hold_reason"]))
    print(_("Placed {placed:%Y-%m-%d %H:%M} UTC, ship by {ship_by}").format(
        placed=data["placed_at"], ship_by=f"{data['ship_by']:%Y-%m-%d %H:%M}" if data["ship_by"] else "-"))
    st = data["ship_to"]
    print(_("Ship to: {name}, {address1}, {city} {region} {postal_code} {country}").format(**st))
    print(f"{'SKU':<22} {'ord':>4} {'alloc':>5} {'back':>4} {'pick':>4} {'pack':>4} {'ship':>4} {'canc':>4}")
    for l in data["lines"]:
        flag = _("  UNKNOWN SKU") if l["unknown_sku"] else ""
        if l.get("expected"):
            flag += f"  {l['expected']['text']}"
        print(f"{l['sku']:<22} {l['quantity']:>4} {l['allocated']:>5} {l['backordered']:>4} {l['picked']:>4} "
              f"{l['packed']:>4} {l['shipped']:>4} {l['cancelled']:>4}{flag}")
    for sh in data["shipments"]:
        print(_("Shipment {id}: {status} {carrier} {tracking}").format(id=sh["id"], status=sh["status"], carrier=sh["carrier"], tracking=sh["tracking_number"]))
    print(_("Total {total}").format(total=data["total"]))
    return 0


def cmd_stock_show(args) -> int:
    db = open_db(args)
    from oms.catalog.models import Product
    from oms.inventory.models import Bin, BinStock

    with db.read() as s:
        pid = inventory.product_id(s, args.sku)
        product = s.get(Product, pid)
        levels = inventory.levels(s, pid)
        bins = s.execute(select(Location.code, Bin.code, BinStock.on_hand).join(Bin, Bin.id == BinStock.bin_id)
                         .join(Location, Location.id == Bin.location_id)
                         .where(BinStock.product_id == pid, BinStock.on_hand > 0).order_by(Location.priority, Bin.pick_sequence)).all()
        moves = s.execute(select(StockMovement.created_at, Location.code, StockMovement.kind, StockMovement.quantity,
                                 StockMovement.reason, StockMovement.reference)
                          .join(Location, Location.id == StockMovement.location_id)
                          .where(StockMovement.product_id == pid).order_by(StockMovement.id.desc()).limit(10)).all()
        open_demand = s.scalar(select(func.coalesce(func.sum(OrderLine.backordered), 0)).where(OrderLine.product_id == pid))
        codes = dict(s.execute(select(Location.id, Location.code)).all())
        on_road = {codes[l]: n for (_p, l), n in transfers.in_transit(s, products=[pid]).items()}
        data = {
            "sku": product.sku, "name": product.name, "barcodes": [b.code for b in product.barcodes],
            "locations": [{"location": l.location_code, "on_hand": l.on_hand, "allocated": l.allocated, "available": l.available,
                           "in_transit": on_road.get(l.location_code, 0)} for l in levels],
            "bins": [{"location": b[0], "bin": b[1], "on_hand": b[2]} for b in bins],
            "backordered": int(open_demand),
            "movements": [{"at": m[0], "location": m[1], "kind": m[2], "quantity": m[3], "reason": m[4], "reference": m[5]} for m in moves],
        }
    if args.json:
        _print_json(data)
        return 0
    print(f"{data['sku']}  {data['name']}  ({', '.join(data['barcodes'])})")
    print(f"{'location':<10} {'on hand':>8} {'allocated':>10} {'available':>10} {'in transit':>11}")
    for l in data["locations"]:
        print(f"{l['location']:<10} {l['on_hand']:>8} {l['allocated']:>10} {l['available']:>10} {l['in_transit'] or '':>11}")
    if data["bins"]:
        print(_("Bins: ") + ", ".join(f"{b['location']}/{b['bin']} {b['on_hand']}" for b in data["bins"]))
    if data["backordered"]:
        print(_("Backordered on open orders: {n}").format(n=data["backordered"]))
    return 0


def cmd_check(args) -> int:
    db = open_db(args)
    with db.write() as s:
        audit.seal(s)  # the events written since the last seal join the chain before it is checked
    with db.read() as s:
        findings = integrity.run(s)
    if not findings:
        print(_("No problems found in {where}.").format(where=db.description))
        return 0
    print(ngettext("{n} problem found in {where}:", "{n} problems found in {where}:", len(findings)).format(
        n=len(findings), where=db.description))
    for f in findings:
        print(f"- [{f.kind}] {f.message}")
    return 1
