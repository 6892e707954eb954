"""users

People sign in: each user gets argon2id password and PIN hashes, a badge code, locations their role is limited to,
a forced password change, lockout after failures, and a demo flag; roles become the fixed set of
oms.users.permissions (the demo's 'service' becomes 'customer_service', anything else unknown 'read_only').
The audit trail becomes append-only (a trigger refuses UPDATE and DELETE, and TRUNCATE on PostgreSQL, except
sealing an event once) and hash-chained (chain position, previous hash, hash; the chain's head in audit_chain).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 14:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

import oms.core.types


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

ROLES = ("read_only", "picker", "packer", "receiver", "customer_service", "supervisor", "admin")

_REFUSED = "The audit trail is append-only: its events cannot be changed or deleted."

# Every column an event is written with; only chain_seq, prev_hash and hash may be set, once.
_CONTENT = ("id", "at", "user", "station", "action", "entity", "entity_id", "order_id", "summary", "before", "after")


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('pin_hash', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('badge_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('locations', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('demo', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('failed_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', oms.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('last_sign_in_at', oms.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('uq_app_user_badge_code', ['badge_code'], unique=True)
    user = sa.table('app_user', sa.column('role', sa.String))
    op.execute(user.update().where(user.c.role == 'service').values(role='customer_service'))
    op.execute(user.update().where(user.c.role.not_in(ROLES)).values(role='read_only'))

    op.create_table('audit_chain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain'))
    )
    op.execute(sa.table('audit_chain', sa.column('id'), sa.column('last_seq'), sa.column('last_hash'))
               .insert().values(id=1, last_seq=0, last_hash=''))
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.create_index('uq_audit_event_chain_seq', ['chain_seq'], unique=True)
        batch_op.create_index('ix_audit_event_user_at', ['user', 'at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        same = " AND ".join(
            f"NEW.{c}::text IS NOT DISTINCT FROM OLD.{c}::text" if c in ("before", "after")
            else f'NEW."{c}" IS NOT DISTINCT FROM OLD."{c}"' for c in _CONTENT)
        op.execute(f"""
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND {same} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{_REFUSED}' USING ERRCODE = 'insufficient_privilege';
END
$$""")
        op.execute("CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
                   "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()")
        op.execute("CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()")
    else:
        changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in _CONTENT)
        op.execute(f"""
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
WHEN OLD.hash IS NOT NULL OR {changed}
BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END""")
        op.execute(f"""
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_user_at')
        batch_op.drop_index('uq_audit_event_chain_seq')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')
    op.drop_table('audit_chain')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index('uq_app_user_badge_code')
        for column in ('last_sign_in_at', 'locked', 'locked_until', 'failed_attempts', 'demo', 'must_change_password',
                       'locations', 'pin_hash', 'badge_code', 'password_hash'):
            batch_op.drop_column(column)
