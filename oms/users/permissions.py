"""Roles and permissions: one table in code, and ``require``, which the services call where the work happens."""

from __future__ import annotations

from dataclasses import dataclass

from oms.core.audit import Actor
from oms.core.errors import NotPermitted
from oms.core.i18n import _


@dataclass(frozen=True)
class Permission:
    name: str
    doing: str  # completes "may not …"


PERMISSIONS: dict[str, Permission] = {p.name: p for p in (
    Permission("orders.cancel", _("cancel orders")),
    Permission("orders.hold", _("put orders on hold or release them")),
    Permission("routing.edit", _("change routing rules")),
    Permission("stock.adjust", _("adjust stock")),
    Permission("stock.receive", _("receive stock")),
    Permission("pick.confirm", _("pick")),
    Permission("pack.complete", _("pack")),
    Permission("pack.override", _("pack an item without its scan")),
    Permission("settings.connections", _("change shop, carrier and partner connections")),
    Permission("users.manage", _("manage users")),
    Permission("po.manage", _("manage purchase orders")),
    Permission("reports.view", _("see reports")),
    Permission("audit.view", _("read the audit trail")),
)}

_ALL = frozenset(PERMISSIONS)


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    article: str  # "a packer", "an admin": who can, in a sentence
    permissions: frozenset[str]


# From the fewest permissions to the most: the message that refuses names the first role that may.
ROLES: dict[str, Role] = {r.code: r for r in (
    Role("read_only", _("read-only"), _("a read-only user"), frozenset({"reports.view"})),
    Role("picker", _("picker"), _("a picker"), frozenset({"pick.confirm"})),
    Role("packer", _("packer"), _("a packer"), frozenset({"pack.complete"})),
    Role("receiver", _("receiver"), _("a receiver"), frozenset({"stock.receive", "po.manage"})),
    Role("customer_service", _("customer service"), _("customer service"),
         frozenset({"orders.cancel", "orders.hold", "reports.view", "audit.view"})),
    Role("supervisor", _("supervisor"), _("a supervisor"), _ALL - {"users.manage"}),
    Role("admin", _("admin"), _("an admin"), _ALL),
)}


def role_label(code: str) -> str:
    role = ROLES.get(code)
    return role.label if role else code


def role_may(role: str, permission: str) -> bool:
    """Whether the role table grants the permission (unknown roles and permissions grant nothing)."""
    r = ROLES.get(role)
    return r is not None and permission in r.permissions


def who_may(permission: str) -> str:
    """The first role, fewest permissions first, that may: "a supervisor"."""
    for role in ROLES.values():
        if permission in role.permissions:
            return role.article
    return ROLES["admin"].article


def may(actor: Actor, permission: str, location: str | None = None) -> bool:
    """Whether the actor may (screens use it to hide or disable an action; services call ``require``)."""
    try:
        require(actor, permission, location)
    except NotPermitted:
        return False
    return True


def require(actor: Actor, permission: str, location: str | None = None, *, override: Actor | None = None) -> None:
    """Refuse, with a message a person understands, what the actor's role does not allow.

    ``location`` is the code of the location the work is at, for roles limited to some locations. ``override`` is a
    second person who may (a supervisor who came over and badged in, ``users.confirm_override``).
    An actor without a role is the system's own work and is not checked.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")  # a programming error, not a person's
    if not actor.role:
        return
    if _allowed(actor, permission, location):
        return
    if override is not None and override.role and _allowed(override, permission, location):
        return
    doing = PERMISSIONS[permission].doing
    if role_may(actor.role, permission):  # the role may, but not here
        raise NotPermitted(_("{who} may not {doing} at {location}; only at {places} ({permission}).").format(
            who=actor.label, doing=doing, location=location, places=", ".join(actor.locations), permission=permission),
            permission)
    raise NotPermitted(_("{who} may not {doing}; {role} can ({permission}).").format(
        who=actor.label, doing=doing, role=who_may(permission), permission=permission), permission)


def _allowed(actor: Actor, permission: str, location: str | None) -> bool:
    if not role_may(actor.role, permission):
        return False
    return not (actor.locations and location is not None and location not in actor.locations)
