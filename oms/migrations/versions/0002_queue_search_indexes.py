"""queue search indexes

Indexes for the desktop order queue: search by channel order id and customer name,
the "shipped today" bucket, and the cheap poll that notices another station's change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00.000000
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index('ix_sales_order_external_id', ['external_id'], unique=False)
        batch_op.create_index('ix_sales_order_customer_name', ['customer_name'], unique=False)
        batch_op.create_index('ix_sales_order_shipped_at', ['shipped_at'], unique=False)
        batch_op.create_index('ix_sales_order_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_updated_at')
        batch_op.drop_index('ix_sales_order_shipped_at')
        batch_op.drop_index('ix_sales_order_customer_name')
        batch_op.drop_index('ix_sales_order_external_id')
