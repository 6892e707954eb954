"""`invoice list|show|pdf|issue`, `credit-note issue|show|pdf|list` and `o2c`: invoices, credit notes and the
order-to-cash view from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy import select

from oms import documents, invoicing, reports
from oms.cli.options import add_db_option, open_db
from oms.core.audit import Actor
from oms.core.errors import InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.money import to_text
from oms.orders.models import SalesOrder
from oms.shipping.models import Shipment, ShipmentLine, ShipmentStatus

CLI_ACTOR = Actor("cli", "cli")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("invoice", help=_("invoices: one for every shipment"))
    isub = p.add_subparsers(dest="invoice_command", required=True)
    ls = isub.add_parser("list", help=_("the newest invoices"))
    ls.add_argument("--order", help=_("only this order's (its number)"))
    ls.add_argument("--json", action="store_true")
    add_db_option(ls)
    ls.set_defaults(func=cmd_invoice_list)
    sh = isub.add_parser("show", help=_("one invoice with its lines"))
    sh.add_argument("number")
    sh.add_argument("--json", action="store_true")
    add_db_option(sh)
    sh.set_defaults(func=cmd_show, kind="invoice")
    pdf = isub.add_parser("pdf", help=_("write an invoice as PDF"))
    pdf.add_argument("number")
    pdf.add_argument("--out", required=True, metavar="FILE")
    add_db_option(pdf)
    pdf.set_defaults(func=cmd_pdf, kind="invoice")
    issue = isub.add_parser("issue", help=_("invoice a shipment that shipped without one (from before invoicing)"))
    issue.add_argument("--shipment", type=int, required=True, metavar="ID")
    add_db_option(issue)
    issue.set_defaults(func=cmd_invoice_issue)

    p = sub.add_parser("credit-note", help=_("credit notes against invoices"))
    csub = p.add_subparsers(dest="credit_command", required=True)
    issue = csub.add_parser("issue", help=_("credit some of an invoice: units of its lines, its shipping"))
    issue.add_argument("invoice", help=_("the invoice's number, INV-…"))
    issue.add_argument("--line", action="append", default=[], metavar="SKU=UNITS",
                       help=_("units of a line to credit, by SKU or line number (may repeat)"))
    issue.add_argument("--shipping", action="store_true", help=_("credit the invoice's shipping too"))
    issue.add_argument("--reason", default="", help=_("why, in words (printed on the credit note)"))
    add_db_option(issue)
    issue.set_defaults(func=cmd_credit_issue)
    sh = csub.add_parser("show", help=_("one credit note with its lines"))
    sh.add_argument("number")
    sh.add_argument("--json", action="store_true")
    add_db_option(sh)
    sh.set_defaults(func=cmd_show, kind="credit_note")
    pdf = csub.add_parser("pdf", help=_("write a credit note as PDF"))
    pdf.add_argument("number")
    pdf.add_argument("--out", required=True, metavar="FILE")
    add_db_option(pdf)
    pdf.set_defaults(func=cmd_pdf, kind="credit_note")
    ls = csub.add_parser("list", help=_("credit notes, newest first"))
    ls.add_argument("--invoice", help=_("only those against this invoice"))
    add_db_option(ls)
    ls.set_defaults(func=cmd_credit_list)

    p = sub.add_parser("o2c", help=_("order to cash: shipped but not invoiced, captures by age, failed captures, "
                                     "EDI invoices and their 997s"))
    p.add_argument("--json", action="store_true", help=_("the whole view as JSON"))
    p.add_argument("--days", type=int, default=30, help=_("captures sent in the last N days (default 30)"))
    add_db_option(p)
    p.set_defaults(func=cmd_o2c)


def _money(minor: int, currency: str) -> str:
    return f"{to_text(minor, currency)} {currency}"


def cmd_invoice_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        order_id = None
        if args.order:
            order_id = s.scalar(select(SalesOrder.id).where(SalesOrder.number == args.order))
            if order_id is None:
                raise NotFound(_("There is no order {number}.").format(number=args.order))
        rows = invoicing.invoices(s, order_id=order_id)
    if args.json:
        json.dump([{"number": r.number, "issued_at": r.issued_at.isoformat(), "order_number": r.order_number,
                    "shipment_id": r.shipment_id, "currency": r.currency, "total_minor": r.total_minor} for r in rows],
                  sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print(_("No invoices."))
    for r in rows:
        print(f"{r.number:<12} {r.issued_at:%Y-%m-%d} {r.order_number:<14} {_('shipment')} {r.shipment_id:<6} "
              f"{_money(r.total_minor, r.currency):>16}")
    return 0


def cmd_show(args) -> int:
    db = open_db(args)
    with db.read() as s:
        doc = invoicing.invoice_view(s, args.number) if args.kind == "invoice" else invoicing.credit_note_view(s, args.number)
    if args.json:
        json.dump(doc.as_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    title = _("Invoice") if doc.kind == "invoice" else _("Credit note")
    print(f"{title} {doc.number}  {doc.issued_at:%Y-%m-%d}  {_('order')} {doc.order_number}  {doc.channel}")
    if doc.invoice_number:
        print(_("Against invoice {number}: {reason}").format(number=doc.invoice_number, reason=doc.reason or "—"))
    for l in doc.lines:
        what = f"{l.sku} {l.description}" if l.kind == "goods" else l.description
        qty = f"{l.quantity} x {to_text(l.unit_price_minor, doc.currency)}" if l.kind == "goods" else ""
        print(f"  {what[:50]:<50} {qty:>16} {to_text(l.amount_minor, doc.currency):>12}")
    print(f"  {_('Total'):<50} {'':>16} {_money(doc.total_minor, doc.currency):>16}")
    return 0


def cmd_pdf(args) -> int:
    db = open_db(args)
    with db.read() as s:
        pdf = (documents.invoice_pdf(s, args.number) if args.kind == "invoice"
               else documents.credit_note_pdf(s, args.number))
    Path(args.out).write_bytes(pdf)
    print(_("Wrote {number} to {path}.").format(number=args.number.upper(), path=args.out))
    return 0


def cmd_invoice_issue(args) -> int:
    db = open_db(args)
    with db.write() as s:
        shipment = s.get(Shipment, args.shipment)
        if shipment is None:
            raise NotFound(_("There is no shipment {id}.").format(id=args.shipment))
        if shipment.status != ShipmentStatus.SHIPPED.value:
            raise InvalidInput(_("Shipment {id} is {status}; only a shipped shipment is invoiced.").format(
                id=shipment.id, status=shipment.status))
        lines = [invoicing.ShippedLine(l.order_line_id, l.quantity)
                 for l in s.scalars(select(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id).order_by(ShipmentLine.id))]
        number = invoicing.invoice_shipment(s, CLI_ACTOR, s.get(SalesOrder, shipment.order_id), shipment.id, lines,
                                            issued_at=shipment.shipped_at)
    print(_("Issued invoice {number} for shipment {id}.").format(number=number, id=args.shipment))
    return 0


def _quantities(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        ref, sep, units = item.rpartition("=")
        if not sep or not ref.strip() or not units.strip().isdigit() or int(units) <= 0:
            raise InvalidInput(_("Give a line as SKU=UNITS, e.g. --line MUG-RED=2; not {item!r}.").format(item=item))
        out[ref.strip()] = out.get(ref.strip(), 0) + int(units)
    return out


def cmd_credit_issue(args) -> int:
    quantities = _quantities(args.line)  # refused before the database is opened
    db = open_db(args)
    with db.write() as s:
        number = invoicing.issue_credit_note(s, CLI_ACTOR, args.invoice, quantities, shipping=args.shipping,
                                             reason=args.reason)
    with db.read() as s:
        doc = invoicing.credit_note_view(s, number)
    print(_("Issued credit note {number} against {invoice}: {amount}.").format(
        number=number, invoice=doc.invoice_number, amount=_money(doc.total_minor, doc.currency)))
    return 0


def cmd_credit_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        rows = invoicing.credit_notes(s, args.invoice)
    if not rows:
        print(_("No credit notes."))
    for number, invoice, total, currency in rows:
        print(f"{number:<12} {invoice:<12} {_money(total, currency):>16}")
    return 0


def cmd_o2c(args) -> int:
    db = open_db(args)
    with db.read() as s:
        view = reports.order_to_cash(s, captured_days=max(1, args.days))
    if args.json:
        json.dump(view.as_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    write_o2c(view, sys.stdout)
    return 0


def _when(moment) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "—"


def write_o2c(view: reports.OrderToCash, out) -> None:
    """The order-to-cash view as text tables."""
    w = out.write
    w(_("Order to cash, as of {when}").format(when=_when(view.as_of)) + "\n\n")
    w(_("Shipped but not invoiced: {n}").format(n=len(view.not_invoiced)) + "\n")
    for r in view.not_invoiced:
        w(f"  {_('shipment')} {r.shipment_id:<7} {r.order_number:<16} {_when(r.shipped_at):<17} {r.units:>5} {_('units')}\n")
    w("\n" + _("Payment captures by age") + "\n")
    w(f"  {_('age'):<13} {_('currency'):<8} {_('captured'):>22} {_('pending'):>22} {_('failed'):>22}\n")
    for c in view.captures:
        cells = [f"{n} / {to_text(m, c.currency)}" for n, m in ((c.captured, c.captured_minor), (c.pending, c.pending_minor),
                                                                (c.failed, c.failed_minor))]
        w(f"  {c.bucket:<13} {c.currency:<8} {cells[0]:>22} {cells[1]:>22} {cells[2]:>22}\n")
    if not view.captures:
        w("  " + _("none") + "\n")
    w("\n" + _("Captures that failed: {n}").format(n=len(view.failed_captures)) + "\n")
    for f in view.failed_captures:
        state = (_("failed: send it again from the Sync screen") if f.state == "failed"
                 else _("retrying at {when}").format(when=_when(f.next_attempt_at)))
        w(f"  {f.order_number:<16} {f.channel:<10} {_money(f.amount_minor, f.currency):>16}  "
          f"{_('attempts')} {f.attempts}  {state}  {f.last_error[:80]}\n")
    w("\n" + _("Invoices to EDI partners (810): {n}").format(n=len(view.edi_invoices)) + "\n")
    for e in view.edi_invoices:
        w(f"  {e.partner:<10} {e.order_number:<16} {e.invoice_number or '—':<12} {e.state:<22} "
          f"{_('sent')} {_when(e.sent_at):<17} {_('997')} {_when(e.acknowledged_at)}\n")
