"""Alembic environment: runs migrations on the connection Quayside hands it."""

from alembic import context
from sqlalchemy import create_engine

from oms.core.changes import MIGRATING
from oms.desk.search import is_search_index
from oms.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # Used by `alembic revision --autogenerate` from a developer shell.
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
        return
    _run(connection)


def include_name(name, type_, parent_names) -> bool:
    """The search's FTS5 tables and trigram indexes are the database's own, not the models'."""
    return not is_search_index(name)


def _run(connection) -> None:
    connection.info[MIGRATING] = True  # its commit logs no change: the change log may not exist (yet, or any more)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
