"""EDI commands: partners, import, export, acknowledge."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from oms.cli import add_db_option, open_db
from oms.core.errors import OmsError
from oms.core.i18n import _
from oms.partners import edi


def register(sub) -> None:
    p = sub.add_parser("edi", help=_("EDI X12 with wholesale trading partners"))
    esub = p.add_subparsers(dest="edi_command", required=True)

    ls = esub.add_parser("partners", help=_("list the trading partners"))
    add_db_option(ls)
    ls.set_defaults(func=cmd_partners)

    add = esub.add_parser("partner-add", help=_("add a trading partner reached through folders or SFTP"))
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--our-id", required=True)
    add.add_argument("--their-id", required=True)
    add.add_argument("--our-qualifier", default="ZZ")
    add.add_argument("--their-qualifier", default="ZZ")
    add.add_argument("--version", default="004010", choices=edi.VERSIONS)
    add.add_argument("--delimiters", default="*~>^", help=_("element, segment, component, repetition (default *~>^)"))
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--folder", help=_("root folder with inbox/ and outbox/"))
    where.add_argument("--sftp", metavar="HOST[:PORT]", help=_("the partner's SFTP server"))
    add.add_argument("--sftp-user", metavar="USER", help=_("login name on the SFTP server"))
    add.add_argument("--sftp-key", metavar="FILE", help=_("private key file to log in with (else a password)"))
    add.add_argument("--password-stdin", action="store_true",
                     help=_("read the SFTP password, or the key's passphrase, from standard input"))
    add.add_argument("--remote-inbox", metavar="PATH", help=_("folder on the server where the partner leaves files for us"))
    add.add_argument("--remote-outbox", metavar="PATH", help=_("folder on the server where we leave files for the partner"))
    add.add_argument("--remote-archive", metavar="PATH", help=_("where taken files go (default: archive/ in the inbox)"))
    add.add_argument("--remote-error", metavar="PATH", help=_("where refused files go (default: error/ in the inbox)"))
    add.add_argument("--location", metavar="CODE",
                     help=_("a 3PL warehouse: the location of type 3PL it ships from (940s out; 945, 944, 846, 947 in)"))
    add_db_option(add)
    add.set_defaults(func=cmd_partner_add)

    pw = esub.add_parser("partner-password", help=_("store a new SFTP password or key passphrase for a partner"))
    pw.add_argument("code")
    pw.add_argument("--password-stdin", action="store_true", help=_("read it from standard input"))
    add_db_option(pw)
    pw.set_defaults(func=cmd_partner_password)

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
        print(f"{p.code:<14} {p.name:<28} {p.their_qualifier}/{p.their_id:<15} X12 {p.version}  {','.join(p.documents)}  "
              f"{describe_transport(p.transport)}")
    return 0


def describe_transport(transport: dict) -> str:
    """Where a partner's files travel, in one line (never a secret: there is none in the transport)."""
    if transport.get("kind") == "sftp":
        port = transport.get("port", 22)
        key = _(", key {file}").format(file=transport["key_file"]) if transport.get("key_file") else _(", password")
        return _("sftp: {user}@{host}:{port} in {inbox}, out {outbox}{key}").format(
            user=transport.get("user"), host=transport.get("host"), port=port, inbox=transport.get("inbox"),
            outbox=transport.get("outbox"), key=key)
    return _("folder: {path}").format(path=transport.get("path") or "-")


def _read_secret(args, prompt: str) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n") or None
    if sys.stdin.isatty():
        return getpass.getpass(prompt) or None
    return None


