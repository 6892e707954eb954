"""The `supplier` and `po` commands: suppliers, purchase orders from draft to closed, their PDF, receiving, and the
purchase orders the reorder points suggest (`po suggest`).

Options go anywhere after the command (``po receive --qty 3 PO-1001 --sku MUG-RED``), and ``--db`` before it too.
Bad input (a quantity that is no number, a date that is no date, a line that is not SKU:QTY:COST:DATE) is named
in a sentence, and nothing is written."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from oms import documents, purchasing
from oms.cli.options import add_db_option, open_db
from oms.core.audit import Actor
from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.core.settings import Settings
from oms.purchasing import PoLineInput, PoStatus


def _actor() -> Actor:
    return Actor(Settings.load().user or "cli", "cli")


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else str(v))
    sys.stdout.write("\n")


def _whole(what: str, *, allow_zero: bool = False):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(_("the {what} must be a whole number, not “{text}”").format(what=what, text=text)) from None
        if value < 0 or (value == 0 and not allow_zero):
            raise argparse.ArgumentTypeError(_("the {what} must be more than zero, not {text}").format(what=what, text=text))
        return value
    return parse


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(_("“{text}” is not a date; write it as YYYY-MM-DD, like 2026-12-12").format(text=text)) from None


def _line(text: str) -> PoLineInput:
    """SKU:QTY:COST:YYYY-MM-DD, e.g. MUG-RED:120:2.35:2026-12-10."""
    parts = text.split(":")
    if len(parts) != 4 or not all(p.strip() for p in parts):
        raise argparse.ArgumentTypeError(
            _("a line is SKU:QUANTITY:UNIT-COST:EXPECTED-DATE, like MUG-RED:120:2.35:2026-12-10, not “{text}”").format(text=text))
    sku, qty, cost, when = (p.strip() for p in parts)
    return PoLineInput(sku, _whole("quantity")(qty), cost, _day(when))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("supplier", help=_("suppliers we buy from"))
    ssub = p.add_subparsers(dest="supplier_command", required=True)
    a = ssub.add_parser("add", help=_("add a supplier"))
    add_db_option(a)
    a.add_argument("code")
    a.add_argument("--name", required=True)
    a.add_argument("--email", default="")
    a.add_argument("--currency", default="USD")
    a.add_argument("--lead-days", type=_whole("lead time in days", allow_zero=True), default=7)
    a.add_argument("--tolerance", type=_whole("tolerance", allow_zero=True), metavar="PERCENT",
                   help=_("how far a delivery may exceed a PO line, in percent (default: the house setting, 0 %%)"))
    a.set_defaults(func=cmd_supplier_add)
    e = ssub.add_parser("edi", help=_("the trading partner a supplier's POs go to as 850s"))
    add_db_option(e)
    e.add_argument("code")
    who = e.add_mutually_exclusive_group(required=True)
    who.add_argument("--partner", help=_("a trading partner's code (`edi partners`)"))
    who.add_argument("--none", action="store_true", help=_("the supplier no longer trades EDI"))
    e.set_defaults(func=cmd_supplier_edi)
    ls = ssub.add_parser("list", help=_("list suppliers"))
    add_db_option(ls)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_supplier_list)

    p = sub.add_parser("po", help=_("purchase orders: create, send, receive"))
    psub = p.add_subparsers(dest="po_command", required=True)
    for name in ("add", "create"):
        c = psub.add_parser(name, help=_("create a draft purchase order"))
        add_db_option(c)
        c.add_argument("--supplier", required=True, metavar="CODE")
        c.add_argument("--location", required=True, metavar="CODE", help=_("where the goods are delivered"))
        c.add_argument("--line", action="append", type=_line, default=[], metavar="SKU:QTY:COST:DATE",
                       help=_("a line to order, e.g. MUG-RED:120:2.35:2026-12-10 (repeat for more)"))
        c.add_argument("--note", default="")
        c.add_argument("--send", action="store_true", help=_("send it at once"))
        c.set_defaults(func=cmd_po_add)
    c = psub.add_parser("line", help=_("add a line to a draft purchase order"))
    add_db_option(c)
    c.add_argument("po", metavar="PO")
    c.add_argument("--sku", required=True)
    c.add_argument("--qty", required=True, type=_whole("quantity"))
    c.add_argument("--cost", required=True, help=_("unit cost in the PO's currency, e.g. 2.35"))
    c.add_argument("--expected", required=True, type=_day, metavar="YYYY-MM-DD")
    c.set_defaults(func=cmd_po_line)
    c = psub.add_parser("list", help=_("list purchase orders, newest first"))
    add_db_option(c)
    c.add_argument("--status", choices=[s.value for s in PoStatus])
    c.add_argument("--supplier", metavar="CODE")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_po_list)
    c = psub.add_parser("show", help=_("one purchase order with its lines"))
    add_db_option(c)
    c.add_argument("po", metavar="PO")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_po_show)
    c = psub.add_parser("send", help=_("send a draft purchase order to its supplier"))
    add_db_option(c)
    c.add_argument("po", metavar="PO")
    c.add_argument("--out", metavar="FILE", help=_("also write its PDF here"))
    c.set_defaults(func=cmd_po_send)
    for name, helptext, func in (("confirm", _("the supplier confirmed the purchase order"), cmd_po_confirm),
                                 ("cancel", _("call a purchase order off (nothing received yet)"), cmd_po_cancel),
                                 ("close", _("close a purchase order: all came, or the rest will not"), cmd_po_close)):
        c = psub.add_parser(name, help=helptext)
        add_db_option(c)
        c.add_argument("po", metavar="PO")
        if name in ("cancel", "close"):
            c.add_argument("--reason", required=name == "cancel", default="")
        c.set_defaults(func=func)
    c = psub.add_parser("pdf", help=_("the purchase order as PDF"))
    add_db_option(c)
    c.add_argument("po", metavar="PO")
    c.add_argument("--out", required=True, metavar="FILE")
    c.add_argument("--paper", choices=["A4", "Letter"])
    c.set_defaults(func=cmd_po_pdf)
    _register_suggest(psub)
    c = psub.add_parser("cartons", help=_("the ship notices (ASNs) of a PO and their cartons"))
    add_db_option(c)
    c.add_argument("po")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_po_cartons)
    c = psub.add_parser("receive-carton", help=_("receive a supplier's carton whole, by its SSCC"))
    add_db_option(c)
    c.add_argument("sscc")
    c.set_defaults(func=cmd_po_receive_carton)
    c = psub.add_parser("receive", help=_("receive units of an item against a purchase order"))
    add_db_option(c)
    c.add_argument("po", metavar="PO")
    c.add_argument("--sku", required=True, help=_("SKU or barcode"))
    c.add_argument("--qty", required=True, type=_whole("quantity", allow_zero=True))
    c.add_argument("--damaged", type=_whole("damaged quantity", allow_zero=True), default=0,
                   help=_("units that came damaged: to quarantine"))
    c.add_argument("--bin", help=_("put the good units away in this bin"))
    c.set_defaults(func=cmd_po_receive)


def cmd_supplier_add(args) -> int:
    db = open_db(args)
    with db.write() as s:
        purchasing.add_supplier(s, _actor(), args.code, args.name, email=args.email, currency=args.currency,
                                lead_days=args.lead_days, over_receipt_percent=args.tolerance)
    print(_("Supplier {code} added.").format(code=args.code))
    return 0


def cmd_supplier_edi(args) -> int:
    db = open_db(args)
    with db.write() as s:
        purchasing.set_supplier_edi(s, _actor(), args.code, None if args.none else args.partner)
    if args.none:
        print(_("{code} no longer trades EDI: its POs go by PDF.").format(code=args.code))
    else:
        print(_("{code} gets its POs as 850s through {partner}.").format(code=args.code, partner=args.partner))
    return 0


def cmd_po_cartons(args) -> int:
    db = open_db(args)
    with db.read() as s:
        asns = purchasing.expected_receipts(s, args.po)
        number = purchasing.po_detail(s, args.po).number
    if args.json:
        _print_json([{"asn": a.asn_number, "po": a.po_number, "shipped_on": a.shipped_on, "expected_on": a.expected_on,
                      "cartons": [{"sscc": c.sscc, "received": c.received, "lines": [list(l) for l in c.lines]}
                                  for c in a.cartons]} for a in asns])
        return 0
    if not asns:
        print(_("No ship notice for {po} yet.").format(po=number))
    for a in asns:
        print(_("ASN {asn} for {po}, shipped {day}").format(asn=a.asn_number, po=a.po_number,
                                                          day=a.shipped_on.isoformat() if a.shipped_on else "—"))
        for c in a.cartons:
            what = ", ".join(f"{sku} ×{q}" for sku, q in c.lines)
            print(f"  {c.sscc}  {_('received') if c.received else _('expected'):<9} {what}")
    return 0


def cmd_po_receive_carton(args) -> int:
    db = open_db(args)
    with db.write() as s:
        got = purchasing.receive_carton(s, _actor(), args.sscc)
        po = purchasing.po_detail(s, got.po_number)
    print(got.message)
    print(_("{number} is {state}.").format(number=po.number, state=po.status_title))
    return 0


def cmd_supplier_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        rows = purchasing.suppliers(s)
    if args.json:
        _print_json([r.__dict__ for r in rows])
        return 0
    if not rows:
        print(_("No suppliers yet: add one with `supplier add CODE --name NAME`."))
    for r in rows:
        tolerance = _("house tolerance") if r.over_receipt_percent is None else f"{r.over_receipt_percent} %"
        print(f"{r.code:<12} {r.name:<32} {r.currency}  {r.lead_days:>3} d  {tolerance}")
    return 0


def cmd_po_add(args) -> int:
    db = open_db(args)
    with db.write() as s:
        _id, number = purchasing.create_po(s, _actor(), args.supplier, args.location, lines=args.line, note=args.note)
        if args.send:
            purchasing.send_po(s, _actor(), number)
    print(_("{number} created ({state}).").format(number=number, state=purchasing.status_title("sent" if args.send else "draft")))
    return 0


def cmd_po_line(args) -> int:
    db = open_db(args)
    with db.write() as s:
        purchasing.add_line(s, _actor(), args.po, PoLineInput(args.sku, args.qty, args.cost, args.expected))
        number = purchasing.po_detail(s, args.po).number
    print(_("{sku} added to {number}.").format(sku=args.sku, number=number))
    return 0


def cmd_po_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        rows = purchasing.list_pos(s, status=args.status, supplier=args.supplier)
    if args.json:
        _print_json([{**r.__dict__, "status_title": r.status_title} for r in rows])
        return 0
    if not rows:
        print(_("No purchase orders match."))
    for r in rows:
        expected = r.expected.isoformat() if r.expected else "—"
        print(f"{r.number:<10} {r.supplier:<10} {r.location:<6} {r.status_title:<16} {r.received:>5}/{r.units:<5} "
              f"{r.total:>12}  {_('expected')} {expected}")
    return 0


def _detail_dict(po: purchasing.PoDetail) -> dict:
    return {"number": po.number, "status": po.status, "supplier": po.supplier_code, "location": po.location_code,
            "currency": po.currency, "total_minor": po.total_minor, "total": po.total, "note": po.note,
            "created_at": po.created_at, "sent_at": po.sent_at,
            "lines": [{"line": l.line_no, "sku": l.sku, "description": l.description, "quantity": l.quantity,
                       "unit_cost_minor": l.unit_cost_minor, "unit_cost": l.unit_cost, "expected_date": l.expected_date,
                       "received": l.received, "damaged": l.damaged, "confirmed_quantity": l.confirmed_quantity,
                       "confirmed_date": l.confirmed_date} for l in po.lines],
            "open_receipt": [{"sku": r.sku, "good": r.good, "damaged": r.damaged, "put_away": r.put_away, "bin": r.bin_code}
                             for r in po.receipt_lines]}


def cmd_po_show(args) -> int:
    db = open_db(args)
    with db.read() as s:
        po = purchasing.po_detail(s, args.po)
    if args.json:
        _print_json(_detail_dict(po))
        return 0
    print(f"{po.number}  {po.supplier_name} ({po.supplier_code}) → {po.location_code}  {po.status_title}")
    if po.note:
        print(po.note)
    print(f"{'#':>3} {'SKU':<22} {'qty':>5} {'unit cost':>11} {'expected':>10} {'received':>8} {'damaged':>7}")
    for l in po.lines:
        confirmed = ("  " + _("confirmed {qty} for {day}").format(qty=l.confirmed_quantity, day=l.confirmed_date or "—")
                     if l.confirmed_quantity is not None else "")
        print(f"{l.line_no:>3} {l.sku:<22} {l.quantity:>5} {l.unit_cost:>11} {l.expected_date.isoformat():>10} "
              f"{l.received:>8} {l.damaged:>7}{confirmed}")
    print(_("Total {total}").format(total=po.total))
    return 0


def _one(args, change, done: str) -> int:
    db = open_db(args)
    with db.write() as s:
        change(s)
        po = purchasing.po_detail(s, args.po)
    print(done.format(number=po.number, state=po.status_title))
    return 0


def cmd_po_send(args) -> int:
    db = open_db(args)
    with db.write() as s:
        purchasing.send_po(s, _actor(), args.po)
        number = purchasing.po_detail(s, args.po).number
        pdf = documents.purchase_order(s, args.po) if args.out else None
    if pdf is not None:
        Path(args.out).write_bytes(pdf)
        print(_("{number} sent; its PDF is in {path}.").format(number=number, path=args.out))
    else:
        print(_("{number} sent.").format(number=number))
    return 0


def cmd_po_confirm(args) -> int:
    return _one(args, lambda s: purchasing.confirm_po(s, _actor(), args.po), _("{number} is {state}."))


def cmd_po_cancel(args) -> int:
    return _one(args, lambda s: purchasing.cancel_po(s, _actor(), args.po, args.reason), _("{number} is {state}."))


def cmd_po_close(args) -> int:
    return _one(args, lambda s: purchasing.close_po(s, _actor(), args.po, args.reason), _("{number} is {state}."))


def cmd_po_pdf(args) -> int:
    db = open_db(args)
    with db.read() as s:
        pdf = documents.purchase_order(s, args.po, paper=args.paper)
    Path(args.out).write_bytes(pdf)
    print(_("Wrote {path}.").format(path=args.out))
    return 0


def cmd_po_receive(args) -> int:
    if not args.qty and not args.damaged:
        raise InvalidInput(_("Nothing to receive: give --qty, --damaged or both more than zero."))
    db = open_db(args)
    with db.write() as s:
        results = purchasing.receive(s, _actor(), args.po, args.sku, args.qty, bin=args.bin, damaged=args.damaged)
        po = purchasing.po_detail(s, args.po)
    for r in results:
        print(r.message)
    if args.bin and args.qty:
        print(_("Put away in {bin}.").format(bin=args.bin))
    print(_("{number} is {state}.").format(number=po.number, state=po.status_title))
    return 0


def _register_suggest(psub: argparse._SubParsersAction) -> None:
    c = psub.add_parser("suggest", help=_("purchase order lines the reorder points call for, by supplier"))
    add_db_option(c)
    c.add_argument("--supplier")
    c.add_argument("--create", action="store_true", help=_("make them draft purchase orders"))
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_po_suggest)


def cmd_po_suggest(args) -> int:
    db = open_db(args)
    if args.create:
        with db.write() as s:
            made = purchasing.create_suggested_pos(s, _actor(), supplier=args.supplier)
        if not made:
            print(_("Nothing to order: every reorder point is covered by stock, open POs and transfers."))
        for number, n in made:
            print(_("{number} created (draft) with {n} suggested lines.").format(number=number, n=n))
        return 0
    with db.read() as s:
        rows = purchasing.suggest(s, supplier=args.supplier)
    if args.json:
        _print_json([{**r.__dict__, "projected": r.projected} for r in rows])
        return 0
    if not rows:
        print(_("Nothing to order: every reorder point is covered by stock, open POs and transfers."))
        return 0
    supplier = None
    for r in rows:
        if r.supplier != supplier:
            supplier = r.supplier
            print(supplier or _("(no supplier set)"))
        print(f"  {r.location:<6} {r.sku:<22} {_('order')} {r.quantity:>5}   {_('on hand')} {r.on_hand} "
              f"{_('reserved')} {r.reserved} {_('on order')} {r.on_order} {_('in transit')} {r.in_transit} "
              f"{_('backordered')} {r.backordered} → {r.projected} ({_('min')} {r.min_qty}, {_('max')} {r.max_qty})")
    return 0
