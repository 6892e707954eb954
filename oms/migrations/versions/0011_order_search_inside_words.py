"""order search inside words

The order queue's search finds text anywhere inside an order number, channel order
id, customer name or email, and inside a SKU, not only at their start: "obins" finds
Hannah Robinson, "son7@" her email.

SQLite: FTS5 tables with the trigram tokenizer, over sales_order's four fields and
over product SKUs (orders are found from their lines' products), kept current by
triggers that fire only when those fields change. PostgreSQL: pg_trgm GIN indexes
that serve ILIKE '%text%' on the same columns; without the right to create the
extension the indexes are left out and the search still works, by a scan.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 08:00:00.000000
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

ORDER_FIELDS = ("number", "external_id", "customer_name", "customer_email")
TRGM_INDEXES = (
    ("ix_sales_order_number_trgm", "sales_order", "number"),
    ("ix_sales_order_external_id_trgm", "sales_order", "external_id"),
    ("ix_sales_order_customer_name_trgm", "sales_order", "customer_name"),
    ("ix_sales_order_customer_email_trgm", "sales_order", "customer_email"),
    ("ix_product_sku_trgm", "product", "sku"),
)


def _fts(table: str, source: str, fields: tuple[str, ...], *, update_of: tuple[str, ...]) -> list[str]:
    """An external-content FTS5 table over ``source`` and the triggers that keep it in step."""
    cols = ", ".join(fields)
    new = ", ".join(f"new.{f}" for f in fields)
    old = ", ".join(f"old.{f}" for f in fields)
    delete = f"INSERT INTO {table}({table}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {table}(rowid, {cols}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {table} USING fts5({cols}, content='{source}', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {source} BEGIN {insert} END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {source} BEGIN {delete} END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE OF {', '.join(update_of)} ON {source} BEGIN {delete} {insert} END",
        f"INSERT INTO {table}({table}) VALUES ('rebuild')",
    ]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in (_fts("order_search", "sales_order", ORDER_FIELDS, update_of=ORDER_FIELDS + ("id",))
                          + _fts("product_search", "product", ("sku",), update_of=("sku", "id"))):
            op.execute(statement)
        return
    if bind.dialect.name != "postgresql":
        return
    # The extension is made once per database, in public, so that a schema dropped with CASCADE (a test's, a
    # tenant's) cannot take it away from the others; its operator classes are named with their schema.
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        savepoint.commit()
    except Exception:  # noqa: BLE001 - no right to create extensions: search works without the index, by a scan
        savepoint.rollback()
    ext_schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    ).scalar()
    if ext_schema is None:
        return
    for name, table, column in TRGM_INDEXES:
        op.execute(f'CREATE INDEX {name} ON {table} USING gin ({column} "{ext_schema}".gin_trgm_ops)')


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in ("order_search", "product_search"):
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}")
        return
    if bind.dialect.name == "postgresql":
        for name, _table, _column in TRGM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
