"""inbound

Cycle counts: count tasks (a bin, a zone or a SKU at a location, with the variance threshold beyond which a
supervisor approves), the bins each covers with when they were scanned, and the lines counted with the books'
figure taken at submission.

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-06 14:01:13.465814
"""
import sqlalchemy as sa
from alembic import op

import oms.core.types


revision = '0019'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('count_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('scope_ref', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('counted_by', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('closed_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("scope IN ('bin', 'zone', 'sku')", name=op.f('ck_count_task_scope')),
    sa.CheckConstraint("status IN ('open', 'review', 'done', 'cancelled')", name=op.f('ck_count_task_status')),
    sa.CheckConstraint('threshold >= 0', name=op.f('ck_count_task_threshold_nonneg')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_count_task_location_id_location')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_task'))
    )
    with op.batch_alter_table('count_task', schema=None) as batch_op:
        batch_op.create_index('ix_count_task_status', ['status', 'id'], unique=False)

    op.create_table('count_bin',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('bin_id', sa.Integer(), nullable=False),
    sa.Column('visited_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bin_id'], ['bin.id'], name=op.f('fk_count_bin_bin_id_bin')),
    sa.ForeignKeyConstraint(['task_id'], ['count_task.id'], name=op.f('fk_count_bin_task_id_count_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'bin_id', name=op.f('pk_count_bin'))
    )
    op.create_table('count_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('bin_id', sa.Integer(), nullable=True),
    sa.Column('counted', sa.Integer(), nullable=True),
    sa.Column('expected', sa.Integer(), nullable=True),
    sa.Column('found', sa.Boolean(), nullable=False),
    sa.CheckConstraint('counted IS NULL OR counted >= 0', name=op.f('ck_count_line_counted_nonneg')),
    sa.ForeignKeyConstraint(['bin_id'], ['bin.id'], name=op.f('fk_count_line_bin_id_bin')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_count_line_product_id_product')),
    sa.ForeignKeyConstraint(['task_id'], ['count_task.id'], name=op.f('fk_count_line_task_id_count_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_line')),
    sa.UniqueConstraint('task_id', 'product_id', 'bin_id', name=op.f('uq_count_line_task_id_product_id_bin_id'))
    )
    with op.batch_alter_table('count_line', schema=None) as batch_op:
        batch_op.create_index('ix_count_line_task', ['task_id', 'bin_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('count_line', schema=None) as batch_op:
        batch_op.drop_index('ix_count_line_task')

    op.drop_table('count_line')
    op.drop_table('count_bin')
    with op.batch_alter_table('count_task', schema=None) as batch_op:
        batch_op.drop_index('ix_count_task_status')

    op.drop_table('count_task')
