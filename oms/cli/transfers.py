"""The `transfer` and `reorder` commands: stock sent between locations (in transit until received), and reorder
points per SKU and location. `po suggest` (in the `po` command) reads the reorder points."""

from __future__ import annotations

import argparse

from oms import purchasing, transfers
from oms.cli.options import add_db_option, open_db
from oms.cli.purchasing import _actor, _print_json, _whole
from oms.core.i18n import _


def _sku_qty(text: str) -> tuple[str, int]:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError(_("a line is SKU:QUANTITY, like MUG-RED:12, not “{text}”").format(text=text))
    return parts[0], _whole("quantity")(parts[1])


def _sku_bin(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(_("a bin is given as SKU:BIN, like MUG-RED:A-01-1, not “{text}”").format(text=text))
    return parts[0], parts[1]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transfer", help=_("stock sent from one location to another"))
    tsub = p.add_subparsers(dest="transfer_command", required=True)
    c = tsub.add_parser("create", help=_("a transfer of SKUs from one location to another"))
    add_db_option(c)
    c.add_argument("--from", dest="source", required=True, metavar="LOCATION")
    c.add_argument("--to", dest="target", required=True, metavar="LOCATION")
    c.add_argument("--line", type=_sku_qty, action="append", required=True, metavar="SKU:QTY")
    c.add_argument("--note", default="")
    c.add_argument("--ship", action="store_true", help=_("ship it at once"))
    c.set_defaults(func=cmd_create)
    c = tsub.add_parser("ship", help=_("the units leave the sending location; in transit until received"))
    add_db_option(c)
    c.add_argument("transfer")
    c.add_argument("--bin", type=_sku_bin, action="append", default=[], metavar="SKU:BIN",
                   help=_("the bin a SKU is taken from"))
    c.set_defaults(func=cmd_ship)
    c = tsub.add_parser("receive", help=_("units of a transfer arrive (all still in transit, or --line SKU:QTY)"))
    add_db_option(c)
    c.add_argument("transfer")
    c.add_argument("--line", type=_sku_qty, action="append", default=[], metavar="SKU:QTY")
    c.add_argument("--bin", help=_("the bin they are put in"))
    c.set_defaults(func=cmd_receive)
    c = tsub.add_parser("cancel", help=_("cancel a transfer not yet shipped"))
    add_db_option(c)
    c.add_argument("transfer")
    c.set_defaults(func=cmd_cancel)
    c = tsub.add_parser("list", help=_("transfers, newest first"))
    add_db_option(c)
    c.add_argument("--status", choices=[s.value for s in transfers.TransferStatus])
    c.add_argument("--in-transit", action="store_true", help=_("units in transit, by SKU and destination"))
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_list)
    c = tsub.add_parser("show", help=_("one transfer with its lines"))
    add_db_option(c)
    c.add_argument("transfer")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_show)

    p = sub.add_parser("reorder", help=_("reorder points per SKU and location"))
    rsub = p.add_subparsers(dest="reorder_command", required=True)
    c = rsub.add_parser("set", help=_("below MIN, order up to MAX in multiples, from a supplier"))
    add_db_option(c)
    c.add_argument("sku")
    c.add_argument("--location", required=True)
    c.add_argument("--min", type=_whole("minimum", allow_zero=True), required=True)
    c.add_argument("--max", type=_whole("maximum"), required=True)
    c.add_argument("--multiple", type=_whole("multiple"), default=1)
    c.add_argument("--supplier")
    c.set_defaults(func=cmd_reorder_set)
    c = rsub.add_parser("list", help=_("the reorder points"))
    add_db_option(c)
    c.add_argument("--location")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_reorder_list)


def _view_dict(t: transfers.TransferView) -> dict:
    return {"number": t.number, "from": t.from_location, "to": t.to_location, "status": t.status, "note": t.note,
            "created_at": t.created_at, "shipped_at": t.shipped_at,
            "lines": [{"sku": l.sku, "quantity": l.quantity, "shipped": l.shipped, "received": l.received,
                       "in_transit": l.in_transit} for l in t.lines]}


