"""Checks on input from people and channels, each failing with a message a person can act on."""

from __future__ import annotations

import re
from datetime import datetime

from oms.core.errors import InvalidInput
from oms.core.i18n import _

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def quantity(value, what: str = "quantity", *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(_("The {what} must be a whole number, not {value!r}.").format(what=what, value=value))
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidInput(
            _("The {what} must be more than zero (got {value}).").format(what=what, value=value)
            if not allow_zero
            else _("The {what} cannot be negative (got {value}).").format(what=what, value=value)
        )
    if value > 1_000_000_000:
        raise InvalidInput(_("The {what} {value} is implausibly large.").format(what=what, value=value))
    return value


def text(value, what: str, max_length: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("The {what} must be text, not {value!r}.").format(what=what, value=value))
    value = value.strip()
    if required and not value:
        raise InvalidInput(_("The {what} is required.").format(what=what))
    if len(value) > max_length:
        raise InvalidInput(
            _("The {what} is {length} characters long; at most {limit} fit.").format(
                what=what, length=len(value), limit=max_length
            )
        )
    if _CONTROL.search(value):
        raise InvalidInput(_("The {what} contains control characters.").format(what=what))
    return value


def aware(value: datetime | None, what: str, *, required: bool = False) -> datetime | None:
    if value is None:
        if required:
            raise InvalidInput(_("The {what} is required.").format(what=what))
        return None
    if not isinstance(value, datetime):
        raise InvalidInput(_("The {what} must be a date and time, not {value!r}.").format(what=what, value=value))
    if value.tzinfo is None:
        raise InvalidInput(_("The {what} {value} has no time zone.").format(what=what, value=value.isoformat()))
    return value


def country(value: str, what: str = "country") -> str:
    value = text(value, what, 64).upper()
    if value and (len(value) != 2 or not value.isalpha()):
        raise InvalidInput(_("The {what} must be a two-letter code such as US, not {value!r}.").format(what=what, value=value))
    return value


def storable(raw: str) -> str:
    """Text as received, made storable everywhere: PostgreSQL text cannot hold NUL, shown as \\x00 instead."""
    return raw.replace("\x00", "\\x00")


from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.core.errors import Conflict


def unique(session: Session, column, value, what: str) -> None:
    if session.scalar(select(column).where(column == value)) is not None:
        raise Conflict(_("A {what} {value} already exists.").format(what=what, value=value))
