"""The `rma` commands: returns from the request to the resolution.

``rma add --order N --line SKU:QTY --reason CODE`` opens an RMA; ``list``, ``show``, ``approve``, ``label`` (the return
label through a carrier connection, by the outbox), ``receive`` (units with their disposition), ``resolve``,
``close``, ``cancel`` and ``reasons`` follow it. Bad input is named in a sentence, and nothing is written."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from typing import Any

from oms import returns
from oms.cli.options import add_db_option, open_db
from oms.core.audit import Actor
from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.core.settings import Settings
from oms.returns import Disposition, Resolution, RmaStatus


def _actor() -> Actor:
    return Actor(Settings.load().user or "cli", "cli")


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else str(v))
    sys.stdout.write("\n")


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("the quantity must be a whole number, not “{text}”").format(text=text)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(_("the quantity must be more than zero, not {text}").format(text=text))
    return value


def _line(text: str) -> returns.RmaLineInput:
    """SKU:QTY, e.g. MUG-RED:2; read when the command runs (so the parser takes any text), refused in words."""
    sku, sep, qty = text.strip().rpartition(":")
    if not sep or not sku.strip() or not qty.strip():
        raise InvalidInput(_("a line is SKU:QUANTITY, like MUG-RED:2, not “{text}”").format(text=text))
    try:
        return returns.RmaLineInput(sku.strip(), _whole(qty.strip()))
    except argparse.ArgumentTypeError as exc:
        raise InvalidInput(str(exc)) from None


def _resolution(text: str) -> str:
    value = text.strip().lower().replace("-", "_").replace(" ", "_")
    if value not in {r.value for r in Resolution}:
        raise argparse.ArgumentTypeError(_("the resolution is refund, exchange or store-credit, not “{text}”").format(text=text))
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rma", help=_("returns: RMAs from the request to the refund"))
    rsub = p.add_subparsers(dest="rma_command", required=True)

    def cmd(name: str, help_text: str, func, *, rma: bool = True) -> argparse.ArgumentParser:
        c = rsub.add_parser(name, help=help_text)
        add_db_option(c)
        if rma:
            c.add_argument("rma", metavar="RMA")
        c.set_defaults(func=func)
        return c

    for name in ("add", "create"):
        c = cmd(name, _("open an RMA on an order"), cmd_add, rma=False)
        c.add_argument("--order", required=True, metavar="NUMBER")
        c.add_argument("--line", action="append", default=[], required=True, metavar="SKU:QTY",
                       help=_("what comes back, e.g. MUG-RED:2 (repeat for more)"))
        c.add_argument("--reason", required=True, metavar="CODE", help=_("a reason code (see `rma reasons`)"))
        c.add_argument("--note", default="", help=_("the customer's own words"))
        c.add_argument("--resolution", type=_resolution, default="refund", help=_("refund, exchange or store-credit"))
        c.add_argument("--fee", default="0", metavar="AMOUNT", help=_("a restocking fee in the order's currency, e.g. 5.00"))
        c.add_argument("--approve", action="store_true", help=_("approve it at once"))
    c = cmd("list", _("RMAs, oldest first"), cmd_list, rma=False)
    c.add_argument("--status", choices=[s.value for s in RmaStatus])
    c.add_argument("--open", action="store_true", help=_("only the ones still open"))
    c.add_argument("--json", action="store_true")
    c = cmd("show", _("one RMA with its lines, units and timeline"), cmd_show)
    c.add_argument("--json", action="store_true")
    cmd("approve", _("agree to a requested return"), cmd_approve)
    c = cmd("label", _("ask the carrier for a return label (sent when sync runs)"), cmd_label)
    c.add_argument("--carrier", required=True, metavar="CODE", help=_("a carrier connection (see `carrier list`)"))
    c.add_argument("--format", choices=["PDF", "ZPL", "PNG"], default="PDF", type=str.upper)
    c = cmd("receive", _("receive returned units of an item with their disposition"), cmd_receive)
    c.add_argument("--sku", required=True, help=_("SKU or barcode"))
    c.add_argument("--qty", required=True, type=_whole)
    c.add_argument("--disposition", required=True,
                   help=_("restock, quarantine, refurbish, scrap or vendor"))
    c.add_argument("--bin", help=_("the bin a restock goes to (default: where the product is kept)"))
    c.add_argument("--note", default="", help=_("the units' condition"))
    c = cmd("resolve", _("settle a received RMA: record the refund or credit"), cmd_resolve)
    c.add_argument("--refund", metavar="AMOUNT", help=_("the amount (default: the units received, less the fee)"))
    c.add_argument("--note", default="")
    cmd("close", _("done with an RMA"), cmd_close)
    c = cmd("cancel", _("call a return off (nothing received yet)"), cmd_cancel)
    c.add_argument("--reason", required=True)
    cmd("reasons", _("the reason codes a customer may give"), cmd_reasons, rma=False)


def cmd_add(args) -> int:
    db = open_db(args)
    with db.write() as s:
        lines = [_line(text) for text in args.line]
        _id, number = returns.create_rma(s, _actor(), args.order, lines, reason=args.reason, note=args.note,
                                         resolution=args.resolution, restocking_fee=args.fee)
        if args.approve:
            returns.approve(s, _actor(), number)
    print(_("{number} opened on order {order} ({state}).").format(
        number=number, order=args.order, state=returns.status_title("approved" if args.approve else "requested")))
    return 0


def cmd_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        rows = returns.list_rmas(s, status=args.status, open_only=args.open)
    if args.json:
        _print_json([r.__dict__ for r in rows])
        return 0
    if not rows:
        print(_("No RMAs match."))
    for r in rows:
        print(f"{r.number:<10} {r.order_number:<12} {r.status_title:<12} {r.reason:<16} {r.received:>3}/{r.units:<3} "
              f"{r.resolution:<12} {r.created_at.astimezone():%Y-%m-%d}  {r.customer}")
    return 0


def _detail_dict(d: returns.RmaDetail) -> dict:
    return {"number": d.number, "order": d.order_number, "customer": d.customer, "location": d.location, "status": d.status,
            "reason": d.reason, "note": d.customer_note, "resolution": d.resolution, "restocking_fee": d.restocking_fee,
            "refund": d.refund, "credit_notes": d.credit_notes, "source": d.source, "carrier": d.carrier, "tracking_number": d.tracking_number,
            "lines": [{"sku": l.sku, "quantity": l.quantity, "received": l.received} for l in d.lines],
            "units": [{"sku": u.sku, "quantity": u.quantity, "disposition": u.disposition, "bin": u.bin_code, "note": u.note,
                       "at": u.at} for u in d.units],
            "timeline": [{"at": e.at, "action": e.action, "summary": e.summary, "user": e.user} for e in d.timeline]}


def cmd_show(args) -> int:
    db = open_db(args)
    with db.read() as s:
        d = returns.rma_detail(s, args.rma)
    if args.json:
        _print_json(_detail_dict(d))
        return 0
    print(f"{d.number}  {_('order')} {d.order_number}  {d.customer}  → {d.location}  {d.status_title}")
    print(_("Reason {reason}; {resolution} wanted; restocking fee {fee}").format(
        reason=d.reason, resolution=d.resolution, fee=d.restocking_fee))
    if d.customer_note:
        print(f"“{d.customer_note}”")
    if d.tracking_number:
        print(_("Return label {carrier} {tracking}").format(carrier=d.carrier, tracking=d.tracking_number))
    for l in d.lines:
        print(f"  {l.sku:<22} {l.received:>3} of {l.quantity:<3} {_('back')}")
    for u in d.units:
        where = f" {u.bin_code}" if u.bin_code else ""
        print(f"  {u.quantity} × {u.sku}: {u.disposition}{where}" + (f" — {u.note}" if u.note else ""))
    if d.refund is not None:
        print(_("Resolved: {resolution} of {amount}").format(resolution=d.resolution, amount=d.refund))
    for e in d.timeline:
        print(f"  {e.at.astimezone():%Y-%m-%d %H:%M}  {e.summary}")
    return 0


def _state(args, change, done: str) -> int:
    db = open_db(args)
    with db.write() as s:
        change(s)
        d = returns.rma_detail(s, args.rma)
    print(done.format(number=d.number, state=d.status_title))
    return 0


def cmd_approve(args) -> int:
    return _state(args, lambda s: returns.approve(s, _actor(), args.rma), _("{number} is {state}."))


def cmd_close(args) -> int:
    return _state(args, lambda s: returns.close(s, _actor(), args.rma), _("{number} is {state}."))


def cmd_cancel(args) -> int:
    return _state(args, lambda s: returns.cancel(s, _actor(), args.rma, args.reason), _("{number} is {state}."))


def cmd_label(args) -> int:
    from oms.integration import sync_store

    db = open_db(args)
    with db.write() as s:
        if args.carrier not in {c.code for c in sync_store.connectors(s, "carrier")}:
            raise InvalidInput(_("There is no carrier connection {code}; add one with `carrier add`.").format(code=args.carrier))
        returns.request_return_label(s, _actor(), args.rma, args.carrier, label_format=args.format)
        number = returns.rma_detail(s, args.rma).number
    print(_("Return label for {number} asked for from {carrier}; it is bought when sync runs.").format(
        number=number, carrier=args.carrier))
    return 0


def cmd_receive(args) -> int:
    how = returns.parse_disposition(args.disposition)
    db = open_db(args)
    with db.write() as s:
        bin_code = args.bin
        if how == Disposition.RESTOCK and not bin_code:
            bin_code = returns.check_item(s, args.rma, args.sku).suggested_bin
            if bin_code is None:
                raise InvalidInput(_("{sku} has no bin where it is kept: give the bin with --bin.").format(sku=args.sku))
        got = returns.receive_unit(s, _actor(), args.rma, args.sku, how, quantity=args.qty, bin=bin_code,
                                   note=args.note, follow_suggestion=False)
        d = returns.rma_detail(s, args.rma)
    print(got.message)
    print(_("{number} is {state}.").format(number=d.number, state=d.status_title))
    return 0


def cmd_resolve(args) -> int:
    db = open_db(args)
    with db.write() as s:
        returns.resolve(s, _actor(), args.rma, refund=args.refund, note=args.note)
        d = returns.rma_detail(s, args.rma)
    text = _("{number} is resolved: {resolution} of {amount}").format(number=d.number, resolution=d.resolution, amount=d.refund)
    if d.credit_notes:
        text += _("; credit note {numbers}").format(numbers=d.credit_notes)
    print(text + ".")
    return 0


def cmd_reasons(args) -> int:
    db = open_db(args)
    with db.read() as s:
        for code, title in returns.reasons(s):
            print(f"{code:<18} {title}")
    return 0
