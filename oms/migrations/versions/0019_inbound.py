"""inbound

Cycle counts: count tasks (a bin, a zone or a SKU at a location, with the variance threshold beyond which a
supervisor approves), the bins each covers with when they were scanned, and the lines counted with the books'
figure taken at submission. Transfers between locations and their lines (shipped less received is in
transit). Reorder points per product and location: min, max, multiple and supplier. Suppliers'
ship notices (expected receipts) with their cartons' SSCCs and what each carton holds. A supplier's trading
partner (when it trades EDI), and a PO line's quantity and date as the supplier's 855 confirmed them.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 14:01:13.465814
"""
import sqlalchemy as sa
from alembic import op

import oms.core.types


revision = '0019'
down_revision = '0018'
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


    op.create_table('reorder_point',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('min_qty', sa.Integer(), nullable=False),
    sa.Column('max_qty', sa.Integer(), nullable=False),
    sa.Column('multiple', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('min_qty >= 0 AND max_qty > 0 AND max_qty >= min_qty', name=op.f('ck_reorder_point_min_max')),
    sa.CheckConstraint('multiple >= 1', name=op.f('ck_reorder_point_multiple_pos')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_reorder_point_location_id_location')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_reorder_point_product_id_product')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_reorder_point_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('product_id', 'location_id', name=op.f('pk_reorder_point'))
    )
    op.create_index('ix_reorder_point_supplier', 'reorder_point', ['supplier_id'], unique=False)
    op.create_table('stock_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_location_id', sa.Integer(), nullable=False),
    sa.Column('to_location_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('shipped_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'shipped', 'partly_received', 'received', 'cancelled')", name=op.f('ck_stock_transfer_status')),
    sa.CheckConstraint('from_location_id <> to_location_id', name=op.f('ck_stock_transfer_two_places')),
    sa.ForeignKeyConstraint(['from_location_id'], ['location.id'], name=op.f('fk_stock_transfer_from_location_id_location')),
    sa.ForeignKeyConstraint(['to_location_id'], ['location.id'], name=op.f('fk_stock_transfer_to_location_id_location')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_transfer'))
    )
    op.create_index('ix_stock_transfer_status', 'stock_transfer', ['status', 'id'], unique=False)
    op.create_table('stock_transfer_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('shipped', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_stock_transfer_line_quantity_pos')),
    sa.CheckConstraint('received >= 0 AND received <= shipped', name=op.f('ck_stock_transfer_line_received_range')),
    sa.CheckConstraint('shipped >= 0 AND shipped <= quantity', name=op.f('ck_stock_transfer_line_shipped_range')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_transfer_line_product_id_product')),
    sa.ForeignKeyConstraint(['transfer_id'], ['stock_transfer.id'], name=op.f('fk_stock_transfer_line_transfer_id_stock_transfer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_transfer_line')),
    sa.UniqueConstraint('transfer_id', 'product_id', name=op.f('uq_stock_transfer_line_transfer_id_product_id'))
    )
    op.create_index('ix_stock_transfer_line_product', 'stock_transfer_line', ['product_id', 'transfer_id'], unique=False)

    op.create_table('expected_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('po_id', sa.Integer(), nullable=False),
    sa.Column('asn_number', sa.String(length=64), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('shipped_on', sa.Date(), nullable=True),
    sa.Column('expected_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_order.id'], name=op.f('fk_expected_receipt_po_id_purchase_order')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_expected_receipt_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expected_receipt')),
    sa.UniqueConstraint('supplier_id', 'asn_number', name=op.f('uq_expected_receipt_supplier_id_asn_number'))
    )
    op.create_index('ix_expected_receipt_po', 'expected_receipt', ['po_id'], unique=False)
    op.create_table('asn_carton',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expected_id', sa.Integer(), nullable=False),
    sa.Column('sscc', sa.String(length=18), nullable=False),
    sa.Column('received_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['expected_id'], ['expected_receipt.id'], name=op.f('fk_asn_carton_expected_id_expected_receipt'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], name=op.f('fk_asn_carton_receipt_id_receipt')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asn_carton')),
    sa.UniqueConstraint('sscc', name=op.f('uq_asn_carton_sscc'))
    )
    op.create_table('asn_carton_line',
    sa.Column('carton_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_asn_carton_line_quantity_pos')),
    sa.ForeignKeyConstraint(['carton_id'], ['asn_carton.id'], name=op.f('fk_asn_carton_line_carton_id_asn_carton'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_asn_carton_line_product_id_product')),
    sa.PrimaryKeyConstraint('carton_id', 'product_id', name=op.f('pk_asn_carton_line'))
    )

    with op.batch_alter_table('supplier', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edi_partner', sa.String(length=64), nullable=True))
    with op.batch_alter_table('purchase_order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_quantity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_date', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('purchase_order_line', schema=None) as batch_op:
        batch_op.drop_column('confirmed_date')
        batch_op.drop_column('confirmed_quantity')
    with op.batch_alter_table('supplier', schema=None) as batch_op:
        batch_op.drop_column('edi_partner')
    op.drop_table('asn_carton_line')
    op.drop_table('asn_carton')
    op.drop_index('ix_expected_receipt_po', table_name='expected_receipt')
    op.drop_table('expected_receipt')
    op.drop_index('ix_stock_transfer_line_product', table_name='stock_transfer_line')
    op.drop_table('stock_transfer_line')
    op.drop_index('ix_stock_transfer_status', table_name='stock_transfer')
    op.drop_table('stock_transfer')
    op.drop_index('ix_reorder_point_supplier', table_name='reorder_point')
    op.drop_table('reorder_point')
    with op.batch_alter_table('count_line', schema=None) as batch_op:
        batch_op.drop_index('ix_count_line_task')

    op.drop_table('count_line')
    op.drop_table('count_bin')
    with op.batch_alter_table('count_task', schema=None) as batch_op:
        batch_op.drop_index('ix_count_task_status')

    op.drop_table('count_task')