def cmd_create(args) -> int:
    db = open_db(args)
    with db.write() as s:
        _id, number = transfers.create_transfer(s, _actor(), args.source, args.target, args.line, note=args.note)
        said = transfers.ship_transfer(s, _actor(), number) if args.ship else None
    print(said or _("{number} created (draft).").format(number=number))
    return 0


def cmd_ship(args) -> int:
    db = open_db(args)
    with db.write() as s:
        print(transfers.ship_transfer(s, _actor(), args.transfer, bins=dict(args.bin)))
    return 0


def cmd_receive(args) -> int:
    db = open_db(args)
    lines: dict[str, int] = {}
    for sku, qty in args.line:
        lines[sku] = lines.get(sku, 0) + qty
    with db.write() as s:
        print(transfers.receive_transfer(s, _actor(), args.transfer, lines=lines or None, bin=args.bin))
    return 0


def cmd_cancel(args) -> int:
    db = open_db(args)
    with db.write() as s:
        print(transfers.cancel_transfer(s, _actor(), args.transfer))
    return 0


def cmd_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        if args.in_transit:
            rows = [t for t in transfers.list_transfers(s) if t.status in ("shipped", "partly_received")]
            moving = [(t.number, t.from_location, t.to_location, l.sku, l.in_transit) for t in rows for l in t.lines
                      if l.in_transit]
        else:
            rows = transfers.list_transfers(s, status=args.status)
    if args.in_transit:
        if args.json:
            _print_json([{"transfer": n, "from": f, "to": t, "sku": k, "in_transit": q} for n, f, t, k, q in moving])
            return 0
        if not moving:
            print(_("Nothing is in transit."))
        for n, f, t, k, q in moving:
            print(f"{n:<8} {f:>6} → {t:<6} {k:<22} {q:>6} {_('in transit')}")
        return 0
    if args.json:
        _print_json([_view_dict(t) for t in rows])
        return 0
    if not rows:
        print(_("No transfers match."))
    for t in rows:
        units = sum(l.quantity for l in t.lines)
        print(f"{t.number:<8} {t.from_location:>6} → {t.to_location:<6} {t.status_title:<16} {units:>6} {_('units')}")
    return 0


def cmd_show(args) -> int:
    db = open_db(args)
    with db.read() as s:
        t = transfers.transfer_detail(s, args.transfer)
    if args.json:
        _print_json(_view_dict(t))
        return 0
    print(f"{t.number}  {t.from_location} → {t.to_location}  {t.status_title}")
    for l in t.lines:
        print(f"  {l.sku:<22} {l.quantity:>6}  {_('shipped')} {l.shipped:>5}  {_('received')} {l.received:>5}  "
              f"{_('in transit')} {l.in_transit:>5}")
    return 0


def cmd_reorder_set(args) -> int:
    db = open_db(args)
    with db.write() as s:
        purchasing.set_reorder_point(s, _actor(), args.sku, args.location, min_qty=args.min, max_qty=args.max,
                                     multiple=args.multiple, supplier=args.supplier)
    print(_("Reorder point of {sku} at {loc}: below {min}, order up to {max} in multiples of {m}.").format(
        sku=args.sku, loc=args.location, min=args.min, max=args.max, m=args.multiple))
    return 0


def cmd_reorder_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        rows = purchasing.reorder_points(s, location=args.location)
    if args.json:
        _print_json([r.__dict__ for r in rows])
        return 0
    if not rows:
        print(_("No reorder points yet: set one with `reorder set SKU --location L --min N --max N`."))
    for r in rows:
        print(f"{r.location:<6} {r.sku:<22} min {r.min_qty:>5} max {r.max_qty:>5} ×{r.multiple:<4} {r.supplier or '—'}")
    return 0
