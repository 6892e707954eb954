"""The users table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from oms.core.types import NAME, SHORT, Base, utcnow


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(SHORT), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME))
    role: Mapped[str] = mapped_column(String(SHORT), default="staff")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
