"""Insert-or-ignore and insert-or-add in one statement, in SQLite's and PostgreSQL's own dialect."""

from __future__ import annotations

from sqlalchemy.orm import Session


def _insert_ignore(session: Session, table, values: dict, keys: list[str]):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    session.execute(dialect_insert(table).values(**values).on_conflict_do_nothing(index_elements=keys))
