"""What every table is built from: the declarative base with its naming convention, a UTC datetime
column type, the clock (`utcnow`, and `at_time` for tests and the demo), string enums and column widths."""

from __future__ import annotations

import enum
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Iterator, Optional

from sqlalchemy import (
    JSON,
    DateTime,
    MetaData,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase

# Limits on free text; the services check them so a long value gets a clear message
# instead of a database error (PostgreSQL enforces VARCHAR length, SQLite does not).
SHORT = 64

NAME = 200

LINE = 300


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


_now_override: ContextVar[datetime | None] = ContextVar("oms_now", default=None)


def utcnow() -> datetime:
    """The current time in UTC; demo seeding and tests may set it with ``at_time``."""
    return _now_override.get() or datetime.now(timezone.utc)


@contextmanager
def at_time(moment: datetime) -> Iterator[None]:
    """Make utcnow() return ``moment`` inside the block (for back-dated demo data)."""
    token = _now_override.set(moment)
    try:
        yield
    finally:
        _now_override.reset(token)


naming = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=naming)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


def enum_values(e: type[enum.Enum]) -> str:
    return ", ".join(f"'{m.value}'" for m in e)
