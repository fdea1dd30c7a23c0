"""console sessions: server-side sessions that sign-out ends, sign-in attempts

``staffsession`` holds one row per console sign-in (the cookie carries a random id, the table
its SHA-256). ``logincounter`` replaces the per-attempt rows of ``loginattempt`` with one
counter per key, bumped by a conditional upsert; ``loginattempt`` stays (its class is still
declared) but nothing writes it any more.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 08:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staffsession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staffuser.id'], name=op.f('fk_staffsession_staff_id_staffuser')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staffsession')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staffsession_token_hash'))
    )
    with op.batch_alter_table('staffsession', schema=None) as batch_op:
        batch_op.create_index('ix_staffsession_staff', ['staff_id', 'ended_at'], unique=False)

    op.create_table('logincounter',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_logincounter'))
    )


def downgrade() -> None:
    op.drop_table('logincounter')
    with op.batch_alter_table('staffsession', schema=None) as batch_op:
        batch_op.drop_index('ix_staffsession_staff')
    op.drop_table('staffsession')
