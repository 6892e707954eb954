"""The users table: who may sign in, how, and with which role."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import (
    JSON,
    Boolean,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from oms.core.types import LINE, NAME, SHORT, Base, utcnow


class User(Base):
    """A person. Secrets are argon2id hashes in PHC form (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``), so each
    hash carries the parameters it was made with and is remade with raised ones at the next sign-in."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(SHORT), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME))
    role: Mapped[str] = mapped_column(String(SHORT), default="read_only")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_hash: Mapped[Optional[str]] = mapped_column(String(LINE))
    pin_hash: Mapped[Optional[str]] = mapped_column(String(LINE))
    badge_code: Mapped[Optional[str]] = mapped_column(String(SHORT))
    # None: the role applies at every location; else the codes of the locations where it does.
    locations: Mapped[Optional[list]] = mapped_column(JSON)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)  # made by the demo data: no sign-in asked
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column()
    locked: Mapped[bool] = mapped_column(Boolean, default=False)  # locked by an admin until unlocked
    last_sign_in_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (Index("uq_app_user_badge_code", "badge_code", unique=True),)
