"""Headless sync commands: configure channels, carriers and ERP hand-offs, run the engine once or in a loop."""

from __future__ import annotations

import getpass
import logging
import signal
import sys

from oms.cli import add_db_option, open_db
from oms.core import logs
from oms.core.audit import Actor
from oms.core.errors import OmsError
from oms.core.i18n import _
from oms.integration import sync_store

from . import credentials, registry
from .connectors import build_connectors

CLI_ACTOR = Actor("cli", "cli")


def _connection_commands(sub, role: str, noun: str, help_text: str, add_help: str) -> None:
    """``channel add KIND`` / ``carrier add KIND`` and ``list``: the kinds are those the registry knows."""
    p = sub.add_parser(noun, help=help_text)
    csub = p.add_subparsers(dest=f"{noun}_command", required=True)
    add = csub.add_parser("add", help=add_help)
    add.add_argument("kind", choices=registry.kinds(role))
    add.add_argument("--code", help=_("short code for the connection (default: the name in lower case)"))
    add.add_argument("--name", required=True)
    add.add_argument("--url", help=_("the address of the shop or API (a carrier's own API host by default; "
                                     "an ERP file drop's folder)"))
    add.add_argument("--token-stdin", action="store_true", help=_("read the API token (an ERP endpoint's signing "
                                                                  "secret) from standard input"))
    add.add_argument("--interval", type=int, help=_("seconds between syncs (default: the connector's own)"))
    add.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE", dest="settings",
                     help=_("a setting of this kind of connection (may repeat); `{noun} kinds` lists them").format(noun=noun))
    add_db_option(add)
    add.set_defaults(func=cmd_add, role=role)
    kinds = csub.add_parser("kinds", help=_("the kinds of {noun} Quayside connects to, and their settings").format(noun=noun))
    kinds.set_defaults(func=cmd_kinds, role=role)
    test = csub.add_parser("test", help=_("try a connection: one cheap call with its address and token"))
    test.add_argument("code")
    add_db_option(test)
    test.set_defaults(func=cmd_test, role=role)
    ls = csub.add_parser("list", help=_("configured connections and their state"))
    add_db_option(ls)
    ls.set_defaults(func=cmd_list, role=role)


def register(sub) -> None:
    _connection_commands(sub, "channel", "channel", _("sales channel connections"), _("connect a sales channel"))
    _connection_commands(sub, "carrier", "carrier", _("carrier connections"), _("connect a carrier account"))
    _connection_commands(sub, "erp", "erp", _("ERP hand-off: invoices, credit notes and shipments to the books"),
                         _("hand invoices, credit notes and shipments to an ERP (files in a folder, or signed HTTPS posts)"))
    _connection_commands(sub, "threepl", "tpl", _("3PL warehouse connections"),
                         _("connect a 3PL warehouse to its location (--set location=CODE)"))

    p = sub.add_parser("sync", help=_("pull orders and push updates for every connected channel"))
    p.add_argument("--once", action="store_true", help=_("one pass, then exit"))
    p.add_argument("--connector", action="append", help=_("only this channel (may repeat)"))
    p.add_argument("--verbose", "-v", action="store_true")
    add_db_option(p)
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("diagnostics", help=_("print what support needs to know (version, database, printers, "
                                             "connections, the end of the log), every secret taken out"))
    add_db_option(p)
    p.add_argument("--lines", type=int, default=200, help=_("how many log lines (default 200)"))
    p.set_defaults(func=cmd_diagnostics)


def cmd_diagnostics(args) -> int:
    from oms.core.settings import Settings
    from oms.station import diagnostics

    from .diagnostics import connection_secrets

    db = open_db(args)
    try:
        with db.read() as s:
            facts = diagnostics.database_facts(s, description=db.description, head=db.head_revision())
    finally:
        db.dispose()
    sys.stdout.write(diagnostics.report(facts, Settings.load(), secrets=connection_secrets(facts.connectors),
                                        log_lines=max(0, args.lines)))
    return 0


