"""invoicing

Invoices for every shipment and credit notes against them, their gap-free number series (INV-, CN-), the
outbox's subscriptions (the connections that receive what the business issues), and the ERP role of a
connection (the ERP hand-off: a file drop or a webhook).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 14:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

KINDS = "kind IN ('goods', 'shipping', 'discount', 'tax')"


def upgrade() -> None:
    series = op.create_table(
        'number_series',
        sa.Column('name', sa.String(length=16), nullable=False),
        sa.Column('prefix', sa.String(length=8), nullable=False),
        sa.Column('next_value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_number_series')),
    )
    op.bulk_insert(series, [{'name': 'invoice', 'prefix': 'INV-', 'next_value': 1},
                            {'name': 'credit_note', 'prefix': 'CN-', 'next_value': 1}])
    op.create_table(
        'invoice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('shipment_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('customer_name', sa.String(length=200), nullable=False),
        sa.Column('customer_email', sa.String(length=200), nullable=False),
        sa.Column('goods_minor', sa.BigInteger(), nullable=False),
        sa.Column('shipping_minor', sa.BigInteger(), nullable=False),
        sa.Column('discount_minor', sa.BigInteger(), nullable=False),
        sa.Column('tax_minor', sa.BigInteger(), nullable=False),
        sa.Column('total_minor', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_invoice_order_id_sales_order')),
        sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_invoice_shipment_id_shipment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
        sa.UniqueConstraint('number', name=op.f('uq_invoice_number')),
        sa.UniqueConstraint('shipment_id', name=op.f('uq_invoice_shipment_id')),
    )
    op.create_index('ix_invoice_order', 'invoice', ['order_id'])
    op.create_index('ix_invoice_issued_at', 'invoice', ['issued_at'])
    op.create_table(
        'invoice_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('order_line_id', sa.Integer(), nullable=True),
        sa.Column('sku', sa.String(length=64), nullable=False),
        sa.Column('description', sa.String(length=300), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f('ck_invoice_line_kind')),
        sa.CheckConstraint('quantity > 0', name=op.f('ck_invoice_line_quantity_pos')),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_invoice_line_order_line_id_order_line')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line')),
    )
    op.create_index(op.f('ix_invoice_line_invoice_id'), 'invoice_line', ['invoice_id'])
    op.create_table(
        'credit_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('goods_minor', sa.BigInteger(), nullable=False),
        sa.Column('shipping_minor', sa.BigInteger(), nullable=False),
        sa.Column('discount_minor', sa.BigInteger(), nullable=False),
        sa.Column('tax_minor', sa.BigInteger(), nullable=False),
        sa.Column('total_minor', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_credit_note_invoice_id_invoice')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_note')),
        sa.UniqueConstraint('number', name=op.f('uq_credit_note_number')),
    )
    op.create_index(op.f('ix_credit_note_invoice_id'), 'credit_note', ['invoice_id'])
    op.create_table(
        'credit_note_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('credit_note_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('invoice_line_id', sa.Integer(), nullable=True),
        sa.Column('sku', sa.String(length=64), nullable=False),
        sa.Column('description', sa.String(length=300), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f('ck_credit_note_line_kind')),
        sa.CheckConstraint('quantity > 0', name=op.f('ck_credit_note_line_quantity_pos')),
        sa.ForeignKeyConstraint(['credit_note_id'], ['credit_note.id'], name=op.f('fk_credit_note_line_credit_note_id_credit_note'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invoice_line_id'], ['invoice_line.id'], name=op.f('fk_credit_note_line_invoice_line_id_invoice_line')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_note_line')),
    )
    op.create_index(op.f('ix_credit_note_line_credit_note_id'), 'credit_note_line', ['credit_note_id'])
    op.create_index(op.f('ix_credit_note_line_invoice_line_id'), 'credit_note_line', ['invoice_line_id'])
    op.create_table(
        'outbox_subscription',
        sa.Column('destination', sa.String(length=64), nullable=False),
        sa.Column('topic', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('destination', 'topic', name=op.f('pk_outbox_subscription')),
    )
    with op.batch_alter_table('connector_config', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_connector_config_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_connector_config_role'), "role IN ('channel', 'carrier', 'erp')")


def downgrade() -> None:
    with op.batch_alter_table('connector_config', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_connector_config_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_connector_config_role'), "role IN ('channel', 'carrier')")
    op.drop_table('outbox_subscription')
    op.drop_table('credit_note_line')
    op.drop_table('credit_note')
    op.drop_table('invoice_line')
    op.drop_table('invoice')
    op.drop_table('number_series')
