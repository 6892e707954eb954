"""edi document screen indexes

Indexes for the desktop Documents screen: every EDI document newest first, filtered by
status, and found by its order, shipment, interchange or group control number, or file name.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:00:00.000000
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_edi_document_created", ["created_at"]),
    ("ix_edi_document_status", ["status", "created_at"]),
    ("ix_edi_document_order", ["order_id"]),
    ("ix_edi_document_shipment", ["shipment_id"]),
    ("ix_edi_document_isa", ["isa_control"]),
    ("ix_edi_document_gs_control", ["gs_control"]),
    ("ix_edi_document_filename", ["filename"]),
)


def upgrade() -> None:
    with op.batch_alter_table('edi_document', schema=None) as batch_op:
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('edi_document', schema=None) as batch_op:
        for name, _columns in reversed(INDEXES):
            batch_op.drop_index(name)
