"""Insert-or-ignore and insert-or-add in one statement, in SQLite's and PostgreSQL's own dialect.

Both databases take ``INSERT ... ON CONFLICT``; SQLAlchemy builds it per dialect, so the one place
that picks the dialect is here.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table):
    """An INSERT for ``table`` that takes ON CONFLICT clauses, in the session's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore(session: Session, table, values: dict[str, Any], keys: list[str]) -> None:
    """Insert one row unless one with the same ``keys`` is there already."""
    session.execute(dialect_insert(session, table).values(**values).on_conflict_do_nothing(index_elements=keys))


def insert_or_add(session: Session, table, rows: Iterable[dict[str, Any]], keys: list[str], column: str) -> None:
    """Insert each row, or where one with the same ``keys`` is there, add the row's ``column`` to it (one statement)."""
    rows = list(rows)
    if not rows:
        return
    stmt = dialect_insert(session, table)
    stmt = stmt.on_conflict_do_update(index_elements=keys,
                                      set_={column: getattr(table.c, column) + getattr(stmt.excluded, column)})
    session.connection().execute(stmt, rows)
