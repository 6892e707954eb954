"""EDI commands: partners, import, export, acknowledge."""

from __future__ import annotations

import sys
from pathlib import Path

from oms import edi
from oms.cli import add_db_option, open_db
from oms.errors import OmsError
from oms.i18n import _


def register(sub) -> None:
    p = sub.add_parser("edi", help=_("EDI X12 with wholesale trading partners"))
    esub = p.add_subparsers(dest="edi_command", required=True)

    ls = esub.add_parser("partners", help=_("list the trading partners"))
    add_db_option(ls)
    ls.set_defaults(func=cmd_partners)

    add = esub.add_parser("partner-add", help=_("add a trading partner with a folder transport"))
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--our-id", required=True)
    add.add_argument("--their-id", required=True)
    add.add_argument("--our-qualifier", default="ZZ")
    add.add_argument("--their-qualifier", default="ZZ")
    add.add_argument("--version", default="004010", choices=edi.VERSIONS)
    add.add_argument("--delimiters", default="*~>^", help=_("element, segment, component, repetition (default *~>^)"))
    add.add_argument("--folder", required=True, help=_("root folder with inbox/ and outbox/"))
    add_db_option(add)
    add.set_defaults(func=cmd_partner_add)

    imp = esub.add_parser("import", help=_("take in an X12 file (or, without FILE, the partner's inbox)"))
    imp.add_argument("file", nargs="?")
    imp.add_argument("--partner", required=True)
    add_db_option(imp)
    imp.set_defaults(func=cmd_import)

    exp = esub.add_parser("export", help=_("write the 856 or 810 of a shipped wholesale shipment"))
    exp.add_argument("--shipment", type=int, required=True)
    exp.add_argument("--doc", choices=("856", "810"), required=True)
    exp.add_argument("--out", required=True)
    add_db_option(exp)
    exp.set_defaults(func=cmd_export)

    ack = esub.add_parser("ack", help=_("check an X12 file and print the 997 it would get (nothing is imported)"))
    ack.add_argument("file")
    add_db_option(ack)
    ack.set_defaults(func=cmd_ack)


def cmd_partners(args) -> int:
    db = open_db(args)
    with db.read() as s:
        rows = edi.partners(s)
    if not rows:
        print(_("No trading partners."))
    for p in rows:
        where = p.transport.get("path") or p.transport.get("host") or "-"
        print(f"{p.code:<14} {p.name:<28} {p.their_qualifier}/{p.their_id:<15} X12 {p.version}  {','.join(p.documents)}  "
              f"{p.transport.get('kind', 'folder')}: {where}")
    return 0


def cmd_partner_add(args) -> int:
    from oms.audit import Actor

    db = open_db(args)
    with db.write() as s:
        edi.add_partner(s, Actor("cli", "cli"), code=args.code, name=args.name, our_id=args.our_id, their_id=args.their_id,
                        our_qualifier=args.our_qualifier, their_qualifier=args.their_qualifier, version=args.version,
                        delimiters=args.delimiters, transport={"kind": "folder", "path": str(Path(args.folder).resolve())})
    _channel(db, args.code)  # makes inbox/, outbox/, archive/ and error/
    print(_("Added trading partner {code}; its files go through {folder}/inbox and /outbox.").format(code=args.code, folder=args.folder))
    return 0


def _channel(db, code: str):
    from .folder import EdiFolderChannel

    with db.read() as s:
        p = edi.partner(s, code)
    if p.transport.get("kind") != "folder" or not p.transport.get("path"):
        raise OmsError(_("Partner {code} has no folder transport configured.").format(code=code))
    return EdiFolderChannel(code, db, p.transport["path"])


def cmd_import(args) -> int:
    from .service import import_interchanges

    db = open_db(args)
    if args.file:
        path = Path(args.file)
        if not path.is_file():
            raise OmsError(_("There is no file {path}.").format(path=path))
        with db.write() as s:
            report = import_interchanges(s, path.read_bytes(), filename=path.name, partner_code=args.partner)
        print(report.line())
        for p in report.problems:
            print(f"- {p}")
        return 1 if report.rejected else 0
    from sync.engine import Engine

    channel = _channel(db, args.partner)
    for r in Engine(db, {args.partner: channel}).run_once():
        print(r.line())
    return 0


def cmd_export(args) -> int:
    from .service import export_shipment

    db = open_db(args)
    with db.write() as s:
        text = export_shipment(s, args.shipment, args.doc)
    Path(args.out).write_text(text, encoding="utf-8")
    print(_("Wrote the {doc} of shipment {id} to {out}.").format(doc=args.doc, id=args.shipment, out=args.out))
    return 0


def cmd_ack(args) -> int:
    from .ack import build_997
    from .docs import read_850
    from .x12 import X12Error, parse_interchanges

    path = Path(args.file)
    try:
        interchanges = parse_interchanges(path.read_bytes().decode("utf-8", errors="replace"))
    except (OSError, X12Error) as exc:
        raise OmsError(_("{file} cannot be read as X12: {error}").format(file=path, error=exc)) from exc
    worst = 0
    for ic in interchanges:
        for group in ic.groups:
            issues = list(group.issues)
            for tx in group.transactions:
                if tx.set_id == "850":
                    po = read_850(tx, group.version)
                    if isinstance(po, list):
                        issues += po
            segments = build_997(ic, group, issues)
            for seg in segments:
                print("*".join((seg.tag, *[e if isinstance(e, str) else ">".join(e) for e in seg.elements])) + "~")
            for i in issues:
                print(f"# {i.severity}: {i.message}", file=sys.stderr)
                worst = max(worst, 1 if i.severity == "error" else 0)
    return worst
