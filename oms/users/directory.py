"""The people who sign in: adding them, their roles, passwords, PINs and badges, signing in and lockout."""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.types import NAME, SHORT, utcnow
from oms.core.validate import unique
from oms.users import passwords
from oms.users.models import User
from oms.users.permissions import ROLES, require, role_label

FREE_FAILURES = 5  # wrong passwords or PINs in a row before the account waits
FIRST_DELAY_S = 30  # then 30 s, doubling with each further failure
MAX_DELAY_S = 3600
MIN_PASSWORD = 8
BADGE_PREFIX = "QB"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_PIN = re.compile(r"^[0-9]{4,6}$")


def user_display_name(session: Session, username: str) -> str | None:
    """The display name of a known, active user; None when users are not set up or unknown."""
    if not username:
        return None
    return session.scalar(select(User.display_name).where(User.username == username, User.active.is_(True)))


@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    role: str
    role_label: str
    locations: tuple[str, ...]
    active: bool
    locked: bool
    has_password: bool
    has_pin: bool
    badge_code: str | None
    must_change_password: bool
    demo: bool
    last_sign_in_at: datetime | None


@dataclass(frozen=True)
class SignIn:
    """What a sign-in came to: the actor on success, else the message to show (the attempt is recorded either way,
    so the caller commits in both cases)."""

    actor: Actor | None
    message: str = ""
    must_change_password: bool = False

    @property
    def ok(self) -> bool:
        return self.actor is not None


def actor_for(user: User, station: str) -> Actor:
    return Actor(user.username, station, user.role, user.display_name, tuple(user.locations or ()))


def _user(session: Session, username: str, *, for_update: bool = False) -> User:
    q = select(User).where(User.username == (username or "").strip().lower())
    user = session.scalar(q.with_for_update() if for_update else q)
    if user is None:
        raise NotFound(_("There is no user {name!r}.").format(name=username))
    return user


def _username(value) -> str:
    name = validate.text(value, "user name", SHORT, required=True).lower()
    if not _USERNAME.match(name):
        raise InvalidInput(_("A user name is 2 to 64 letters a–z, digits, dots, dashes or underscores, starting with a "
                             "letter or digit; {name!r} is not.").format(name=name))
    return name


def _role(value) -> str:
    if value not in ROLES:
        raise InvalidInput(_("There is no role {role!r}; the roles are {roles}.").format(role=value, roles=", ".join(ROLES)))
    return value


def _password(value) -> str:
    if not isinstance(value, str):
        raise InvalidInput(_("A password must be text."))
    if len(value) < MIN_PASSWORD:
        raise InvalidInput(_("A password needs at least {n} characters.").format(n=MIN_PASSWORD))
    if len(value) > 200:
        raise InvalidInput(_("A password can be at most 200 characters long."))
    if "\x00" in value:
        raise InvalidInput(_("A password cannot contain a NUL character."))
    return value


def _pin(value) -> str:
    if not isinstance(value, str) or not _PIN.match(value):
        raise InvalidInput(_("A PIN is 4 to 6 digits."))
    return value


def _locations(value) -> list[str] | None:
    if not value:
        return None
    codes = [validate.text(v, "location", SHORT, required=True).upper() for v in value]
    return sorted(set(codes))


def _new_badge(session: Session) -> str:
    while True:
        code = BADGE_PREFIX + "".join(secrets.choice("0123456789") for _i in range(10))
        if session.scalar(select(User.id).where(User.badge_code == code)) is None:
            return code


def add_user(session: Session, actor: Actor, username: str, display_name: str, role: str = "read_only", *,
             password: str | None = None, pin: str | None = None, locations=None, demo: bool = False,
             must_change_password: bool = False) -> int:
    """Add a person with a role (limited to some locations when given), a badge, and a password and/or PIN."""
    require(actor, "users.manage")
    username = _username(username)
    unique(session, User.username, username, _("user"))
    user = User(username=username, display_name=validate.text(display_name, "display name", NAME, required=True),
                role=_role(role), locations=_locations(locations), demo=demo,
                password_hash=passwords.make_hash(_password(password)) if password is not None else None,
                pin_hash=passwords.make_hash(_pin(pin)) if pin is not None else None,
                badge_code=_new_badge(session), must_change_password=must_change_password)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.added", "user", user.id, summary=f"{username} ({role})",
                 after={"role": role, "locations": user.locations})
    return user.id


def list_users(session: Session) -> list[UserRow]:
    now = utcnow()
    return [UserRow(u.username, u.display_name, u.role, role_label(u.role), tuple(u.locations or ()), u.active,
                    u.locked or bool(u.locked_until and u.locked_until > now), u.password_hash is not None,
                    u.pin_hash is not None, u.badge_code, u.must_change_password, u.demo, u.last_sign_in_at)
            for u in session.scalars(select(User).order_by(User.username))]