def _sftp_transport(args) -> tuple[dict, str | None]:
    """The transport JSON for --sftp, and the password or passphrase to store beside it (not in it)."""
    from .sftp import PassphraseNeeded, load_key

    missing = [flag for flag, value in (("--sftp-user", args.sftp_user), ("--remote-inbox", args.remote_inbox),
                                        ("--remote-outbox", args.remote_outbox)) if not value]
    if missing:
        raise OmsError(_("An SFTP partner also needs {flags}.").format(flags=", ".join(missing)))
    host, port = _host_port(args.sftp)
    transport = {"kind": "sftp", "host": host, "port": port, "user": args.sftp_user, "inbox": args.remote_inbox,
                 "outbox": args.remote_outbox}
    if args.remote_archive:
        transport["archive"] = args.remote_archive
    if args.remote_error:
        transport["error"] = args.remote_error
    if args.sftp_key:
        key_file = str(Path(args.sftp_key).expanduser().resolve())
        passphrase = _read_secret(args, "") if args.password_stdin else None
        try:  # a missing file or a wrong passphrase is refused now, not at the first sync
            load_key(key_file, passphrase)
        except PassphraseNeeded:
            if not sys.stdin.isatty():
                raise
            passphrase = getpass.getpass(_("Passphrase of {file}: ").format(file=key_file))
            load_key(key_file, passphrase)
        transport["key_file"] = key_file
        return transport, passphrase
    password = _read_secret(args, _("SFTP password for {user}@{host}: ").format(user=args.sftp_user, host=host))
    if not password:
        raise OmsError(_("Give the SFTP password with --password-stdin (it is never taken from the command line), "
                         "or a key file with --sftp-key."))
    return transport, password


def _host_port(value: str) -> tuple[str, int]:
    host, port = value, "22"
    if value.startswith("["):  # [::1]:2222
        host, _sep, rest = value[1:].partition("]")
        port = rest.lstrip(":") or "22"
    elif value.count(":") == 1:
        host, port = value.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise OmsError(_("Give the SFTP server as HOST or HOST:PORT, not {value!r}.").format(value=value))
    return host, int(port)


def cmd_partner_add(args) -> int:
    from oms.core.audit import Actor
    from sync import credentials

    if args.folder:
        stray = [f for f, v in (("--sftp-user", args.sftp_user), ("--sftp-key", args.sftp_key), ("--remote-inbox", args.remote_inbox),
                                ("--remote-outbox", args.remote_outbox), ("--remote-archive", args.remote_archive),
                                ("--remote-error", args.remote_error), ("--password-stdin", args.password_stdin)) if v]
        if stray:
            raise OmsError(_("{flags} only go with --sftp, not with --folder.").format(flags=", ".join(stray)))
        transport, secret = {"kind": "folder", "path": str(Path(args.folder).resolve())}, None
    else:
        transport, secret = _sftp_transport(args)
    from . import transports  # here: paramiko loads only for the commands that reach a partner

    db = open_db(args)
    with db.write() as s:
        transports.add_partner(s, Actor("cli", "cli"), code=args.code, name=args.name, our_id=args.our_id, their_id=args.their_id,
                                  our_qualifier=args.our_qualifier, their_qualifier=args.their_qualifier,
                                  version=args.version, delimiters=args.delimiters, transport=transport,
                                  **({"location": args.location, "documents": edi.WAREHOUSE_DOCUMENT_TYPES}
                                     if args.location else {}))
        if secret:  # inside the transaction: no partner is saved without its password
            credentials.set_secret(credentials.sftp_secret_name(args.code), secret)
    if args.folder:
        _channel(db, args.code)  # makes inbox/, outbox/, archive/ and error/
        print(_("Added trading partner {code}; its files go through {folder}/inbox and /outbox.").format(code=args.code, folder=args.folder))
    else:
        print(_("Added trading partner {code}; its files go through {where}.").format(code=args.code, where=describe_transport(transport)))
        if secret:
            print(_("The password or key passphrase is kept in {store}.").format(store=credentials.store_name()))
    return 0


def cmd_partner_password(args) -> int:
    from sync import credentials

    db = open_db(args)
    with db.read() as s:
        p = edi.partner(s, args.code)
    if p.transport.get("kind") != "sftp":
        raise OmsError(_("Partner {code} is not reached over SFTP; it has no password.").format(code=args.code))
    secret = _read_secret(args, _("SFTP password or key passphrase for {code}: ").format(code=args.code))
    if not secret:
        raise OmsError(_("Give the password with --password-stdin (it is never taken from the command line)."))
    credentials.set_secret(credentials.sftp_secret_name(args.code), secret)
    print(_("Stored the SFTP password of {code} in {store}.").format(code=args.code, store=credentials.store_name()))
    return 0


def _channel(db, code: str):
    from .transports import partner_channel

    with db.read() as s:
        p = edi.partner(s, code)
    return partner_channel(db, p)


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
    try:
        for r in Engine(db, {args.partner: channel}).run_once():
            print(r.line())
    finally:
        channel.close()
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
