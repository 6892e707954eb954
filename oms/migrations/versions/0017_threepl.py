"""threepl

3PL shipping orders (one row per order's units sent to a 3PL, with their lines and what became of them) and the
3PL's shipment reports, by its own id, so a report seen twice is applied once. A connection may now be a 3PL.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 14:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import oms.core.types


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('threepl_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('remote_id', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('flagged_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sent', 'acknowledged', 'shipped', 'closed', 'cancelled', 'rejected')", name=op.f('ck_threepl_order_status')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_threepl_order_location_id_location')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_threepl_order_order_id_sales_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threepl_order')),
    sa.UniqueConstraint('connection', 'reference', name=op.f('uq_threepl_order_connection_reference')),
    sa.UniqueConstraint('order_id', 'location_id', 'seq', name=op.f('uq_threepl_order_order_id_location_id_seq'))
    )
    with op.batch_alter_table('threepl_order', schema=None) as batch_op:
        batch_op.create_index('ix_threepl_order_open', ['connection', 'status'], unique=False)
        batch_op.create_index('ix_threepl_order_order', ['order_id'], unique=False)
    op.create_table('threepl_order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transmission_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('shipped', sa.Integer(), nullable=False),
    sa.Column('shorted', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_threepl_order_line_quantity_pos')),
    sa.CheckConstraint('shipped >= 0 AND shorted >= 0 AND shipped + shorted <= quantity', name=op.f('ck_threepl_order_line_accounted')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_threepl_order_line_order_line_id_order_line'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transmission_id'], ['threepl_order.id'], name=op.f('fk_threepl_order_line_transmission_id_threepl_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threepl_order_line')),
    sa.UniqueConstraint('transmission_id', 'order_line_id', name=op.f('uq_threepl_order_line_transmission_id_order_line_id'))
    )
    with op.batch_alter_table('threepl_order_line', schema=None) as batch_op:
        batch_op.create_index('ix_threepl_order_line_line', ['order_line_id'], unique=False)
    op.create_table('threepl_shipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection', sa.String(length=64), nullable=False),
    sa.Column('remote_id', sa.String(length=64), nullable=False),
    sa.Column('transmission_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=True),
    sa.Column('received_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_threepl_shipment_shipment_id_shipment')),
    sa.ForeignKeyConstraint(['transmission_id'], ['threepl_order.id'], name=op.f('fk_threepl_shipment_transmission_id_threepl_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threepl_shipment')),
    sa.UniqueConstraint('connection', 'remote_id', name=op.f('uq_threepl_shipment_connection_remote_id'))
    )
    op.create_table('threepl_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('from_location_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', oms.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', oms.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('in_transit', 'received')", name=op.f('ck_threepl_transfer_status')),
    sa.ForeignKeyConstraint(['from_location_id'], ['location.id'], name=op.f('fk_threepl_transfer_from_location_id_location')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_threepl_transfer_location_id_location')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threepl_transfer')),
    sa.UniqueConstraint('connection', 'reference', name=op.f('uq_threepl_transfer_connection_reference'))
    )
    op.create_table('threepl_transfer_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0 AND received >= 0', name=op.f('ck_threepl_transfer_line_quantities')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_threepl_transfer_line_product_id_product')),
    sa.ForeignKeyConstraint(['transfer_id'], ['threepl_transfer.id'], name=op.f('fk_threepl_transfer_line_transfer_id_threepl_transfer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threepl_transfer_line')),
    sa.UniqueConstraint('transfer_id', 'product_id', name=op.f('uq_threepl_transfer_line_transfer_id_product_id'))
    )
    with op.batch_alter_table('connector_config', schema=None) as batch_op:
        batch_op.drop_constraint('role', type_='check')
        batch_op.create_check_constraint('role', "role IN ('channel', 'carrier', 'erp', 'threepl')")
    with op.batch_alter_table('trading_partner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_trading_partner_location_id_location'), 'location', ['location_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('trading_partner', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_trading_partner_location_id_location'), type_='foreignkey')
        batch_op.drop_column('location_id')
    op.execute("DELETE FROM connector_config WHERE role = 'threepl'")
    with op.batch_alter_table('connector_config', schema=None) as batch_op:
        batch_op.drop_constraint('role', type_='check')
        batch_op.create_check_constraint('role', "role IN ('channel', 'carrier', 'erp')")
    op.drop_table('threepl_transfer_line')
    op.drop_table('threepl_transfer')
    op.drop_table('threepl_shipment')
    with op.batch_alter_table('threepl_order_line', schema=None) as batch_op:
        batch_op.drop_index('ix_threepl_order_line_line')
    op.drop_table('threepl_order_line')
    with op.batch_alter_table('threepl_order', schema=None) as batch_op:
        batch_op.drop_index('ix_threepl_order_order')
        batch_op.drop_index('ix_threepl_order_open')
    op.drop_table('threepl_order')
