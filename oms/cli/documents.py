"""The `doc` commands: make pick lists, packing slips and labels as files, and print them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from oms.cli.options import add_db_option, open_db
from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.core.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doc", help=_("make documents and labels (PDF, ZPL) and print them"))
    dsub = p.add_subparsers(dest="doc_command", required=True)

    def cmd(name: str, help_text: str, func, *, db: bool = True, out: bool = True) -> argparse.ArgumentParser:
        c = dsub.add_parser(name, help=help_text)
        if db:
            add_db_option(c)
        if out:
            c.add_argument("--out", required=True, metavar="FILE", help=_("where to write the document"))
        c.set_defaults(func=func)
        return c

    def label_options(c: argparse.ArgumentParser) -> None:
        c.add_argument("--format", choices=["pdf", "zpl"], default="pdf")
        c.add_argument("--dpi", type=int, choices=[203, 300], default=203, help=_("label printer resolution (ZPL)"))

    c = cmd("picklist", _("the pick list of a wave"), cmd_picklist)
    c.add_argument("--wave", type=int, required=True, metavar="ID")
    c.add_argument("--paper", choices=["A4", "Letter"])

    c = cmd("packing-slip", _("the packing slip of an order or one of its shipments"), cmd_packing_slip)
    c.add_argument("--order", required=True, metavar="NUMBER")
    c.add_argument("--shipment", type=int, metavar="ID")
    c.add_argument("--paper", choices=["A4", "Letter"])

    c = cmd("return-slip", _("the return slip of an RMA, with its barcode, to put in the parcel"), cmd_return_slip)
    c.add_argument("--rma", required=True, metavar="RMA")
    c.add_argument("--paper", choices=["A4", "Letter"])

    c = cmd("label", _("the 4x6 shipping labels of a shipment, one per package"), cmd_label)
    c.add_argument("--shipment", type=int, required=True, metavar="ID")
    label_options(c)

    c = cmd("sscc", _("GS1 SSCC carton labels: for a shipment's cartons, or --count new serials"), cmd_sscc)
    group = c.add_mutually_exclusive_group(required=True)
    group.add_argument("--count", type=int, metavar="N")
    group.add_argument("--shipment", type=int, metavar="ID")
    label_options(c)

    c = cmd("product-labels", _("product labels with the product's barcode"), cmd_product_labels)
    c.add_argument("--sku", action="append", required=True, help=_("SKU or barcode; repeat for more products"))
    c.add_argument("--size", choices=["small", "4x6"], default="small", help=_("small is 2.25x1.25 inch"))
    c.add_argument("--copies", type=int, default=1)
    label_options(c)

    c = cmd("receiving-labels", _("labels for a PO's cartons (from its ship notices) or received products"),
            cmd_receiving_labels)
    c.add_argument("po")
    c.add_argument("what", choices=["cartons", "products"],
                   help=_("cartons: every carton its ship notices list; products: every good unit on its open receipt"))
    c.add_argument("--size", choices=["small", "4x6"], default="small")
    label_options(c)

    c = cmd("bin-labels", _("bin labels of a location, in walk order"), cmd_bin_labels)
    c.add_argument("--location", required=True, metavar="CODE")
    c.add_argument("--bin", action="append", help=_("only this bin; repeat for more"))
    c.add_argument("--size", choices=["small", "4x6"], default="small")
    label_options(c)

    c = cmd("print", _("print a PDF or ZPL file"), cmd_print, db=False, out=False)
    c.add_argument("file")
    c.add_argument("--printer", help=_("CUPS queue, or socket://host:9100 (default: from the settings)"))
    c.add_argument("--raw", action="store_true", help=_("send the bytes as they are (ZPL)"))
    c.add_argument("--media", help=_("paper or label size for PDFs, e.g. Custom.4x6in"))
    c.add_argument("--title")

    cmd("printers", _("list the printers"), cmd_printers, db=False, out=False)
    cmd("failed-prints", _("list prints that failed and are kept for a retry"), cmd_failed, db=False, out=False)
    c = cmd("retry", _("retry a failed print"), cmd_retry, db=False, out=False)
    c.add_argument("job")
    c.add_argument("--printer", help=_("send it to this printer instead"))
    c = cmd("discard", _("forget a failed print"), cmd_discard, db=False, out=False)
    c.add_argument("job")


def _write(path: str, data: bytes, what: str) -> int:
    target = Path(path)
    try:
        if target.parent and not target.parent.exists():
            raise InvalidInput(_("The folder {folder} does not exist.").format(folder=target.parent))
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        raise InvalidInput(_("Cannot write {path}: {reason}").format(path=path, reason=exc.strerror or exc)) from None
    print(_("Wrote {what} to {path} ({size} bytes).").format(what=what, path=path, size=len(data)))
    return 0


def cmd_picklist(args) -> int:
    from oms.documents import pick_list

    db = open_db(args)
    with db.read() as s:
        data = pick_list(s, args.wave, args.paper or Settings.load().paper_size)
    return _write(args.out, data, _("the pick list"))


def cmd_packing_slip(args) -> int:
    from oms.documents import packing_slip

    db = open_db(args)
    with db.read() as s:
        data = packing_slip(s, args.order, args.shipment, paper=args.paper)
    return _write(args.out, data, _("the packing slip"))


def cmd_return_slip(args) -> int:
    from oms.documents import return_slip

    db = open_db(args)
    with db.read() as s:
        data = return_slip(s, args.rma, paper=args.paper)
    return _write(args.out, data, _("the return slip"))


def cmd_label(args) -> int:
    from oms.documents import shipping_labels

    db = open_db(args)
    with db.read() as s:
        data = shipping_labels(s, args.shipment, args.format, dpi=args.dpi)
    return _write(args.out, data, _("the shipping label"))


def cmd_sscc(args) -> int:
    from oms.documents import new_sscc_labels, sscc_labels

    db = open_db(args)
    if args.shipment is not None:
        with db.read() as s:
            data = sscc_labels(s, args.shipment, args.format, dpi=args.dpi)
        return _write(args.out, data, _("the SSCC labels"))
    with db.write() as s:  # the serials are only taken when the labels were made
        ssccs, data = new_sscc_labels(s, args.count, args.format, dpi=args.dpi)
    _write(args.out, data, _("{n} SSCC labels").format(n=len(ssccs)))
    print(_("SSCCs {first} to {last}.").format(first=ssccs[0], last=ssccs[-1]))
    return 0


def cmd_product_labels(args) -> int:
    from oms.documents import product_labels

    db = open_db(args)
    with db.read() as s:
        data = product_labels(s, args.sku, args.format, size=args.size, dpi=args.dpi, copies=args.copies)
    return _write(args.out, data, _("the product labels"))


def cmd_receiving_labels(args) -> int:
    from oms.documents import receiving_labels

    db = open_db(args)
    with db.read() as s:
        n, data = receiving_labels(s, args.po, args.what, args.format, dpi=args.dpi, size=args.size)
    return _write(args.out, data, _("{n} labels").format(n=n))


def cmd_bin_labels(args) -> int:
    from oms.documents import bin_labels

    db = open_db(args)
    with db.read() as s:
        data = bin_labels(s, args.location, args.format, size=args.size, dpi=args.dpi, bins=args.bin)
    return _write(args.out, data, _("the bin labels"))


def cmd_print(args) -> int:
    from oms import printing

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(_("Cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc)) from None
    is_pdf = data.lstrip()[:5] == b"%PDF-"
    settings = Settings.load()
    printer = args.printer or (settings.document_printer if is_pdf and not args.raw else settings.label_printer)
    title = args.title or path.name
    if args.raw or not is_pdf:
        job = printing.print_raw(data, printer, title=title)
    else:
        job = printing.print_pdf(data, printer, title=title, media=args.media)
    print(_("Sent {file} to {printer}{job}.").format(file=path.name, printer=printer, job=f" ({job})" if job and job != printer else ""))
    return 0


def cmd_printers(args) -> int:
    from oms import printing

    printers = printing.list_printers()
    if not printers:
        print(_("No printers are set up."))
    for p in printers:
        state = p.state if p.enabled else _("paused") + (f" ({p.reason})" if p.reason else "")
        flags = ("" if p.accepting else _(", not accepting jobs")) + (_(", default") if p.is_default else "")
        print(f"{p.name:<24} {state}{flags}")
    return 0


def cmd_failed(args) -> int:
    from oms import printing

    jobs = printing.failed_jobs()
    if not jobs:
        print(_("No failed prints."))
    for j in jobs:
        print(f"{j.id}  {j.format:<4} {j.printer:<20} {j.attempts}×  {j.title}\n    {j.error}")
    return 0


def cmd_retry(args) -> int:
    from oms import printing

    printing.retry(args.job, args.printer)
    print(_("Printed {job}.").format(job=args.job))
    return 0


def cmd_discard(args) -> int:
    from oms import printing

    printing.discard(args.job)
    print(_("Discarded {job}.").format(job=args.job))
    return 0
