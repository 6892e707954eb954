"""The `user` and `audit` commands: people, their roles, passwords, PINs and badges; and reading the audit trail.

Each command runs as a named Quayside user: ``--user NAME``, or else the operating-system user of the same name,
with the same permission checks as the screens (``users.manage`` to manage people, ``audit.view`` to read the
trail). Until a database has people who can sign in, commands run as setup, so the first admin can be added.
Passwords and PINs are read from standard input (``--password-stdin``, ``--pin-stdin``), never from the command
line, where other users of the machine could read them.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from oms import documents, users
from oms.cli.options import add_db_option, open_db
from oms.core import audit
from oms.core.audit import Actor
from oms.core.errors import InvalidInput, NotFound
from oms.core.i18n import _
from oms.users.permissions import ROLES

STATION = "cli"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def run_as(session, name: str | None) -> Actor:
    """The actor a command runs as: the named (or the OS) user, checked like any signed-in person."""
    if not users.has_real_users(session):
        return Actor("setup", STATION)
    wanted = (name or _os_user() or "").strip().lower()
    row = next((u for u in users.list_users(session) if u.username == wanted), None)
    if row is None or not row.active or row.locked:
        raise NotFound(_("{name!r} is not an active Quayside user; give --user with your Quayside user name.").format(
            name=wanted))
    return Actor(row.username, STATION, row.role, row.display_name, row.locations)


def _user_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", dest="as_user", metavar="NAME",
                   help=_("the Quayside user to run as (default: the operating-system user of the same name)"))


def _stdin_lines(count: int) -> list[str]:
    lines = sys.stdin.read().splitlines()
    if len(lines) < count:
        raise InvalidInput(_("Standard input must give {n} line(s): the password, then the PIN, as asked.").format(n=count))
    return lines[:count]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help=_("people: add, list, roles, passwords, PINs, lock, badges"))
    usub = p.add_subparsers(dest="user_command", required=True)

    a = usub.add_parser("add", help=_("add a person (a one-time password is printed unless one is given)"))
    a.add_argument("username")
    a.add_argument("--name", required=True, help=_("the name shown on screen and on the badge"))
    a.add_argument("--role", required=True, choices=list(ROLES))
    a.add_argument("--location", action="append", default=[], help=_("limit the role to this location (repeatable)"))
    a.add_argument("--password-stdin", action="store_true", help=_("read the password from the first line of stdin"))
    a.add_argument("--pin-stdin", action="store_true", help=_("read the 4-6 digit PIN from the next line of stdin"))
    a.set_defaults(func=cmd_user_add)

    ls = usub.add_parser("list", help=_("everyone, with role, badge and state"))
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_user_list)

    pw = usub.add_parser("passwd", help=_("set a password (a one-time password, changed at next sign-in, unless "
                                          "--password-stdin)"))
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true")
    pw.set_defaults(func=cmd_user_passwd)

    rp = usub.add_parser("reset-pin", help=_("set a new PIN, read from stdin"))
    rp.add_argument("username")
    rp.set_defaults(func=cmd_user_reset_pin)

    g = usub.add_parser("grant", help=_("give a person a role (limited to locations with --location)"))
    g.add_argument("username")
    g.add_argument("role", choices=list(ROLES))
    g.add_argument("--location", action="append", default=[])
    g.set_defaults(func=cmd_user_grant)

    for name, func, text in (("lock", cmd_user_lock, _("lock an account until it is unlocked")),
                             ("unlock", cmd_user_unlock, _("unlock an account (also after too many wrong attempts)")),
                             ("disable", cmd_user_disable, _("disable an account for good"))):
        c = usub.add_parser(name, help=text)
        c.add_argument("username")
        c.set_defaults(func=func)

    b = usub.add_parser("badge", help=_("print badge labels (name, role, Code 128 badge code) to a PDF or ZPL file"))
    b.add_argument("username", nargs="+")
    b.add_argument("--out", required=True, type=Path)
    b.add_argument("--format", choices=["pdf", "zpl"], default="pdf")
    b.add_argument("--new", action="store_true", help=_("issue a new badge code first (the old badge stops working)"))
    b.set_defaults(func=cmd_user_badge)

    for parser in (a, ls, pw, rp, g, b, *[usub.choices[n] for n in ("lock", "unlock", "disable")]):
        add_db_option(parser)
        _user_option(parser)

    p = sub.add_parser("audit", help=_("the audit trail: who did what, when"))
    asub = p.add_subparsers(dest="audit_command", required=True)
    al = asub.add_parser("list", help=_("events newest first"))
    al.add_argument("--user", dest="who", metavar="USER", help=_("only this person's events"))
    al.add_argument("--from", dest="since", type=_day, metavar="YYYY-MM-DD")
    al.add_argument("--to", dest="until", type=_day, metavar="YYYY-MM-DD", help=_("up to and including this day"))
    al.add_argument("--action", help=_("an action, or a family of them: order, user, stock.adjust"))
    al.add_argument("--order", help=_("only this order's events (its number)"))
    al.add_argument("--limit", type=int, default=200)
    al.add_argument("--json", action="store_true")
    al.add_argument("--as", dest="as_user", metavar="NAME", help=_("the Quayside user to run as"))
    add_db_option(al)
    al.set_defaults(func=cmd_audit_list)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("a date is YYYY-MM-DD, not “{text}”").format(text=text)) from None


def cmd_user_add(args) -> int:
    password = pin = None
    if args.password_stdin or args.pin_stdin:
        lines = _stdin_lines(int(args.password_stdin) + int(args.pin_stdin))
        password = lines.pop(0) if args.password_stdin else None
        pin = lines.pop(0) if args.pin_stdin else None
    once = None
    if password is None and not args.pin_stdin:
        import secrets

        once = password = secrets.token_urlsafe(9)
    db = open_db(args)
    with db.write() as s:
        actor = run_as(s, args.as_user)
        users.add_user(s, actor, args.username, args.name, args.role, password=password, pin=pin,
                       locations=args.location, must_change_password=once is not None)
    print(_("Added {user} ({role}).").format(user=args.username.lower(), role=users.role_label(args.role)))
    if once:
        print(_("One-time password (to be changed at first sign-in): {pw}").format(pw=once))
    return 0


def cmd_user_list(args) -> int:
    db = open_db(args)
    with db.read() as s:
        run_as(s, args.as_user)
        rows = users.list_users(s)
    if args.json:
        json.dump([{"username": r.username, "name": r.display_name, "role": r.role, "locations": list(r.locations),
                    "active": r.active, "locked": r.locked, "badge": r.badge_code, "password": r.has_password,
                    "pin": r.has_pin, "must_change_password": r.must_change_password, "demo": r.demo,
                    "last_sign_in": r.last_sign_in_at.isoformat() if r.last_sign_in_at else None} for r in rows],
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for r in rows:
        state = ", ".join(x for x in (
            "" if r.active else _("disabled"), _("locked") if r.locked else "", _("demo") if r.demo else "",
            _("must change password") if r.must_change_password else "") if x)
        where = f" @ {', '.join(r.locations)}" if r.locations else ""
        print(f"{r.username:<16} {r.display_name:<24} {r.role_label + where:<28} {r.badge_code or '':<14} {state}")
    return 0


def cmd_user_passwd(args) -> int:
    once = None
    if args.password_stdin:
        (password,) = _stdin_lines(1)
    else:
        import secrets

        once = password = secrets.token_urlsafe(9)
    db = open_db(args)
    with db.write() as s:
        users.set_password(s, run_as(s, args.as_user), args.username, password, must_change=once is not None)
    print(_("Password of {user} set.").format(user=args.username))
    if once:
        print(_("One-time password (to be changed at first sign-in): {pw}").format(pw=once))
    return 0


def cmd_user_reset_pin(args) -> int:
    (pin,) = _stdin_lines(1)
    db = open_db(args)
    with db.write() as s:
        users.set_pin(s, run_as(s, args.as_user), args.username, pin)
    print(_("PIN of {user} set.").format(user=args.username))
    return 0


def cmd_user_grant(args) -> int:
    db = open_db(args)
    with db.write() as s:
        users.set_role(s, run_as(s, args.as_user), args.username, args.role, args.location)
    print(_("{user} is now {role}.").format(user=args.username, role=users.role_label(args.role)))
    return 0


def _simple(change, done: str):
    def cmd(args) -> int:
        db = open_db(args)
        with db.write() as s:
            change(s, run_as(s, args.as_user), args.username)
        print(done.format(user=args.username))
        return 0
    return cmd


cmd_user_lock = _simple(users.lock_user, _("{user} is locked."))
cmd_user_unlock = _simple(users.unlock_user, _("{user} is unlocked."))
cmd_user_disable = _simple(users.disable_user, _("{user} is disabled."))


def cmd_user_badge(args) -> int:
    db = open_db(args)
    with db.write() as s:
        actor = run_as(s, args.as_user)
        if args.new:
            for name in args.username:
                users.new_badge(s, actor, name)
        data = documents.badge_labels(s, actor, args.username, args.format)
    args.out.write_bytes(data)
    print(_("Badges written to {path}.").format(path=args.out))
    return 0


def cmd_audit_list(args) -> int:
    db = open_db(args)
    with db.write() as s:
        audit.seal(s)
    with db.read() as s:
        actor = run_as(s, args.as_user)
        users.require(actor, "audit.view")
        order_id = None
        if args.order:
            from oms.orders import find_order

            order_id = find_order(s, args.order)
        since = datetime.combine(args.since, time(), timezone.utc) if args.since else None
        until = datetime.combine(args.until + timedelta(days=1), time(), timezone.utc) if args.until else None
        if since and until and until <= since:
            raise InvalidInput(_("--to is before --from."))
        events = audit.trail(s, user=args.who, since=since, until=until, action=args.action, order_id=order_id,
                             limit=max(1, args.limit))
    if args.json:
        json.dump([e.as_dict() for e in events], sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
        return 0
    for e in events:
        who = f"{e.user}@{e.station}" if e.station else e.user
        print(f"{e.at.astimezone().strftime('%Y-%m-%d %H:%M:%S')}  {who:<20} {e.action:<24} {e.summary}")
    return 0
