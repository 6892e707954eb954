"""purchasing

Suppliers, purchase orders and their lines with the PO number series, receipts and their lines (one row per PO
line, however often it is scanned), and damaged units in quarantine. A location gets its receiving lead time (days
from the dock to the shelf), and a bin its zone, filled in for existing bins from the aisle of its code.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

import oms.core.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('po_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('next_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_po_counter'))
    )
    op.create_table('supplier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('lead_days', sa.Integer(), nullable=False),
    sa.Column('over_receipt_percent', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('lead_days >= 0', name=op.f('ck_supplier_lead_days_nonneg')),
    sa.CheckConstraint('over_receipt_percent IS NULL OR (over_receipt_percent >= 0 AND over_receipt_percent <= 100)', name=op.f('ck_supplier_tolerance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier')),
    sa.UniqueConstraint('code', name=op.f('uq_supplier_code'))
    )
    op.create_table('purchase_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'sent', 'confirmed', 'partly_received', 'received', 'closed', 'cancelled')", name=op.f('ck_purchase_order_status')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_purchase_order_location_id_location')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_purchase_order_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_order_number'))
    )
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_order_status', ['status', 'id'], unique=False)
        batch_op.create_index('ix_purchase_order_supplier', ['supplier_id', 'id'], unique=False)

    op.create_table('purchase_order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('po_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_cost_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('expected_date', sa.Date(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('damaged', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_purchase_order_line_quantity_pos')),
    sa.CheckConstraint('received >= 0 AND damaged >= 0 AND damaged <= received', name=op.f('ck_purchase_order_line_received_nonneg')),
    sa.CheckConstraint('unit_cost_minor >= 0', name=op.f('ck_purchase_order_line_cost_nonneg')),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_order.id'], name=op.f('fk_purchase_order_line_po_id_purchase_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_purchase_order_line_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_line')),
    sa.UniqueConstraint('po_id', 'line_no', name=op.f('uq_purchase_order_line_po_id_line_no'))
    )
    with op.batch_alter_table('purchase_order_line', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_order_line_product', ['product_id', 'expected_date'], unique=False)

    op.create_table('receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('po_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('user', sa.String(length=64), nullable=False),
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'done')", name=op.f('ck_receipt_status')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_receipt_location_id_location')),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_order.id'], name=op.f('fk_receipt_po_id_purchase_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt'))
    )
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.create_index('ix_receipt_po', ['po_id', 'status'], unique=False)

    op.create_table('receipt_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('po_line_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('good', sa.Integer(), nullable=False),
    sa.Column('damaged', sa.Integer(), nullable=False),
    sa.Column('put_away', sa.Integer(), nullable=False),
    sa.Column('bin_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('good >= 0 AND damaged >= 0', name=op.f('ck_receipt_line_nonneg')),
    sa.CheckConstraint('put_away >= 0 AND put_away <= good', name=op.f('ck_receipt_line_put_away_le_good')),
    sa.ForeignKeyConstraint(['bin_id'], ['bin.id'], name=op.f('fk_receipt_line_bin_id_bin')),
    sa.ForeignKeyConstraint(['po_line_id'], ['purchase_order_line.id'], name=op.f('fk_receipt_line_po_line_id_purchase_order_line')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_receipt_line_product_id_product')),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], name=op.f('fk_receipt_line_receipt_id_receipt'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_line')),
    sa.UniqueConstraint('receipt_id', 'po_line_id', name=op.f('uq_receipt_line_receipt_id_po_line_id'))
    )
    op.create_table('quarantined_stock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_line_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_quarantined_stock_quantity_nonneg')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_quarantined_stock_location_id_location')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_quarantined_stock_product_id_product')),
    sa.ForeignKeyConstraint(['receipt_line_id'], ['receipt_line.id'], name=op.f('fk_quarantined_stock_receipt_line_id_receipt_line'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantined_stock')),
    sa.UniqueConstraint('receipt_line_id', name=op.f('uq_quarantined_stock_receipt_line_id'))
    )
    with op.batch_alter_table('quarantined_stock', schema=None) as batch_op:
        batch_op.create_index('ix_quarantined_stock_product', ['product_id', 'location_id'], unique=False)

    with op.batch_alter_table('bin', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zone', sa.String(length=64), server_default='', nullable=False))

    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receiving_lead_days', sa.Integer(), server_default='1', nullable=False))

    # Existing bins are in the zone their code names: the aisle before the first dash ("A" of "A-01-1").
    bins = sa.table('bin', sa.column('id', sa.Integer), sa.column('code', sa.String), sa.column('zone', sa.String))
    conn = op.get_bind()
    rows = [{'b_id': r.id, 'b_zone': r.code.split('-', 1)[0]} for r in conn.execute(sa.select(bins.c.id, bins.c.code))
            if '-' in r.code]
    if rows:
        conn.execute(bins.update().where(bins.c.id == sa.bindparam('b_id')).values(zone=sa.bindparam('b_zone')), rows)


def downgrade() -> None:
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_column('receiving_lead_days')

    with op.batch_alter_table('bin', schema=None) as batch_op:
        batch_op.drop_column('zone')

    with op.batch_alter_table('quarantined_stock', schema=None) as batch_op:
        batch_op.drop_index('ix_quarantined_stock_product')

    op.drop_table('quarantined_stock')
    op.drop_table('receipt_line')
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_index('ix_receipt_po')

    op.drop_table('receipt')
    with op.batch_alter_table('purchase_order_line', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_order_line_product')

    op.drop_table('purchase_order_line')
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_order_supplier')
        batch_op.drop_index('ix_purchase_order_status')

    op.drop_table('purchase_order')
    op.drop_table('supplier')
    op.drop_table('po_counter')
