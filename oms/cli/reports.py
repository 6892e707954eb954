"""`report NAME --from YYYY-MM-DD --to YYYY-MM-DD`: a report as text, JSON, CSV or an XLSX file (30 days to today
when the dates are left out)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta

from oms import reports
from oms.cli.options import add_db_option, open_db
from oms.core.i18n import _
from oms.core.types import utcnow
from oms.reports import export, tables


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-30").format(text=text))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help=_("fill rate, cycle time, on-time, backorders, throughput, carrier cost, productivity"),
                       description="\n\n".join(f"{k}: {reports.DEFINITIONS[k]}" for k in tables.REPORTS),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_db_option(p)
    p.add_argument("name", choices=list(tables.REPORTS), metavar="REPORT",
                   help=_("one of: {all}").format(all=", ".join(tables.REPORTS)))
    p.add_argument("--from", dest="start", type=_day, metavar="YYYY-MM-DD",
                   help=_("first day (UTC; default: 30 days up to --to)"))
    p.add_argument("--to", dest="end", type=_day, metavar="YYYY-MM-DD", help=_("last day, included (default: today, UTC)"))
    p.add_argument("--channel", help=_("channel code"))
    p.add_argument("--location", help=_("location code"))
    p.add_argument("--order-type", help=_("dtc, wholesale or marketplace"))
    p.add_argument("--carrier", help=_("carrier name as on the shipments"))
    p.add_argument("--by", choices=("day", "hour"), default="day", help=_("throughput per day or per hour"))
    p.add_argument("--group", choices=("location", "channel", "carrier"), default="location", help=_("throughput by"))
    p.add_argument("--currency", default="USD", help=_("currency of the carriers' label costs (default USD)"))
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help=_("JSON with the orders behind each row"))
    out.add_argument("--csv", action="store_true", help=_("CSV on standard output"))
    out.add_argument("--xlsx", metavar="FILE", help=_("write an Excel workbook"))
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    end = args.end or utcnow().date()
    period = reports.Period(args.start or end - timedelta(days=29), end)  # refuses an end before the start, before the database is opened
    filters = reports.Filters(args.channel, args.location, args.order_type, args.carrier)
    db = open_db(args)
    with db.read() as s:
        table = tables.build(s, args.name, period, filters, by=args.by, group=args.group, currency=args.currency.upper())
    if args.json:
        json.dump(export.as_json(table), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif args.csv:
        export.write_csv(table, sys.stdout)
    elif args.xlsx:
        export.write_xlsx([table], args.xlsx)
        print(_("Wrote {title} ({rows} rows) to {path}.").format(title=table.title, rows=len(table.rows), path=args.xlsx))
    else:
        export.write_text(table, sys.stdout)
    return 0