def has_real_users(session: Session) -> bool:
    """Whether people must sign in: some active user, not demo data, who can sign in (a password or a PIN)."""
    return session.scalar(select(func.count()).select_from(User).where(
        User.active.is_(True), User.demo.is_(False),
        (User.password_hash.is_not(None)) | (User.pin_hash.is_not(None)))) > 0


def first_admin(session: Session, station: str = "") -> str | None:
    """On a database without real users: the admin, with a one-time password to change at first sign-in.

    Returns that password, to show once; None when real users exist already.
    """
    if has_real_users(session):
        return None
    password = secrets.token_urlsafe(9)
    name = "admin"
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        name = f"admin-{secrets.token_hex(2)}"
    add_user(session, Actor("setup", station), name, _("Administrator"), "admin", password=password,
             must_change_password=True)
    return password


def _self_or_manager(actor: Actor, username: str) -> None:
    if actor.user != username:
        require(actor, "users.manage")


def set_password(session: Session, actor: Actor, username: str, new_password: str, *, must_change: bool = False) -> None:
    """An admin sets someone's password (they change it at next sign-in when ``must_change``)."""
    require(actor, "users.manage")
    user = _user(session, username, for_update=True)
    user.password_hash = passwords.make_hash(_password(new_password))
    user.must_change_password = must_change
    session.flush()
    audit.record(session, actor, "user.password_set", "user", user.id, summary=user.username)


def change_own_password(session: Session, actor: Actor, old_password: str, new_password: str) -> None:
    user = _user(session, actor.user, for_update=True)
    if not passwords.matches(user.password_hash, old_password or ""):
        raise InvalidInput(_("The current password is not right."))
    if old_password == new_password:
        raise InvalidInput(_("The new password must differ from the current one."))
    user.password_hash = passwords.make_hash(_password(new_password))
    user.must_change_password = False
    session.flush()
    audit.record(session, actor, "user.password_changed", "user", user.id, summary=user.username)


def set_pin(session: Session, actor: Actor, username: str, pin: str) -> None:
    """A new PIN for badge sign-in: the person's own, or reset by an admin."""
    _self_or_manager(actor, username)
    user = _user(session, username, for_update=True)
    user.pin_hash = passwords.make_hash(_pin(pin))
    session.flush()
    audit.record(session, actor, "user.pin_set", "user", user.id, summary=user.username)


def set_role(session: Session, actor: Actor, username: str, role: str, locations=None) -> None:
    require(actor, "users.manage")
    user = _user(session, username, for_update=True)
    role, locs = _role(role), _locations(locations)
    if user.role == "admin" and role != "admin":
        _keep_an_admin(session, user)
    before = {"role": user.role, "locations": user.locations}
    user.role, user.locations = role, locs
    session.flush()
    audit.record(session, actor, "user.role_changed", "user", user.id, summary=f"{user.username}: {role}",
                 before=before, after={"role": role, "locations": locs})


def _keep_an_admin(session: Session, user: User) -> None:
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.locked.is_(False), User.id != user.id))
    if not others:
        raise Conflict(_("{name} is the only admin; make someone else admin first.").format(name=user.display_name))


def lock_user(session: Session, actor: Actor, username: str) -> None:
    """Lock an account until an admin unlocks it."""
    require(actor, "users.manage")
    user = _user(session, username, for_update=True)
    if user.role == "admin":
        _keep_an_admin(session, user)
    user.locked = True
    session.flush()
    audit.record(session, actor, "user.locked", "user", user.id, summary=user.username)


def unlock_user(session: Session, actor: Actor, username: str) -> None:
    """Unlock an account, whether an admin locked it or failures did."""
    require(actor, "users.manage")
    user = _user(session, username, for_update=True)
    before = {"locked": user.locked, "failed_attempts": user.failed_attempts}
    user.locked, user.failed_attempts, user.locked_until = False, 0, None
    session.flush()
    audit.record(session, actor, "user.unlocked", "user", user.id, summary=user.username, before=before)


def disable_user(session: Session, actor: Actor, username: str) -> None:
    require(actor, "users.manage")
    user = _user(session, username, for_update=True)
    if user.role == "admin":
        _keep_an_admin(session, user)
    user.active = False
    session.flush()
    audit.record(session, actor, "user.disabled", "user", user.id, summary=user.username)


def new_badge(session: Session, actor: Actor, username: str) -> str:
    """A new badge code (the old badge stops working)."""
    require(actor, "users.manage")
    user = _user(session, username, for_update=True)
    user.badge_code = _new_badge(session)
    session.flush()
    audit.record(session, actor, "user.badge_issued", "user", user.id, summary=user.username)
    return user.badge_code


def badge_of(session: Session, actor: Actor, username: str) -> tuple[str, str]:
    """The badge code and display name, to print a badge label."""
    _self_or_manager(actor, username)
    user = _user(session, username)
    return user.badge_code or "", user.display_name


# -- signing in --------------------------------------------------------------------------------------------

