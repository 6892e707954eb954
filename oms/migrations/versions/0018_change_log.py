"""change log: what each committed write changed, for the other stations

Each write transaction adds one row (the tables it wrote) in the same transaction; on PostgreSQL the commit
also sends the row's id by NOTIFY. Stations read the rows after a wake-up and refresh what shows them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

import oms.core.types


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'change_log',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('origin', sa.String(length=64), nullable=False),
        sa.Column('tables', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_change_log')),
    )


def downgrade() -> None:
    op.drop_table('change_log')
