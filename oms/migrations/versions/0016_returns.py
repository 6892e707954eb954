"""returns

Returns and RMAs: reason codes (seeded with the usual ones), the RMA number series, RMAs with their lines, the units
received back with their disposition, the return label, and what the dock received for review. Quarantine is
purchasing's table, which now also holds units back from customers (no receipt line).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 13:45:17.791826
"""
import sqlalchemy as sa
from alembic import op

import oms.core.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

REASONS = [
    ("DAMAGED", "Arrived damaged or faulty"),
    ("WRONG_ITEM", "Wrong item sent"),
    ("NOT_AS_DESCRIBED", "Not as described"),
    ("TOO_SMALL", "Too small"),
    ("TOO_LARGE", "Too large"),
    ("CHANGED_MIND", "Changed their mind"),
    ("LATE", "Arrived too late"),
    ("OTHER", "Other"),
]


def upgrade() -> None:
    reason = op.create_table('return_reason',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_reason')),
    sa.UniqueConstraint('code', name=op.f('uq_return_reason_code'))
    )
    op.create_table('rma_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('next_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma_counter'))
    )
    op.create_table('rma',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('customer_note', sa.String(length=300), nullable=False),
    sa.Column('resolution', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('restocking_fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('refund_minor', sa.BigInteger(), nullable=True),
    sa.Column('resolution_note', sa.String(length=300), nullable=False),
    sa.Column('credit_notes', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('carrier_account', sa.String(length=64), nullable=False),
    sa.Column('carrier', sa.String(length=64), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('carrier_ref', sa.String(length=64), nullable=False),
    sa.Column('tracker_ref', sa.String(length=64), nullable=False),
    sa.Column('label_cost_minor', sa.BigInteger(), nullable=True),
    sa.Column('user', sa.String(length=64), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('requested', 'approved', 'label_sent', 'in_transit', 'received', 'resolved', 'closed', 'cancelled')", name=op.f('ck_rma_status')),
    sa.CheckConstraint("resolution IN ('refund', 'exchange', 'store_credit')", name=op.f('ck_rma_resolution')),
    sa.CheckConstraint('restocking_fee_minor >= 0', name=op.f('ck_rma_fee_nonneg')),
    sa.CheckConstraint('refund_minor IS NULL OR refund_minor >= 0', name=op.f('ck_rma_refund_nonneg')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_rma_location_id_location')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_rma_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma')),
    sa.UniqueConstraint('number', name=op.f('uq_rma_number')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_rma_source_external_id'))
    )
    with op.batch_alter_table('rma', schema=None) as batch_op:
        batch_op.create_index('ix_rma_order', ['order_id'], unique=False)
        batch_op.create_index('ix_rma_status', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_rma_tracking', ['tracking_number'], unique=False)

    op.create_table('rma_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rma_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_rma_line_quantity_pos')),
    sa.CheckConstraint('received >= 0 AND received <= quantity', name=op.f('ck_rma_line_received_le_quantity')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_rma_line_order_line_id_order_line')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_rma_line_product_id_product')),
    sa.ForeignKeyConstraint(['rma_id'], ['rma.id'], name=op.f('fk_rma_line_rma_id_rma'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma_line')),
    sa.UniqueConstraint('rma_id', 'order_line_id', name=op.f('uq_rma_line_rma_id_order_line_id'))
    )
    with op.batch_alter_table('rma_line', schema=None) as batch_op:
        batch_op.create_index('ix_rma_line_order_line', ['order_line_id'], unique=False)

    op.create_table('return_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rma_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('disposition', sa.String(length=16), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('bin_id', sa.Integer(), nullable=True),
    sa.Column('condition_note', sa.String(length=300), nullable=False),
    sa.Column('user', sa.String(length=64), nullable=False),
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_return_unit_quantity_pos')),
    sa.CheckConstraint("disposition IN ('restock', 'quarantine', 'refurbish', 'scrap', 'vendor')", name=op.f('ck_return_unit_disposition')),
    sa.ForeignKeyConstraint(['bin_id'], ['bin.id'], name=op.f('fk_return_unit_bin_id_bin')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_return_unit_location_id_location')),
    sa.ForeignKeyConstraint(['rma_line_id'], ['rma_line.id'], name=op.f('fk_return_unit_rma_line_id_rma_line'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_unit'))
    )
    with op.batch_alter_table('return_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_unit_rma_line_id'), ['rma_line_id'], unique=False)

    op.create_table('rma_label',
    sa.Column('rma_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['rma_id'], ['rma.id'], name=op.f('fk_rma_label_rma_id_rma'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rma_id', 'format', name=op.f('pk_rma_label'))
    )
    op.create_table('return_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('rma_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('scanned', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('user', sa.String(length=64), nullable=False),
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('unidentified', 'not_on_rma')", name=op.f('ck_return_review_kind')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_return_review_quantity_pos')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_return_review_location_id_location')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_return_review_order_id_sales_order')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_return_review_product_id_product')),
    sa.ForeignKeyConstraint(['rma_id'], ['rma.id'], name=op.f('fk_return_review_rma_id_rma')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_review'))
    )
    with op.batch_alter_table('return_review', schema=None) as batch_op:
        batch_op.create_index('ix_return_review_open', ['reviewed_at', 'created_at'], unique=False)

    with op.batch_alter_table('quarantined_stock', schema=None) as batch_op:
        batch_op.alter_column('receipt_line_id', existing_type=sa.Integer(), nullable=True)

    op.bulk_insert(reason, [{"code": code, "title": title, "active": True} for code, title in REASONS])


def downgrade() -> None:
    op.execute("DELETE FROM quarantined_stock WHERE receipt_line_id IS NULL")
    with op.batch_alter_table('quarantined_stock', schema=None) as batch_op:
        batch_op.alter_column('receipt_line_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('return_review', schema=None) as batch_op:
        batch_op.drop_index('ix_return_review_open')
    op.drop_table('return_review')
    op.drop_table('rma_label')
    with op.batch_alter_table('return_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_unit_rma_line_id'))
    op.drop_table('return_unit')
    with op.batch_alter_table('rma_line', schema=None) as batch_op:
        batch_op.drop_index('ix_rma_line_order_line')
    op.drop_table('rma_line')
    with op.batch_alter_table('rma', schema=None) as batch_op:
        batch_op.drop_index('ix_rma_tracking')
        batch_op.drop_index('ix_rma_status')
        batch_op.drop_index('ix_rma_order')
    op.drop_table('rma')
    op.drop_table('rma_counter')
    op.drop_table('return_reason')
