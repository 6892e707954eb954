"""What a write changed, so screens refresh from the change itself rather than from signals of their own.

Every write transaction the database runs through `Database.run` collects the tables its
statements wrote (ORM flushes, bulk statements and Core statements alike; the engine reports
each one as it goes to the database). `Changes` names them and the capabilities that own them:
a screen that shows orders refreshes when `changes.touches("orders")`, whichever operation
or screen made the change. Anki's `OpChanges` is the model; here the domain cannot forget to
say what it changed, because the database says it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import func, select
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause

from oms.core.models import ChangeLog
from oms.core.types import Base

#: The execution option under which a write transaction's connection collects the tables written.
COLLECT = "quayside_changes"
#: Where a connection keeps the tables its open transaction wrote, for the change log its commit writes.
PENDING = "quayside_pending_changes"
#: Set on a connection that runs the migrations: nothing it commits goes to the change log.
MIGRATING = "quayside_migrating"
#: The PostgreSQL NOTIFY channel is this prefix and the schema's name.
NOTIFY_PREFIX = "quayside_changes_"
#: The change log keeps about this many rows, pruned every LOG_PRUNE_EVERY commits by the commit that reaches it.
LOG_KEEP = 5_000
LOG_PRUNE_EVERY = 500
# Written with nearly every change, shown by none on its own: not a reason to read a screen again.
_BOOKKEEPING = frozenset({"audit_event"})
_NOT_LOGGED = _BOOKKEEPING | {"change_log", "alembic_version"}
_TEXT_WRITE = re.compile(r"^\s*(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+\"?(\w+)", re.IGNORECASE)


def tables_written(statement) -> set[str]:
    """The tables a statement writes: an INSERT, UPDATE or DELETE, built or (for a few) written as text."""
    if isinstance(statement, UpdateBase):
        table = getattr(statement, "table", None)
        name = getattr(table, "name", None)
        return {name} if name else set()
    if isinstance(statement, TextClause):
        m = _TEXT_WRITE.match(statement.text)
        return {m.group(1)} if m else set()
    return set()


def _owners() -> dict[str, str]:
    """Table name -> the capability whose `models` module declares it (oms.orders.models -> "orders")."""
    owners = {}
    for mapper in Base.registry.mappers:
        parts = mapper.class_.__module__.split(".")
        owners[mapper.local_table.name] = parts[1] if len(parts) > 2 and parts[0] == "oms" else mapper.class_.__module__
    return owners


@dataclass(frozen=True)
class Changes:
    """The tables one write changed, and through them the capabilities it touched."""

    tables: frozenset[str] = field(default_factory=frozenset)

    @cached_property  # read by every screen the main window hands the change to: worked out once
    def capabilities(self) -> frozenset[str]:
        owners = _owners()
        return frozenset(owners.get(t, t) for t in self.tables - _BOOKKEEPING)

    def touches(self, *capabilities: str) -> bool:
        return not self.capabilities.isdisjoint(capabilities)

    def __bool__(self) -> bool:
        return bool(self.tables - _BOOKKEEPING)

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.tables | other.tables)


NO_CHANGES = Changes()


def loggable(tables: set[str]) -> set[str]:
    """The tables worth telling other stations about: Quayside's own, not the bookkeeping written with everything."""
    return {t for t in tables if t not in _NOT_LOGGED}


def everything() -> Changes:
    """A change to every table: what a station assumes when it may have missed some (its listener was away)."""
    return Changes(frozenset(_owners()) - _NOT_LOGGED)


@dataclass(frozen=True)
class LoggedChanges:
    """What the change log says happened since a station last looked."""

    last_id: int | None  # the newest row read (None: the log is empty)
    changes: Changes  # the tables written, less those of the asking Database's own writes


def _rows_to_changes(rows, last_id: int | None, skip_origin: str | None) -> LoggedChanges:
    tables: set[str] = set()
    for row_id, origin, written in rows:
        last_id = row_id if last_id is None else max(last_id, row_id)
        if skip_origin and origin == skip_origin:
            continue
        tables.update(t for t in written.split(",") if t)
    return LoggedChanges(last_id, Changes(frozenset(tables)))


def changes_after(connection, last_id: int | None, *, skip_origin: str | None = None) -> LoggedChanges:
    """The changes logged after row ``last_id`` (all kept rows when None). For SQLite, where one writer at a time
    commits, so ids are committed in order; on PostgreSQL the ids a NOTIFY names are read with ``changes_named``."""
    q = select(ChangeLog.id, ChangeLog.origin, ChangeLog.tables).order_by(ChangeLog.id)
    if last_id is not None:
        q = q.where(ChangeLog.id > last_id)
    return _rows_to_changes(connection.execute(q).all(), last_id, skip_origin)


def changes_named(connection, ids: list[int], *, skip_origin: str | None = None) -> LoggedChanges:
    """The changes logged in rows ``ids`` (what NOTIFY payloads named)."""
    if not ids:
        return LoggedChanges(None, NO_CHANGES)
    q = select(ChangeLog.id, ChangeLog.origin, ChangeLog.tables).where(ChangeLog.id.in_(ids))
    return _rows_to_changes(connection.execute(q).all(), None, skip_origin)


def newest_logged(connection) -> int | None:
    """The newest change log row: where a station starts listening."""
    return connection.execute(select(func.max(ChangeLog.id))).scalar()
