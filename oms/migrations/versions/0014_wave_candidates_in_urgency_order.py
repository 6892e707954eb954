"""wave candidates in urgency order

A wave takes the most urgent orders ready at a location: by status, then promised ship-by, then the
time placed. The index on (status, ship_by) becomes (status, ship_by, placed_at, id), so the database
reads the candidates in that order and stops after the wave's worth, instead of sorting the whole
backlog for every wave. The queue's buckets, which read (status, ship_by), use it as they used the old one.
A new wave's tasks leave out what open tasks have claimed of each product: pick tasks get an index on
(product_id, status), so that is found without reading every task ever picked.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 13:40:00.000000
"""
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index('ix_sales_order_status_ship_by_placed', ['status', 'ship_by', 'placed_at', 'id'], unique=False)
        batch_op.drop_index('ix_sales_order_status_ship_by')
    with op.batch_alter_table('pick_task', schema=None) as batch_op:
        batch_op.create_index('ix_pick_task_product_status', ['product_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pick_task', schema=None) as batch_op:
        batch_op.drop_index('ix_pick_task_product_status')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index('ix_sales_order_status_ship_by', ['status', 'ship_by'], unique=False)
        batch_op.drop_index('ix_sales_order_status_ship_by_placed')
