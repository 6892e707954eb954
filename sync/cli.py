"""Headless sync commands: configure channels and carriers, run the engine once or in a loop."""

from __future__ import annotations

import getpass
import logging
import signal
import sys

from oms import sync_store
from oms.audit import Actor
from oms.cli import add_db_option, open_db
from oms.errors import OmsError
from oms.i18n import _

from . import credentials
from .connectors import build_connectors

CLI_ACTOR = Actor("cli", "cli")


def register(sub) -> None:
    p = sub.add_parser("channel", help=_("sales channel connections"))
    csub = p.add_subparsers(dest="channel_command", required=True)
    add = csub.add_parser("add", help=_("connect a sales channel"))
    add.add_argument("kind", choices=sync_store.CHANNEL_KINDS)
    add.add_argument("--code", help=_("short code for the channel (default: the name in lower case)"))
    add.add_argument("--name", required=True)
    add.add_argument("--url", required=True, help=_("the shop's address, e.g. https://example.myshopify.com"))
    add.add_argument("--token-stdin", action="store_true", help=_("read the API token from standard input"))
    add.add_argument("--interval", type=int, default=60, help=_("seconds between syncs (default 60)"))
    add_db_option(add)
    add.set_defaults(func=cmd_add, role="channel")
    ls = csub.add_parser("list", help=_("configured channels and their state"))
    add_db_option(ls)
    ls.set_defaults(func=cmd_list, role="channel")

    p = sub.add_parser("carrier", help=_("carrier connections"))
    ksub = p.add_subparsers(dest="carrier_command", required=True)
    add = ksub.add_parser("add", help=_("connect a carrier account"))
    add.add_argument("kind", choices=sync_store.CARRIER_KINDS)
    add.add_argument("--code")
    add.add_argument("--name", required=True)
    add.add_argument("--url", default="https://api.easypost.com")
    add.add_argument("--token-stdin", action="store_true", help=_("read the API key from standard input"))
    add.add_argument("--interval", type=int, default=300)
    add_db_option(add)
    add.set_defaults(func=cmd_add, role="carrier")
    ls = ksub.add_parser("list")
    add_db_option(ls)
    ls.set_defaults(func=cmd_list, role="carrier")

    p = sub.add_parser("sync", help=_("pull orders and push updates for every connected channel"))
    p.add_argument("--once", action="store_true", help=_("one pass, then exit"))
    p.add_argument("--connector", action="append", help=_("only this channel (may repeat)"))
    p.add_argument("--verbose", "-v", action="store_true")
    add_db_option(p)
    p.set_defaults(func=cmd_sync)


def cmd_add(args) -> int:
    db = open_db(args)
    code = (args.code or args.name.lower().replace(" ", "-"))[:64]
    if args.token_stdin:
        token = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        token = getpass.getpass(_("API token for {name}: ").format(name=args.name))
    else:
        raise OmsError(_("Give the API token with --token-stdin (it is never taken from the command line)."))
    with db.write() as s:
        sync_store.add_connector(s, CLI_ACTOR, code=code, role=args.role, kind=args.kind, name=args.name,
                                 base_url=args.url, interval_s=args.interval)
        credentials.set_secret(code, token)  # inside the transaction: no connection is saved without its token
    print(_("Connected {role} {code} ({kind}); the token is kept in {store}.").format(
        role=args.role, code=code, kind=args.kind, store=credentials.store_name()))
    return 0


def cmd_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        rows = [st for st in sync_store.statuses(s) if st.role == args.role]
    if not rows:
        print(_("No {role}s connected.").format(role=args.role))
    for st in rows:
        state = _("online") if st.online else _("offline since {t:%H:%M}").format(t=st.offline_since)
        token = "" if credentials.get_secret(st.code) else _("  NO TOKEN")
        print(f"{st.code:<14} {st.kind:<10} {state:<22} {_('waiting')} {st.waiting:<5} {_('failed')} {st.failed}{token}")
    return 0


def cmd_sync(args) -> int:
    from .engine import Engine

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(message)s")
    db = open_db(args)
    channels, carriers, intervals, problems = build_connectors(db, args.connector)
    for p in problems:
        print(p, file=sys.stderr)
    if not channels and not carriers:
        print(_("Nothing to sync: no channel or carrier with a token is connected."), file=sys.stderr)
        return 1 if problems else 0
    engine = Engine(db, channels, carriers=carriers)
    if args.once:
        reports = engine.run_once()
        for r in reports:
            print(r.line())
        return 1 if any(r.offline or r.failed or r.errors for r in reports) else 0  # any connector that failed
    signal.signal(signal.SIGTERM, lambda *_a: engine.stop())
    try:
        engine.run_forever(intervals, on_report=lambda r: print(r.line(), flush=True))
    except KeyboardInterrupt:
        engine.stop()
    return 0
