"""Adding users and finding a user's display name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.core.i18n import _
from oms.core.validate import unique
from oms.users.models import User


def user_display_name(session: Session, username: str) -> str | None:
    """The display name of a known, active user; None when users are not set up or unknown."""
    if not username:
        return None
    return session.scalar(select(User.display_name).where(User.username == username, User.active.is_(True)))


from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.types import NAME, SHORT


def add_user(session: Session, actor: Actor, username: str, display_name: str, role: str = "staff") -> int:
    username = validate.text(username, "user name", SHORT, required=True).lower()
    unique(session, User.username, username, _("user"))
    user = User(username=username, display_name=validate.text(display_name, "display name", NAME, required=True),
                role=validate.text(role, "role", SHORT, required=True))
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.added", "user", user.id, summary=f"{username} ({role})")
    return user.id