def lockout_delay(failures: int) -> int:
    """Seconds an account waits after this many failures in a row: none at first, then doubling."""
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (failures - FREE_FAILURES))


def _refusal(user: User, now: datetime) -> str | None:
    if not user.active:
        return _("{name}'s account is disabled; ask an admin.").format(name=user.display_name)
    if user.locked:
        return _("{name}'s account is locked; ask an admin to unlock it.").format(name=user.display_name)
    if user.locked_until and user.locked_until > now:
        wait = math.ceil((user.locked_until - now).total_seconds())
        return _("Too many wrong attempts: {name} can try again in {n} seconds.").format(name=user.display_name, n=wait)
    return None


def _attempt(session: Session, user: User | None, secret_hash: str | None, secret: str, station: str, how: str,
             unknown_message: str) -> SignIn:
    now = utcnow()
    if user is None:
        passwords.matches(None, secret)
        audit.record(session, Actor("?", station), "user.sign_in_failed", "user", "?", summary=how)
        return SignIn(None, unknown_message)
    refused = _refusal(user, now)
    if refused:
        return SignIn(None, refused)
    if not passwords.matches(secret_hash, secret):
        failures = user.failed_attempts + 1
        delay = lockout_delay(failures)
        session.execute(update(User).where(User.id == user.id).values(
            failed_attempts=failures, locked_until=now + timedelta(seconds=delay) if delay else None))
        audit.record(session, Actor(user.username, station), "user.sign_in_failed", "user", user.id,
                     summary=f"{how}; {failures} in a row")
        if delay:
            return SignIn(None, _("Too many wrong attempts: {name} can try again in {n} seconds.").format(
                name=user.display_name, n=delay))
        return SignIn(None, unknown_message)
    values: dict = {"failed_attempts": 0, "locked_until": None, "last_sign_in_at": now}
    if passwords.needs_rehash(secret_hash):  # made with lower parameters than today's
        values["password_hash" if secret_hash == user.password_hash else "pin_hash"] = passwords.make_hash(secret)
    session.execute(update(User).where(User.id == user.id).values(**values))
    actor = actor_for(user, station)
    audit.record(session, actor, "user.signed_in", "user", user.id, summary=how)
    return SignIn(actor, "", user.must_change_password)


def sign_in(session: Session, username: str, password: str, station: str = "") -> SignIn:
    """Sign in with user name and password."""
    name = (username or "").strip().lower()
    user = session.scalar(select(User).where(User.username == name).with_for_update()) if name else None
    return _attempt(session, user, user.password_hash if user else None, password or "", station, "password",
                    _("The user name or password is not right."))


def sign_in_badge(session: Session, badge: str, pin: str, station: str = "") -> SignIn:
    """Sign in with a badge scan and a PIN."""
    code = (badge or "").strip().upper()
    user = session.scalar(select(User).where(User.badge_code == code).with_for_update()) if code else None
    if user is not None and not user.pin_hash:
        return SignIn(None, _("{name} has no PIN yet; ask an admin to set one.").format(name=user.display_name))
    return _attempt(session, user, user.pin_hash if user else None, pin or "", station, "badge",
                    _("The badge or PIN is not right."))


def identify_badge(session: Session, badge: str) -> str | None:
    """The display name on a badge (the sign-in screen greets the person before the PIN); None if unknown."""
    code = (badge or "").strip().upper()
    return session.scalar(select(User.display_name).where(User.badge_code == code, User.active.is_(True))) if code else None


def confirm_override(session: Session, actor: Actor, permission: str, badge: str, pin: str, *,
                     location: str | None = None) -> SignIn:
    """A second person badges in on the spot to allow what the actor may not; recorded with both names.

    The result's actor is the one to pass as ``override=`` to the service; a refusal's message says why.
    """
    result = sign_in_badge(session, badge, pin, actor.station)
    if not result.ok:
        return result
    from oms.core.errors import NotPermitted

    try:
        require(result.actor, permission, location)
    except NotPermitted as e:
        return SignIn(None, str(e))
    audit.record(session, result.actor, "override.granted", "user", result.actor.user,
                 summary=_("{supervisor} allowed {who}: {permission}").format(
                     supervisor=result.actor.label, who=actor.label, permission=permission),
                 after={"for": actor.user, "by": result.actor.user, "permission": permission})
    return result


@dataclass(frozen=True)
class StationStart:
    """How a station opens: ``sign_in`` (people with passwords or PINs exist), ``demo`` (the demo database: its
    supervisor is signed in, no one is asked), or ``open`` (no one set up yet: as before users existed)."""

    kind: str
    actor: Actor | None = None


DEMO_SUPERVISOR = "sam"


def station_start(session: Session, station: str) -> StationStart:
    if has_real_users(session):
        return StationStart("sign_in")
    sam = session.scalar(select(User).where(User.username == DEMO_SUPERVISOR, User.demo.is_(True), User.active.is_(True)))
    if sam is not None:
        return StationStart("demo", actor_for(sam, station))
    return StationStart("open")
