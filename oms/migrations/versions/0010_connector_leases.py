"""connector leases

One station at a time syncs each connector: the lease holder and how long the lease runs.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 13:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('connector_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_holder', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('connector_state', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('lease_holder')
