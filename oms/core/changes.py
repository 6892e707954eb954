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

from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause

from oms.core.types import Base

#: The execution option under which a write transaction's connection collects the tables written.
COLLECT = "quayside_changes"
# Written with nearly every change, shown by none on its own: not a reason to read a screen again.
_BOOKKEEPING = frozenset({"audit_event"})
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