def cmd_add(args) -> int:
    spec = registry.spec(args.kind, args.role)
    url = args.url or spec.default_address
    if not url:
        raise OmsError(_("Give the {kind} address with --url, e.g. {hint}.").format(kind=spec.title, hint=spec.address_hint))
    given = {}
    for item in args.settings:
        key, sep, value = item.partition("=")
        if not sep:
            raise OmsError(_("Give a setting as SETTING=VALUE, e.g. --set stock_buffer=2; not {item!r}.").format(item=item))
        given[key.strip()] = value
    options = registry.options(spec, given)  # before anything is asked or written: a typo is refused at once
    if spec.parse_address is not None:
        url = spec.parse_address(url)
    db = open_db(args)
    code = (args.code or args.name.lower().replace(" ", "-"))[:64]
    token = ""
    if not spec.needs_secret:
        pass
    elif args.token_stdin:
        token = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        token = getpass.getpass(_("{secret} for {name}: ").format(secret=spec.secret_title or _("API token"), name=args.name))
    else:
        raise OmsError(_("Give the API token with --token-stdin (it is never taken from the command line)."))
    with db.write() as s:
        sync_store.add_connector(s, CLI_ACTOR, code=code, role=args.role, kind=spec.kind, name=args.name,
                                 base_url=url, options=options,
                                 interval_s=args.interval or spec.default_interval_s, subscribes=spec.subscribes)
        if spec.needs_secret:
            credentials.set_secret(code, token)  # inside the transaction: no connection is saved without its token
    if spec.needs_secret:
        print(_("Connected {role} {code} ({kind}); the token is kept in {store}.").format(
            role=args.role, code=code, kind=spec.title, store=credentials.store_name()))
    else:
        print(_("Connected {role} {code} ({kind}) to {url}.").format(role=args.role, code=code, kind=spec.title, url=url))
    return 0


def cmd_kinds(args) -> int:
    for spec in registry.specs(args.role):
        print(f"{spec.kind:<14} {spec.title}")
        print(f"  {'--url':<22} {spec.address_title}: {spec.address_hint}")
        for st in spec.settings:
            print(f"  {'--set ' + st.key + '=':<22} {st.title}: {st.hint}")
    return 0


def cmd_test(args) -> int:
    """Exit 0 when the remote accepted the connection, 1 with the reason when it did not."""
    from .base import CredentialsRefused, Offline, RemoteError

    db = open_db(args)
    with db.read() as s:
        config = next((c for c in sync_store.connectors(s, args.role) if c.code == args.code), None)
    if config is None:
        raise OmsError(_("There is no {role} connection {code}; `{role} list` shows them.").format(role=args.role, code=args.code))
    spec = registry.spec(config.kind, config.role)
    token = credentials.get_secret(config.code) if spec.needs_secret else ""
    if spec.needs_secret and not token:
        raise OmsError(_("{code} has no token stored; add the connection again with its token.").format(code=config.code))
    try:
        print(registry.try_connection(spec, config.code, config.base_url, token, config.options, max_attempts=1, timeout=15))
    except CredentialsRefused as exc:
        print(_("{code} did not connect: the {remote} refused its token ({why}).").format(
            code=config.code, remote={"channel": _("shop"), "carrier": _("carrier")}.get(args.role, _("ERP")), why=exc), file=sys.stderr)
        return 1
    except Offline as exc:
        print(_("{code} did not connect: nothing answered at {url} ({why}).").format(
            code=config.code, url=config.base_url, why=exc), file=sys.stderr)
        return 1
    except RemoteError as exc:
        print(_("{code} did not connect: {why}").format(code=config.code, why=exc), file=sys.stderr)
        return 1
    return 0


def cmd_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        rows = [st for st in sync_store.statuses(s) if st.role == args.role]
    if not rows:
        print(_("No {role}s connected.").format(role=args.role))
    for st in rows:
        state = _("online") if st.online else _("offline since {t:%H:%M}").format(t=st.offline_since)
        needs = next((s.needs_secret for s in registry.specs(args.role) if s.kind == st.kind), True)
        token = "" if not needs or credentials.get_secret(st.code) else _("  NO TOKEN")
        print(f"{st.code:<14} {registry.title(st.kind):<10} {state:<22} {_('waiting')} {st.waiting:<5} {_('failed')} {st.failed}{token}")
    return 0


def cmd_sync(args) -> int:
    from .engine import Engine

    # To the terminal as well as to the log file (oms.logs), through the same redaction.
    stream = logging.StreamHandler(sys.stderr)
    stream.setLevel(logging.INFO if args.verbose else logging.WARNING)
    stream.setFormatter(logs.RedactingFormatter("%(asctime)s %(message)s"))
    logging.getLogger().addHandler(stream)
    if args.verbose:
        for name in logs.OUR_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)
    db = open_db(args)
    channels, carriers, intervals, problems = build_connectors(db, args.connector)
    for p in problems:
        print(p, file=sys.stderr)
    if not channels and not carriers:
        print(_("Nothing to sync: no channel, carrier or ERP hand-off is connected."), file=sys.stderr)
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
