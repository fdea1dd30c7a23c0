"""pass credit (issue 12, item 7): the ledger of a season pass's credit

``passcredit``: one row per movement of ``seasonpass.credit_minor`` (added by a resale payout or
staff, spent on a booking of the holder, given back when that booking is cancelled or expires),
signed, with the balance after it and a unique key (a booking spends credit once and gets it
back once; an addition by a job is written once however often the job runs).

Nothing existing changes: every pass's credit so far is 0, so no opening row is needed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 15:49:09
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('passcredit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pass_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('balance_minor', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'spent' AND amount_minor < 0) OR (kind <> 'spent' AND amount_minor > 0)", name=op.f('ck_passcredit_amount_signed')),
    sa.CheckConstraint("kind = 'added' OR booking_id IS NOT NULL", name=op.f('ck_passcredit_booking_named')),
    sa.CheckConstraint("kind IN ('added', 'spent', 'given_back')", name=op.f('ck_passcredit_kind_known')),
    sa.CheckConstraint('balance_minor >= 0', name=op.f('ck_passcredit_balance_not_negative')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_passcredit_booking_id_booking')),
    sa.ForeignKeyConstraint(['pass_id'], ['seasonpass.id'], name=op.f('fk_passcredit_pass_id_seasonpass')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passcredit')),
    sa.UniqueConstraint('key', name=op.f('uq_passcredit_key'))
    )
    with op.batch_alter_table('passcredit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passcredit_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_passcredit_pass_at', ['pass_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('passcredit', schema=None) as batch_op:
        batch_op.drop_index('ix_passcredit_pass_at')
        batch_op.drop_index(batch_op.f('ix_passcredit_booking_id'))

    op.drop_table('passcredit')
