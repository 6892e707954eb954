"""The `count` commands: cycle counts from the command line. Create a count for a bin, a zone or a SKU; submit what
was counted (a count sheet typed in); a supervisor approves a variance beyond the threshold with a reason code, or
sends the count back. `count show` of a count still being counted is blind, as the counter's screen is."""

from __future__ import annotations

import argparse

from oms import counting
from oms.cli.options import add_db_option, open_db
from oms.cli.purchasing import _actor, _print_json, _whole
from oms.core.i18n import _


def _counted(text: str) -> tuple[str, str, int]:
    """BIN:SKU:QTY (or SKU:QTY at a location without bins)."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) == 2:
        parts.insert(0, "")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise argparse.ArgumentTypeError(
            _("a count is BIN:SKU:QUANTITY, like A-01-1:MUG-RED:12 (SKU:QUANTITY where there are no bins), not “{text}”")
            .format(text=text))
    return parts[0], parts[1], _whole("counted quantity", allow_zero=True)(parts[2])


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("count", help=_("cycle counts: create, submit, approve"))
    csub = p.add_subparsers(dest="count_command", required=True)
    c = csub.add_parser("create", help=_("a count task for a bin, a zone or a SKU at a location"))
    add_db_option(c)
    c.add_argument("--location", required=True)
    what = c.add_mutually_exclusive_group(required=True)
    what.add_argument("--bin")
    what.add_argument("--zone")
    what.add_argument("--sku")
    c.add_argument("--threshold", type=_whole("threshold", allow_zero=True), default=counting.DEFAULT_THRESHOLD,
                   metavar="UNITS", help=_("how many units a line may differ before a supervisor approves "
                                           "(default %(default)s)"))
    c.set_defaults(func=cmd_create)
    c = csub.add_parser("list", help=_("counts being counted or waiting for a supervisor"))
    add_db_option(c)
    c.add_argument("--status", choices=[s.value for s in counting.CountStatus])
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_list)
    c = csub.add_parser("show", help=_("one count: blind while it is counted, with the books' figures after"))
    add_db_option(c)
    c.add_argument("count")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_show)
    c = csub.add_parser("submit", help=_("enter what was counted and submit it"))
    add_db_option(c)
    c.add_argument("count")
    c.add_argument("--counted", type=_counted, action="append", default=[], metavar="BIN:SKU:QTY")
    c.add_argument("--empty", action="append", default=[], metavar="BIN", help=_("a bin found empty"))
    c.set_defaults(func=cmd_submit)
    c = csub.add_parser("approve", help=_("a supervisor accepts a count's variance"))
    add_db_option(c)
    c.add_argument("count")
    c.add_argument("--supervisor", required=True)
    c.add_argument("--reason", required=True, choices=list(counting.REASONS), metavar="CODE",
                   help=_("one of: {codes}").format(codes=", ".join(counting.REASONS)))
    c.add_argument("--note", default="")
    c.set_defaults(func=cmd_approve)
    c = csub.add_parser("recount", help=_("a supervisor sends a count back to be counted again"))
    add_db_option(c)
    c.add_argument("count")
    c.add_argument("--supervisor", required=True)
    c.set_defaults(func=cmd_recount)
    c = csub.add_parser("cancel", help=_("cancel a count"))
    add_db_option(c)
    c.add_argument("count")
    c.set_defaults(func=cmd_cancel)


def cmd_create(args) -> int:
    db = open_db(args)
    with db.write() as s:
        _id, number = counting.create_count(s, _actor(), args.location, bin=args.bin, zone=args.zone, sku=args.sku,
                                            threshold=args.threshold)
        sheet = counting.count_sheet(s, number)
    print(_("{number} created: {bins} bins, {lines} lines to count at {location}.").format(
        number=number, bins=len(sheet.bins), lines=len(sheet.lines), location=sheet.location))
    return 0


def cmd_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        rows = counting.list_counts(s, status=args.status)
    if args.json:
        _print_json([r.__dict__ for r in rows])
        return 0
    if not rows:
        print(_("No counts match."))
    for r in rows:
        print(f"{r.number:<10} {r.location:<6} {r.scope:<5} {r.scope_ref:<16} {r.status_title:<26} "
              f"{r.bins:>3} {_('bins')} {r.lines:>4} {_('lines')}")
    return 0


def cmd_show(args) -> int:
    db = open_db(args)
    with db.read() as s:
        sheet = counting.count_sheet(s, args.count)
        review = counting.count_review(s, args.count) if sheet.status != "open" else None
    if args.json:
        data = {"number": sheet.number, "location": sheet.location, "scope": sheet.scope, "ref": sheet.scope_ref,
                "status": sheet.status, "bins": [{"bin": b, "scanned": v} for b, v in sheet.bins]}
        if review is None:
            data["lines"] = [{"bin": l.bin_code, "sku": l.sku, "counted": l.counted} for l in sheet.lines]
        else:
            data.update(threshold=review.threshold, counted_by=review.counted_by, approved_by=review.approved_by,
                        reason=review.reason_code,
                        lines=[{"bin": l.bin_code, "sku": l.sku, "expected": l.expected, "counted": l.counted,
                                "variance": l.variance} for l in review.lines])
        _print_json(data)
        return 0
    print(f"{sheet.number}  {sheet.location}  {sheet.scope} {sheet.scope_ref}  {sheet.status_title}")
    if review is None:
        for l in sheet.lines:
            print(f"  {l.bin_code:<10} {l.sku:<22} {'—' if l.counted is None else l.counted:>6}")
        return 0
    for l in review.lines:
        flag = " !" if abs(l.variance) > review.threshold else ""
        print(f"  {l.bin_code:<10} {l.sku:<22} {_('books')} {l.expected:>5}  {_('counted')} {l.counted:>5}  "
              f"{l.variance:+d}{flag}")
    return 0


def cmd_submit(args) -> int:
    db = open_db(args)
    actor = _actor()
    with db.write() as s:
        for code in args.empty:
            counting.scan_bin(s, actor, args.count, code)
        for bin_code, sku, qty in args.counted:
            counting.set_counted(s, actor, args.count, bin_code or None, sku, qty)
        result = counting.submit_count(s, actor, args.count)
    print(result.message)
    return 0


def cmd_approve(args) -> int:
    db = open_db(args)
    with db.write() as s:
        print(counting.approve_count(s, _actor(), args.count, args.supervisor, args.reason, args.note))
    return 0


def cmd_recount(args) -> int:
    db = open_db(args)
    with db.write() as s:
        print(counting.recount(s, _actor(), args.count, args.supervisor))
    return 0


def cmd_cancel(args) -> int:
    db = open_db(args)
    with db.write() as s:
        counting.cancel_count(s, _actor(), args.count)
        number = counting.count_number(counting.task_id(s, args.count))
    print(_("{number} cancelled.").format(number=number))
    return 0
