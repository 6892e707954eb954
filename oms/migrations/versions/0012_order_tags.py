"""order tags

A channel's words about an order (Amazon's Prime and Business, a shop's own tags), kept so that
routing rules can match them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:15:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tags', sa.String(length=300), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_column('tags')
